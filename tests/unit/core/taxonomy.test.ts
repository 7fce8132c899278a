import { describe, expect, it } from 'vitest';
import { CLASS_IDS, DEFAULT_TAXONOMY, className, flattenSubclasses, isClassId, parseTaxonomy } from '../../../src/core/taxonomy';

describe('taxonomy', () => {
  it('has the four classes with their display names', () => {
    expect(CLASS_IDS).toEqual(['animation', 'gaming', 'natural', 'flat']);
    expect(DEFAULT_TAXONOMY.classes.map((c) => className(DEFAULT_TAXONOMY, c.id))).toEqual([
      'Animation',
      'Gaming',
      'Natural content',
      'Flat content',
    ]);
    expect(isClassId('gaming')).toBe(true);
    expect(isClassId('music')).toBe(false);
  });

  it('accepts any number of subclasses (46 like the original)', () => {
    const tax = structuredClone(DEFAULT_TAXONOMY);
    tax.classes[3]!.subclasses = Array.from({ length: 46 - 13 - 0 }, (_, i) => ({ id: `s${i}`, name: `S${i}` }));
    const parsed = parseTaxonomy(tax);
    expect(flattenSubclasses(parsed).length).toBe(4 + 5 + 4 + 33);
  });

  it('flattens subclasses class by class with unique keys', () => {
    const flat = flattenSubclasses(DEFAULT_TAXONOMY);
    expect(flat[0]!.key).toBe('animation/cartoon-2d');
    expect(new Set(flat.map((f) => f.key)).size).toBe(flat.length);
    expect(flat.filter((f) => f.classId === 'flat').map((f) => f.id)).toContain('slides');
  });

  it('rejects wrong class order, duplicates and bad ids', () => {
    const swapped = structuredClone(DEFAULT_TAXONOMY);
    swapped.classes.reverse();
    expect(() => parseTaxonomy(swapped)).toThrow(/class 0 must be/);
    const dup = structuredClone(DEFAULT_TAXONOMY);
    dup.classes[0]!.subclasses.push({ ...dup.classes[0]!.subclasses[0]! });
    expect(() => parseTaxonomy(dup)).toThrow(/duplicate subclass/);
    const bad = structuredClone(DEFAULT_TAXONOMY);
    bad.classes[1]!.subclasses[0]!.id = 'Has Spaces';
    expect(() => parseTaxonomy(bad)).toThrow();
    expect(() => className(DEFAULT_TAXONOMY, 'nope' as never)).toThrow();
  });
});
