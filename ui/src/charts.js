// charts.js: an endpoint's health over time from GET .../figures?series=true, drawn as plain SVG (no chart
// library: at most 28 points a series, no zoom or streaming; SVG keeps each point's value readable as a <title>
// by screen readers and takes its colours from the stylesheet).
import { html } from 'htm/preact';

const W = 420, H = 110, L = 52, B = 18; // width, height, left axis, bottom axis

const label = (p, win) => {
  const d = new Date(p.start);
  return win === 'week' ? d.toLocaleString([], { weekday: 'short', hour: '2-digit' })
    : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
};

function Frame({ title, caption, children, max, unit, series, win }) {
  const n = series.length, bw = (W - L) / n;
  return html`<figure class="chart"><figcaption>${caption ?? title}</figcaption>
    <svg viewBox=${`0 0 ${W} ${H + B}`} role="img" aria-label=${`${title}, last ${win}`}>
      <line x1=${L} y1=${H} x2=${W} y2=${H} class="axis" />
      <text x=${L - 4} y="10" class="tick" text-anchor="end">${max}${unit}</text>
      <text x=${L - 4} y=${H} class="tick" text-anchor="end">0</text>
      ${[[0, 'start'], [Math.floor(n / 2), 'middle'], [n - 1, 'end']].map(([i, a]) => html`<text key=${i}
        x=${L + i * bw + (a === 'end' ? bw : a === 'middle' ? bw / 2 : 0)} y=${H + 14} class="tick" text-anchor=${a}>${label(series[i], win)}</text>`)}
      ${children(bw)}
    </svg></figure>`;
}

/** Success rate per bucket: the succeeded share of a full-height bar (green), the failed rest (red); a bucket
 * with no attempt has none. */
export function RateChart({ series, win }) {
  return html`<${Frame} title="Success rate" max="100" unit=" %" series=${series} win=${win}>${(bw) => series.map((p, i) => {
    if (!p.attempts) return null;
    const h = p.successRate * H, x = L + i * bw + 1, w = Math.max(bw - 2, 1);
    return html`<g key=${i}><title>${label(p, win)}: ${(p.successRate * 100).toFixed(1)} % of ${p.attempts}</title>
      <rect x=${x} y="0" width=${w} height=${H - h} class="seg c5" /><rect x=${x} y=${H - h} width=${w} height=${h} class="seg c2" /></g>`;
  })}</${Frame}>`;
}

/** p50, p95 and p99 response time per bucket: three lines (points where a bucket has attempts). */
export function LatencyChart({ series, win }) {
  const max = Math.max(1, ...series.map((p) => p.p99Ms ?? 0));
  const caption = html`Response time: <span class="key p50Ms">p50</span> <span class="key p95Ms">p95</span> <span class="key p99Ms">p99</span>`;
  return html`<${Frame} title="Response time (p50, p95, p99)" caption=${caption} max=${max} unit=" ms" series=${series} win=${win}>${(bw) =>
    ['p50Ms', 'p95Ms', 'p99Ms'].map((k) => {
      const pts = series.map((p, i) => (p[k] === null ? null : [L + i * bw + bw / 2, H - (p[k] / max) * H, p, i])).filter(Boolean);
      return html`<g key=${k} class=${`line ${k}`}><polyline points=${pts.map(([x, y]) => `${x},${y}`).join(' ')} />
        ${pts.map(([x, y, p, i]) => html`<circle key=${i} cx=${x} cy=${y} r="2.5"><title>${label(p, win)}: ${k.slice(0, 3)} ${p[k]} ms</title></circle>`)}</g>`;
    })}</${Frame}>`;
}

/** Attempts per bucket stacked by status code (0: no answer), coloured by class. */
export function CodesChart({ series, win }) {
  const max = Math.max(1, ...series.map((p) => p.attempts));
  return html`<${Frame} title="Attempts by status code" max=${max} unit="" series=${series} win=${win}>${(bw) => series.map((p, i) => {
    let y = H;
    return html`<g key=${i}>${Object.entries(p.statusCodes ?? {}).sort(([a], [b]) => Number(a) - Number(b)).map(([c, n]) => {
      const h = (n / max) * H;
      y -= h;
      return html`<rect key=${c} x=${L + i * bw + 1} y=${y} width=${Math.max(bw - 2, 1)} height=${h} class=${`seg c${c[0]}`}>
        <title>${label(p, win)}: ${c === '0' ? 'no answer' : c} × ${n}</title></rect>`;
    })}</g>`;
  })}</${Frame}>`;
}
