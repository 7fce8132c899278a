/**
 * The "picture statistics" backbone: no learned weights, a few dozen numbers per frame that say how
 * a picture is made rather than what it shows. Colour saturation and brightness, the share of flat
 * and strongly edged pixels, how many edges are axis-aligned (text, UI, HUDs), sensor noise in flat
 * regions, how few colours cover the picture, and where the edges are (a 3x3 grid). Animation and
 * flat content are drawn with few colours and clean edges; camera footage has noise and smooth
 * gradients; games sit between, with HUDs at fixed places (whose edge density the head sees vary
 * little over the frames, since it pools each number's mean and std over them).
 *
 * Written here as a plain ONNX graph (built by hand: no library emits ONNX from a formula) so that it
 * is a backbone like any other: the app, `vidkind extract` and `vidkind classify` run it through the
 * same sessions, on the same resized frames as a CNN of the same input size. `pictureStatsReference`
 * is the same arithmetic in plain TypeScript loops: the parity reference of `import-backbone`, and
 * what the tests check the graph against.
 */
import type { InputSpec } from '../../../src/core/preprocess.ts';
import {
  attr,
  DataType,
  floatTensor,
  int64Tensor,
  node,
  OPSET,
  pruneAndSort,
  type Graph,
  type NodeProto,
  type TensorProto,
} from './onnx-graph.ts';

/** What each output dimension is, in order. */
export const PICTURE_STATS = [
  'saturation mean',
  'saturation std',
  'value mean',
  'value std',
  'share of saturation < 0.25',
  'share of saturation in [0.25, 0.5)',
  'share of saturation in [0.5, 0.75)',
  'share of saturation >= 0.75',
  'share of value < 0.1 (dark)',
  'share of value > 0.9 (bright)',
  'gradient magnitude mean (Sobel on luma)',
  'share of flat pixels (gradient < 8/255)',
  'share of strong edges (gradient > 100/255)',
  'share of strong edges that are horizontal',
  'share of strong edges that are vertical',
  'noise: mean |Laplacian| over flat pixels',
  'mean |Laplacian|',
  'colour entropy (64 colours, nats)',
  'share of the most common colour',
  'share of the 4 most common colours',
  ...Array.from({ length: 9 }, (_, i) => `gradient magnitude mean, grid cell ${Math.floor(i / 3) + 1},${(i % 3) + 1}`),
] as const;

export const PICTURE_STATS_DIM = PICTURE_STATS.length;

/** The input every picture-statistics backbone takes: the same as the shipped MobileNetV2's, so one resize serves both. */
export const PICTURE_STATS_SPEC: InputSpec = { width: 224, height: 224, layout: 'NHWC', range: [0, 1] };

const FLAT = 8 / 255;
const STRONG = 100 / 255;
/** A strong edge is horizontal when |gx| < AXIS * |gy| (vertical: the other way round), within ~6 degrees. */
const AXIS = 0.1;
const EPS = 1e-6;
const LUMA = [0.299, 0.587, 0.114] as const;
const SOBEL_X = [-1, 0, 1, -2, 0, 2, -1, 0, 1];
const SOBEL_Y = [-1, -2, -1, 0, 0, 0, 1, 2, 1];
const LAPLACE = [0, 1, 0, 1, -4, 1, 0, 1, 0];
/** Colour levels per channel for the palette statistics (4^3 = 64 colours), on every other pixel. */
const LEVELS = 4;
const TOP = 4;
const GRID = 3;

/** Side of the grid cells over the (size - 2) gradient map, and the pooled extent. */
function gridCell(w: number, h: number): { kw: number; kh: number } {
  return { kw: Math.floor((w - 2) / GRID), kh: Math.floor((h - 2) / GRID) };
}

function checkSpec(spec: InputSpec): void {
  if (spec.width < 8 || spec.height < 8)
    throw new RangeError(`picture statistics need frames of at least 8x8, got ${spec.width}x${spec.height}`);
}

