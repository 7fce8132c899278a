/** Every hyper-parameter of a training run in one place (nanoGPT style); `--config` JSON overrides any of them. */
import { z } from 'zod';
import { HEAD_KINDS } from '../head/params.ts';

/** A head to start from (train/anchor.ts): `head`, an id in the manifest of the models folder `models`. */
export const AnchorSchema = z.object({ models: z.string().min(1), head: z.string().min(1) });
export type Anchor = z.infer<typeof AnchorSchema>;

export const TrainConfigSchema = z.object({
  seed: z.number().int().min(0).default(1),
  /**
   * The head (head/params.ts): "attention", the original system's BiLSTM + self-attention +
   * attention pooling (the next five settings); "stats", one linear layer on each clip's per-dimension
   * mean and standard deviation of the features over its frames.
   */
  head: z.enum(HEAD_KINDS).default('attention'),
  projDim: z.number().int().positive().default(256),
  lstmHidden: z.number().int().positive().default(128),
  lstmLayers: z.number().int().min(1).default(4),
  attnHeads: z.number().int().positive().default(4),
  poolHidden: z.number().int().positive().default(128),
  dropout: z.number().min(0).max(0.9).default(0.3),
  batch: z.number().int().positive().default(32),
  epochs: z.number().int().positive().default(30),
  lr: z.number().positive().default(1e-3),
  /** The floor of the cosine schedule. */
  lrMin: z.number().min(0).default(1e-6),
  weightDecay: z.number().min(0).default(1e-2),
  /**
   * Coupled L2 on the weight matrices (the ones weightDecay applies to): l2 * |W|^2 added to the
   * loss, as ridge regression's penalty. Unlike AdamW's decoupled weightDecay, Adam normalises this
   * term with the loss's gradient, so a head trained to convergence ends at the penalised loss's
   * minimum. Its gradient is added after clipping; the logged loss leaves the term out. 0: none.
   */
  l2: z.number().min(0).default(0),
  beta1: z.number().min(0).max(1).default(0.9),
  beta2: z.number().min(0).max(1).default(0.999),
  adamEps: z.number().positive().default(1e-8),
  focalGamma: z.number().min(0).default(2),
  labelSmoothing: z.number().min(0).max(0.5).default(0.1),
  /** First cosine cycle length in epochs (converted to steps); each next cycle is tMult times longer. */
  restartEpochs: z.number().positive().default(1),
  tMult: z.number().int().min(1).default(2),
  clipNorm: z.number().positive().default(1.0),
  patience: z.number().int().positive().default(6),
  /**
   * Which epoch's weights the run keeps: "best", the one with the best validation macro-F1 (training
   * stops after `patience` epochs without a better one), or "last", the final epoch's (all `epochs`
   * run; end them at the end of a cosine cycle, where the learning rate is lowest). Validation then
   * only calibrates and sets the OOD threshold. Its few sources make "best" a noisy pick.
   */
  keep: z.enum(['best', 'last']).default('best'),
  /**
   * How the head's weights are fitted. "adamw" (default): minibatches for `epochs` epochs with AdamW
   * and the cosine schedule. "lbfgs" (stats head only, train/solve.ts): the head's convex problem
   * solved on every training clip at once by L-BFGS from zero weights, at most `epochs` iterations;
   * the penalty is `l2` (lr, lrMin, batch, the schedule, clipNorm, weightDecay and shards do not
   * apply; dropout, inputDropout, mixup and the balancing must be 0). No seed enters it.
   */
  solver: z.enum(['adamw', 'lbfgs']).default('adamw'),
  /**
   * Train on the validation split's clips as well (with `keep` "last" only). Validation then logs an
   * in-sample curve, and the run's own calibration sees clips it trained on: for runs calibrated by a
   * cross-validation (`vidkind eval --calibration`), where validation would only withhold sources.
   */
  trainOnVal: z.boolean().default(false),
  subclassWeight: z.number().min(0).default(0.5),
  /**
   * Frames per clip in each training step: one frame drawn at random from each of `trainFrames`
   * equal bins of the stored frames (a different subset every step: temporal jitter), so the head
   * trains at the frame count the app samples. Validation then sees the bin centres, as the app
   * samples them. Unset: every stored frame, in both.
   */
  trainFrames: z.number().int().positive().optional(),
  /**
   * Train on standardised features ((x - mean) / std per dimension, statistics of the training
   * split), folded into the input projection when weights are saved (train/standardize.ts): needed
   * when a backbone's feature dimensions differ in scale, as pooled early-block taps do.
   */
  standardize: z.boolean().default(false),
  /**
   * Stats head only: standardise its statistics vector (each feature's mean and standard deviation
   * over the clip's frames) by their mean and spread over the training clips, at `trainFrames`
   * bin-centre frames (train/standardize.ts pooledStats), after `standardize` if that is on. Folded
   * into the head's weights when they are saved, like `standardize`.
   */
  poolStandardize: z.boolean().default(false),
  /**
   * Training only: the share of input feature dimensions zeroed for each clip (the same ones in all
   * its frames; after standardisation, zero is the training mean), the rest scaled by 1/(1 - rate).
   * 0 (default): none.
   */
  inputDropout: z.number().min(0).max(0.9).default(0),
  /**
   * Source balancing of each epoch's draws (data.ts epochOrder): clip weight n_source^-sourceBalance
   * within its class, drawn with replacement. 0 (default): every clip once per epoch, shuffled;
   * 1: every source of a class drawn equally often.
   */
  sourceBalance: z.number().min(0).max(1).default(0),
  /**
   * Class balancing of each epoch's draws (data.ts epochOrder): a class's share of the draws is
   * proportional to n_class^(1 - classBalance). 0 (default): every clip once per epoch (with
   * sourceBalance 0), so a class with more clips is drawn more; 1: every class drawn equally often.
   */
  classBalance: z.number().min(0).max(1).default(0),
  /**
   * Training only: mixup of clips within each batch (or shard) with weights drawn from
   * Beta(mixup, mixup); the loss is the weighted sum of the losses against both clips' labels.
   * 0 (default): no mixup.
   */
  mixup: z.number().min(0).max(1).default(0),
  /**
   * Gradient shards per batch (train/step.ts): each batch is cut into this many parts whose
   * gradients are computed side by side, one per thread where `--threads` allows, and summed. Each
   * part draws its own dropout and jitter, so results depend on this number (and the seed), not on
   * the threads. 1: the whole batch in one pass on one thread.
   */
  shards: z.number().int().min(1).max(64).default(2),
  /**
   * A stats head of a models folder to start from and stay near (train/anchor.ts), e.g.
   * `{ "models": "public/models", "head": "<head id>" }`: the weights are that head's plus a
   * difference that starts at 0 and that `weightDecay` and `l2` pull towards 0, so few clips move
   * the head little. Stats heads with the "adamw" solver only. Unset: trained from a seeded start.
   */
  anchor: AnchorSchema.optional(),
  /** Fractions of every class's sources that go to train / val / test. */
  split: z.tuple([z.number().min(0), z.number().min(0), z.number().min(0)]).default([0.7, 0.2, 0.1]),
  /**
   * Cross-validation by source (`vidkind cv` sets these): the sources are dealt into `folds` folds,
   * stratified by class and seeded by `seed`; fold `fold` is the test part, and the other sources go
   * to train and val by the first two `split` fractions. Unset: one split by `split`.
   */
  folds: z.number().int().min(2).optional(),
  fold: z.number().int().min(0).optional(),
  /**
   * Settings for single members of an ensemble (`--members`), on top of the rest: member i trains
   * with `{ ...config, ...memberConfigs[i] }` (absent or `{}`: the rest as it is). For mixed
   * ensembles whose backbones need different settings, e.g. a linear head on 7,744 CNN statistics
   * and one on 58 picture statistics want very different weight decay. The seed, split and folds
   * are the ensemble's.
   */
  memberConfigs: z.array(z.record(z.string(), z.unknown())).optional(),
});
export type TrainConfig = z.infer<typeof TrainConfigSchema>;

