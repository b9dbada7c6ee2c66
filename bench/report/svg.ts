/**
 * Minimal dependency-free SVG charts for the reports: a line chart (several series over a shared x axis) and a
 * bar chart. Output is deterministic for the same input.
 */
export interface LineSeries {
  readonly name: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
}

const W = 720;
const H = 320;
const PAD = { left: 70, right: 20, top: 30, bottom: 45 };

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmt(v: number): string {
  if (v >= 1e6) return `${Math.round(v / 1e5) / 10}M`;
  if (v >= 1e3) return `${Math.round(v / 1e2) / 10}k`;
  return String(Math.round(v * 100) / 100);
}

function frame(title: string, xLabel: string, yLabel: string, yMax: number): string {
  const plotH = H - PAD.top - PAD.bottom;
  let out = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`;
  out += `<rect width="${W}" height="${H}" fill="white"/>`;
  out += `<text x="${W / 2}" y="18" text-anchor="middle" font-size="13">${esc(title)}</text>`;
  for (let i = 0; i <= 4; i++) {
    const y = PAD.top + plotH - (plotH * i) / 4;
    out += `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y}" y2="${y}" stroke="#ddd"/>`;
    out += `<text x="${PAD.left - 6}" y="${y + 4}" text-anchor="end">${fmt((yMax * i) / 4)}</text>`;
  }
  out += `<text x="${W / 2}" y="${H - 8}" text-anchor="middle">${esc(xLabel)}</text>`;
  out += `<text transform="translate(14 ${PAD.top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`;
  return out;
}

export function lineChart(
  title: string,
  xLabel: string,
  yLabel: string,
  series: readonly LineSeries[],
): string {
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const xMax = Math.max(1, ...xs);
  const yMax = niceMax(Math.max(0, ...ys));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  let out = frame(title, xLabel, yLabel, yMax);
  for (let i = 0; i <= 4; i++) {
    const x = PAD.left + (plotW * i) / 4;
    out += `<text x="${x}" y="${H - PAD.bottom + 15}" text-anchor="middle">${fmt((xMax * i) / 4)}</text>`;
  }
  series.forEach((s, k) => {
    const d = s.points
      .map(
        ([x, y], i) =>
          `${i === 0 ? "M" : "L"}${(PAD.left + (x / xMax) * plotW).toFixed(1)},${(PAD.top + plotH - (Math.min(y, yMax) / yMax) * plotH).toFixed(1)}`,
      )
      .join("");
    if (d) out += `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`;
    out += `<rect x="${PAD.left + 10 + k * 140}" y="${PAD.top + 4}" width="10" height="10" fill="${s.color}"/>`;
    out += `<text x="${PAD.left + 24 + k * 140}" y="${PAD.top + 13}">${esc(s.name)}</text>`;
  });
  return `${out}</svg>\n`;
}

export interface Bar {
  readonly label: string;
  readonly value: number;
  readonly color: string;
}

export function barChart(title: string, yLabel: string, bars: readonly Bar[]): string {
  const yMax = niceMax(Math.max(0, ...bars.map((b) => b.value)));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  let out = frame(title, "", yLabel, yMax);
  const slot = plotW / Math.max(1, bars.length);
  bars.forEach((b, i) => {
    const h = (Math.min(b.value, yMax) / yMax) * plotH;
    const x = PAD.left + i * slot + slot * 0.15;
    out += `<rect x="${x.toFixed(1)}" y="${(PAD.top + plotH - h).toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${h.toFixed(1)}" fill="${b.color}"/>`;
    out += `<text x="${(x + slot * 0.35).toFixed(1)}" y="${H - PAD.bottom + 15}" text-anchor="middle">${esc(b.label)}</text>`;
  });
  return `${out}</svg>\n`;
}
