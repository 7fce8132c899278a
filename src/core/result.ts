/** The `Result` contract: one per file, identical from the browser's export and `vidkind classify`. */
import './zod-config';
import { z } from 'zod';
import { ERROR_CODES } from './errors';
import { CLASS_IDS } from './taxonomy';

export const RESULT_SCHEMA_VERSION = 1;

const Prob = z.number().min(0).max(1);
const Probs = z.record(z.enum(CLASS_IDS), Prob);

export const SuccessResultSchema = z.object({
  file: z.string(),
  label: z.enum(CLASS_IDS),
  confidence: Prob,
  probs: Probs,
  subclass: z.object({ id: z.string(), p: Prob }).optional(),
  ood: z.object({ score: Prob, inDistribution: z.boolean() }),
  segments: z.array(z.object({ t0: z.number().min(0), t1: z.number().min(0), probs: Probs })),
  attention: z.array(z.number().min(0)),
  models: z.object({
    backbones: z.array(z.string()).min(1),
    ensemble: z.string(),
    tta: z.boolean(),
    /** What executed: e.g. "wasm" (threads 2) or "webgpu"; "onnxruntime-node" in node-trainer. */
    provider: z.string().optional(),
  }),
  timingsMs: z.object({
    decode: z.number().min(0),
    backbone: z.number().min(0),
    head: z.number().min(0),
    total: z.number().min(0),
  }),
  /** Optional facts about the file, when known. */
  video: z
    .object({ durationS: z.number().min(0), width: z.number().int().min(0), height: z.number().int().min(0), decoder: z.string() })
    .optional(),
});

export const ErrorResultSchema = z.object({
  file: z.string(),
  error: z.object({ code: z.enum(ERROR_CODES), message: z.string().min(1) }),
});

export const ResultSchema = z.union([SuccessResultSchema, ErrorResultSchema]);

export type SuccessResult = z.infer<typeof SuccessResultSchema>;
export type ErrorResult = z.infer<typeof ErrorResultSchema>;
export type Result = z.infer<typeof ResultSchema>;

export function isErrorResult(r: Result): r is ErrorResult {
  return 'error' in r;
}

/** Validates a Result (e.g. an imported JSON export). Throws a ZodError on bad input. */
export function parseResult(input: unknown): Result {
  return ResultSchema.parse(input);
}

/** CSV header and rows for a list of results (the browser's CSV export and `classify --format csv`). */
export function resultsToCsv(results: Result[]): string {
  const header = [
    'file',
    'label',
    'confidence',
    ...CLASS_IDS.map((c) => `p_${c}`),
    'subclass',
    'subclass_p',
    'ood_score',
    'in_distribution',
    'error_code',
    'error_message',
    'total_ms',
  ];
  const rows = results.map((r) => {
    if (isErrorResult(r)) return [r.file, '', '', ...CLASS_IDS.map(() => ''), '', '', '', '', r.error.code, r.error.message, ''];
    return [
      r.file,
      r.label,
      r.confidence.toFixed(4),
      ...CLASS_IDS.map((c) => (r.probs[c] ?? 0).toFixed(4)),
      r.subclass?.id ?? '',
      r.subclass ? r.subclass.p.toFixed(4) : '',
      r.ood.score.toFixed(4),
      String(r.ood.inDistribution),
      '',
      '',
      r.timingsMs.total.toFixed(0),
    ];
  });
  return [header, ...rows].map((row) => row.map(csvField).join(',')).join('\n') + '\n';
}

/** RFC 4180 quoting; a leading =,+,-,@ is prefixed with ' so spreadsheets never run a file name as a formula. */
function csvField(value: string): string {
  let v = value;
  if (/^[=+\-@\t\r]/.test(v) && !/^-?\d/.test(v)) v = `'${v}`;
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
