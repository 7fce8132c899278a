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
import { attr, floatTensor, int64Tensor, node, OPSET, pruneAndSort, type Graph, type NodeProto, type TensorProto } from './onnx-graph.ts';

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
/**
 * Every threshold is a ramp, not a step: a pixel counts linearly from 0 to 1 over `width` around
 * the threshold (exactly 0 or 1 outside it). The app (WebCodecs, then src/core/yuv.ts) and
 * `vidkind` (ffmpeg) give some pixels of the same video a level or two apart; with hard steps every
 * such pixel near a threshold flipped, and the two verdicts drifted apart by up to 0.028 in
 * probability (0.006 with the ramps; tests/e2e/app.spec.ts). Widths are a few 8-bit levels (in each
 * statistic's own units), so pictures far from the thresholds count as before.
 */
const RAMP = { saturation: 0.02, value: 2 / 255, flat: 4 / 255, strong: 8 / 255, axis: 4 / 255, palette: 2 / 255 } as const;
/** A strong edge is horizontal when |gx| < AXIS * |gy| (vertical: the other way round), within ~6 degrees. */
const AXIS = 0.1;
const EPS = 1e-6;
const LUMA = [0.299, 0.587, 0.114] as const;
const SOBEL_X = [-1, 0, 1, -2, 0, 2, -1, 0, 1];
const SOBEL_Y = [-1, -2, -1, 0, 0, 0, 1, 2, 1];
const LAPLACE = [0, 1, 0, 1, -4, 1, 0, 1, 0];
/**
 * Colour levels per channel for the palette statistics (4^3 = 64 colours), on every other pixel. A
 * value within RAMP.palette of a level boundary is shared between the two levels (linearly).
 */
const LEVELS = 4;
const TOP = 4;
const GRID = 3;

/** Side of the grid cells over the (size - 2) gradient map, and the pooled extent. */
function gridCell(w: number, h: number): { kw: number; kh: number } {
  return { kw: Math.floor((w - 2) / GRID), kh: Math.floor((h - 2) / GRID) };
}

