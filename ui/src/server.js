// server.js: the server page: gauges and rates from GET /metrics (Prometheus text), polled every 2 s, with the
// last few minutes of throughput kept in the page as a small SVG line.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { getText } from './api.js';
import { Err } from './ui.js';

/** name{labels} value lines -> { 'name{labels}': value }; comments and histograms' buckets left out. */
export function parseMetrics(text) {
  const m = {};
  for (const line of text.split('\n')) {
    if (!line || line[0] === '#' || line.includes('_bucket{')) continue;
    const i = line.lastIndexOf(' ');
    m[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  return m;
}

const N = 90; // 3 minutes of 2 s samples
const GAUGES = [
  ['hookd_deliveries_inflight', 'In flight'], ['hookd_deliveries_scheduled', 'Scheduled'],
  ['hookd_deliveries_pending_stored', 'Pending (stored)'], ['hookd_deliveries_dead_letter', 'Dead letter'],
  ['hookd_http_connections', 'API connections'], ['hookd_cluster_nodes', 'Nodes'],
];
const RATES = [
  ['hookd_messages_accepted_total', 'Messages accepted /s'],
  ['hookd_deliveries_total{outcome="success"}', 'Delivered /s'],
  ['hookd_deliveries_total{outcome="retry"}', 'Retried /s'],
  ['hookd_deliveries_total{outcome="fail"}', 'Failed for good /s'],
];

function Line({ values, label }) {
  const max = Math.max(1, ...values);
  const pts = values.map((v, i) => `${(i / (N - 1)) * 300},${40 - (v / max) * 38}`).join(' ');
  return html`<svg class="spark" viewBox="0 0 300 42" role="img" aria-label=${`${label}, last ${values.length} samples, peak ${max.toFixed(1)}`}>
    <polyline points=${pts} /></svg>`;
}

export function Server() {
  const [state, setState] = useState({ now: null, rates: {}, error: null });
  const hist = useRef({ prev: null, series: {} });
  useEffect(() => {
    let live = true, timer;
    const poll = async () => {
      try {
        const now = parseMetrics(await getText('/metrics'));
        const h = hist.current, rates = {};
        const t = performance.now();
        if (h.prev) {
          const dt = (t - h.prev.t) / 1000;
          for (const [k] of RATES) {
            rates[k] = Math.max(0, ((now[k] ?? 0) - (h.prev.m[k] ?? 0)) / dt);
            h.series[k] = [...(h.series[k] ?? []), rates[k]].slice(-N);
          }
        }
        h.prev = { m: now, t };
        if (live) setState({ now, rates, error: null });
      } catch (err) { if (live) setState((s) => ({ ...s, error: err })); }
      if (live) timer = setTimeout(poll, 2000);
    };
    poll();
    return () => { live = false; clearTimeout(timer); };
  }, []);
  const { now, rates, error } = state;
  return html`<section><h1>Server</h1><${Err} error=${error} />
    ${now && html`<div class="gauges">${GAUGES.map(([k, label]) => html`<div class="gauge card"><div class="muted">${label}</div>
      <div class="big">${now[k] ?? '—'}</div></div>`)}</div>
    <table class="list rates"><thead><tr><th>Rate</th><th>Now</th><th>Last 3 minutes</th><th>Total</th></tr></thead>
      <tbody>${RATES.map(([k, label]) => html`<tr key=${k}><th scope="row">${label}</th>
        <td>${rates[k] === undefined ? '—' : rates[k].toFixed(1)}</td>
        <td><${Line} values=${hist.current.series[k] ?? []} label=${label} /></td><td>${now[k] ?? 0}</td></tr>`)}</tbody></table>
    <p class="muted">From <code>GET /metrics</code> every 2 s (docs/operations.md).</p>`}
  </section>`;
}
