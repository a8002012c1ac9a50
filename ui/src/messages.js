// messages.js: an app's messages (filter by event type and channel), a message's payload (as JSON text), where it
// went (status, next attempt) and its attempts (status, response code, duration, response body).
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { call, enc, q } from './api.js';
import { AttemptFold } from './attempt.js';
import { Err, link, Loading, pretty, time, useLoad } from './ui.js';

export function MessageList({ app }) {
  const [filter, setFilter] = useState({ eventType: '', channel: '', tag: '', after: '', before: '', iterator: null });
  const [form, setForm] = useState({ eventType: '', channel: '', tag: '', after: '', before: '' });
  const iso = (v) => (v ? new Date(v).toISOString() : undefined);
  const { data, error, loading, reload } = useLoad(() => call('GET', `/app/${enc(app.id)}/msg${q({
    limit: 50, event_types: filter.eventType.trim(), channel: filter.channel.trim(), tag: filter.tag.trim(),
    after: iso(filter.after), before: iso(filter.before), iterator: filter.iterator,
  })}`), [app.id, filter]);
  const input = (k, type = 'text') => html`<input name=${k} type=${type} value=${form[k]} onInput=${(e) => setForm({ ...form, [k]: e.target.value })} />`;
  const msgs = data?.data ?? [];
  return html`<div>
    <h2>Messages</h2>
    <form class="filters" role="search" onSubmit=${(e) => { e.preventDefault(); setFilter({ ...form, iterator: null }); }}>
      <label>Event type ${input('eventType')}</label>
      <label>Channel ${input('channel')}</label>
      <label>Tag ${input('tag')}</label>
      <label>After ${input('after', 'datetime-local')}</label>
      <label>Before ${input('before', 'datetime-local')}</label>
      <button type="submit">Filter</button>
    </form>
    <${Err} error=${error} />
    ${loading && !data ? html`<${Loading} what="messages" />` : html`<table class="list">
      <thead><tr><th>Event type</th><th>id</th><th>eventId</th><th>Channels</th><th>Created</th></tr></thead>
      <tbody>${msgs.map((m) => html`<tr key=${m.id}>
        <td><a href=${link(`/app/${app.id}/msg/${m.id}`)}>${m.eventType}</a></td><td><code>${m.id}</code></td>
        <td>${m.eventId ?? ''}</td><td>${(m.channels ?? []).join(', ')}</td><td>${time(m.timestamp)}</td></tr>`)}
      ${msgs.length === 0 && html`<tr><td colspan="5" class="muted">No messages.</td></tr>`}</tbody></table>`}
    <div class="bar">${filter.iterator && html`<button type="button" onClick=${() => setFilter({ ...filter, iterator: null })}>Newest</button>`}
      ${data && !data.done && html`<button type="button" onClick=${() => setFilter({ ...filter, iterator: data.iterator })}>Older</button>`}
      <button type="button" onClick=${reload}>Refresh</button></div>
  </div>`;
}

export function MessagePage({ appId, msgId }) {
  const base = `/app/${enc(appId)}`;
  const { data: m, error } = useLoad(() => call('GET', `${base}/msg/${enc(msgId)}`), [appId, msgId]);
  const dests = useLoad(() => call('GET', `${base}/msg/${enc(msgId)}/endpoint${q({ limit: 250 })}`), [appId, msgId]);
  const atts = useLoad(() => call('GET', `${base}/attempt/msg/${enc(msgId)}${q({ limit: 250 })}`), [appId, msgId]);
  const [resent, setResent] = useState({ error: null, ids: {} });
  if (error) return html`<${Err} error=${error} />`;
  if (!m) return html`<${Loading} what="the message" />`;
  const resend = async (epId) => {
    try {
      await call('POST', `${base}/msg/${enc(msgId)}/endpoint/${enc(epId)}/resend`);
      setResent({ error: null, ids: { ...resent.ids, [epId]: true } });
    } catch (err) { setResent({ ...resent, error: err }); }
  };
  return html`<section>
    <nav class="crumbs" aria-label="Breadcrumb"><a href=${link(`/app/${appId}/messages`)}>Messages</a> › ${m.id}</nav>
    <h1>${m.eventType}</h1>
    <dl class="props"><dt>id</dt><dd><code>${m.id}</code></dd><dt>eventId</dt><dd>${m.eventId ?? '—'}</dd>
      <dt>Tags</dt><dd>${(m.tags ?? []).join(', ') || '—'}</dd>
      <dt>Channels</dt><dd>${(m.channels ?? []).join(', ') || '—'}</dd><dt>Created</dt><dd>${time(m.timestamp)}</dd></dl>
    <h2>Payload</h2>
    <pre class="payload" tabindex="0" aria-label="Payload">${m.payload === undefined ? '(not kept)' : pretty(m.payload)}</pre>
    <div class="bar"><h2>Deliveries</h2><button type="button" onClick=${() => { dests.reload(); atts.reload(); }}>Refresh</button></div>
    <${Err} error=${dests.error} /><${Err} error=${resent.error} />
    ${dests.data && html`<table class="list deliveries"><thead><tr><th>Endpoint</th><th>Status</th><th>Next attempt</th><th></th></tr></thead>
      <tbody>${dests.data.data.map((d) => html`<tr key=${d.id}><td><a href=${link(`/app/${appId}/endpoint/${d.id}`)}>${d.url ?? d.id}</a></td>
        <td><span class=${`badge s${d.status}`}>${d.statusText}</span></td><td>${time(d.nextAttempt)}</td>
        <td>${resent.ids[d.id] ? html`<span class="muted">resent</span>` : html`<button type="button" onClick=${() => resend(d.id)}>Resend</button>`}</td></tr>`)}
      ${dests.data.data.length === 0 && html`<tr><td colspan="4" class="muted">No endpoint takes this message.</td></tr>`}</tbody></table>`}
    <h2>Attempts</h2>
    <${Err} error=${atts.error} />
    ${atts.data && html`<${AttemptTable} appId=${appId} attempts=${atts.data.data} by="endpoint" payload=${m.payload} />`}
  </section>`;
}

/** Attempts, newest first; each with its request and answer, folded. by: the column that links out (msg or
 * endpoint); payload: the message's, when all are of one message. */
export function AttemptTable({ appId, attempts, by, payload }) {
  return html`<table class="list attempts"><thead><tr><th>Time</th><th>${by === 'msg' ? 'Message' : 'Endpoint'}</th>
    <th>Status</th><th>Response code</th><th>Duration</th><th>Trigger</th><th>Request and answer</th></tr></thead>
    <tbody>${attempts.map((a) => html`<tr key=${a.id}><td>${time(a.timestamp)}</td>
      <td>${by === 'msg' ? html`<a href=${link(`/app/${appId}/msg/${a.msgId}`)}><code>${a.msgId}</code></a>`
        : html`<a href=${link(`/app/${appId}/endpoint/${a.endpointId}`)}>${a.url || a.endpointId}</a>`}</td>
      <td><span class=${`badge s${a.status}`}>${a.statusText}</span></td><td>${a.responseStatusCode || '—'}</td>
      <td>${a.responseDurationMs} ms</td><td>${a.triggerType === 1 ? 'manual' : 'scheduled'}</td>
      <td><${AttemptFold} appId=${appId} a=${a} payload=${payload} /></td></tr>`)}
    ${attempts.length === 0 && html`<tr><td colspan="7" class="muted">No attempts yet.</td></tr>`}</tbody></table>`;
}
