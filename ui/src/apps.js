// apps.js: the list of apps (search, create) and an app's page (rename, tabs for endpoints and messages).
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { call, enc, portal, q } from './api.js';
import { EndpointList } from './endpoints.js';
import { MessageList } from './messages.js';
import { Err, Field, link, Loading, time, useLoad } from './ui.js';

export function AppList() {
  const [iter, setIter] = useState(null);
  const { data, error, loading, reload } = useLoad(() => call('GET', `/app${q({ limit: 250, iterator: iter })}`), [iter]);
  const [search, setSearch] = useState('');
  const [creating, setCreating] = useState(false);
  const s = search.trim().toLowerCase();
  const apps = (data?.data ?? []).filter((a) => !s || [a.name, a.uid, a.id].some((x) => x?.toLowerCase().includes(s)));
  return html`<section>
    <div class="bar"><h1>Apps</h1>
      <button type="button" onClick=${() => setCreating(!creating)} aria-expanded=${creating}>New app</button></div>
    ${creating && html`<${AppForm} onDone=${(a) => { setCreating(false); location.hash = link(`/app/${a.id}`); }} />`}
    <label class="search">Search <input type="search" value=${search} onInput=${(e) => setSearch(e.target.value)}
      placeholder="name, uid or id" /></label>
    <${Err} error=${error} />
    ${loading && !data ? html`<${Loading} what="apps" />` : html`<table class="list">
      <thead><tr><th>Name</th><th>uid</th><th>id</th><th>Created</th></tr></thead>
      <tbody>${apps.map((a) => html`<tr key=${a.id}>
        <td><a href=${link(`/app/${a.id}`)}>${a.name}</a></td><td>${a.uid ?? ''}</td><td><code>${a.id}</code></td>
        <td>${time(a.createdAt)}</td></tr>`)}
      ${apps.length === 0 && html`<tr><td colspan="4" class="muted">No apps${s ? ' match' : ' yet'}.</td></tr>`}</tbody>
    </table>`}
    <div class="bar">${iter && html`<button type="button" onClick=${() => setIter(null)}>First page</button>`}
      ${data && !data.done && html`<button type="button" onClick=${() => setIter(data.iterator)}>Next page</button>`}
      <button type="button" onClick=${reload}>Refresh</button></div>
  </section>`;
}

function AppForm({ app, onDone }) {
  const [name, setName] = useState(app?.name ?? '');
  const [uid, setUid] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = app ? { name } : { name, ...(uid ? { uid } : {}) };
      onDone(await call(app ? 'PATCH' : 'POST', app ? `/app/${enc(app.id)}` : '/app', body));
    } catch (err) { setError(err); } finally { setBusy(false); }
  }
  return html`<form class="card" onSubmit=${submit} aria-label=${app ? 'Rename app' : 'New app'}>
    <${Field} label="Name" name="name" errors=${error?.fields}>
      <input id="f-name" required value=${name} onInput=${(e) => setName(e.target.value)} /></${Field}>
    ${!app && html`<${Field} label="uid (optional)" name="uid" errors=${error?.fields}>
      <input id="f-uid" value=${uid} onInput=${(e) => setUid(e.target.value)} /></${Field}>`}
    <${Err} error=${error} />
    <button type="submit" disabled=${busy}>${app ? 'Save' : 'Create app'}</button>
  </form>`;
}

export function AppPage({ appId, tab }) {
  const { data: app, error, reload } = useLoad(() => call('GET', `/app/${enc(appId)}`), [appId]);
  const [renaming, setRenaming] = useState(false);
  if (error) return html`<${Err} error=${error} />`;
  if (!app) return html`<${Loading} what="the app" />`;
  return html`<section>
    ${!portal && html`<nav class="crumbs" aria-label="Breadcrumb"><a href="#/">Apps</a> › ${app.name}</nav>`}
    <div class="bar"><h1>${app.name}</h1> <code>${app.id}</code>
      ${!portal && html`<button type="button" onClick=${() => setRenaming(!renaming)} aria-expanded=${renaming}>Rename</button>`}</div>
    ${renaming && html`<${AppForm} app=${app} onDone=${() => { setRenaming(false); reload(); }} />`}
    <nav class="tabs" aria-label="App sections">
      <a href=${link(`/app/${app.id}`)} aria-current=${tab === 'endpoints' ? 'page' : null}>Endpoints</a>
      <a href=${link(`/app/${app.id}/messages`)} aria-current=${tab === 'messages' ? 'page' : null}>Messages</a>
    </nav>
    ${tab === 'messages' ? html`<${MessageList} app=${app} />` : html`<${EndpointList} app=${app} />`}
  </section>`;
}
