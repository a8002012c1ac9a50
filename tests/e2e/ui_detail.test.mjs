// ui_detail.test.mjs: the UI's third round (docs/ui.md): an attempt's request as sent and its answer (or the
// network error), the endpoint form's payload filter (the API's 422 under the field) and payload version, and the
// transformation panel (simulate, save; hidden from a portal token without ManageTransformations), in Debian's
// chromium driven by playwright-core.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { api, e2e, eventually, freePort, startHookd, startReceiver } from './lib/harness.mjs';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../build/ui-screenshots');
const shot = async (page, name) => {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
};
/** One part of a page (for docs/img; not compared). */
const shotOf = async (locator, name) => {
  mkdirSync(SHOTS, { recursive: true });
  await locator.screenshot({ path: path.join(SHOTS, `${name}.png`) });
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
  page.on('console', (m) => { if (m.type() === 'error' && !/status of (4\d\d)/.test(m.text())) seen.errors.push(m.text()); });
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

e2e('ui: an attempt shows the request as sent (a sensitive header redacted) and the answer, or the network error', { skip: noBrowser }, async (t) => {
  const h = await startHookd(t);
  if (!await uiBuilt(t, h)) return;
  const rcv = await startReceiver(t, { status: 202, body: 'queued by the receiver', headers: { 'x-receiver': 'r-42' } });
  const dead = await freePort();
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'Detail' })).json;
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url, eventTypes: ['ok.test'] })).json;
  await req('PUT', `/app/${app.id}/endpoint/${ep.id}/headers`, { headers: { Authorization: 'Bearer topsecret-9', 'X-Tier': 'gold' } });
  await req('POST', `/app/${app.id}/endpoint`, { url: `http://127.0.0.1:${dead}/hook`, eventTypes: ['dead.test'], retrySchedule: [] });
  const msg = (await req('POST', `/app/${app.id}/msg`, { eventType: 'ok.test', payload: { order: 7, note: '<b>text</b>' } })).json;
  const msg2 = (await req('POST', `/app/${app.id}/msg`, { eventType: 'dead.test', payload: { order: 8 } })).json;
  await rcv.waitForCount(1);
  await eventually(async () => assert.equal((await req('GET', `/app/${app.id}/attempt/msg/${msg2.id}`)).json.data.length, 1));

  const { page, seen } = await browserPage(t, h);
  await signIn(page, h);
  await page.goto(`${h.url}/ui/#/app/${app.id}/msg/${msg.id}`);
  await refreshUntil(page, 'request and answer');
  await page.locator('table.attempts summary').first().click();
  const d = page.locator('.attempt-detail').first();
  const reqHeaders = d.getByRole('table', { name: 'Request headers' });
  await reqHeaders.getByText('[redacted]').waitFor();
  assert.match(await reqHeaders.textContent(), /X-Tier\s*gold/);
  assert.match(await reqHeaders.textContent(), /webhook-signature\s*v1,/);
  assert.ok(!(await page.content()).includes('topsecret'), 'the sensitive value is nowhere in the page');
  assert.deepEqual(JSON.parse(await d.getByLabel('Request body').textContent()), { order: 7, note: '<b>text</b>' });
  await d.getByText('202').first().waitFor();
  await d.getByRole('table', { name: 'Response headers' }).getByText('r-42').waitFor();
  assert.equal(await d.getByLabel('Response body').textContent(), 'queued by the receiver');
  await shot(page, 'attempt');
  await shotOf(page.locator('table.attempts'), 'attempt-detail');

  // a network error: the request it tried, no answer but the error
  await page.goto(`${h.url}/ui/#/app/${app.id}/msg/${msg2.id}`);
  await refreshUntil(page, 'request and answer');
  await page.locator('table.attempts summary').first().click();
  const e = page.locator('.attempt-detail').first();
  await e.getByRole('heading', { name: 'No answer' }).waitFor();
  await e.locator('p.error').waitFor();
  assert.match(await e.locator('p.error').textContent(), /connect|refused/i);
  await e.getByRole('table', { name: 'Request headers' }).getByText('webhook-id').waitFor();
  assert.deepEqual(seen.outside(), []);
  assert.deepEqual(seen.errors, []);
});

