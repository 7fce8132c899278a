/**
 * The self-contained HTML report of `vidkind eval`: tables and hand-written inline SVG plots
 * (confusion matrix, reliability diagram, per-class F1, training curves). No scripts, no CDN.
 */
import type { ReliabilityBin } from './calibration.ts';
import type { EvalMetrics, MemberMetrics } from './evaluate.ts';

const esc = (s: unknown) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const f3 = (x: number) => x.toFixed(3);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563', '#be185d'];

function confusionSvg(classes: string[], confusion: number[][]): string {
  const cell = 64;
  const left = 110;
  const top = 30;
  const n = classes.length;
  let s = `<svg width="${left + n * cell + 20}" height="${top + n * cell + 60}" role="img" aria-label="Confusion matrix">`;
  s += `<text x="${left + (n * cell) / 2}" y="16" text-anchor="middle" font-size="12">predicted</text>`;
  confusion.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    s += `<text x="${left - 6}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end" font-size="12">${esc(classes[i])}</text>`;
    row.forEach((v, j) => {
      const share = v / total;
      const fill = `rgba(37,99,235,${(0.08 + 0.92 * share).toFixed(3)})`;
      s += `<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell - 2}" height="${cell - 2}" fill="${fill}"><title>true ${esc(classes[i])}, predicted ${esc(classes[j])}: ${v} (${pct(share)} of the row)</title></rect>`;
      s += `<text x="${left + j * cell + cell / 2 - 1}" y="${top + i * cell + cell / 2 + 4}" text-anchor="middle" font-size="13" fill="${share > 0.5 ? '#fff' : '#111'}">${v}</text>`;
    });
  });
  classes.forEach((c, j) => {
    s += `<text x="${left + j * cell + cell / 2}" y="${top + n * cell + 16}" text-anchor="middle" font-size="11">${esc(c)}</text>`;
  });
  s += `<text x="12" y="${top + (n * cell) / 2}" font-size="12" transform="rotate(-90 12 ${top + (n * cell) / 2})" text-anchor="middle">true</text>`;
  return s + '</svg>';
}

/** Axes box with ticks in [x0,x1]x[y0,y1]; returns the svg prefix and the data -> pixel maps. */
function axes(w: number, h: number, x: [number, number], y: [number, number], xLabel: string, yLabel: string) {
  const m = { l: 50, r: 12, t: 12, b: 40 };
  const px = (v: number) => m.l + ((v - x[0]) / (x[1] - x[0] || 1)) * (w - m.l - m.r);
  const py = (v: number) => h - m.b - ((v - y[0]) / (y[1] - y[0] || 1)) * (h - m.t - m.b);
  let s = `<rect x="${m.l}" y="${m.t}" width="${w - m.l - m.r}" height="${h - m.t - m.b}" fill="none" stroke="#999"/>`;
  for (let k = 0; k <= 4; k++) {
    const yv = y[0] + ((y[1] - y[0]) * k) / 4;
    const xv = x[0] + ((x[1] - x[0]) * k) / 4;
    s += `<text x="${m.l - 4}" y="${py(yv) + 4}" text-anchor="end" font-size="10">${+yv.toFixed(2)}</text>`;
    s += `<text x="${px(xv)}" y="${h - m.b + 14}" text-anchor="middle" font-size="10">${+xv.toFixed(2)}</text>`;
  }
  s += `<text x="${(m.l + w - m.r) / 2}" y="${h - 6}" text-anchor="middle" font-size="11">${esc(xLabel)}</text>`;
  s += `<text x="12" y="${(m.t + h - m.b) / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 12 ${(m.t + h - m.b) / 2})">${esc(yLabel)}</text>`;
  return { s, px, py };
}

