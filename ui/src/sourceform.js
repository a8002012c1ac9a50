// sourceform.js: create (POST /source) and edit (PATCH /source/{id}) an inbound source (docs/inbound.md,
// SourceIn); the API's 422 errors go next to their fields.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { call, enc } from './api.js';
import { Err, Field, list } from './ui.js';

const SCHEMES = ['standard', 'svix', 'ed25519', 'stripe', 'github', 'shopify', 'slack', 'twilio', 'split', 'hmac', 'none'];
const lines = (s) => s.split('\n').map((x) => x.trim()).filter(Boolean);
const json = (s, what) => {
  if (!s.trim()) return null;
  try { return JSON.parse(s); } catch { throw Object.assign(new Error(`${what}: not JSON`), { fields: { [what]: 'not JSON' } }); }
};

/** Create (no src) or edit a source. On edit, empty secrets keep the current ones and unchanged destinations
 * are not sent (sending them replaces the destination endpoints). */
export function SourceForm({ src, onDone, onCancel }) {
  const dests0 = (src?.destinations ?? []).map((d) => d.url).join('\n');
  const [v, setV] = useState({
    name: src?.name ?? '', uid: src?.uid ?? '', scheme: src?.scheme ?? 'standard', secrets: '',
    publicUrl: src?.publicUrl ?? '', tolerance: src?.tolerance ?? '', dedupWindow: src?.dedupWindow ?? '',
    maxBody: src?.maxBody ?? '', contentTypes: (src?.contentTypes ?? []).join(', '), destinations: dests0,
    dedup: src?.dedup ? JSON.stringify(src.dedup) : '', schemeOptions: src?.schemeOptions ? JSON.stringify(src.schemeOptions) : '',
  });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (k) => (e) => setV({ ...v, [k]: e.target.value });
  const num = (x) => (String(x).trim() === '' ? undefined : Number(x));
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = {
        name: v.name.trim(), uid: v.uid.trim() || null, scheme: v.scheme, publicUrl: v.publicUrl.trim() || null,
        tolerance: num(v.tolerance), dedupWindow: num(v.dedupWindow), maxBody: num(v.maxBody),
        contentTypes: list(v.contentTypes).length ? list(v.contentTypes) : null,
        dedup: json(v.dedup, 'dedup'), schemeOptions: json(v.schemeOptions, 'schemeOptions'),
      };
      for (const k of Object.keys(body)) if (body[k] === undefined || (src && body[k] === null && !src[k])) delete body[k];
      if (lines(v.secrets).length || !src) body.secrets = lines(v.secrets);
      if (!src || v.destinations !== dests0) body.destinations = lines(v.destinations).map((url) => ({ url }));
      onDone(await call(src ? 'PATCH' : 'POST', src ? `/source/${enc(src.id)}` : '/source', body));
    } catch (err) { setError(err); } finally { setBusy(false); }
  }
  const f = error?.fields;
  const input = (k, props = {}) => html`<input id=${`f-${k}`} value=${v[k]} onInput=${set(k)} aria-describedby=${`e-${k}`} ...${props} />`;
  return html`<form class="card" onSubmit=${submit} aria-label=${src ? 'Edit source' : 'New source'}>
    <${Field} label="Name" name="name" errors=${f}>${input('name', { required: true })}</${Field}>
    <${Field} label="uid" name="uid" errors=${f} hint="optional; the source then also receives at /in/<uid>">${input('uid')}</${Field}>
    <${Field} label="Signature scheme" name="scheme" errors=${f}>
      <select id="f-scheme" value=${v.scheme} onChange=${set('scheme')}>${SCHEMES.map((x) => html`<option value=${x}>${x}</option>`)}</select></${Field}>
    <${Field} label="Secrets" name="secrets" errors=${f} hint=${src ? `one a line; empty: keep the ${src.secretCount ?? ''} current` : 'one a line (several: rotation); none for scheme none'}>
      <textarea id="f-secrets" rows="2" value=${v.secrets} onInput=${set('secrets')} autocomplete="off"></textarea></${Field}>
    <${Field} label="Destinations" name="destinations" errors=${f} hint=${src ? 'one URL a line; changing them replaces the destination endpoints' : 'one URL a line (1 to 10)'}>
      <textarea id="f-destinations" rows="2" value=${v.destinations} onInput=${set('destinations')}></textarea></${Field}>
    <details><summary>More settings</summary>
      <${Field} label="Public URL" name="publicUrl" errors=${f} hint="the URL the provider posts to (URL-signing schemes: twilio)">${input('publicUrl', { type: 'url' })}</${Field}>
      <${Field} label="Tolerance (seconds)" name="tolerance" errors=${f} hint="empty: the scheme's">${input('tolerance', { type: 'number', min: 0 })}</${Field}>
      <${Field} label="Dedup window (seconds)" name="dedupWindow" errors=${f} hint="empty: 86400">${input('dedupWindow', { type: 'number', min: 0 })}</${Field}>
      <${Field} label="Max body (bytes)" name="maxBody" errors=${f} hint="empty: 1048576">${input('maxBody', { type: 'number', min: 1 })}</${Field}>
      <${Field} label="Content types" name="contentTypes" errors=${f} hint="comma-separated; empty: any">${input('contentTypes')}</${Field}>
      <${Field} label="Dedup (JSON)" name="dedup" errors=${f} hint='{"header":"webhook-id"}, {"jsonPointer":"/id"} or {"bodyHash":true}'>${input('dedup')}</${Field}>
      <${Field} label="Scheme options (JSON)" name="schemeOptions" errors=${f} hint='e.g. {"header":"X-Signature"}'>${input('schemeOptions')}</${Field}>
    </details>
    <${Err} error=${error} />
    <div class="bar"><button type="submit" disabled=${busy}>${src ? 'Save' : 'Create source'}</button>
      ${onCancel && html`<button type="button" onClick=${onCancel}>Cancel</button>`}</div>
  </form>`;
}
