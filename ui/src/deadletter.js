// deadletter.js: an endpoint's failed deliveries with resend, "recover since" and "replay missing" (background
// tasks, their progress shown until done), and "send test event".
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { call, enc, q } from './api.js';
import { Err, link, time, useLoad } from './ui.js';

/** A background task's progress, polled until it is no longer running. */
export function TaskProgress({ id }) {
  const [task, setTask] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let live = true, timer;
    const poll = async () => {
      try {
        const t = await call('GET', `/background-task/${enc(id)}`);
        if (!live) return;
        setTask(t);
        if (t.status === 'running') timer = setTimeout(poll, 500);
      } catch (err) { if (live) setError(err); }
    };
    poll();
    return () => { live = false; clearTimeout(timer); };
  }, [id]);
  const n = task?.data?.processed ?? 0;
  return html`<div class="task" aria-live="polite"><${Err} error=${error} />
    ${task && (task.status === 'running'
      ? html`<progress aria-label=${`${task.task} running`}></progress> ${task.task}: ${n} processed so far`
      : html`<progress value="1" max="1" aria-label=${`${task.task} ${task.status}`}></progress> ${task.task} ${task.status}: ${n} processed`)}
  </div>`;
}

const iso = (local) => (local ? new Date(local).toISOString() : undefined);

/** Recover (send failed deliveries again) or replay missing, since a time: starts a task and shows it. */
function SinceAction({ base, what, path, label }) {
  const [since, setSince] = useState('');
  const [task, setTask] = useState(null);
  const [error, setError] = useState(null);
  async function submit(e) {
    e.preventDefault();
    setError(null);
    setTask(null);
    try { setTask(await call('POST', `${base}/${path}`, { since: iso(since) })); } catch (err) { setError(err); }
  }
  return html`<form class="since" onSubmit=${submit} aria-label=${label}>
    <label>${label} since <input type="datetime-local" required value=${since} onInput=${(e) => setSince(e.target.value)} /></label>
    <button type="submit">${what}</button>
    <${Err} error=${error} />${task && html`<${TaskProgress} id=${task.id} />`}</form>`;
}

function SendExample({ appId, base }) {
  const [type, setType] = useState('');
  const [sent, setSent] = useState(null);
  const [error, setError] = useState(null);
  async function submit(e) {
    e.preventDefault();
    setError(null);
    try { setSent(await call('POST', `${base}/send-example`, type.trim() ? { eventType: type.trim() } : {})); } catch (err) { setError(err); }
  }
  return html`<form class="since" onSubmit=${submit} aria-label="Send test event">
    <label>Event type <input value=${type} placeholder="webhook.test" onInput=${(e) => setType(e.target.value)} /></label>
    <button type="submit">Send test event</button>
    ${sent && html`<span>sent: <a href=${link(`/app/${appId}/msg/${sent.id}`)}><code>${sent.id}</code></a></span>`}
    <${Err} error=${error} /></form>`;
}

export function DeadLetter({ appId, epId }) {
  const base = `/app/${enc(appId)}/endpoint/${enc(epId)}`;
  const [iter, setIter] = useState(null);
  const { data, error, reload } = useLoad(() => call('GET', `${base}/msg${q({ status: 2, limit: 50, with_content: false, iterator: iter })}`), [base, iter]);
  const [actErr, setActErr] = useState(null);
  const [resent, setResent] = useState({});
  const failed = data?.data ?? [];
  const resend = async (m) => {
    setActErr(null);
    try {
      await call('POST', `/app/${enc(appId)}/msg/${enc(m.id)}/endpoint/${enc(epId)}/resend`);
      setResent({ ...resent, [m.id]: true });
    } catch (err) { setActErr(err); }
  };
  return html`<div class="card"><div class="bar"><h2>Dead letter</h2><button type="button" onClick=${reload}>Refresh</button></div>
    <${Err} error=${error} /><${Err} error=${actErr} />
    ${data && html`<table class="list deadletter"><thead><tr><th>Message</th><th>Event type</th><th>Created</th><th></th></tr></thead>
      <tbody>${failed.map((m) => html`<tr key=${m.id}><td><a href=${link(`/app/${appId}/msg/${m.id}`)}><code>${m.id}</code></a></td>
        <td>${m.eventType}</td><td>${time(m.timestamp)}</td>
        <td>${resent[m.id] ? html`<span class="muted">resent</span>` : html`<button type="button" onClick=${() => resend(m)}>Resend</button>`}</td></tr>`)}
      ${failed.length === 0 && html`<tr><td colspan="4" class="muted">No failed delivery.</td></tr>`}</tbody></table>
      <div class="bar">${iter && html`<button type="button" onClick=${() => setIter(null)}>Newest</button>`}
        ${!data.done && html`<button type="button" onClick=${() => setIter(data.iterator)}>Older</button>`}</div>`}
    <${SinceAction} base=${base} path="recover" what="Recover" label="Send failed messages again" />
    <${SinceAction} base=${base} path="replay-missing" what="Replay missing" label="Send messages it never got" />
    <${SendExample} appId=${appId} base=${base} />
  </div>`;
}
