import './zod-config';
import { z } from 'zod';

/** The four top-level kinds vidkind tells apart, in the order of every model's class logits. */
export const CLASS_IDS = ['animation', 'gaming', 'natural', 'flat'] as const;
export type ClassId = (typeof CLASS_IDS)[number];

export const SubclassSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'subclass ids are lower-case slugs'),
  name: z.string().min(1),
});

export const TaxonomyClassSchema = z.object({
  id: z.enum(CLASS_IDS),
  name: z.string().min(1),
  description: z.string().optional(),
  subclasses: z.array(SubclassSchema),
});

export const TaxonomySchema = z.object({ classes: z.array(TaxonomyClassSchema).length(CLASS_IDS.length) }).superRefine((tax, ctx) => {
  tax.classes.forEach((c, i) => {
    if (c.id !== CLASS_IDS[i]) ctx.addIssue({ code: 'custom', message: `class ${i} must be "${CLASS_IDS[i]}", got "${c.id}"` });
    const seen = new Set<string>();
    for (const s of c.subclasses) {
      if (seen.has(s.id)) ctx.addIssue({ code: 'custom', message: `duplicate subclass "${c.id}/${s.id}"` });
      seen.add(s.id);
    }
  });
});

export type Subclass = z.infer<typeof SubclassSchema>;
export type TaxonomyClass = z.infer<typeof TaxonomyClassSchema>;
export type Taxonomy = z.infer<typeof TaxonomySchema>;

/** One entry of the flattened subclass list: the order of a head's subclass logits. */
export interface FlatSubclass {
  /** `class/subclass`, unique across the taxonomy. */
  key: string;
  classId: ClassId;
  id: string;
  name: string;
}

/** The default taxonomy shipped with the site; the manifest may replace it (any number of subclasses). */
export const DEFAULT_TAXONOMY: Taxonomy = {
  classes: [
    {
      id: 'animation',
      name: 'Animation',
      description: 'Cartoons, animated stories, motion graphics, rendered CGI.',
      subclasses: [
        { id: 'cartoon-2d', name: '2D cartoon' },
        { id: 'illustrated-story', name: 'Illustrated / visual-novel style' },
        { id: 'motion-graphics', name: 'Motion graphics and animated titles' },
        { id: 'cgi-3d', name: '3D CGI' },
      ],
    },
    {
      id: 'gaming',
      name: 'Gaming',
      description: 'Recorded or streamed video-game play.',
      subclasses: [
        { id: 'first-person-3d', name: '3D first-person' },
        { id: 'strategy', name: 'Strategy and simulation' },
        { id: 'sandbox', name: 'Sandbox' },
        { id: 'point-and-click', name: 'Point-and-click adventure' },
        { id: 'arcade', name: 'Arcade and racing' },
      ],
    },
    {
      id: 'natural',
      name: 'Natural content',
      description: 'Camera footage of the real world.',
      subclasses: [
        { id: 'landscape', name: 'Landscape' },
        { id: 'urban', name: 'Urban and architecture' },
        { id: 'close-up', name: 'Close-up: plants, animals, objects' },
        { id: 'sky-and-water', name: 'Sky, sea and water' },
      ],
    },
    {
      id: 'flat',
      name: 'Flat content',
      description: 'Slides, documents, screen recordings.',
      subclasses: [
        { id: 'slides', name: 'Slides' },
        { id: 'documents', name: 'Documents and papers' },
        { id: 'spreadsheets', name: 'Spreadsheets and charts' },
        { id: 'application-ui', name: 'Application screen recording' },
        { id: 'code-terminal', name: 'Code and terminals' },
      ],
    },
  ],
};

/** Validates a taxonomy (e.g. the one inside a manifest). Throws a ZodError on bad input. */
export function parseTaxonomy(input: unknown): Taxonomy {
  return TaxonomySchema.parse(input);
}

/** Flattens the subclasses, class by class, into the order of a head's subclass logits. */
export function flattenSubclasses(tax: Taxonomy): FlatSubclass[] {
  return tax.classes.flatMap((c) => c.subclasses.map((s) => ({ key: `${c.id}/${s.id}`, classId: c.id, id: s.id, name: s.name })));
}

/** Display name of a class, e.g. "Natural content". */
export function className(tax: Taxonomy, id: ClassId): string {
  const found = tax.classes.find((c) => c.id === id);
  if (!found) throw new Error(`unknown class "${id}"`);
  return found.name;
}

export function isClassId(value: string): value is ClassId {
  return (CLASS_IDS as readonly string[]).includes(value);
}