e2e('ui: the endpoint form edits the payload filter (the API\'s 422 under the field) and the payload version', { skip: noBrowser }, async (t) => {
  const h = await startHookd(t);
  if (!await uiBuilt(t, h)) return;
  const rcv = await startReceiver(t);
  const { req } = api(h);
  assert.equal((await req('POST', '/api-version', { name: '2025-01-01' })).status, 201);
  assert.equal((await req('POST', '/api-version', { name: '2025-02-01', downgrade: 'function handler(w) return w end' })).status, 201);
  const app = (await req('POST', '/app', { name: 'Filters' })).json;
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url })).json;
  assert.equal(ep.apiVersion, '2025-02-01');

  const { page, seen } = await browserPage(t, h);
  await signIn(page, h);
  await page.goto(`${h.url}/ui/#/app/${app.id}/endpoint/${ep.id}`);
  await page.getByRole('button', { name: 'Edit' }).click();
  const form = page.getByRole('form', { name: 'Edit endpoint' });
  await form.getByLabel('Payload filter (JSON)').fill('{"amount": {"$gt": {"x": 1}}}');
  await form.getByRole('button', { name: 'Save' }).click();
  await form.locator('#e-payloadFilter').getByText('payloadFilter.amount.$gt').waitFor();
  await form.getByLabel('Payload filter (JSON)').fill('{"amount": {"$gt": 100}}');
  await form.getByLabel('Payload version').selectOption('2025-01-01');
  await form.getByRole('button', { name: 'Save' }).click();
  await page.getByText('{"amount":{"$gt":100}}').waitFor();
  let got = (await req('GET', `/app/${app.id}/endpoint/${ep.id}`)).json;
  assert.deepEqual(got.payloadFilter, { amount: { $gt: 100 } });
  assert.equal(got.apiVersion, '2025-01-01');

  // unpin and drop the filter
  await page.getByRole('button', { name: 'Edit' }).click();
  await form.getByLabel('Payload filter (JSON)').fill('');
  await form.getByLabel('Payload version').selectOption('');
  await form.getByRole('button', { name: 'Save' }).click();
  await page.getByText('not pinned (the newest)').waitFor();
  got = (await req('GET', `/app/${app.id}/endpoint/${ep.id}`)).json;
  assert.equal(got.payloadFilter ?? null, null);
  assert.equal(got.apiVersion ?? null, null);
  assert.deepEqual(seen.outside(), []);
});

e2e('ui: the transformation panel simulates and saves; a portal token without ManageTransformations does not see it', { skip: noBrowser }, async (t) => {
  const h = await startHookd(t);
  if (!await uiBuilt(t, h)) return;
  const rcv = await startReceiver(t);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'Lua' })).json;
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url })).json;

  const { page, seen } = await browserPage(t, h);
  await signIn(page, h);
  await page.goto(`${h.url}/ui/#/app/${app.id}/endpoint/${ep.id}`);
  const panel = page.getByRole('form', { name: 'Transformation' });
  await panel.waitFor();
  // a failing handler: its error shown
  await panel.getByLabel('Code (Lua)').fill('function handler(webhook)\n  error("boom")\nend');
  await panel.getByRole('button', { name: 'Simulate' }).click();
  await panel.getByRole('alert').getByText(/boom/).waitFor();
  // a working one: the body as it would be sent
  await panel.getByLabel('Code (Lua)').fill('function handler(webhook)\n  webhook.payload.added = "yes"\n  return webhook\nend');
  await panel.getByLabel('Sample payload (JSON)').fill('{"order": 5}');
  await panel.getByRole('button', { name: 'Simulate' }).click();
  const body = panel.getByLabel('Simulated body');
  await body.waitFor();
  assert.deepEqual(JSON.parse(await body.textContent()), { order: 5, added: 'yes' });
  await panel.getByLabel('Enabled (run on deliveries)').check();
  await panel.getByRole('button', { name: 'Save transformation' }).click();
  await panel.getByRole('status').getByText('saved').waitFor();
  const tr = (await req('GET', `/app/${app.id}/endpoint/${ep.id}/transformation`)).json;
  assert.equal(tr.enabled, true);
  assert.match(tr.code, /added = "yes"/);
  await shot(page, 'transformation');
  await shotOf(panel, 'transformation-panel');
  // and it runs on deliveries
  await req('POST', `/app/${app.id}/msg`, { eventType: 'lua.test', payload: { order: 6 } });
  const [r] = await rcv.waitForCount(1);
  assert.deepEqual(JSON.parse(r.body), { order: 6, added: 'yes' });

  // the portal: with ManageTransformations the panel is there, without it (a 403) it is not
  const link = async (capabilities) => (await req('POST', `/auth/app-portal-access/${app.id}`, capabilities ? { capabilities } : {})).json.url;
  const portal = await browserPage(t, h);
  await portal.page.goto(await link(null));
  await portal.page.getByRole('heading', { name: 'Endpoints' }).waitFor(); // the link's fragment is taken first
  await portal.page.goto(`${h.url}/portal/#/app/${app.id}/endpoint/${ep.id}`);
  await portal.page.getByRole('form', { name: 'Transformation' }).waitFor();
  const limited = await browserPage(t, h);
  await limited.page.goto(await link(['ViewBase', 'ManageEndpoint']));
  await limited.page.getByRole('heading', { name: 'Endpoints' }).waitFor();
  await limited.page.goto(`${h.url}/portal/#/app/${app.id}/endpoint/${ep.id}`);
  await limited.page.getByRole('form', { name: 'Headers' }).waitFor();
  await limited.page.locator('.card.health').waitFor();
  assert.equal(await limited.page.getByRole('form', { name: 'Transformation' }).count(), 0);
  assert.equal(await limited.page.getByText('forbidden').count(), 0, 'the 403 is not shown as an error');
  for (const s of [seen, portal.seen, limited.seen]) assert.deepEqual(s.outside(), []);
});
