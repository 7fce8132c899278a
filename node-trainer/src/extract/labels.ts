/**
 * The labels CSV of `vidkind extract`: `path,class,subclass,source`, one clip per line. `source`
 * groups clips that must stay in one split (a channel, a game, a slide deck).
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { CLASS_IDS, type ClassId, type Taxonomy } from '../../../src/core/taxonomy.ts';

export interface LabelRow {
  /** As written in the CSV (relative to the videos directory unless absolute): the clip's identity. */
  path: string;
  /** Where the file is on this machine. */
  file: string;
  class: ClassId;
  /** Subclass id within the class, or '' when not labelled. */
  subclass: string;
  source: string;
}

/**
 * RFC 4180 fields of one CSV text (quotes, doubled quotes, CRLF). `delimiter` is ',' or, for
 * spreadsheets saved in locales whose decimal mark is a comma (Excel in much of Europe), ';'.
 */
export function parseCsv(text: string, delimiter: ',' | ';' = ','): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === delimiter) {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => r.some((f) => f.trim() !== ''));
}

/** Reads and validates the labels file; every problem is reported at once, with its line number. */
export function readLabels(csvFile: string, videosDir: string, taxonomy: Taxonomy): LabelRow[] {
  const text = readFileSync(csvFile, 'utf8').replace(/^\uFEFF/, '');
  // A header with semicolons and no comma: a spreadsheet saved with ';' between fields.
  const firstLine = text.slice(0, text.search(/\r|\n|$/));
  const rows = parseCsv(text, !firstLine.includes(',') && firstLine.includes(';') ? ';' : ',');
  const header = (rows.shift() ?? []).map((h) => h.trim().toLowerCase());
  const col = (name: string) => header.indexOf(name);
  const missing = ['path', 'class', 'source'].filter((c) => col(c) < 0);
  if (missing.length > 0) throw new Error(`${csvFile}: the header must name path,class,subclass,source (missing ${missing.join(', ')})`);
  const problems: string[] = [];
  const seen = new Set<string>();
  const out: LabelRow[] = [];
  rows.forEach((r, i) => {
    const line = i + 2;
    const get = (name: string) => (col(name) >= 0 ? (r[col(name)] ?? '').trim() : '');
    const path = get('path');
    // Ids in any letter case, as the class folders of `vidkind fit` ("Animation", "Flat").
    const cls = get('class').toLowerCase();
    const subclass = get('subclass').toLowerCase();
    const source = get('source');
    if (!path) return problems.push(`line ${line}: empty path`);
    if (!(CLASS_IDS as readonly string[]).includes(cls))
      return problems.push(`line ${line}: class "${cls}" is not one of ${CLASS_IDS.join(', ')}`);
    const tc = taxonomy.classes.find((c) => c.id === cls)!;
    if (subclass && !tc.subclasses.some((s) => s.id === subclass))
      return problems.push(`line ${line}: "${subclass}" is not a subclass of ${cls} (${tc.subclasses.map((s) => s.id).join(', ')})`);
    if (!source) return problems.push(`line ${line}: empty source (name the channel, game or deck the clip comes from)`);
    if (seen.has(path)) return problems.push(`line ${line}: ${path} is listed twice`);
    seen.add(path);
    out.push({ path, file: isAbsolute(path) ? path : join(videosDir, path), class: cls as ClassId, subclass, source });
  });
  if (problems.length > 0)
    throw new Error(
      `${csvFile} has ${problems.length} bad line(s):\n  ${problems.slice(0, 20).join('\n  ')}${problems.length > 20 ? '\n  …' : ''}`,
    );
  return out;
}

/** A labels CSV (`path,class,subclass,source`) that readLabels reads back to the same rows. */
export function labelsCsv(rows: readonly Pick<LabelRow, 'path' | 'class' | 'subclass' | 'source'>[]): string {
  const field = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return ['path,class,subclass,source', ...rows.map((r) => [r.path, r.class, r.subclass, r.source].map(field).join(','))].join('\n') + '\n';
}
