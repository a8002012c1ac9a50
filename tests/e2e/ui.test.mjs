// ui.test.mjs: the embedded web UI (docs/ui.md). Serving over plain HTTP (redirect, ETag/304, gzip, cache and
// security headers, 404s), then the dashboard and the portal in Debian's chromium driven by playwright-core.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { Webhook } from 'standardwebhooks';
import { api, e2e, eventually, runHookd, startHookd, startReceiver } from './lib/harness.mjs';

const CHROMIUM = '/usr/bin/chromium';
// screenshots of the main pages, for people (never compared)
const SHOTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../build/ui-screenshots');
const shot = async (page, name) => {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
};
const noBrowser = existsSync(CHROMIUM) ? false : `no ${CHROMIUM} (Debian's chromium; make deps installs it)`;

/** GET with exactly these headers (fetch would add Accept-Encoding and decompress); resolves {status, headers, body}. */
function get(h, path, headers = {}, method = 'GET') {
  return new Promise((resolve, reject) => {
    const rq = http.request(`${h.url}${path}`, { method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    rq.on('error', reject);
    rq.end();
  });
}

const CSP = /^default-src 'self'; script-src 'self'; style-src 'self';.*object-src 'none'; base-uri 'none';/;

e2e('ui: served from the binary with ETags, gzip, cache and security headers', async (t) => {
  const h = await startHookd(t, { args: ['--portal-frame-ancestors', 'https://app.example.com'] });
  const index = await get(h, '/ui/');
  if (index.status === 404) { // a hookd built with make UI=0: the answer says so, and there is nothing else to see
    assert.match(JSON.parse(index.body).detail, /not built into this hookd/);
    t.skip('hookd was built with make UI=0');
    return;
  }
  for (const [from, to] of [['/', '/ui/'], ['/ui', '/ui/'], ['/portal', '/portal/']]) {
    const r = await get(h, from);
    assert.equal(r.status, 302, from);
    assert.equal(r.headers.location, to);
  }
  assert.equal(index.status, 200);
  assert.match(index.headers['content-type'], /^text\/html/);
  assert.equal(index.headers['content-encoding'], undefined); // no Accept-Encoding: the bytes as they are
  assert.match(index.headers['content-security-policy'], CSP);
  assert.match(index.headers['content-security-policy'], /frame-ancestors 'none'$/);
  assert.equal(index.headers['x-content-type-options'], 'nosniff');
  assert.equal(index.headers['referrer-policy'], 'no-referrer');
  assert.equal(index.headers['cache-control'], 'no-cache');
  const html = index.body.toString();
  assert.doesNotMatch(html, /<script>|<style>|\s(style|on[a-z]+)=/i); // nothing inline for the CSP to refuse
  assert.doesNotMatch(html, /https?:\/\//); // nothing from elsewhere

  // gzip for a client that takes it, the same bytes once inflated, its own ETag; 304 for either tag
  const gz = await get(h, '/ui/', { 'accept-encoding': 'br, gzip;q=0.8' });
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.equal(gz.headers.vary, 'Accept-Encoding');
  assert.deepEqual(gunzipSync(gz.body), index.body);
  assert.notEqual(gz.headers.etag, index.headers.etag);
  assert.equal((await get(h, '/ui/', { 'accept-encoding': 'gzip;q=0' })).headers['content-encoding'], undefined);
  for (const tag of [index.headers.etag, gz.headers.etag, `"x", ${gz.headers.etag}`]) {
    const r = await get(h, '/ui/', { 'if-none-match': tag, 'accept-encoding': 'gzip' });
    assert.equal(r.status, 304, tag);
    assert.equal(r.body.length, 0);
    assert.equal(r.headers.etag, gz.headers.etag);
  }
  assert.equal((await get(h, '/ui/', { 'if-none-match': '"other"' })).status, 200);

  // the hashed assets it names: long-lived; client-side routes get index.html; unknown files 404 as JSON
  const assets = [...html.matchAll(/(?:src|href)="(\/ui\/[^"]+)"/g)].map((m) => m[1]);
  assert.equal(assets.length, 2, html);
  let total = gz.body.length;
  for (const a of assets) {
    const r = await get(h, a, { 'accept-encoding': 'gzip' });
    assert.equal(r.status, 200, a);
    assert.match(r.headers['cache-control'], /max-age=31536000, immutable/);
    assert.match(r.headers['content-type'], a.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
    total += r.body.length;
  }
  assert.ok(total < 300 * 1024, `the UI is ${total} bytes compressed`);
  t.diagnostic(`UI over the wire, gzipped: ${(total / 1024).toFixed(1)} KiB`);
  assert.deepEqual((await get(h, '/ui/app/app_x/endpoint/ep_y')).body, index.body);
  for (const p of ['/ui/nope.js', '/ui/main.js', '/portal/x/y.css']) {
    const r = await get(h, p);
    assert.equal(r.status, 404, p);
    assert.equal(JSON.parse(r.body).code, 'not_found');
  }
  assert.equal((await get(h, '/ui/', {}, 'POST')).status, 405);
  assert.equal((await get(h, '/', {}, 'POST')).status, 404);
  // HEAD: the headers without the body
  const head = await get(h, '/ui/', {}, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.body.length, 0);

  // the portal: the same page; frame-ancestors from --portal-frame-ancestors
  const portal = await get(h, '/portal/');
  assert.deepEqual(portal.body, index.body);
  assert.match(portal.headers['content-security-policy'], /frame-ancestors https:\/\/app\.example\.com$/);
  // the static files need no token; the API still does
  assert.equal((await api(h, { token: 'wrong-token' }).req('GET', '/app')).status, 401);
  // a value that would end the directive is refused at start
  const bad = await runHookd(['serve', '--portal-frame-ancestors', "'self'; script-src *", '--data', h.dataDir]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /portal-frame-ancestors/);
  assert.equal(await h.stop(), 0);
});

/** Does this hookd have the UI (not make UI=0)? Skips t if not. */
async function uiBuilt(t, h) {
  if ((await get(h, '/ui/')).status === 200) return true;
  t.skip('hookd was built with make UI=0');
  return false;
}

/** chromium for this test, closed after it; every request the page makes and every console error recorded. */
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

/** Click Refresh (in scope) until text shows up in scope: the deliveries are asynchronous. */
async function refreshUntil(page, scope, text) {
  await eventually(async () => {
    await scope.getByRole('button', { name: 'Refresh' }).first().click();
    await scope.getByText(text).first().waitFor({ timeout: 1000 });
  }, { what: `"${text}" in the page`, timeout: 20000 });
}

e2e('ui: sign in, create an app and an endpoint, see a message and its attempt', { skip: noBrowser }, async (t) => {
  const h = await startHookd(t);
  if (!await uiBuilt(t, h)) return;
  const rcv = await startReceiver(t, { status: 200, body: 'thanks from the receiver' });
  const { req } = api(h);
  const { page, seen } = await browserPage(t, h);

  const first = await page.goto(`${h.url}/`);
  assert.equal(page.url(), `${h.url}/ui/`);
  assert.match(first.headers()['content-security-policy'], CSP);

  // a wrong token: the API's error, and still the form
  await page.getByLabel('API token').fill('not-the-token');
  await page.getByLabel('API token').press('Enter');
  await page.getByRole('alert').getByText('authentication_failed').waitFor();
  // the right one, with Enter
  await page.getByLabel('API token').fill(h.token);
  await page.getByLabel('API token').press('Enter');
  await page.getByRole('heading', { name: 'Apps' }).waitFor();
  await shot(page, 'apps');
  // the event type catalog, with its schemas as text
  // (once the registry has a type, an endpoint may filter only on registered ones)
  await req('POST', '/event-type', { name: 'order.created', description: 'An order was placed' });
  await req('POST', '/event-type', { name: 'order.paid', description: 'An order was paid',
    schemas: { 1: { type: 'object', properties: { amount: { type: 'integer' } } } } });
  await page.getByRole('link', { name: 'Event types' }).click();
  await page.getByText('An order was paid').waitFor();
  await page.locator('table.eventtypes summary').click();
  await page.locator('table.eventtypes pre').getByText('"amount"').waitFor();
  await shot(page, 'event-types');
  await page.getByRole('link', { name: 'Apps' }).click();
  assert.doesNotMatch(page.url(), new RegExp(h.token));
  assert.equal(await page.evaluate(() => sessionStorage.getItem('hookd.token')), h.token);

  // an app
  await page.getByRole('button', { name: 'New app' }).click();
  await page.getByLabel('Name').fill('Shop');
  await page.getByRole('button', { name: 'Create app' }).click();
  await page.getByRole('heading', { name: 'Shop' }).waitFor();
  const appId = decodeURIComponent(new URL(page.url()).hash.split('/')[2]);
  assert.equal((await req('GET', `/app/${appId}`)).json.name, 'Shop');

  // an endpoint: first a URL the API refuses (its error next to the field), then the receiver's
  await page.getByRole('button', { name: 'New endpoint' }).click();
  await page.getByLabel('URL').fill('ftp://example.com/x');
  await page.getByLabel('Description').fill('orders');
  await page.getByLabel('Event types').fill('order.created, order.paid');
  await page.getByRole('button', { name: 'Create endpoint' }).click();
  await page.locator('#e-url').getByText('URL scheme').waitFor();
  await page.getByLabel('URL').fill(rcv.url);
  await page.getByRole('button', { name: 'Create endpoint' }).click();
  await page.getByRole('heading', { name: rcv.url }).waitFor();
  const eps = (await req('GET', `/app/${appId}/endpoint`)).json.data;
  assert.equal(eps.length, 1);
  assert.equal(eps[0].description, 'orders');
  assert.deepEqual(eps[0].eventTypes, ['order.created', 'order.paid']);

  // its secret, revealed
  await page.getByRole('button', { name: 'Reveal secret' }).click();
  const secret = (await req('GET', `/app/${appId}/endpoint/${eps[0].id}/secret`)).json.key;
  await page.locator('code.secret').getByText(secret).waitFor();

  // a message through the API; the payload would run script if it were rendered as HTML
  const evil = '<img src=x onerror="window.__pwned=1">';
  const msg = (await req('POST', `/app/${appId}/msg`, { eventType: 'order.created', payload: { order: 42, note: evil } })).json;
  await rcv.waitForCount(1);
  await page.getByRole('link', { name: 'Endpoints' }).click();
  await page.getByRole('link', { name: 'Messages' }).click();
  await refreshUntil(page, page, msg.id);
  await page.getByRole('link', { name: 'order.created' }).click();
  await page.getByRole('heading', { name: 'order.created' }).waitFor();
  const payload = await page.getByLabel('Payload').textContent();
  assert.deepEqual(JSON.parse(payload), { order: 42, note: evil });
  await refreshUntil(page, page, 'thanks from the receiver'.length + ' bytes');
  const row = page.locator('table.attempts tbody tr').first();
  assert.match(await row.textContent(), /success.*200/);
  await row.locator('summary').click();
  await row.getByText('thanks from the receiver').waitFor();
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  await shot(page, 'message');
  assert.equal(await page.locator('table.deliveries').getByText('success').count(), 1);

  // the endpoint's health, then disable it and delete it (with a confirmation)
  await page.locator('table.deliveries').getByRole('link', { name: rcv.url }).click();
  await page.locator('table.figures').getByText('100.0 %').first().waitFor();
  await shot(page, 'endpoint');
  await page.getByRole('button', { name: 'Disable' }).click();
  await page.getByRole('button', { name: 'Enable' }).waitFor();
  assert.equal((await req('GET', `/app/${appId}/endpoint/${eps[0].id}`)).json.disabled, true);
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('button', { name: 'Yes, delete' }).click();
  await page.getByText('No endpoints yet.').waitFor();
  assert.equal((await req('GET', `/app/${appId}/endpoint`)).json.data.length, 0);

  assert.deepEqual(seen.outside(), [], 'every request goes to hookd');
  assert.deepEqual(seen.errors.filter((e) => !/status of 4\d\d/.test(e)), [], 'no script error, no CSP violation');
  assert.equal(await h.stop(), 0);
});

e2e('ui: a portal link shows its app only and leaves no token in the address bar', { skip: noBrowser }, async (t) => {
  const h = await startHookd(t);
  if (!await uiBuilt(t, h)) return;
  const { req } = api(h);
  const mine = (await req('POST', '/app', { name: 'Acme', uid: 'acme' })).json;
  const other = (await req('POST', '/app', { name: 'Other', uid: 'other' })).json;
  await req('POST', `/app/${mine.id}/endpoint`, { url: 'http://127.0.0.1:9/acme-hook' });
  await req('POST', `/app/${other.id}/endpoint`, { url: 'http://127.0.0.1:9/other-hook' });
  const access = (await req('POST', '/auth/app-portal-access/acme', {})).json;
  assert.equal(access.url, `${h.url}/portal/#key=${access.token}&app=${mine.id}`);

  const { page, seen } = await browserPage(t, h);
  const res = await page.goto(access.url);
  assert.match(res.headers()['content-security-policy'], /frame-ancestors 'none'$/);
  await page.getByRole('heading', { name: 'Acme' }).waitFor();
  await page.getByRole('link', { name: 'http://127.0.0.1:9/acme-hook' }).waitFor();
  assert.equal(page.url(), `${h.url}/portal/#/app/${mine.id}`);
  assert.ok(!page.url().includes(access.token));
  await shot(page, 'portal');
  assert.equal(await page.getByText('other-hook').count(), 0);
  assert.equal(await page.getByRole('link', { name: 'Apps' }).count(), 0); // no global pages
  // another app's page is not offered
  await page.goto(`${h.url}/portal/#/app/${other.id}`);
  await page.getByText('Nothing here').waitFor();
  await shot(page, 'portal-other-app');
  assert.equal(await page.getByText('Other').count(), 0);
  assert.deepEqual(seen.outside(), []);
  assert.equal(await h.stop(), 0);
});

/** A datetime-local value (the browser's local time) for ms since the epoch. */
const localInput = (ms) => new Date(ms - new Date(ms).getTimezoneOffset() * 60000).toISOString().slice(0, 16);

e2e('ui: a failing endpoint: test event, errors by status code, resend, recover with progress', { skip: noBrowser }, async (t) => {
  const h = await startHookd(t);
  if (!await uiBuilt(t, h)) return;
  let failing = true;
  const rcv = await startReceiver(t, () => (failing ? { status: 503, body: 'down for maintenance' } : { status: 200, body: 'back' }));
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'Flaky' })).json;
  // one attempt, then the dead letter
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url, retrySchedule: [] })).json;
  const { page, seen } = await browserPage(t, h);
  await page.goto(`${h.url}/ui/`);
  await page.getByLabel('API token').fill(h.token);
  await page.getByLabel('API token').press('Enter');
  await page.getByRole('link', { name: 'Flaky' }).click();
  await page.getByRole('link', { name: rcv.url }).click();
  await page.getByRole('heading', { name: rcv.url }).waitFor();

  // a test event, which the receiver refuses: its status code in the health table, the message in the dead letter
  await page.getByRole('button', { name: 'Send test event' }).click();
  await page.getByText('sent:').waitFor();
  await rcv.waitForCount(1);
  const health = page.locator('.card', { has: page.getByRole('heading', { name: 'Health' }) });
  await refreshUntil(page, health, '503: 1');
  const dead = page.locator('.card', { has: page.getByRole('heading', { name: 'Dead letter' }) });
  await refreshUntil(page, dead, 'webhook.test');
  await shot(page, 'endpoint-failing');

  // fixed: resend from the dead letter reaches it
  failing = false;
  await dead.getByRole('button', { name: 'Resend' }).click();
  await dead.getByText('resent').waitFor();
  await rcv.waitForCount(2);

  // recover since an hour ago: a task, its progress shown until it is done, and the message delivered again
  await page.getByLabel('Send failed messages again since').fill(localInput(Date.now() - 3600e3));
  await page.getByRole('button', { name: 'Recover' }).click();
  await page.getByText(/endpoint.recover finished: 1 processed/).waitFor();
  await rcv.waitForCount(3);
  // the receiver counts a request as it arrives; its attempt is written once hookd has the answer
  await eventually(async () =>
    assert.equal((await req('GET', `/app/${app.id}/attempt/endpoint/${ep.id}`)).json.data.length, 3),
  { what: 'three attempts recorded' });
  await page.getByRole('link', { name: 'Background tasks' }).click();
  await page.locator('table.tasks').getByText('endpoint.recover').waitFor();
  await page.locator('table.tasks').getByText('1 processed').waitFor();
  assert.deepEqual(seen.outside(), []);
  assert.deepEqual(seen.errors.filter((e) => !/status of 4\d\d/.test(e)), []);
  assert.equal(await h.stop(), 0);
});

