import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../../src/core/manifest';
import { softmax } from '../../../src/core/postprocess';
import { samplePlan, segmentWindows } from '../../../src/core/sampling';
import { buildVerdict } from '../../../src/core/verdict';
import { batchViews, batchWindows, memberOutput } from '../../../src/core/head-batches';
import { sampleManifest } from './fixtures';

const seq = (n: number, f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));

describe('batchViews / batchWindows', () => {
  it('stacks views and cuts windows frame-aligned', () => {
    const T = 6;
    const D = 3;
    const a = seq(T * D, (i) => i);
    const b = seq(T * D, (i) => 100 + i);
    const batch = batchViews([a, b], T, D);
    expect(Array.from(batch.subarray(T * D, T * D + 3))).toEqual([100, 101, 102]);
    const windows = segmentWindows(samplePlan(12, { frames: T }), 4, 2);
    expect(windows.map((w) => w.start)).toEqual([0, 2]);
    const { batch: wb, length } = batchWindows(a, windows, D);
    expect(length).toBe(4);
    // Second window starts at frame 2: features 6..8.
    expect(Array.from(wb.subarray(length * D, length * D + 3))).toEqual([6, 7, 8]);
    expect(() => batchViews([seq(5, () => 0)], T, D)).toThrow(RangeError);
  });
});

describe('memberOutput + buildVerdict', () => {
  it('splits batched outputs per view and window; the ensemble is the mean of members over views', () => {
    const manifest = parseManifest(sampleManifest());
    const ensemble = { ...manifest.ensembles[0]!, temperature: 1 };
    const T = 4;
    // head-a: 2 views, 2 windows; head-b: the same shapes, different numbers (e.g. another backbone).
    const full = (o: number) => ({ logits: seq(8, (i) => o + Math.sin(i)), classes: 4, attention: seq(8, () => 0.25) });
    const wins = (o: number) => ({ logits: seq(8, (i) => o * Math.cos(i)), classes: 4 });
    const a = memberOutput('head-a', full(0), wins(1), 2, T);
    const b = memberOutput('head-b', full(0.5), wins(2), 2, T);
    expect(a.views).toHaveLength(2);
    expect(Array.from(a.views[1]!.logits)).toEqual(Array.from(full(0).logits.subarray(4, 8)));
    expect(a.windowLogits).toHaveLength(2);
    expect(Array.from(a.views[0]!.attention!)).toHaveLength(T);

    const windows = segmentWindows(samplePlan(8, { frames: T }), 2, 2);
    const v = buildVerdict(manifest, ensemble, [a, b], windows);
    const mean = (xs: number[][]) => xs[0]!.map((_, i) => xs.reduce((s, x) => s + x[i]!, 0) / xs.length);
    const memberProbs = [a, b].map((m) => mean(m.views.map((view) => softmax(view.logits))));
    const expected = mean(memberProbs);
    Object.values(v.probs).forEach((p, i) => expect(p).toBeCloseTo(expected[i]!, 6));
    expect(v.segments).toHaveLength(2);
    const seg1 = mean([softmax(a.windowLogits[1]!), softmax(b.windowLogits[1]!)]);
    Object.values(v.segments[1]!.probs).forEach((p, i) => expect(p).toBeCloseTo(seg1[i]!, 6));
  });
});
