// endpoints.js: an app's endpoints: list, create/edit form, and an endpoint's page (secret, enable/disable,
// delete, health from .../figures, recent attempts).
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { call, enc, q } from './api.js';
import { CodesChart, LatencyChart, RateChart } from './charts.js';
import { DeadLetter } from './deadletter.js';
import { AttemptTable } from './messages.js';
import { Transformation } from './transform.js';
import { ConfirmButton, Err, Field, link, list, Loading, time, useLoad } from './ui.js';

export function EndpointList({ app }) {
  const { data, error, loading, reload } = useLoad(() => call('GET', `/app/${enc(app.id)}/endpoint${q({ limit: 250 })}`), [app.id]);
  const [creating, setCreating] = useState(false);
  const eps = data?.data ?? [];
  return html`<div>
    <div class="bar"><h2>Endpoints</h2>
      <button type="button" onClick=${() => setCreating(!creating)} aria-expanded=${creating}>New endpoint</button></div>
    ${creating && html`<${EndpointForm} app=${app} onDone=${(ep) => { setCreating(false); location.hash = link(`/app/${app.id}/endpoint/${ep.id}`); }} />`}
    <${Err} error=${error} />
    ${loading && !data ? html`<${Loading} what="endpoints" />` : html`<table class="list">
      <thead><tr><th>URL</th><th>Description</th><th>Event types</th><th>State</th></tr></thead>
      <tbody>${eps.map((ep) => html`<tr key=${ep.id}>
        <td><a href=${link(`/app/${app.id}/endpoint/${ep.id}`)}>${ep.url}</a></td><td>${ep.description}</td>
        <td>${(ep.eventTypes ?? ep.filterTypes ?? []).join(', ') || html`<span class="muted">all</span>`}</td>
        <td>${ep.disabled ? html`<span class="badge off">disabled</span>` : html`<span class="badge on">enabled</span>`}</td></tr>`)}
      ${eps.length === 0 && html`<tr><td colspan="4" class="muted">No endpoints yet.</td></tr>`}</tbody></table>`}
    <div class="bar"><button type="button" onClick=${reload}>Refresh</button></div>
  </div>`;
}