/** The graph: `frames` in the spec's layout and normalisation -> `embedding` [N, PICTURE_STATS_DIM]. */
export function pictureStatsGraph(spec: InputSpec = PICTURE_STATS_SPEC): Graph {
  checkSpec(spec);
  const nodes: NodeProto[] = [];
  const constants: TensorProto[] = [];
  const f = (name: string, values: number[], dims: number[] = [values.length]) => {
    if (!constants.some((c) => c.name === name)) constants.push(floatTensor(name, Float32Array.from(values), dims));
    return name;
  };
  const add = (op: string, inputs: string[], out: string, attributes: Parameters<typeof node>[4] = []) => {
    nodes.push(node(op, inputs, [out], out, attributes));
    return out;
  };
  const axes = (name: string, values: number[]) => {
    constants.push(int64Tensor(name, values));
    return name;
  };
  const mean = (x: string, out: string) => add('ReduceMean', [x], out, [attr.ints('axes', [1, 2, 3]), attr.int('keepdims', 0)]);
  const toF = (bool: string, out = `${bool}/f`) => add('Cast', [bool], out, [attr.int('to', DataType.FLOAT)]);
  const share = (bool: string, out: string) => mean(toF(bool, `${out}/f`), out);
  const ratio = (num: string, den: string, out: string) => add('Div', [num, add('Add', [den, f('eps', [EPS])], `${out}/den`)], out);

  // Back to RGB in [0, 1], NCHW: undo the spec's normalisation, then its range.
  let x = 'frames';
  if (spec.layout === 'NHWC') x = add('Transpose', [x], 'rgb/nchw', [attr.ints('perm', [0, 3, 1, 2])]);
  const [lo, hi] = spec.range;
  const std = spec.std ?? [1, 1, 1];
  const m = spec.mean ?? [0, 0, 0];
  const scale = std.map((s) => s / (hi - lo));
  const shift = m.map((v) => (v - lo) / (hi - lo));
  if (scale.some((s) => s !== 1)) x = add('Mul', [x, f('rgb/scale', scale, [1, 3, 1, 1])], 'rgb/scaled');
  if (shift.some((s) => s !== 0)) x = add('Add', [x, f('rgb/shift', shift, [1, 3, 1, 1])], 'rgb/shifted');

  // Saturation and value as OpenCV's HSV has them: V = max, S = (max - min) / max.
  const v = add('ReduceMax', [x], 'hsv/v', [attr.ints('axes', [1]), attr.int('keepdims', 1)]);
  const vmin = add('ReduceMin', [x], 'hsv/min', [attr.ints('axes', [1]), attr.int('keepdims', 1)]);
  const s = ratio(add('Sub', [v, vmin], 'hsv/chroma'), v, 'hsv/s');
  const meanStd = (p: string, name: string) => {
    const mu = add('ReduceMean', [p], `${name}/mean_keep`, [attr.ints('axes', [1, 2, 3]), attr.int('keepdims', 1)]);
    const c = add('Sub', [p, mu], `${name}/centred`);
    const sd = add('Sqrt', [mean(add('Mul', [c, c], `${name}/sq`), `${name}/var`)], `${name}/std`);
    return [mean(p, `${name}/mean`), sd];
  };
  const outs: string[] = [...meanStd(s, 'sat'), ...meanStd(v, 'val')];
  const less = (a: string, t: number, out: string) => add('Less', [a, f(`${out}/t`, [t])], out);
  const sBelow = [0.25, 0.5, 0.75].map((t, i) => toF(less(s, t, `sat/lt${i}`)));
  outs.push(mean(sBelow[0]!, 'sat/bin0'));
  outs.push(mean(add('Sub', [sBelow[1]!, sBelow[0]!], 'sat/bin1/m'), 'sat/bin1'));
  outs.push(mean(add('Sub', [sBelow[2]!, sBelow[1]!], 'sat/bin2/m'), 'sat/bin2'));
  outs.push(add('Sub', [f('one', [1]), mean(sBelow[2]!, 'sat/lt2/share')], 'sat/bin3'));
  outs.push(share(less(v, 0.1, 'val/dark/b'), 'val/dark'));
  outs.push(share(add('Greater', [v, f('val/bright/t', [0.9])], 'val/bright/b'), 'val/bright'));

  // Luma, then Sobel x / y and the Laplacian in one valid 3x3 convolution.
  const gray = add('Conv', [x, f('luma/w', [...LUMA], [1, 3, 1, 1])], 'luma');
  const g = add('Conv', [gray, f('grad/w', [...SOBEL_X, ...SOBEL_Y, ...LAPLACE], [3, 1, 3, 3])], 'grad');
  nodes.push(node('Split', [g], ['grad/x', 'grad/y', 'grad/lap'], 'grad/split', [attr.int('axis', 1)]));
  const ax = add('Abs', ['grad/x'], 'grad/ax');
  const ay = add('Abs', ['grad/y'], 'grad/ay');
  const mag = add('Sqrt', [add('Add', [add('Mul', [ax, ax], 'grad/x2'), add('Mul', [ay, ay], 'grad/y2')], 'grad/sum2')], 'grad/mag');
  const flat = toF(less(mag, FLAT, 'grad/flat'));
  const strong = toF(add('Greater', [mag, f('grad/strong/t', [STRONG])], 'grad/strong'));
  const axis = f('grad/axis', [AXIS]);
  const horiz = toF(add('Less', [ax, add('Mul', [ay, axis], 'grad/ay_axis')], 'grad/h'));
  const vert = toF(add('Less', [ay, add('Mul', [ax, axis], 'grad/ax_axis')], 'grad/v'));
  const strongShare = mean(strong, 'grad/strong/share');
  const flatShare = mean(flat, 'grad/flat/share');
  const alap = add('Abs', ['grad/lap'], 'grad/alap');
  outs.push(
    mean(mag, 'grad/mag/mean'),
    flatShare,
    strongShare,
    ratio(mean(add('Mul', [strong, horiz], 'grad/sh'), 'grad/sh/share'), strongShare, 'grad/horizontal'),
    ratio(mean(add('Mul', [strong, vert], 'grad/sv'), 'grad/sv/share'), strongShare, 'grad/vertical'),
    ratio(mean(add('Mul', [alap, flat], 'grad/noise/m'), 'grad/noise/sum'), flatShare, 'grad/noise'),
    mean(alap, 'grad/lap/mean'),
  );

  // Palette: every other pixel's colour on LEVELS levels per channel, one-hot over the LEVELS^3 codes.
  const sub = add(
    'Slice',
    [x, axes('pal/starts', [0, 0]), axes('pal/ends', [2 ** 31 - 1, 2 ** 31 - 1]), axes('pal/axes', [2, 3]), axes('pal/steps', [2, 2])],
    'pal/sub',
  );
  const q = add(
    'Floor',
    [
      add(
        'Min',
        [add('Relu', [add('Mul', [sub, f('pal/levels', [LEVELS])], 'pal/scaled')], 'pal/pos'), f('pal/top', [LEVELS - 0.5])],
        'pal/clamped',
      ),
    ],
    'pal/q',
  );
  const code = add('Conv', [q, f('pal/code_w', [LEVELS * LEVELS, LEVELS, 1], [1, 3, 1, 1])], 'pal/code');
  const bins = LEVELS ** 3;
  const onehot = toF(
    add(
      'Equal',
      [
        code,
        f(
          'pal/bins',
          Array.from({ length: bins }, (_, i) => i),
          [1, bins, 1, 1],
        ),
      ],
      'pal/onehot',
    ),
  );
  const hist = add('ReduceMean', [onehot], 'pal/hist', [attr.ints('axes', [2, 3]), attr.int('keepdims', 0)]);
  const plogp = add('Mul', [hist, add('Log', [add('Add', [hist, f('pal/tiny', [1e-12])], 'pal/hist_eps')], 'pal/log')], 'pal/plogp');
  const red = (a: string, out: string) => add('ReduceSum', [a, axes(`${out}/axes`, [1])], out, [attr.int('keepdims', 0)]);
  outs.push(add('Neg', [red(plogp, 'pal/negent')], 'pal/entropy'));
  outs.push(add('ReduceMax', [hist], 'pal/top1', [attr.ints('axes', [1]), attr.int('keepdims', 0)]));
  nodes.push(node('TopK', [hist, axes('pal/k', [TOP])], ['pal/topk', 'pal/topk_idx'], 'pal/topk', [attr.int('axis', 1)]));
  outs.push(red('pal/topk', 'pal/top4'));

  // Where the edges are: the gradient magnitude averaged over a 3x3 grid of cells.
  const { kw, kh } = gridCell(spec.width, spec.height);
  const cells = add('AveragePool', [mag], 'grid/pool', [attr.ints('kernel_shape', [kh, kw]), attr.ints('strides', [kh, kw])]);
  const gridOut = add('Flatten', [cells], 'grid/flat', [attr.int('axis', 1)]);

  // Each scalar is [N]: make it [N, 1], then concatenate with the grid's [N, 9].
  const cols = outs.map((o) => add('Unsqueeze', [o, axes(`${o}/unsq_axes`, [1])], `${o}/col`));
  nodes.push(node('Concat', [...cols, gridOut], ['embedding'], 'embedding', [attr.int('axis', 1)]));
  const dims = spec.layout === 'NHWC' ? ['N', spec.height, spec.width, 3] : ['N', 3, spec.height, spec.width];
  return pruneAndSort({
    name: 'vidkind picture statistics',
    input: { name: 'frames', dims },
    outputs: [{ name: 'embedding', dims: ['N', PICTURE_STATS_DIM] }],
    nodes,
    weights: [],
    constants,
    opsetImports: [{ domain: '', version: OPSET }],
  });
}

