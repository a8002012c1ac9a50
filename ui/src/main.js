// main.js: hookd's dashboard (/ui/) and app portal (/portal/): sign-in, hash routing, layout.
import { html } from 'htm/preact';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { call, portal, portalApp, setUnauthorized, signIn, signOut, takeFragment, token } from './api.js';
import { AppList, AppPage } from './apps.js';
import { EndpointPage } from './endpoints.js';
import { EventTypes, Tasks } from './global.js';
import { MessagePage } from './messages.js';
import { Server } from './server.js';
import { RequestPage, SourceList, SourcePage } from './sources.js';
import { useTheme } from './theme.js';
import { Err } from './ui.js';

takeFragment(); // a portal link's #key=... leaves the address bar before anything else runs

function useHash() {
  const [h, setH] = useState(location.hash);
  useEffect(() => {
    const on = () => setH(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return h.replace(/^#/, '') || '/';
}

/** The page for a path, or null if the path is unknown. */
function route(path) {
  const s = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (s.length === 0) return portal ? null : html`<${AppList} />`;
  if (!portal && s.length === 1 && s[0] === 'event-types') return html`<${EventTypes} />`;
  if (!portal && s.length === 1 && s[0] === 'tasks') return html`<${Tasks} />`;
  if (!portal && s.length === 1 && s[0] === 'server') return html`<${Server} />`;
  if (!portal && s[0] === 'source') {
    if (s.length === 1) return html`<${SourceList} />`;
    if (s.length === 2) return html`<${SourcePage} srcId=${s[1]} />`;
    if (s.length === 4 && s[2] === 'request') return html`<${RequestPage} srcId=${s[1]} reqId=${s[3]} />`;
  }
  if (s[0] !== 'app' || s.length < 2) return null;
  if (portal && s[1] !== portalApp()) return null; // the portal shows its own app only
  if (s.length === 2) return html`<${AppPage} appId=${s[1]} tab="endpoints" />`;
  if (s.length === 3 && s[2] === 'messages') return html`<${AppPage} appId=${s[1]} tab="messages" />`;
  if (s.length === 4 && s[2] === 'endpoint') return html`<${EndpointPage} appId=${s[1]} epId=${s[3]} />`;
  if (s.length === 4 && s[2] === 'msg') return html`<${MessagePage} appId=${s[1]} msgId=${s[3]} />`;
  return null;
}

function SignIn({ onDone, why }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState(why);
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await call('GET', '/app?limit=1', undefined, value); // answers 401 for a wrong token
      signIn(value);
      onDone();
    } catch (err) { setError(err); } finally { setBusy(false); }
  }
  return html`<main class="signin"><form class="card" onSubmit=${submit} aria-label="Sign in">
    <h1>hookd</h1>
    <label for="token">API token</label>
    <input id="token" type="password" autocomplete="current-password" required autofocus value=${value}
      onInput=${(e) => setValue(e.target.value)} />
    <${Err} error=${error} />
    <button type="submit" disabled=${busy}>Sign in</button>
    <p class="muted">The token stays in this tab (sessionStorage) and is sent only to this hookd.</p>
  </form></main>`;
}

function App() {
  const path = useHash();
  const [signedIn, setSignedIn] = useState(!!token());
  const [why, setWhy] = useState(null);
  useEffect(() => setUnauthorized((e) => { signOut(); setWhy(e); setSignedIn(false); }), []);
  const logo = useTheme(signedIn);
  if (portal && (!signedIn || !portalApp()))
    return html`<main class="signin"><div class="card"><h1>Webhooks</h1>
      <${Err} error=${why} /><p>This portal link is not valid (anymore). Ask for a new one.</p></div></main>`;
  if (!signedIn) return html`<${SignIn} why=${why} onDone=${() => { setWhy(null); setSignedIn(true); }} />`;
  if (portal && path === '/') location.replace(`#/app/${encodeURIComponent(portalApp())}`);
  const page = route(path);
  return html`<div class="layout">
    <header><a class="brand" href=${portal ? `#/app/${encodeURIComponent(portalApp())}` : '#/'}>${logo && html`<img class="logo" src=${logo} alt="" referrerpolicy="no-referrer" /> `}${portal ? 'Webhooks' : 'hookd'}</a>
      ${!portal && html`<nav aria-label="Main"><a href="#/">Apps</a> <a href="#/event-types">Event types</a>
        <a href="#/source">Inbound sources</a> <a href="#/tasks">Background tasks</a> <a href="#/server">Server</a></nav>`}
      <button type="button" class="signout" onClick=${() => { signOut(); setSignedIn(false); }}>Sign out</button></header>
    <main>${page ?? html`<${Err} error=${{ message: `Nothing here: ${path}` }} />`}</main>
  </div>`;
}

render(html`<${App} />`, document.getElementById('root'));