e2e('ui: inbound sources, their requests (verified, rejected), replay; the server page', { skip: noBrowser }, async (t) => {
  const h = await startHookd(t);
  if (!await uiBuilt(t, h)) return;
  const rcv = await startReceiver(t);
  const { req } = api(h);
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const src = (await req('POST', '/source', { name: 'Billing provider', uid: 'billing', scheme: 'standard',
    secrets: [secret], destinations: [{ url: rcv.url }] })).json;
  const body = '{"type":"invoice.paid","note":"<b>bold?</b>"}';
  const now = new Date();
  const post = (headers) => fetch(`${h.url}/in/billing`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  assert.equal((await post({ 'webhook-id': 'evt_1', 'webhook-timestamp': String(Math.floor(now / 1000)),
    'webhook-signature': new Webhook(secret).sign('evt_1', now, body) })).status, 200);
  assert.equal((await post({})).status, 401); // unsigned: recorded as rejected
  await rcv.waitForCount(1);

  const { page, seen } = await browserPage(t, h);
  await page.goto(`${h.url}/ui/#/source`);
  await page.getByLabel('API token').fill(h.token);
  await page.getByLabel('API token').press('Enter');
  await page.getByRole('link', { name: 'Billing provider' }).click();
  await page.getByRole('heading', { name: 'Billing provider' }).waitFor();
  await refreshUntil(page, page, 'verified');
  const rows = page.locator('table.requests tbody tr');
  assert.equal(await rows.count(), 2);
  assert.match(await rows.nth(1).textContent(), /verified.*(pending|success)/);
  assert.match(await rows.nth(0).textContent(), /rejected/);
  await shot(page, 'source');
  await rows.nth(1).getByRole('link').click();
  assert.equal(await page.getByLabel('Body').textContent(), body);
  await page.getByRole('button', { name: 'Replay' }).click();
  await page.getByText('replayed as').waitFor();
  await rcv.waitForCount(2);

  // the server page: gauges and rates from /metrics
  await page.getByRole('link', { name: 'Server' }).click();
  await page.getByText('Messages accepted /s').waitFor();
  await page.locator('.gauge', { hasText: 'In flight' }).waitFor();
  await shot(page, 'server');
  assert.ok(seen.urls.some((u) => u === `${h.url}/metrics`));
  assert.deepEqual(seen.outside(), []);
  assert.deepEqual(seen.errors.filter((e) => !/status of 4\d\d/.test(e)), []);
  assert.equal(src.uid, 'billing');
  assert.equal(await h.stop(), 0);
});