/**
 * The same statistics in plain loops (float64), from a batch laid out as `spec` says: the reference
 * the graph is checked against. Returns [N, PICTURE_STATS_DIM], row-major.
 */
export function pictureStatsReference(batch: Float32Array, n: number, spec: InputSpec = PICTURE_STATS_SPEC): Float32Array {
  checkSpec(spec);
  const { width: W, height: H } = spec;
  const plane = W * H;
  const [lo, hi] = spec.range;
  const std = spec.std ?? [1, 1, 1];
  const m = spec.mean ?? [0, 0, 0];
  const out = new Float32Array(n * PICTURE_STATS_DIM);
  const rgb = [new Float64Array(plane), new Float64Array(plane), new Float64Array(plane)];
  for (let i = 0; i < n; i++) {
    const base = i * plane * 3;
    for (let p = 0; p < plane; p++)
      for (let c = 0; c < 3; c++) {
        const raw = spec.layout === 'NHWC' ? batch[base + p * 3 + c]! : batch[base + c * plane + p]!;
        rgb[c]![p] = (raw * std[c]! + m[c]! - lo) / (hi - lo);
      }
    const s = new Float64Array(plane);
    const v = new Float64Array(plane);
    const gray = new Float64Array(plane);
    for (let p = 0; p < plane; p++) {
      const r = rgb[0]![p]!;
      const g = rgb[1]![p]!;
      const b = rgb[2]![p]!;
      const mx = Math.max(r, g, b);
      v[p] = mx;
      s[p] = (mx - Math.min(r, g, b)) / (mx + EPS);
      gray[p] = LUMA[0] * r + LUMA[1] * g + LUMA[2] * b;
    }
    const avg = (a: ArrayLike<number>) => {
      let t = 0;
      for (let k = 0; k < a.length; k++) t += a[k]!;
      return t / a.length;
    };
    const sd = (a: Float64Array) => {
      const mu = avg(a);
      let t = 0;
      for (let k = 0; k < a.length; k++) t += (a[k]! - mu) ** 2;
      return Math.sqrt(t / a.length);
    };
    const count = (a: Float64Array, test: (x: number) => boolean) => {
      let t = 0;
      for (let k = 0; k < a.length; k++) if (test(a[k]!)) t++;
      return t / a.length;
    };
    const row: number[] = [avg(s), sd(s), avg(v), sd(v)];
    row.push(
      count(s, (x) => x < 0.25),
      count(s, (x) => x >= 0.25 && x < 0.5),
      count(s, (x) => x >= 0.5 && x < 0.75),
      count(s, (x) => x >= 0.75),
      count(v, (x) => x < 0.1),
      count(v, (x) => x > 0.9),
    );

    const gw = W - 2;
    const gh = H - 2;
    const mag = new Float64Array(gw * gh);
    let flat = 0;
    let strong = 0;
    let horiz = 0;
    let vert = 0;
    let noise = 0;
    let lapSum = 0;
    for (let y = 0; y < gh; y++)
      for (let x = 0; x < gw; x++) {
        let gx = 0;
        let gy = 0;
        let lap = 0;
        for (let k = 0; k < 9; k++) {
          const val = gray[(y + Math.floor(k / 3)) * W + x + (k % 3)]!;
          gx += SOBEL_X[k]! * val;
          gy += SOBEL_Y[k]! * val;
          lap += LAPLACE[k]! * val;
        }
        const ax = Math.abs(gx);
        const ay = Math.abs(gy);
        const g = Math.sqrt(ax * ax + ay * ay);
        mag[y * gw + x] = g;
        if (g < FLAT) {
          flat++;
          noise += Math.abs(lap);
        }
        if (g > STRONG) {
          strong++;
          if (ax < ay * AXIS) horiz++;
          if (ay < ax * AXIS) vert++;
        }
        lapSum += Math.abs(lap);
      }
    const cellsN = gw * gh;
    const flatShare = flat / cellsN;
    const strongShare = strong / cellsN;
    row.push(
      avg(mag),
      flatShare,
      strongShare,
      horiz / cellsN / (strongShare + EPS),
      vert / cellsN / (strongShare + EPS),
      noise / cellsN / (flatShare + EPS),
      lapSum / cellsN,
    );

    const bins = LEVELS ** 3;
    const hist = new Float64Array(bins);
    let sampled = 0;
    const level = (c: number, p: number) => Math.floor(Math.min(Math.max(0, rgb[c]![p]! * LEVELS), LEVELS - 0.5));
    for (let y = 0; y < H; y += 2)
      for (let x = 0; x < W; x += 2) {
        const p = y * W + x;
        hist[level(0, p) * LEVELS * LEVELS + level(1, p) * LEVELS + level(2, p)]!++;
        sampled++;
      }
    for (let k = 0; k < bins; k++) hist[k] = hist[k]! / sampled;
    let entropy = 0;
    for (const p of hist) entropy -= p * Math.log(p + 1e-12);
    const sorted = [...hist].sort((a, b) => b - a);
    row.push(
      entropy,
      sorted[0]!,
      sorted.slice(0, TOP).reduce((a, b) => a + b, 0),
    );

    const { kw, kh } = gridCell(W, H);
    for (let cy = 0; cy < GRID; cy++)
      for (let cx = 0; cx < GRID; cx++) {
        let t = 0;
        for (let y = cy * kh; y < (cy + 1) * kh; y++) for (let x = cx * kw; x < (cx + 1) * kw; x++) t += mag[y * gw + x]!;
        row.push(t / (kw * kh));
      }
    out.set(row, i * PICTURE_STATS_DIM);
  }
  return out;
}