/** The soft "x > t" of RAMP (1 - it is the soft "x < t"). */
function rampAbove(x: number, t: number, width: number): number {
  return Math.min(1, Math.max(0, (x - t) / width + 0.5));
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
  const ratio = (num: string, den: string, out: string) => add('Div', [num, add('Add', [den, f('eps', [EPS])], `${out}/den`)], out);
  // The soft "a > t" / "a < t" of RAMP: clip((a - t) / width + 1/2, 0, 1), and its mirror.
  const ramp = (a: string, t: number, width: number, sign: 1 | -1, out: string) =>
    add(
      'Clip',
      [
        add(
          'Add',
          [add('Mul', [a, f(`${out}/k`, [sign / width])], `${out}/scaled`), f(`${out}/c`, [0.5 - (sign * t) / width])],
          `${out}/lin`,
        ),
        f('zero', [0]),
        f('one', [1]),
      ],
      out,
    );
  const above = (a: string, t: number, width: number, out: string) => ramp(a, t, width, 1, out);
  const below = (a: string, t: number, width: number, out: string) => ramp(a, t, width, -1, out);

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
  const sBelow = [0.25, 0.5, 0.75].map((t, i) => below(s, t, RAMP.saturation, `sat/lt${i}`));
  outs.push(mean(sBelow[0]!, 'sat/bin0'));
  outs.push(mean(add('Sub', [sBelow[1]!, sBelow[0]!], 'sat/bin1/m'), 'sat/bin1'));
  outs.push(mean(add('Sub', [sBelow[2]!, sBelow[1]!], 'sat/bin2/m'), 'sat/bin2'));
  outs.push(add('Sub', [f('one', [1]), mean(sBelow[2]!, 'sat/lt2/share')], 'sat/bin3'));
  outs.push(mean(below(v, 0.1, RAMP.value, 'val/dark/w'), 'val/dark'));
  outs.push(mean(above(v, 0.9, RAMP.value, 'val/bright/w'), 'val/bright'));

  // Luma, then Sobel x / y and the Laplacian in one valid 3x3 convolution.
  const gray = add('Conv', [x, f('luma/w', [...LUMA], [1, 3, 1, 1])], 'luma');
  const g = add('Conv', [gray, f('grad/w', [...SOBEL_X, ...SOBEL_Y, ...LAPLACE], [3, 1, 3, 3])], 'grad');
  nodes.push(node('Split', [g], ['grad/x', 'grad/y', 'grad/lap'], 'grad/split', [attr.int('axis', 1)]));
  const ax = add('Abs', ['grad/x'], 'grad/ax');
  const ay = add('Abs', ['grad/y'], 'grad/ay');
  const mag = add('Sqrt', [add('Add', [add('Mul', [ax, ax], 'grad/x2'), add('Mul', [ay, ay], 'grad/y2')], 'grad/sum2')], 'grad/mag');
  const flat = below(mag, FLAT, RAMP.flat, 'grad/flat');
  const strong = above(mag, STRONG, RAMP.strong, 'grad/strong');
  const axis = f('grad/axis', [AXIS]);
  const horiz = below(add('Sub', [ax, add('Mul', [ay, axis], 'grad/ay_axis')], 'grad/h/d'), 0, RAMP.axis, 'grad/h');
  const vert = below(add('Sub', [ay, add('Mul', [ax, axis], 'grad/ax_axis')], 'grad/v/d'), 0, RAMP.axis, 'grad/v');
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

  // Palette: every other pixel's colour on LEVELS levels per channel. Each channel's value gets a
  // weight per level (a ramp at each level boundary); a pixel's weight for colour (r, g, b) is the
  // product of its three channels' weights, and the histogram is the mean over the pixels.
  const sub = add(
    'Slice',
    [x, axes('pal/starts', [0, 0]), axes('pal/ends', [2 ** 31 - 1, 2 ** 31 - 1]), axes('pal/axes', [2, 3]), axes('pal/steps', [2, 2])],
    'pal/sub',
  );
  const [sh, sw] = [Math.ceil(spec.height / 2), Math.ceil(spec.width / 2)];
  // up[k]: how far each value is past boundary k + 1 (0..1); level k's weight is up[k - 1] - up[k].
  const up = Array.from({ length: LEVELS - 1 }, (_, k) => above(sub, (k + 1) / LEVELS, RAMP.palette, `pal/up${k}`));
  const levelW = Array.from({ length: LEVELS }, (_, k) => {
    const w =
      k === 0
        ? add('Sub', [f('one', [1]), up[0]!], 'pal/w0')
        : k === LEVELS - 1
          ? up[k - 1]!
          : add('Sub', [up[k - 1]!, up[k]!], `pal/w${k}`);
    return add('Unsqueeze', [w, axes(`pal/w${k}/axes`, [2])], `pal/w${k}/u`);
  });
  const weights = add('Concat', levelW, 'pal/weights', [attr.int('axis', 2)]); // [N, 3, LEVELS, sh, sw]
  nodes.push(node('Split', [weights], ['pal/wr', 'pal/wg', 'pal/wb'], 'pal/split', [attr.int('axis', 1)]));
  const shaped = (w: string, shape: number[]) => add('Reshape', [w, axes(`${w}/shape`, [0, ...shape, sh, sw])], `${w}/shaped`);
  const rg = add('Mul', [shaped('pal/wr', [LEVELS, 1, 1]), shaped('pal/wg', [1, LEVELS, 1])], 'pal/wrg');
  const rgb = add('Mul', [rg, shaped('pal/wb', [1, 1, LEVELS])], 'pal/wrgb'); // [N, L, L, L, sh, sw]
  const bins = LEVELS ** 3;
  const hist = add(
    'Reshape',
    [add('ReduceMean', [rgb], 'pal/hist3', [attr.ints('axes', [4, 5]), attr.int('keepdims', 0)]), axes('pal/hist/shape', [0, bins])],
    'pal/hist',
  );
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
    const share = (a: Float64Array, weight: (x: number) => number) => {
      let t = 0;
      for (let k = 0; k < a.length; k++) t += weight(a[k]!);
      return t / a.length;
    };
    const sBelow = (x: number, t: number) => 1 - rampAbove(x, t, RAMP.saturation);
    const row: number[] = [avg(s), sd(s), avg(v), sd(v)];
    row.push(
      share(s, (x) => sBelow(x, 0.25)),
      share(s, (x) => sBelow(x, 0.5) - sBelow(x, 0.25)),
      share(s, (x) => sBelow(x, 0.75) - sBelow(x, 0.5)),
      share(s, (x) => 1 - sBelow(x, 0.75)),
      share(v, (x) => 1 - rampAbove(x, 0.1, RAMP.value)),
      share(v, (x) => rampAbove(x, 0.9, RAMP.value)),
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
        const flatW = 1 - rampAbove(g, FLAT, RAMP.flat);
        const strongW = rampAbove(g, STRONG, RAMP.strong);
        flat += flatW;
        noise += flatW * Math.abs(lap);
        strong += strongW;
        horiz += strongW * (1 - rampAbove(ax - ay * AXIS, 0, RAMP.axis));
        vert += strongW * (1 - rampAbove(ay - ax * AXIS, 0, RAMP.axis));
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
    // A channel value's weight per level: the difference of the ramps at the level's two boundaries.
    const levelWeights = (value: number) => {
      const up = [1, ...Array.from({ length: LEVELS - 1 }, (_, k) => rampAbove(value, (k + 1) / LEVELS, RAMP.palette)), 0];
      return Array.from({ length: LEVELS }, (_, k) => up[k]! - up[k + 1]!);
    };
    for (let y = 0; y < H; y += 2)
      for (let x = 0; x < W; x += 2) {
        const p = y * W + x;
        const [wr, wg, wb] = [0, 1, 2].map((c) => levelWeights(rgb[c]![p]!));
        for (let r = 0; r < LEVELS; r++)
          for (let g = 0; g < LEVELS; g++)
            for (let b = 0; b < LEVELS; b++) hist[r * LEVELS * LEVELS + g * LEVELS + b]! += wr![r]! * wg![g]! * wb![b]!;
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
