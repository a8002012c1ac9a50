// api.js: calls to hookd's /api/v1 with the token kept in sessionStorage (never in a URL).
const KEY = 'hookd.token';
const APP = 'hookd.app';
const THEME = 'hookd.theme';

export const portal = location.pathname.startsWith('/portal');

/** The portal link's fragment (#key=<token>&app=<id>) moves to sessionStorage and leaves the address bar. */
export function takeFragment() {
  const f = new URLSearchParams(location.hash.slice(1));
  const key = f.get('key');
  if (!key) return;
  sessionStorage.setItem(KEY, key);
  if (f.get('app')) sessionStorage.setItem(APP, f.get('app'));
  // the platform's theme for this link (app-portal-access's `theme`); the app's metadata fills the gaps
  const theme = { logoUrl: f.get('logo'), primaryColor: f.get('color'), darkMode: f.get('mode') };
  sessionStorage.setItem(THEME, JSON.stringify(theme));
  history.replaceState(null, '', location.pathname + (f.get('app') ? `#/app/${encodeURIComponent(f.get('app'))}` : '#/'));
}

export const token = () => sessionStorage.getItem(KEY);
export const portalApp = () => sessionStorage.getItem(APP);
export function signIn(t) { sessionStorage.setItem(KEY, t); }
export function signOut() { sessionStorage.removeItem(KEY); sessionStorage.removeItem(APP); sessionStorage.removeItem(THEME); }
export function linkTheme() {
  try { return JSON.parse(sessionStorage.getItem(THEME)) ?? {}; } catch { return {}; }
}

/** An answer other than 2xx: the API's {code, detail}; a 422's field errors in `fields` by field name. */
export class ApiError extends Error {
  constructor(status, body, text) {
    const d = body?.detail;
    let msg;
    if (Array.isArray(d)) msg = d.map((e) => `${(e.loc ?? []).slice(1).join('.') || 'body'}: ${e.msg}`).join('; ');
    else msg = d ?? (text || `HTTP ${status}`);
    super(body?.code ? `${body.code}: ${msg}` : msg);
    this.status = status;
    this.code = body?.code;
    this.fields = {};
    if (Array.isArray(d)) for (const e of d) if (e.loc?.[1] !== undefined) this.fields[e.loc[1]] = e.msg;
  }
}

let onUnauthorized = () => {};
export function setUnauthorized(fn) { onUnauthorized = fn; }

/** fetch /api/v1 + path; resolves with the parsed JSON (null for no body), rejects with an ApiError. */
export async function call(method, path, body, tok = token()) {
  return request(method, '/api/v1' + path, body, tok, true);
}

/** GET a text resource of hookd with the token (/metrics); rejects with an ApiError. */
export const getText = (url) => request('GET', url, undefined, token(), false);

async function request(method, url, body, tok, asJson) {
  let res;
  try {
    res = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${tok}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (err) {
    throw new ApiError(0, null, `hookd cannot be reached: ${err.message}`);
  }
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON: shown as text */ }
  if (res.ok && !asJson) return text;
  if (!res.ok) {
    const e = new ApiError(res.status, json, text);
    if (res.status === 401 && tok === token()) onUnauthorized(e);
    throw e;
  }
  return json;
}

export const q = (params) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') s.append(k, v);
  const t = s.toString();
  return t ? `?${t}` : '';
};
export const enc = encodeURIComponent;
