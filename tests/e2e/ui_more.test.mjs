// ui_more.test.mjs: the UI's second round (docs/ui.md): health charts, the breaker and the disabled reason, the
// dead letter by status, the endpoint's signature options and scheme change, inbound source forms, the portal's
// theme and the portal in an iframe (frame-ancestors), in Debian's chromium driven by playwright-core.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { api, e2e, eventually, startHookd, startReceiver } from './lib/harness.mjs';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../build/ui-screenshots');
const shot = async (page, name) => {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
};
const noBrowser = existsSync(CHROMIUM) ? false : `no ${CHROMIUM} (Debian's chromium; make deps installs it)`;

async function uiBuilt(t, h) {
  if ((await fetch(`${h.url}/ui/`)).status === 200) return true;
  t.skip('hookd was built with make UI=0');
  return false;
}

async function browserPage(t, h) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  t.after(() => browser.close());
  const page = await browser.newPage();
  page.setDefaultTimeout(15000);
  const seen = { urls: [], errors: [] };
  page.on('request', (r) => seen.urls.push(r.url()));
  page.on('console', (m) => { if (m.type() === 'error') seen.errors.push(m.text()); });
  page.on('pageerror', (e) => seen.errors.push(String(e)));
  seen.outside = () => seen.urls.filter((u) => !u.startsWith(`${h.url}/`) && !u.startsWith('data:'));
  return { page, seen };
}

async function signIn(page, h) {
  await page.goto(`${h.url}/ui/`);
  await page.getByLabel('API token').fill(h.token);
  await page.getByLabel('API token').press('Enter');
  await page.getByRole('heading', { name: 'Apps' }).waitFor();
}

async function refreshUntil(scope, text) {
  await eventually(async () => {
    await scope.getByRole('button', { name: 'Refresh' }).first().click();
    await scope.getByText(text).first().waitFor({ timeout: 1000 });
  }, { what: `"${text}" in the page`, timeout: 20000 });
}

e2e('ui: health charts and state, dead letter by status, signature options and a scheme change', { skip: noBrowser }, async (t) => {
  const h = await startHookd(t);
  if (!await uiBuilt(t, h)) return;
  const rcv = await startReceiver(t, (rec) => (JSON.parse(rec.body).bad ? 503 : 200));
  const gone = await startReceiver(t, 410);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'Charts' })).json;
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url, retrySchedule: [] })).json;
  const ep410 = (await req('POST', `/app/${app.id}/endpoint`, { url: gone.url, eventTypes: ['gone.test'] })).json;
  const ok = (await req('POST', `/app/${app.id}/msg`, { eventType: 'a.ok', payload: {} })).json;
  const bad = (await req('POST', `/app/${app.id}/msg`, { eventType: 'a.bad', payload: { bad: true } })).json;
  await req('POST', `/app/${app.id}/msg`, { eventType: 'gone.test', payload: {} });
  await eventually(async () => assert.equal((await req('GET', `/app/${app.id}/endpoint/${ep.id}/figures`)).json.deadLetter, 1));

  const { page, seen } = await browserPage(t, h);
  await signIn(page, h);
  await page.goto(`${h.url}/ui/#/app/${app.id}/endpoint/${ep.id}`);
  const health = page.locator('.card.health');
  await health.locator('dl.state').getByText('closed').waitFor();
  await health.locator('dl.state').getByText('enabled').waitFor();
  assert.equal(await health.locator('figure.chart').count(), 3);
  await health.getByRole('button', { name: 'hour' }).click();
  assert.equal(await health.getByRole('button', { name: 'hour' }).getAttribute('aria-pressed'), 'true');
  // the last bucket of the hour holds its attempts: 200 twice, 503 once
  const codes = health.locator('figure.chart', { hasText: 'Attempts by status code' });
  await codes.locator('rect title', { hasText: '503 × 1' }).waitFor({ state: 'attached' });
  await codes.locator('rect title', { hasText: '200 × 2' }).waitFor({ state: 'attached' });
  assert.equal(await health.locator('figure.chart', { hasText: 'Response time' }).locator('circle').count(), 3);
  await shot(page, 'endpoint-health');
  // the dead letter asks for the failed deliveries only
  const dead = page.locator('.card', { has: page.getByRole('heading', { name: 'Dead letter' }) });
  await dead.getByText(bad.id).waitFor();
  assert.equal(await dead.getByText(ok.id).count(), 0);
  assert.ok(seen.urls.some((u) => /\/msg\?status=2&/.test(u)), 'the dead letter uses ?status=2');

  // signature options and a scheme change on an existing endpoint; a wrong option shows its error
  await page.getByRole('button', { name: 'Edit' }).click();
  await page.getByLabel('Signature scheme').selectOption('stripe');
  await page.getByLabel('Signature options (JSON)').fill('{"bogus":"x"}');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.locator('#e-signatureOptions').getByText('unknown option').waitFor();
  await page.getByLabel('Signature options (JSON)').fill('{"header":"X-Shop-Signature"}');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText('{"header":"X-Shop-Signature"}').waitFor();
  const after = (await req('GET', `/app/${app.id}/endpoint/${ep.id}`)).json;
  assert.equal(after.signatureScheme, 'stripe');
  assert.deepEqual(after.signatureOptions, { header: 'X-Shop-Signature' });

  // an endpoint hookd disabled on a 410: the reason in its health
  await eventually(async () => assert.equal((await req('GET', `/app/${app.id}/endpoint/${ep410.id}`)).json.disabled, true));
  await page.goto(`${h.url}/ui/#/app/${app.id}/endpoint/${ep410.id}`);
  await page.locator('.card.health dl.state').getByText('answered 410 Gone').waitFor();
  await shot(page, 'endpoint-disabled');
  assert.deepEqual(seen.outside(), []);
  assert.deepEqual(seen.errors.filter((e) => !/status of 4\d\d/.test(e)), []);
  assert.equal(await h.stop(), 0);
});