/** Create (no ep) or edit an endpoint; the API's validation errors go next to their fields. */
export function EndpointForm({ app, ep, onDone, onCancel }) {
  const [v, setV] = useState({
    url: ep?.url ?? '', description: ep?.description ?? '',
    eventTypes: (ep?.eventTypes ?? ep?.filterTypes ?? []).join(', '), channels: (ep?.channels ?? []).join(', '),
    rateLimit: ep?.rateLimit ?? ep?.throttleRate ?? '', disabled: ep?.disabled ?? false,
    ordering: ep?.ordering ?? 'parallel', retrySchedule: !ep?.retrySchedule ? '' : ep.retrySchedule.length ? ep.retrySchedule.join(', ') : 'none',
    signatureScheme: ep?.signatureScheme ?? 'standard',
    signatureOptions: ep?.signatureOptions ? JSON.stringify(ep.signatureOptions) : '',
    payloadFilter: ep?.payloadFilter ? JSON.stringify(ep.payloadFilter, null, 2) : '',
    // '' unpins (null: the newest shape, whatever it is); DEFAULT (a new endpoint) leaves it to the API
    apiVersion: ep ? ep.apiVersion ?? '' : DEFAULT,
  });
  const versions = useLoad(() => call('GET', `/api-version${q({ limit: 250 })}`), []);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (k) => (e) => setV({ ...v, [k]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const types = list(v.eventTypes), chans = list(v.channels);
    let opts = null;
    if (v.signatureOptions.trim()) {
      try { opts = JSON.parse(v.signatureOptions); } catch {
        setError({ message: 'signatureOptions: not JSON', fields: { signatureOptions: 'not JSON' } });
        setBusy(false);
        return;
      }
    }
    let filter = null;
    if (v.payloadFilter.trim()) {
      try { filter = JSON.parse(v.payloadFilter); } catch (err) {
        setError({ message: `payloadFilter: not JSON (${err.message})`, fields: { payloadFilter: `not JSON (${err.message})` } });
        setBusy(false);
        return;
      }
    }
    const body = {
      url: v.url.trim(), description: v.description, disabled: v.disabled,
      eventTypes: types.length ? types : null, channels: chans.length ? chans : null,
      rateLimit: String(v.rateLimit).trim() === '' ? null : Number(v.rateLimit),
      ordering: v.ordering,
      retrySchedule: v.retrySchedule.trim() === '' ? null : v.retrySchedule.trim() === 'none' ? []
        : list(v.retrySchedule).map(Number),
      signatureScheme: v.signatureScheme, signatureOptions: opts, payloadFilter: filter,
      ...(v.apiVersion === DEFAULT ? {} : { apiVersion: v.apiVersion || null }),
    };
    try {
      const path = `/app/${enc(app.id)}/endpoint${ep ? `/${enc(ep.id)}` : ''}`;
      onDone(await call(ep ? 'PATCH' : 'POST', path, body));
    } catch (err) { setError(err); } finally { setBusy(false); }
  }
  const f = error?.fields;
  return html`<form class="card" onSubmit=${submit} aria-label=${ep ? 'Edit endpoint' : 'New endpoint'}>
    <${Field} label="URL" name="url" errors=${f}><input id="f-url" type="url" required value=${v.url} onInput=${set('url')}
      placeholder="https://example.com/webhooks" aria-describedby="e-url" /></${Field}>
    <${Field} label="Description" name="description" errors=${f}><input id="f-description" value=${v.description} onInput=${set('description')} /></${Field}>
    <${Field} label="Event types" name="eventTypes" errors=${f} hint="comma-separated; empty: every event type">
      <input id="f-eventTypes" value=${v.eventTypes} onInput=${set('eventTypes')} /></${Field}>
    <${Field} label="Channels" name="channels" errors=${f} hint="comma-separated; empty: every channel">
      <input id="f-channels" value=${v.channels} onInput=${set('channels')} /></${Field}>
    <${Field} label="Rate limit (messages per second)" name="rateLimit" errors=${f} hint="empty: none">
      <input id="f-rateLimit" type="number" min="0" value=${v.rateLimit} onInput=${set('rateLimit')} /></${Field}>
    <${Field} label="Retry schedule (seconds between attempts)" name="retrySchedule" errors=${f}
      hint="comma-separated, e.g. 5, 300, 1800; none: no retries; empty: the server's">
      <input id="f-retrySchedule" value=${v.retrySchedule} onInput=${set('retrySchedule')} /></${Field}>
    <${Field} label="Ordering" name="ordering" errors=${f} hint="fifo: each message waits for the one before it">
      <select id="f-ordering" value=${v.ordering} onChange=${set('ordering')}>
        <option value="parallel">parallel</option><option value="fifo">fifo</option></select></${Field}>
    <${Field} label="Signature scheme" name="signatureScheme" errors=${f}
      hint=${ep && 'changing it makes a new secret for the new scheme when the current one does not fit it'}>
      <select id="f-signatureScheme" value=${v.signatureScheme} onChange=${set('signatureScheme')}>
        ${SCHEMES.map((x) => html`<option value=${x}>${x}</option>`)}</select></${Field}>
    <${Field} label="Signature options (JSON)" name="signatureOptions" errors=${f}
      hint='header, timestampHeader, idHeader, prefix, hash, encoding; e.g. {"header":"X-Signature"}; empty: the scheme defaults'>
      <input id="f-signatureOptions" value=${v.signatureOptions} onInput=${set('signatureOptions')} aria-describedby="e-signatureOptions" /></${Field}>
    <${Field} label="Payload filter (JSON)" name="payloadFilter" errors=${f}
      hint='only messages whose payload matches are sent, e.g. {"amount": {"$gt": 100}}; empty: every message'>
      <textarea id="f-payloadFilter" rows="3" spellcheck="false" value=${v.payloadFilter} onInput=${set('payloadFilter')}
        aria-describedby="e-payloadFilter"></textarea></${Field}>
    ${versions.data?.data?.length > 0 && html`<${Field} label="Payload version" name="apiVersion" errors=${f}
      hint="the shape of the payloads it receives (webhook-api-version)">
      <select id="f-apiVersion" value=${v.apiVersion} onChange=${set('apiVersion')}>
        ${!ep && html`<option value=${DEFAULT}>the newest, pinned at creation</option>`}
        <option value="">not pinned: always the newest</option>
        ${versions.data.data.map((x) => html`<option value=${x.name}>${x.name}</option>`)}</select></${Field}>`}
    <${Err} error=${versions.error} />
    <div class="field check"><input id="f-disabled" type="checkbox" checked=${v.disabled} onChange=${set('disabled')} />
      <label for="f-disabled">Disabled</label></div>
    <${Err} error=${error} />
    <div class="bar"><button type="submit" disabled=${busy}>${ep ? 'Save' : 'Create endpoint'}</button>
      ${onCancel && html`<button type="button" onClick=${onCancel}>Cancel</button>`}</div>
  </form>`;
}

const DEFAULT = '\u0000default';
const SCHEMES = ['standard', 'svix', 'ed25519', 'stripe', 'split', 'github', 'shopify', 'slack', 'hmac'];

export function EndpointPage({ appId, epId }) {
  const base = `/app/${enc(appId)}/endpoint/${enc(epId)}`;
  const { data: ep, error, reload } = useLoad(() => call('GET', base), [base]);
  const [editing, setEditing] = useState(false);
  const [actErr, setActErr] = useState(null);
  if (error) return html`<${Err} error=${error} />`;
  if (!ep) return html`<${Loading} what="the endpoint" />`;
  const act = (fn) => async () => {
    setActErr(null);
    try { await fn(); } catch (err) { setActErr(err); }
  };
  return html`<section>
    <nav class="crumbs" aria-label="Breadcrumb"><a href=${link(`/app/${appId}`)}>Endpoints</a> › ${ep.url}</nav>
    <div class="bar"><h1 class="url">${ep.url}</h1>
      ${ep.disabled ? html`<span class="badge off">disabled</span>` : html`<span class="badge on">enabled</span>`}</div>
    <div class="bar">
      <button type="button" onClick=${() => setEditing(!editing)} aria-expanded=${editing}>Edit</button>
      <button type="button" onClick=${act(async () => { await call('PATCH', base, { disabled: !ep.disabled }); reload(); })}>
        ${ep.disabled ? 'Enable' : 'Disable'}</button>
      <${ConfirmButton} label="Delete" question="Delete this endpoint?"
        onConfirm=${act(async () => { await call('DELETE', base); location.hash = link(`/app/${appId}`); })} />
    </div>
    <${Err} error=${actErr} />
    ${editing && html`<${EndpointForm} app=${{ id: appId }} ep=${ep} onCancel=${() => setEditing(false)}
      onDone=${() => { setEditing(false); reload(); }} />`}
    <dl class="props">
      <dt>id</dt><dd><code>${ep.id}</code></dd>
      <dt>Description</dt><dd>${ep.description || html`<span class="muted">none</span>`}</dd>
      <dt>Event types</dt><dd>${(ep.eventTypes ?? ep.filterTypes ?? []).join(', ') || html`<span class="muted">all</span>`}</dd>
      <dt>Channels</dt><dd>${(ep.channels ?? []).join(', ') || html`<span class="muted">all</span>`}</dd>
      <dt>Rate limit</dt><dd>${ep.rateLimit ?? ep.throttleRate ?? html`<span class="muted">none</span>`}</dd>
      <dt>Signature scheme</dt><dd>${ep.signatureScheme ?? 'standard'}${ep.signatureOptions && html` <code>${JSON.stringify(ep.signatureOptions)}</code>`}</dd>
      <dt>Payload filter</dt><dd>${ep.payloadFilter ? html`<code>${JSON.stringify(ep.payloadFilter)}</code>` : html`<span class="muted">none</span>`}</dd>
      <dt>Payload version</dt><dd>${ep.apiVersion ?? html`<span class="muted">not pinned (the newest)</span>`}</dd>
      <dt>Ordering</dt><dd>${ep.ordering ?? 'parallel'}</dd>
      <dt>Retry schedule</dt><dd>${!ep.retrySchedule ? html`<span class="muted">the server's</span>`
        : ep.retrySchedule.length ? `${ep.retrySchedule.join(', ')} s` : 'no retries'}</dd>
      <dt>Created</dt><dd>${time(ep.createdAt)}</dd><dt>Updated</dt><dd>${time(ep.updatedAt)}</dd>
    </dl>
    <${Health} base=${base} />
    <${DeadLetter} appId=${appId} epId=${epId} />
    <${Secret} base=${base} />
    <${Headers} base=${base} />
    <${Transformation} base=${base} key=${ep.updatedAt} />
    <${EndpointAttempts} appId=${appId} epId=${epId} />
  </section>`;
}

function Secret({ base }) {
  const [secret, setSecret] = useState(null);
  const [error, setError] = useState(null);
  const reveal = async () => {
    setError(null);
    try { setSecret(await call('GET', `${base}/secret`)); } catch (err) { setError(err); }
  };
  const rotate = async () => {
    setError(null);
    try {
      await call('POST', `${base}/secret/rotate`, {});
      if (secret) await reveal();
    } catch (err) { setError(err); }
  };
  return html`<div class="card"><h2>Signing secret</h2>
    ${secret ? html`<p><code class="secret">${secret.key}</code>
      ${secret.publicKey && html`<br />public key <code>${secret.publicKey}</code>`}</p>`
      : html`<p class="muted">Hidden.</p>`}
    <div class="bar">${secret ? html`<button type="button" onClick=${() => setSecret(null)}>Hide</button>`
      : html`<button type="button" onClick=${reveal}>Reveal secret</button>`}
      <${ConfirmButton} label="Rotate" question="Rotate the secret? The old one stays valid for the grace period." onConfirm=${rotate} /></div>
    <${Err} error=${error} /></div>`;
}

/** The headers added to every delivery, one "Name: value" a line; saved with PUT .../headers. */
function Headers({ base }) {
  const { data, error } = useLoad(() => call('GET', `${base}/headers`), [base]);
  const [text, setText] = useState(null);
  const [state, setState] = useState({ error: null, saved: false });
  const shown = text ?? Object.entries(data?.headers ?? {}).map(([k, v]) => `${k}: ${v}`).join('\n');
  async function save(e) {
    e.preventDefault();
    const headers = {};
    for (const line of shown.split('\n')) {
      const i = line.indexOf(':');
      if (line.trim() && i > 0) headers[line.slice(0, i).trim()] = line.slice(i + 1).trim();
    }
    try {
      await call('PUT', `${base}/headers`, { headers });
      setState({ error: null, saved: true });
    } catch (err) { setState({ error: err, saved: false }); }
  }
  return html`<form class="card" onSubmit=${save} aria-label="Headers"><h2>Headers</h2><${Err} error=${error} />
    <label for="f-headers">Added to every delivery, one <code>Name: value</code> a line</label>
    <textarea id="f-headers" rows="3" value=${shown} onInput=${(e) => { setText(e.target.value); setState({ error: null, saved: false }); }}></textarea>
    ${data?.sensitive?.length > 0 && html`<small class="muted">sensitive (values hidden): ${data.sensitive.join(', ')}</small>`}
    <div class="bar"><button type="submit">Save headers</button>${state.saved && html`<span class="muted">saved</span>`}</div>
    <${Err} error=${state.error} /></form>`;
}

const pct = (x) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)} %`);
const ms = (x) => (x === null || x === undefined ? '—' : `${Math.round(x)} ms`);

