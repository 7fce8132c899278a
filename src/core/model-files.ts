/**
 * Model files the manifest lists that no ensemble can load: backbones and heads outside every
 * ensemble (the app only runs ensembles). Paths as in the manifest, relative to it. The service
 * worker leaves these out of its offline precache, so a first visit does not download them.
 * Its own module with a type-only import: vite.config.ts uses it at build time, outside the app's
 * module graph.
 */
import type { Manifest } from './manifest';

type ModelLists = Pick<Manifest, 'backbones' | 'heads' | 'ensembles'>;

/**
 * The same lookup as manifest.ts `ensembleModels`, which assumes a validated manifest; this one runs
 * on the raw JSON at build time (no zod in vite.config.ts), so it skips names it cannot resolve.
 */
export function unusedModelFiles(m: ModelLists): string[] {
  const heads = new Map(m.heads.map((h) => [h.id, h]));
  const used = new Set<string>();
  for (const id of m.ensembles.flatMap((e) => e.members)) {
    const head = heads.get(id);
    if (!head) continue;
    used.add(head.file);
    const backbone = m.backbones.find((b) => b.id === head.backbone);
    if (backbone) used.add(backbone.file);
  }
  return [...m.backbones, ...m.heads].map((x) => x.file).filter((f) => !used.has(f));
}