e2e('ui: create and edit an inbound source, the API\'s 422 next to its field', { skip: noBrowser }, async (t) => {
  const h = await startHookd(t);
  if (!await uiBuilt(t, h)) return;
  const rcv = await startReceiver(t, 200);
  const { req } = api(h);
  const { page, seen } = await browserPage(t, h);
  await signIn(page, h);
  await page.getByRole('link', { name: 'Inbound sources' }).click();
  await page.getByRole('button', { name: 'New source' }).click();
  await page.getByLabel('Name').fill('Payments in');
  await page.getByLabel('Signature scheme').selectOption('standard');
  await page.getByLabel('Secrets').fill('not-a-secret');
  await page.getByLabel('Destinations').fill(rcv.url);
  await page.getByRole('button', { name: 'Create source' }).click();
  await page.locator('#e-secrets').waitFor();
  await page.getByLabel('Secrets').fill(`whsec_${Buffer.alloc(32, 7).toString('base64')}`);
  await page.getByRole('button', { name: 'Create source' }).click();
  await page.getByRole('heading', { name: 'Payments in' }).waitFor();
  const src = (await req('GET', '/source')).json.data[0];
  assert.equal(src.name, 'Payments in');
  assert.equal(src.secretCount, 1);
  assert.equal(src.destinations[0].url, rcv.url);
  await shot(page, 'source-created');
  // edit: a new name; secrets and destinations left as they are
  await page.getByRole('button', { name: 'Edit' }).click();
  await page.getByLabel('Name').fill('Payments inbound');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('heading', { name: 'Payments inbound' }).waitFor();
  const edited = (await req('GET', `/source/${src.id}`)).json;
  assert.equal(edited.secretCount, 1);
  assert.equal(edited.destinations[0].endpointId, src.destinations[0].endpointId);
  assert.deepEqual(seen.outside(), []);
  assert.equal(await h.stop(), 0);
});

