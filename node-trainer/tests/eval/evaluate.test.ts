import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluateRun } from '../../src/eval/evaluate.ts';
import { renderReport } from '../../src/eval/report.ts';
import { writeJsonAtomic } from '../../src/fs-atomic.ts';
import { parseTrainConfig } from '../../src/train/config.ts';
import { makeSplit, trainHead } from '../../src/train/loop.ts';
import { readIndex } from '../../src/features/store.ts';
import { TINY_HEAD, writeSyntheticStore } from '../train/synthetic-store.ts';

const root = mkdtempSync(join(tmpdir(), 'vidkind-eval-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const features = join(root, 'features');
writeSyntheticStore(features, { clipsPerSource: 3, sourcesPerClass: 6, frames: 6, dim: 12, seed: 2, separation: 2 });
const config = parseTrainConfig({
  ...TINY_HEAD,
  epochs: 6,
  batch: 8,
  seed: 5,
  lr: 3e-3,
});

describe('vidkind eval', () => {
  it('scores a single head: metrics that agree with each other, and an HTML report with its plots', async () => {
    const run = join(root, 'single');
    await trainHead({ features, out: run, config, resume: false });
    const m = await evaluateRun(run, 'test');
    expect(m.clips).toBeGreaterThan(0);
    const total = m.confusion.flat().reduce((a, b) => a + b, 0);
    expect(total).toBe(m.clips);
    const diag = m.confusion.reduce((a, row, i) => a + row[i]!, 0);
    expect(m.accuracy).toBeCloseTo(diag / m.clips, 12);
    // The synthetic classes are well separated: a trained head must beat chance (0.25) clearly.
    expect(m.accuracy).toBeGreaterThan(0.5);
    expect(m.temperature).toBeGreaterThan(0);
    expect(m.oodThreshold).toBeGreaterThanOrEqual(0);
    expect(m.oodThreshold).toBeLessThanOrEqual(1);
    expect(m.subclassClips).toBeGreaterThan(0);
    expect(Object.keys(m.perClass)).toEqual(['animation', 'gaming', 'natural', 'flat']);
    const html = renderReport(m, 'report <test>');
    expect(html).toContain('report &lt;test&gt;');
    expect(html.match(/<svg /g)?.length).toBe(5);
    expect(html).not.toMatch(/<script|https?:\/\//);
  });

  it('scores an ensemble as the mean of its members and reports each member', async () => {
    const run = join(root, 'ensemble');
    const split = makeSplit(readIndex(features), config);
    for (const i of [0, 1])
      await trainHead({ features, out: join(run, 'members', String(i)), config: { ...config, seed: 5 + i }, resume: false, split });
    writeJsonAtomic(join(run, 'ensemble.json'), { format: 'vidkind-ensemble/1', members: ['members/0', 'members/1'] });
    const m = await evaluateRun(run, 'test');
    expect(m.members.map((x) => x.dir)).toEqual(['members/0', 'members/1']);
    expect(m.members.map((x) => x.seed)).toEqual([5, 6]);
    const single = JSON.parse(JSON.stringify(await evaluateRun(join(run, 'members', '0'), 'test')));
    expect(m.clips).toBe(single.clips);
    expect(readFileSync(join(run, 'members/0/history.json'), 'utf8')).toContain('valMacroF1');
  });

  it('scores clips on fewer frames than stored when asked (--frames), calibrating on those too', async () => {
    const run = join(root, 'single');
    const all = await evaluateRun(run, 'test');
    const few = await evaluateRun(run, 'test', undefined, 3);
    expect(all.frames).toBe(6);
    expect(few.frames).toBe(3);
    expect(few.clips).toBe(all.clips);
    expect(few.confusion.flat().reduce((a, b) => a + b, 0)).toBe(few.clips);
    // Other inputs, other probabilities.
    expect(few.eceBefore).not.toBe(all.eceBefore);
    await expect(evaluateRun(run, 'test', undefined, 7)).rejects.toThrow(RangeError);
  });
});
