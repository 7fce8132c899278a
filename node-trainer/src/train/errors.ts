/** Training and evaluation errors: a stable `code` for scripts, a sentence for people. */
export type TrainErrorCode =
  'run-exists' | 'config-mismatch' | 'calibration-mismatch' | 'empty-split' | 'bad-features' | 'no-run' | 'interrupted';

export class TrainError extends Error {
  readonly code: TrainErrorCode;
  constructor(code: TrainErrorCode, message: string) {
    super(message);
    this.name = 'TrainError';
    this.code = code;
  }
}
