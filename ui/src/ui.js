// ui.js: small shared pieces: loading hook, error box, confirm button, time and JSON formatting.
import { html } from 'htm/preact';
import { useCallback, useEffect, useState } from 'preact/hooks';

/** Run fn() now and whenever deps change; { data, error, loading, reload }. */
export function useLoad(fn, deps) {
  const [st, set] = useState({ data: null, error: null, loading: true });
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    set((s) => ({ ...s, loading: true }));
    fn().then((data) => live && set({ data, error: null, loading: false }),
      (error) => live && set({ data: null, error, loading: false }));
    return () => { live = false; };
  }, [...deps, n]);
  const reload = useCallback(() => setN((x) => x + 1), []);
  return { ...st, reload };
}

export const Err = ({ error }) => error ? html`<p class="error" role="alert">${String(error.message ?? error)}</p>` : null;
export const Loading = ({ what }) => html`<p class="muted" aria-live="polite">Loading ${what}…</p>`;

/** A button that asks again before doing something that cannot be undone. */
export function ConfirmButton({ label, question, onConfirm, danger = true }) {
  const [asking, setAsking] = useState(false);
  if (!asking) return html`<button type="button" class=${danger ? 'danger' : ''} onClick=${() => setAsking(true)}>${label}</button>`;
  return html`<span class="confirm" role="group" aria-label=${question}>${question}
    <button type="button" class="danger" onClick=${() => { setAsking(false); onConfirm(); }}>Yes, ${label.toLowerCase()}</button>
    <button type="button" onClick=${() => setAsking(false)}>Cancel</button></span>`;
}

export const time = (t) => (t ? new Date(t).toLocaleString() : '—');
export const pretty = (v) => {
  try { return JSON.stringify(v, null, 2); } catch { return String(v); }
};
export const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);
export const link = (path) => `#${path}`;

/** A labelled input with the API's error for that field under it. */
export function Field({ label, name, errors, hint, children }) {
  const err = errors?.[name];
  return html`<div class="field"><label for=${`f-${name}`}>${label}</label>${children}
    ${hint && html`<small class="muted">${hint}</small>`}
    ${err && html`<small class="error" id=${`e-${name}`} role="alert">${err}</small>`}</div>`;
}
