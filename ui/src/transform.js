// transform.js: an endpoint's transformation (docs/transformations.md): its Lua code, enabled or not, simulated on
// a sample payload, saved with PATCH .../transformation. A token without ManageTransformations gets a 403 on the
// read: the panel is then not shown at all.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { call } from './api.js';
import { Err, Field, pretty, useLoad } from './ui.js';

const EXAMPLE = `function handler(webhook)
  -- change webhook.payload, .url, .method, .headers; set webhook.cancel = true to skip the delivery
  return webhook
end`;

export function Transformation({ base }) {
  const { data, error } = useLoad(() => call('GET', `${base}/transformation`), [base]);
  if (error?.status === 403) return null; // the token may not manage transformations: nothing to show
  if (error) return html`<div class="card"><h2>Transformation</h2><${Err} error=${error} /></div>`;
  if (!data) return null;
  return html`<${Editor} base=${base} t=${data} />`;
}

function Editor({ base, t }) {
  const [code, setCode] = useState(t.code ?? '');
  const [enabled, setEnabled] = useState(!!t.enabled);
  const [sample, setSample] = useState('{\n  "example": true\n}');
  const [eventType, setEventType] = useState('');
  const [save, setSave] = useState({ error: null, saved: false, busy: false });
  const [sim, setSim] = useState({ error: null, result: null, busy: false });
  const f = save.error?.fields ?? {};
  if (sim.error?.fields) Object.assign(f, sim.error.fields);

  async function simulate() {
    let payload;
    try { payload = JSON.parse(sample); } catch (err) {
      setSim({ error: { message: `sample payload: not JSON (${err.message})`, fields: { payload: 'not JSON' } }, result: null, busy: false });
      return;
    }
    setSim({ error: null, result: null, busy: true });
    try {
      const body = { code, payload, ...(eventType.trim() ? { eventType: eventType.trim() } : {}) };
      setSim({ error: null, result: await call('POST', `${base}/transformation/simulate`, body), busy: false });
    } catch (err) { setSim({ error: err, result: null, busy: false }); }
  }
  async function submit(e) {
    e.preventDefault();
    setSave({ error: null, saved: false, busy: true });
    try {
      await call('PATCH', `${base}/transformation`, { code: code.trim() ? code : null, enabled });
      setSave({ error: null, saved: true, busy: false });
    } catch (err) { setSave({ error: err, saved: false, busy: false }); }
  }
  const r = sim.result;
  return html`<form class="card transformation" onSubmit=${submit} aria-label="Transformation">
    <h2>Transformation</h2>
    <p class="muted">A Lua <code>handler(webhook)</code> run on each delivery to this endpoint (it may change the payload,
      URL, method and headers, or cancel the delivery).</p>
    <${Field} label="Code (Lua)" name="code" errors=${f}>
      <textarea id="f-code" rows="10" spellcheck="false" value=${code} placeholder=${EXAMPLE}
        onInput=${(e) => { setCode(e.target.value); setSave({ ...save, saved: false }); }} aria-describedby="e-code"></textarea></${Field}>
    <div class="field check"><input id="f-enabled" type="checkbox" checked=${enabled}
      onChange=${(e) => { setEnabled(e.target.checked); setSave({ ...save, saved: false }); }} />
      <label for="f-enabled">Enabled (run on deliveries)</label></div>
    <div class="bar"><button type="submit" disabled=${save.busy}>Save transformation</button>
      ${save.saved && html`<span class="muted" role="status">saved</span>`}</div>
    <${Err} error=${save.error} />
    <h3>Simulate</h3>
    <${Field} label="Sample payload (JSON)" name="payload" errors=${f}>
      <textarea id="f-payload" rows="5" spellcheck="false" value=${sample} onInput=${(e) => setSample(e.target.value)}></textarea></${Field}>
    <${Field} label="Event type" name="eventType" errors=${f} hint="optional">
      <input id="f-eventType" value=${eventType} onInput=${(e) => setEventType(e.target.value)} /></${Field}>
    <div class="bar"><button type="button" onClick=${simulate} disabled=${sim.busy}>Simulate</button></div>
    <${Err} error=${sim.error} />
    ${r && html`<div class="simulated" aria-label="Simulation result" role="region">
      ${r.cancel ? html`<p><strong>Canceled</strong>: this delivery would not be sent.</p>`
        : html`<p><code class="method">${r.method}</code> <code>${r.url}</code>${r.eventType && html` · event type ${r.eventType}`}</p>`}
      ${Object.keys(r.headers ?? {}).length > 0 && html`<p>Headers added: <code>${pretty(r.headers)}</code></p>`}
      <pre class="response" aria-label="Simulated body">${bodyText(r.payload)}</pre></div>`}
  </form>`;
}

/** The body as it would be sent (a JSON text), indented when it parses. */
function bodyText(p) {
  if (typeof p !== 'string') return pretty(p);
  try { return pretty(JSON.parse(p)); } catch { return p; }
}
