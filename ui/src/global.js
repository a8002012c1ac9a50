// global.js: the operator's pages across apps: the event type catalog (with schemas) and the background tasks.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { call, q } from './api.js';
import { Err, Loading, pretty, time, useLoad } from './ui.js';
import { TaskProgress } from './deadletter.js';

export function EventTypes() {
  const [archived, setArchived] = useState(false);
  const { data, error, loading, reload } = useLoad(
    () => call('GET', `/event-type${q({ limit: 250, with_content: true, include_archived: archived || undefined })}`), [archived]);
  const types = data?.data ?? [];
  return html`<section>
    <div class="bar"><h1>Event types</h1><button type="button" onClick=${reload}>Refresh</button>
      <label><input type="checkbox" checked=${archived} onChange=${(e) => setArchived(e.target.checked)} /> show archived</label></div>
    <${Err} error=${error} />
    ${loading && !data ? html`<${Loading} what="event types" />` : html`<table class="list eventtypes">
      <thead><tr><th>Name</th><th>Description</th><th>Group</th><th>Feature flag</th><th>State</th><th>Schemas</th></tr></thead>
      <tbody>${types.map((t) => html`<tr key=${t.name}><td><code>${t.name}</code></td><td>${t.description}</td>
        <td>${t.groupName ?? ''}</td><td>${t.featureFlag ?? ''}</td>
        <td>${t.archived ? 'archived' : t.deprecated ? 'deprecated' : 'active'}</td>
        <td>${t.schemas && Object.keys(t.schemas).length ? html`<details><summary>${Object.keys(t.schemas).map((v) => `v${v}`).join(', ')}</summary>
          <pre>${pretty(t.schemas)}</pre></details>` : html`<span class="muted">none</span>`}</td></tr>`)}
      ${types.length === 0 && html`<tr><td colspan="6" class="muted">No event types registered: endpoints may filter on any name.</td></tr>`}</tbody></table>`}
  </section>`;
}

export function Tasks() {
  const [status, setStatus] = useState('');
  const { data, error, loading, reload } = useLoad(() => call('GET', `/background-task${q({ limit: 100, status })}`), [status]);
  const tasks = data?.data ?? [];
  return html`<section>
    <div class="bar"><h1>Background tasks</h1><button type="button" onClick=${reload}>Refresh</button>
      <label>Status <select value=${status} onChange=${(e) => setStatus(e.target.value)}>
        <option value="">any</option><option value="running">running</option><option value="finished">finished</option>
        <option value="failed">failed</option></select></label></div>
    <${Err} error=${error} />
    ${loading && !data ? html`<${Loading} what="tasks" />` : html`<table class="list tasks">
      <thead><tr><th>id</th><th>Task</th><th>Status</th><th>Updated</th><th>Progress</th></tr></thead>
      <tbody>${tasks.map((t) => html`<tr key=${t.id}><td><code>${t.id}</code></td><td>${t.task}</td><td>${t.status}</td>
        <td>${time(t.updatedAt)}</td><td>${t.status === 'running' ? html`<${TaskProgress} id=${t.id} />` : `${t.data?.processed ?? 0} processed`}</td></tr>`)}
      ${tasks.length === 0 && html`<tr><td colspan="5" class="muted">No background tasks.</td></tr>`}</tbody></table>`}
  </section>`;
}
