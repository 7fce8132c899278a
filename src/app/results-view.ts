/**
 * Which results the list shows, and in what order: counts per verdict to filter by (a folder of a
 * hundred videos is easier to check one kind at a time), and a sort by name or by confidence
 * (least confident first: the ones worth a second look).
 */
import { isErrorResult, type Result } from '../core/result';
import type { ResultSummary } from '../core/result-summary';
import type { ClassId, Taxonomy } from '../core/taxonomy';
import { classLabel } from './format';

/** "all", one verdict, the results flagged "maybe none of the four", or the files that failed. */
export type ResultFilter = 'all' | ClassId | 'uncertain' | 'failed';
export type ResultOrder = 'added' | 'name' | 'least-confident';

export const RESULT_ORDERS: readonly { id: ResultOrder; label: string }[] = [
  { id: 'added', label: 'As added' },
  { id: 'name', label: 'By name' },
  { id: 'least-confident', label: 'Least confident first' },
];

/** The name a filter goes by on its button and in the export panel. */
export function filterLabel(filter: ResultFilter, taxonomy: Taxonomy): string {
  if (filter === 'all') return 'All';
  if (filter === 'uncertain') return 'Uncertain';
  if (filter === 'failed') return "Couldn't read";
  return classLabel(filter, taxonomy);
}

export function countFor(summary: ResultSummary, filter: ResultFilter): number {
  if (filter === 'all') return summary.total;
  if (filter === 'uncertain') return summary.uncertain;
  if (filter === 'failed') return summary.failed;
  return summary.byClass[filter];
}

export function matchesFilter(r: Result, filter: ResultFilter): boolean {
  if (filter === 'all') return true;
  if (isErrorResult(r)) return filter === 'failed';
  if (filter === 'uncertain') return !r.ood.inDistribution;
  return r.label === filter;
}

const byName = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/**
 * The items to show, in order. Sorting is stable: ties keep the order the files were added in.
 * "Least confident first" puts failed files after every verdict (they have no confidence).
 */
export function arrange<T extends { name: string; result: Result }>(items: readonly T[], filter: ResultFilter, order: ResultOrder): T[] {
  const shown = items.filter((item) => matchesFilter(item.result, filter));
  if (order === 'name') return shown.sort((a, b) => byName.compare(a.name, b.name));
  if (order === 'least-confident') {
    const confidence = (r: Result) => (isErrorResult(r) ? 2 : r.confidence); // 2: after every confidence (0..1)
    return shown.sort((a, b) => confidence(a.result) - confidence(b.result));
  }
  return shown;
}
