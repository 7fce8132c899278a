/** Integer options, parsed by commander: a bad value is a usage error (exit code 2) naming the option. */
import { InvalidArgumentError } from 'commander';

/** A commander argument parser for an integer of at least `min`. */
export function intAtLeast(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(min === 1 ? 'expected a positive integer' : `expected an integer >= ${min}`);
    return n;
  };
}

export const positiveInt = intAtLeast(1);
