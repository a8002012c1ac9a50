// theme.js: the portal's theme: logo, primary color and dark mode from its link (app-portal-access's `theme`),
// else from the app's metadata (portalLogoUrl, portalPrimaryColor, portalDarkMode). Applied through CSS
// variables and a data-theme attribute (no inline style: the CSP has no 'unsafe-inline').
import { useEffect, useState } from 'preact/hooks';
import { call, enc, linkTheme, portal, portalApp } from './api.js';

const COLOR = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i;
const okLogo = (u) => typeof u === 'string' && /^https:\/\/[^/]/i.test(u);

/** Black or white text on a background color, whichever reads better. */
function fgOn(hex) {
  const h = hex.length === 4 ? hex.slice(1).split('').map((c) => c + c).join('') : hex.slice(1);
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16) / 255);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.55 ? '#0b1220' : '#ffffff';
}

function apply(t) {
  const root = document.documentElement;
  if (t.darkMode === 'light' || t.darkMode === 'dark') root.dataset.theme = t.darkMode;
  else delete root.dataset.theme;
  if (t.primaryColor && COLOR.test(t.primaryColor)) {
    root.style.setProperty('--brand', t.primaryColor); // CSSOM: allowed by style-src 'self'
    root.style.setProperty('--brand-fg', fgOn(t.primaryColor));
    root.dataset.accent = '';
  }
}

/** The portal's theme, applied; { logoUrl } for the header. Nothing on the dashboard. */
export function useTheme(signedIn) {
  const [logo, setLogo] = useState(null);
  useEffect(() => {
    if (!portal || !signedIn || !portalApp()) return;
    const fromLink = linkTheme();
    let t = { ...fromLink };
    apply(t);
    if (okLogo(t.logoUrl)) setLogo(t.logoUrl);
    call('GET', `/app/${enc(portalApp())}`).then((app) => {
      const m = app?.metadata ?? {};
      t = { logoUrl: fromLink.logoUrl || m.portalLogoUrl, primaryColor: fromLink.primaryColor || m.portalPrimaryColor,
        darkMode: fromLink.darkMode || m.portalDarkMode };
      apply(t);
      setLogo(okLogo(t.logoUrl) ? t.logoUrl : null);
    }, () => {});
  }, [signedIn]);
  return logo;
}
