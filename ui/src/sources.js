// sources.js: inbound sources (operator only): the list, a source with its received requests (verification
// result, forward status), one request with its headers and body, replay of one or of a window.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { call, enc, q } from './api.js';
import { TaskProgress } from './deadletter.js';
import { SourceForm } from './sourceform.js';
import { ConfirmButton, Err, link, Loading, pretty, time, useLoad } from './ui.js';

export function SourceList() {
  const { data, error, loading, reload } = useLoad(() => call('GET', `/source${q({ limit: 250 })}`), []);
  const srcs = data?.data ?? [];
  const [creating, setCreating] = useState(false);
  return html`<section>
    <div class="bar"><h1>Inbound sources</h1><button type="button" onClick=${reload}>Refresh</button>
      <button type="button" onClick=${() => setCreating(!creating)} aria-expanded=${creating}>New source</button></div>
    ${creating && html`<${SourceForm} onCancel=${() => setCreating(false)} onDone=${(s) => { location.hash = link(`/source/${s.id}`); }} />`}
    <${Err} error=${error} />
    ${loading && !data ? html`<${Loading} what="sources" />` : html`<table class="list sources">
      <thead><tr><th>Name</th><th>Scheme</th><th>Receives at</th><th>id</th></tr></thead>
      <tbody>${srcs.map((s) => html`<tr key=${s.id}><td><a href=${link(`/source/${s.id}`)}>${s.name}</a></td><td>${s.scheme}</td>
        <td><code>/in/${s.uid ?? s.id}</code></td><td><code>${s.id}</code></td></tr>`)}
      ${srcs.length === 0 && html`<tr><td colspan="4" class="muted">No inbound sources (POST /api/v1/source, docs/inbound.md).</td></tr>`}</tbody></table>`}
  </section>`;
}

const verdict = (r) => (r.duplicate ? 'duplicate' : r.verified ? 'verified' : `rejected: ${r.verification}`);

export function SourcePage({ srcId }) {
  const base = `/source/${enc(srcId)}`;
  const { data: src, error, reload } = useLoad(() => call('GET', base), [base]);
  const [editing, setEditing] = useState(false);
  const [delErr, setDelErr] = useState(null);
  const [iter, setIter] = useState(null);
  const reqs = useLoad(() => call('GET', `${base}/request${q({ limit: 50, iterator: iter })}`), [base, iter]);
  const [since, setSince] = useState('');
  const [task, setTask] = useState({ id: null, error: null });
  if (error) return html`<${Err} error=${error} />`;
  if (!src) return html`<${Loading} what="the source" />`;
  async function replay(e) {
    e.preventDefault();
    try {
      const t = await call('POST', `${base}/replay`, { since: new Date(since).toISOString() });
      setTask({ id: t.id, error: null });
    } catch (err) { setTask({ id: null, error: err }); }
  }
  return html`<section>
    <nav class="crumbs" aria-label="Breadcrumb"><a href="#/source">Inbound sources</a> › ${src.name}</nav>
    <div class="bar"><h1>${src.name}</h1>
      <button type="button" onClick=${() => setEditing(!editing)} aria-expanded=${editing}>Edit</button>
      <${ConfirmButton} label="Delete" question="Delete this source and its destinations?"
        onConfirm=${async () => { try { await call('DELETE', base); location.hash = '#/source'; } catch (err) { setDelErr(err); } }} /></div>
    <${Err} error=${delErr} />
    ${editing && html`<${SourceForm} src=${src} onCancel=${() => setEditing(false)} onDone=${() => { setEditing(false); reload(); }} />`}
    <p>Receives at <code>/in/${src.uid ?? src.id}</code> · scheme <strong>${src.scheme}</strong></p>
    <details><summary>Configuration</summary><pre>${pretty(src)}</pre></details>
    <div class="bar"><h2>Received requests</h2><button type="button" onClick=${reqs.reload}>Refresh</button></div>
    <${Err} error=${reqs.error} />
    ${reqs.data && html`<table class="list requests"><thead><tr><th>Received</th><th>Method</th><th>Verification</th>
      <th>Forwarded</th><th>Size</th><th>id</th></tr></thead>
      <tbody>${reqs.data.data.map((r) => html`<tr key=${r.id}><td>${time(r.receivedAt)}</td><td>${r.method}</td>
        <td class=${r.verified && !r.duplicate ? '' : 'error'}>${verdict(r)}</td><td>${r.forwardStatus}</td><td>${r.bodySize} bytes</td>
        <td><a href=${link(`/source/${src.id}/request/${r.id}`)}><code>${r.id}</code></a></td></tr>`)}
      ${reqs.data.data.length === 0 && html`<tr><td colspan="6" class="muted">Nothing received yet.</td></tr>`}</tbody></table>
      <div class="bar">${iter && html`<button type="button" onClick=${() => setIter(null)}>Newest</button>`}
        ${!reqs.data.done && html`<button type="button" onClick=${() => setIter(reqs.data.iterator)}>Older</button>`}</div>`}
    <form class="since" onSubmit=${replay} aria-label="Replay forwarded requests">
      <label>Replay forwarded requests since <input type="datetime-local" required value=${since} onInput=${(e) => setSince(e.target.value)} /></label>
      <button type="submit">Replay</button><${Err} error=${task.error} />${task.id && html`<${TaskProgress} id=${task.id} />`}</form>
  </section>`;
}

export function RequestPage({ srcId, reqId }) {
  const path = `/source/${enc(srcId)}/request/${enc(reqId)}`;
  const { data: r, error } = useLoad(() => call('GET', path), [path]);
  const [replayed, setReplayed] = useState({ out: null, error: null });
  if (error) return html`<${Err} error=${error} />`;
  if (!r) return html`<${Loading} what="the request" />`;
  const replay = async () => {
    try { setReplayed({ out: await call('POST', `${path}/replay`), error: null }); } catch (err) { setReplayed({ out: null, error: err }); }
  };
  return html`<section>
    <nav class="crumbs" aria-label="Breadcrumb"><a href=${link(`/source/${srcId}`)}>Received requests</a> › ${r.id}</nav>
    <h1>${r.method} received ${time(r.receivedAt)}</h1>
    <dl class="props"><dt>Verification</dt><dd>${verdict(r)}</dd><dt>Dedup key</dt><dd>${r.dedupKey ?? '—'}</dd>
      <dt>Forwarded</dt><dd>${r.forwardStatus}${r.msgId && html` as <code>${r.msgId}</code>`}</dd></dl>
    <h2>Headers</h2><pre tabindex="0" aria-label="Headers">${pretty(r.headers)}</pre>
    <h2>Body</h2><pre tabindex="0" aria-label="Body">${r.body ?? (r.bodyBase64 ? `(base64) ${r.bodyBase64}` : '(not kept)')}</pre>
    <div class="bar"><button type="button" onClick=${replay}>Replay</button>
      ${replayed.out && html`<span>replayed as <code>${replayed.out.msgId}</code></span>`}</div>
    <${Err} error=${replayed.error} />
  </section>`;
}