function reliabilitySvg(before: ReliabilityBin[], after: ReliabilityBin[]): string {
  const w = 420;
  const h = 320;
  const { s: frame, px, py } = axes(w, h, [0, 1], [0, 1], 'confidence (top-class probability)', 'accuracy');
  let s = `<svg width="${w}" height="${h}" role="img" aria-label="Reliability diagram">${frame}`;
  s += `<line x1="${px(0)}" y1="${py(0)}" x2="${px(1)}" y2="${py(1)}" stroke="#999" stroke-dasharray="4 3"/>`;
  const series: Array<[ReliabilityBin[], string, number]> = [
    [before, COLORS[1]!, 0],
    [after, COLORS[0]!, 1],
  ];
  for (const [bins, color, k] of series)
    for (const b of bins) {
      if (!b.count) continue;
      const bw = (px(b.hi) - px(b.lo)) / 2 - 1;
      const x = px(b.lo) + k * (bw + 1);
      s += `<rect x="${x}" y="${py(b.accuracy)}" width="${bw}" height="${py(0) - py(b.accuracy)}" fill="${color}" opacity="0.75"><title>${k ? 'after' : 'before'}: confidence ${f3(b.confidence)}, accuracy ${f3(b.accuracy)}, ${b.count} clips</title></rect>`;
    }
  s += `<rect x="60" y="20" width="10" height="10" fill="${COLORS[1]}"/><text x="74" y="29" font-size="11">before (T=1)</text>`;
  s += `<rect x="60" y="36" width="10" height="10" fill="${COLORS[0]}"/><text x="74" y="45" font-size="11">after temperature scaling</text>`;
  return s + '</svg>';
}

function f1BarsSvg(m: EvalMetrics): string {
  const w = 420;
  const h = 260;
  const { s: frame, px, py } = axes(w, h, [0, m.classes.length], [0, 1], 'class', 'F1');
  let s = `<svg width="${w}" height="${h}" role="img" aria-label="Per-class F1">${frame}`;
  m.classes.forEach((c, i) => {
    const f1 = m.perClass[c]!.f1;
    s += `<rect x="${px(i + 0.15)}" y="${py(f1)}" width="${px(i + 0.85) - px(i + 0.15)}" height="${py(0) - py(f1)}" fill="${COLORS[i % COLORS.length]}"><title>${esc(c)}: F1 ${f3(f1)}</title></rect>`;
    s += `<text x="${px(i + 0.5)}" y="${py(f1) - 4}" text-anchor="middle" font-size="11">${f3(f1)}</text>`;
    s += `<text x="${px(i + 0.5)}" y="${py(0) - 6}" text-anchor="middle" font-size="10" fill="#fff">${esc(c)}</text>`;
  });
  return s + '</svg>';
}

function curvesSvg(members: MemberMetrics[], key: 'loss' | 'valMacroF1'): string {
  const w = 420;
  const h = 280;
  const epochs = Math.max(1, ...members.map((mm) => mm.history.length));
  const values = members.flatMap((mm) => mm.history.flatMap((r) => (key === 'loss' ? [r.trainLoss, r.valLoss] : [r.valMacroF1])));
  const y: [number, number] = key === 'loss' ? [0, Math.max(1e-6, ...values) * 1.05] : [0, 1];
  const {
    s: frame,
    px,
    py,
  } = axes(w, h, [1, Math.max(2, epochs)], y, 'epoch', key === 'loss' ? 'loss (solid train, dashed val)' : 'validation macro-F1');
  let s = `<svg width="${w}" height="${h}" role="img" aria-label="Training curves">${frame}`;
  const line = (pts: number[], color: string, dash: boolean) =>
    pts.length
      ? `<polyline fill="none" stroke="${color}" stroke-width="2"${dash ? ' stroke-dasharray="5 3"' : ''} points="${pts.map((v, i) => `${px(i + 1).toFixed(1)},${py(v).toFixed(1)}`).join(' ')}"/>`
      : '';
  members.forEach((mm, i) => {
    const color = COLORS[i % COLORS.length]!;
    if (key === 'loss') {
      s += line(
        mm.history.map((r) => r.trainLoss),
        color,
        false,
      );
      s += line(
        mm.history.map((r) => r.valLoss),
        color,
        true,
      );
    } else
      s += line(
        mm.history.map((r) => r.valMacroF1),
        color,
        false,
      );
  });
  return s + '</svg>';
}