/** Keys a member may not set for itself: every member shares the ensemble's seeds, split and folds. */
const ENSEMBLE_ONLY = ['seed', 'split', 'folds', 'fold', 'memberConfigs'] as const;

/** Member i's own config: the ensemble's, its `memberConfigs[i]` on top, seed + i, no member list. */
export function memberConfig(c: TrainConfig, i: number): TrainConfig {
  const { memberConfigs, ...rest } = c;
  return TrainConfigSchema.parse({ ...rest, ...(memberConfigs?.[i] ?? {}), seed: c.seed + i });
}

/** Parses a (partial) config object; unknown keys are refused so a typo never silently does nothing. */
export function parseTrainConfig(input: unknown): TrainConfig {
  const c = TrainConfigSchema.strict().parse(input ?? {});
  if ((c.folds === undefined) !== (c.fold === undefined)) throw new RangeError('"folds" and "fold" go together: set both or neither');
  if (c.folds !== undefined && c.fold! >= c.folds) throw new RangeError(`"fold" must be below "folds" (${c.folds}), got ${c.fold}`);
  const { memberConfigs, ...rest } = c;
  (memberConfigs ?? []).forEach((m, i) => {
    const shared = ENSEMBLE_ONLY.find((k) => k in m);
    if (shared) throw new RangeError(`memberConfigs[${i}] sets "${shared}", which every member shares; set it for the ensemble`);
    try {
      TrainConfigSchema.strict().parse({ ...rest, ...m });
    } catch (e) {
      throw new RangeError(`memberConfigs[${i}] is not a valid config: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  });
  return c;
}