const REASONS = { gone: 'hookd disabled it: it answered 410 Gone', failing: 'it was failing (hookd disables an endpoint that fails for the disable-after period)', manual: 'disabled by hand (API or dashboard)' };

/** The circuit breaker and the disabled state with its reason (from .../figures). */
function State({ f }) {
  const b = f.breaker ?? {};
  return html`<dl class="props state">
    <dt>Circuit breaker</dt><dd>${b.thisNode === false ? html`<span class="muted">held by the node that sends for this endpoint</span>`
      : html`<span class=${`badge ${b.state === 'closed' ? 'on' : 'off'}`}>${b.state}</span>
        ${b.failures > 0 && ` ${b.failures} ${b.failures === 1 ? 'failure' : 'failures in a row'}`}${b.failingSince && ` · failing since ${time(b.failingSince)}`}
        ${b.state !== 'closed' && b.openedAt && ` · opened ${time(b.openedAt)}`}${b.retryAt && ` · next try ${time(b.retryAt)}`}
        ${b.state === 'closed' && b.closedAt && ` · last closed ${time(b.closedAt)}`}`}</dd>
    <dt>State</dt><dd>${f.disabled ? html`<span class="badge off">disabled</span> since ${time(f.disabledAt)}: ${REASONS[f.disabledReason] ?? f.disabledReason}`
      : html`<span class="badge on">enabled</span>`}</dd></dl>`;
}

