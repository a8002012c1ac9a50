// attempt.js: one attempt in full: the request as sent (method, URL, headers, body) and the answer (status,
// headers, body, duration) or the network error. Everything a peer sent is rendered as text.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { call, enc } from './api.js';
import { Err, useLoad } from './ui.js';

/** A header object as a name/value table (values as text; sensitive ones came from hookd as "[redacted]"). */
function HeaderTable({ headers, label }) {
  const rows = Object.entries(headers ?? {});
  if (rows.length === 0) return html`<p class="muted">No headers recorded.</p>`;
  return html`<table class="list headers" aria-label=${label}><tbody>${rows.map(([k, v]) => html`<tr key=${k}>
    <th scope="row"><code>${k}</code></th><td><code>${v}</code></td></tr>`)}</tbody></table>`;
}

/** The body as sent: requestBody when a handler changed it, else the message's payload (passed in, or loaded). */
function RequestBody({ appId, a, payload }) {
  const need = a.requestBody === undefined && payload === undefined;
  const m = useLoad(() => (need ? call('GET', `/app/${enc(appId)}/msg/${enc(a.msgId)}`) : Promise.resolve(null)), [a.id, need]);
  if (a.requestBody !== undefined) return html`<pre class="response" aria-label="Request body">${a.requestBody}</pre>
    <small class="muted">the body as a transformation or payload version made it (it differs from the message's payload)</small>`;
  const p = payload !== undefined ? payload : m.data?.payload;
  if (m.error) return html`<${Err} error=${m.error} />`;
  if (need && !m.data) return html`<p class="muted">Loading the payload…</p>`;
  return html`<pre class="response" aria-label="Request body">${p === undefined || p === null ? '(the payload is no longer kept)' : JSON.stringify(p)}</pre>`;
}

export function AttemptDetail({ appId, a, payload }) {
  const failed = !a.responseStatusCode;
  return html`<div class="attempt-detail">
    <h3>Request</h3>
    <p><code class="method">${a.requestMethod ?? 'POST'}</code> <code>${a.url}</code></p>
    ${a.requestHeaders ? html`<${HeaderTable} headers=${a.requestHeaders} label="Request headers" />`
      : html`<p class="muted">The request headers were not recorded (an older attempt, or the retention period ended).</p>`}
    <${RequestBody} appId=${appId} a=${a} payload=${payload} />
    <h3>${failed ? 'No answer' : 'Answer'}</h3>
    ${failed ? html`<p class="error">${a.response || 'no answer'}</p><p class="muted">after ${a.responseDurationMs} ms</p>`
      : html`<p><span class=${`code c${String(a.responseStatusCode)[0]}`}>${a.responseStatusCode}</span> in ${a.responseDurationMs} ms</p>
        ${a.responseHeaders ? html`<${HeaderTable} headers=${a.responseHeaders} label="Response headers" />`
          : html`<p class="muted">The answer's headers were not recorded.</p>`}
        <pre class="response" aria-label="Response body">${a.response || '(empty body)'}</pre>`}
  </div>`;
}

/** A row's fold: the detail is built (and the payload loaded) only once it is opened. */
export function AttemptFold({ appId, a, payload }) {
  const [open, setOpen] = useState(false);
  return html`<details onToggle=${(e) => setOpen(e.target.open)}>
    <summary>${a.responseStatusCode ? `${(a.response ?? '').length} bytes` : 'error'} · request and answer</summary>
    ${open && html`<${AttemptDetail} appId=${appId} a=${a} payload=${payload} />`}</details>`;
}