e2e('ui: the portal\'s theme from its link and the app\'s metadata', { skip: noBrowser }, async (t) => {
  const h = await startHookd(t);
  if (!await uiBuilt(t, h)) return;
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'Branded', uid: 'branded', metadata: { portalPrimaryColor: '#0a7f3f' } })).json;
  await req('POST', `/app/${app.id}/endpoint`, { url: 'http://127.0.0.1:9/branded-hook' });
  for (const theme of [{ logoUrl: 'http://logo.example/l.svg' }, { logoUrl: 'https://logo.example/a b.svg' },
    { primaryColor: 'red' }, { darkMode: 'dim' }, 'x'])
    assert.equal((await req('POST', '/auth/app-portal-access/branded', { theme })).status, 422, JSON.stringify(theme));
  const logo = 'https://logo.example/brand.svg?v=1&size=s';
  const access = (await req('POST', '/auth/app-portal-access/branded', { theme: { logoUrl: logo, darkMode: 'dark' } })).json;
  assert.ok(access.url.endsWith('&logo=https%3A%2F%2Flogo.example%2Fbrand.svg%3Fv%3D1%26size%3Ds&mode=dark'), access.url);

  const { page, seen } = await browserPage(t, h);
  await page.route('https://logo.example/**', (r) => r.fulfill({ status: 200, contentType: 'image/svg+xml',
    body: '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><rect width="20" height="20" fill="green"/></svg>' }));
  const res = await page.goto(access.url);
  assert.match(res.headers()['content-security-policy'], /img-src 'self' data: https:;/);
  await page.getByRole('link', { name: 'http://127.0.0.1:9/branded-hook' }).waitFor();
  const img = page.locator('header img.logo');
  await img.waitFor();
  assert.equal(await img.getAttribute('src'), logo);
  await eventually(async () => assert.ok(await img.evaluate((i) => i.complete && i.naturalWidth === 20)));
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  const accent = () => page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--accent').trim());
  await eventually(async () => assert.equal(await accent(), '#0a7f3f')); // from the app's metadata
  await shot(page, 'portal-themed');
  assert.deepEqual(seen.outside(), [logo]);
  assert.deepEqual(seen.errors.filter((e) => !/status of 4\d\d/.test(e)), [], 'no CSP violation');
  // the dashboard keeps img-src without https:
  assert.match((await fetch(`${h.url}/ui/`)).headers.get('content-security-policy'), /img-src 'self' data:;/);
  assert.equal(await h.stop(), 0);
});

/** A page at another origin (another port) that frames url. */
async function framer(t) {
  let target = '';
  const server = http.createServer((q, s) => {
    s.writeHead(200, { 'content-type': 'text/html' });
    s.end(`<!doctype html><title>platform</title><h1>Settings</h1><iframe src="${target}" width="900" height="600"></iframe>`);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return { origin: `http://127.0.0.1:${server.address().port}`, frame: (u) => { target = u; } };
}

e2e('ui: the portal in an iframe of an origin --portal-frame-ancestors allows; refused elsewhere', { skip: noBrowser }, async (t) => {
  const allowed = await framer(t);
  const other = await framer(t);
  const h = await startHookd(t, { args: ['--portal-frame-ancestors', allowed.origin] });
  if (!await uiBuilt(t, h)) return;
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'Framed', uid: 'framed' })).json;
  await req('POST', `/app/${app.id}/endpoint`, { url: 'http://127.0.0.1:9/framed-hook' });
  const { page, seen } = await browserPage(t, h);
  allowed.frame((await req('POST', '/auth/app-portal-access/framed', {})).json.url);
  await page.goto(`${allowed.origin}/`);
  await page.frameLocator('iframe').getByRole('link', { name: 'http://127.0.0.1:9/framed-hook' }).waitFor();
  await shot(page, 'portal-in-iframe');

  other.frame((await req('POST', '/auth/app-portal-access/framed', {})).json.url);
  await page.goto(`${other.origin}/`);
  await eventually(() => assert.ok(seen.errors.some((e) => /frame-ancestors/.test(e)), seen.errors.join('\n')),
    { what: 'the frame refused by its CSP' });
  assert.equal(await page.frameLocator('iframe').getByRole('link', { name: 'http://127.0.0.1:9/framed-hook' }).count(), 0);
  assert.equal(await h.stop(), 0);
});