/** Success rate, response times and status codes for the last hour, day and week (GET .../figures?series=true). */
function Health({ base }) {
  const { data: f, error, reload } = useLoad(() => call('GET', `${base}/figures?series=true`), [base]);
  const [win, setWin] = useState('day');
  return html`<div class="card health"><div class="bar"><h2>Health</h2><button type="button" onClick=${reload}>Refresh</button></div>
    <${Err} error=${error} />
    ${f && html`<${State} f=${f} />
      <table class="list figures"><thead><tr><th>Window</th><th>Attempts</th><th>Succeeded</th><th>Failed</th>
      <th>Success rate</th><th>Average</th><th>p50</th><th>p95</th><th>p99</th><th>Status codes</th></tr></thead>
      <tbody>${['hour', 'day', 'week'].map((w) => {
        const x = f[w] ?? {};
        return html`<tr key=${w}><th scope="row">last ${w}</th><td>${x.attempts}</td><td>${x.success}</td><td>${x.failed}</td>
          <td>${pct(x.successRate)}</td><td>${ms(x.avgMs)}</td><td>${ms(x.p50Ms)}</td><td>${ms(x.p95Ms)}</td><td>${ms(x.p99Ms)}</td>
          <td>${Object.entries(x.statusCodes ?? {}).map(([c, n]) => html`<span class=${`code c${String(c)[0]}`}>${c === '0' ? 'no answer' : c}: ${n}</span> `)}</td></tr>`;
      })}</tbody></table>
      <${StatusBars} f=${f} />
      <div class="bar" role="group" aria-label="Chart window">Over the last
        ${['hour', 'day', 'week'].map((w) => html`<button type="button" key=${w} aria-pressed=${win === w} class=${win === w ? 'on' : ''}
          onClick=${() => setWin(w)}>${w}</button>`)}</div>
      ${f[win]?.series && html`<div class="charts"><${RateChart} series=${f[win].series} win=${win} />
        <${LatencyChart} series=${f[win].series} win=${win} /><${CodesChart} series=${f[win].series} win=${win} /></div>`}
      <p>Dead letters: <strong>${f.deadLetter}</strong> · pending: <strong>${f.pending}</strong></p>`}
  </div>`;
}