/** The whole report as one HTML string. */
export function renderReport(m: EvalMetrics, title: string): string {
  const rows = m.classes
    .map((c) => {
      const p = m.perClass[c]!;
      return `<tr><td>${esc(c)}</td><td>${f3(p.precision)}</td><td>${f3(p.recall)}</td><td>${f3(p.f1)}</td><td>${p.support}</td></tr>`;
    })
    .join('');
  const memberRows = m.members
    .map(
      (mm, i) =>
        `<tr><td><span class="sw" style="background:${COLORS[i % COLORS.length]}"></span>${esc(mm.dir)}</td><td>${esc(mm.backbone)}</td><td>${esc(mm.seed)}</td><td>${esc(mm.bestEpoch)}</td><td>${f3(mm.accuracy)}</td><td>${f3(mm.macroF1)}</td><td>${mm.history.length}</td></tr>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:980px;color:#111;padding:0 16px}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ddd;padding:4px 10px;text-align:right}td:first-child,th:first-child{text-align:left}
.grid{display:flex;flex-wrap:wrap;gap:24px}.grid figure{margin:0}figcaption{font-weight:600;margin-bottom:4px}
.kpi{display:flex;gap:16px;flex-wrap:wrap}.kpi div{border:1px solid #ddd;border-radius:6px;padding:8px 14px}.kpi b{display:block;font-size:20px}
.sw{display:inline-block;width:10px;height:10px;margin-right:6px}
</style></head><body>
<h1>${esc(title)}</h1>
<p>Split <b>${esc(m.split)}</b>: ${m.clips} clips${m.members.length > 1 ? `, ensemble of ${m.members.length} heads (mean of member probabilities)` : ''}. Temperature and OOD threshold fitted on ${m.calibrationClips} ${m.calibratedOn === 'validation' ? 'validation clips' : 'held-out clips of a cross-validation'}.</p>
<div class="kpi">
<div>accuracy<b>${pct(m.accuracy)}</b></div><div>macro-F1<b>${f3(m.macroF1)}</b></div>
<div>subclass accuracy<b>${m.subclassAccuracy === null ? 'n/a' : pct(m.subclassAccuracy)}</b>${m.subclassClips} clips</div>
<div>temperature<b>${f3(m.temperature)}</b></div><div>ECE before → after<b>${f3(m.eceBefore)} → ${f3(m.eceAfter)}</b></div>
<div>OOD threshold<b>${f3(m.oodThreshold)}</b>p${m.oodPercentile} of ${m.calibratedOn}</div>
</div>
<h2>Per class</h2>
<table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>clips</th></tr>${rows}</table>
<div class="grid">
<figure><figcaption>Confusion matrix (row-normalised shading)</figcaption>${confusionSvg(m.classes, m.confusion)}</figure>
<figure><figcaption>Per-class F1</figcaption>${f1BarsSvg(m)}</figure>
<figure><figcaption>Reliability diagram</figcaption>${reliabilitySvg(m.reliabilityBefore, m.reliabilityAfter)}</figure>
</div>
<h2>Training</h2>
<table><tr><th>head</th><th>backbone</th><th>seed</th><th>best epoch</th><th>accuracy</th><th>macro-F1</th><th>epochs</th></tr>${memberRows}</table>
<div class="grid">
<figure><figcaption>Loss per epoch</figcaption>${curvesSvg(m.members, 'loss')}</figure>
<figure><figcaption>Validation macro-F1 per epoch</figcaption>${curvesSvg(m.members, 'valMacroF1')}</figure>
</div>
</body></html>
`;
}