/** Each window's attempts as one bar split by status code (SVG; colours from the stylesheet). */
function StatusBars({ f }) {
  const W = 400;
  return html`<figure class="bars"><figcaption>Attempts by status code</figcaption>
    <svg viewBox=${`0 0 ${W + 90} 66`} role="img" aria-label="Attempts by status code, last hour, day and week">
    ${['hour', 'day', 'week'].map((w, i) => {
      const x = f[w] ?? {};
      let at = 90;
      const codes = Object.entries(x.statusCodes ?? {}).sort(([a], [b]) => Number(a) - Number(b));
      return html`<g key=${w}><text x="0" y=${i * 22 + 14} class="label">last ${w}</text>
        ${x.attempts ? codes.map(([c, n]) => {
          const width = (n / x.attempts) * W, r = html`<rect x=${at} y=${i * 22 + 3} width=${width} height="16" class=${`seg c${c[0]}`}>
            <title>${c === '0' ? 'no answer' : c}: ${n}</title></rect>`;
          at += width;
          return r;
        }) : html`<rect x="90" y=${i * 22 + 3} width=${W} height="16" class="seg none"><title>no attempts</title></rect>`}</g>`;
    })}</svg></figure>`;
}

function EndpointAttempts({ appId, epId }) {
  const { data, error, reload } = useLoad(() => call('GET', `/app/${enc(appId)}/attempt/endpoint/${enc(epId)}${q({ limit: 50 })}`), [appId, epId]);
  return html`<div class="bar"><h2>Recent attempts</h2><button type="button" onClick=${reload}>Refresh</button></div>
    <${Err} error=${error} />${data && html`<${AttemptTable} appId=${appId} attempts=${data.data} by="msg" />`}`;
}
