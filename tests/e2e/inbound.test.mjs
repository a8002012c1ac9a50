// inbound.test.mjs: sources and /in/{source}: providers' real libraries sign, hookd verifies, deduplicates,
// records and forwards the original bytes to real receivers.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { sign as octokitSign } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { api, e2e, eventually, fetchMetrics, startHookd, startReceiver } from './lib/harness.mjs';

const stripe = new Stripe('sk_test_hookd');
const STRIPE_SECRET = 'whsec_inbound_stripe_secret_42';

async function source(h, rcv, fields) {
  const { req } = api(h);
  const r = await req('POST', '/source', { name: 'src', destinations: [{ url: rcv.url }], ...fields });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

function post(h, src, body, headers = {}) {
  return fetch(`${h.url}/in/${src.uid ?? src.id}`, { method: 'POST', body,
    headers: { 'content-type': 'application/json', ...headers } })
    .then(async (res) => ({ status: res.status, text: await res.text() }));
}

function stripeEvent(id) {
  const payload = JSON.stringify({ id, object: 'event', type: 'invoice.paid', data: { emoji: '🚀' } }, null, 2);
  const header = stripe.webhooks.generateTestHeaderString({ payload, secret: STRIPE_SECRET });
  return { payload, header };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

e2e('inbound: the sources API validates, lists, patches and deletes', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t);
  const { req } = api(h);
  let r = await req('POST', '/source', { name: 'x', scheme: 'nope', destinations: [{ url: rcv.url }] });
  assert.equal(r.status, 422);
  r = await req('POST', '/source', { name: 'x', scheme: 'standard', secrets: ['whsec_bad'], destinations: [{ url: rcv.url }] });
  assert.equal(r.status, 422);
  r = await req('POST', '/source', { name: 'x', scheme: 'stripe', secrets: ['s'], destinations: [] });
  assert.equal(r.status, 422);
  const src = await source(h, rcv, { uid: 'stripe-main', scheme: 'stripe', secrets: [STRIPE_SECRET] });
  assert.match(src.id, /^src_/);
  assert.deepEqual(src.dedup, { jsonPointer: '/id' });
  assert.equal(src.maxBody, 1048576);
  assert.equal((await req('GET', '/source/stripe-main')).json.id, src.id);
  r = await req('GET', '/source?limit=1');
  assert.equal(r.status, 200);
  assert.equal(r.json.data.length, 1);
  r = await req('PATCH', `/source/${src.id}`, { dedupWindow: 60 });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.dedupWindow, 60);
  assert.equal(r.json.destinations[0].endpointId, src.destinations[0].endpointId);
  const apps = (await req('GET', '/app')).json.data;
  assert.ok(!apps.some((a) => (a.uid ?? '').startsWith('hookd.source.')), 'internal apps are hidden');
  assert.equal((await req('DELETE', `/source/${src.id}`)).status, 204);
  assert.equal((await req('GET', `/source/${src.id}`)).status, 404);
  assert.equal((await post(h, src, '{}')).status, 404);
});

e2e('inbound: stripe is verified, forwarded once with the same bytes, and deduplicated on the event id', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t);
  const src = await source(h, rcv, { scheme: 'stripe', secrets: [STRIPE_SECRET] });
  const { payload, header } = stripeEvent('evt_inbound_1');
  let r = await post(h, src, payload, { 'stripe-signature': header, 'user-agent': 'Stripe/1.0' });
  assert.equal(r.status, 200, r.text);
  assert.equal(JSON.parse(r.text).duplicate, false);
  r = await post(h, src, payload, { 'stripe-signature': header });
  assert.equal(r.status, 200, r.text);
  assert.equal(JSON.parse(r.text).duplicate, true);
  await rcv.waitForCount(1, 5000);
  await sleep(300);
  assert.equal(rcv.requests.length, 1, 'forwarded exactly once');
  const rec = rcv.requests[0];
  assert.equal(rec.body.toString('utf8'), payload);
  assert.equal(rec.headers['content-type'], 'application/json');
  assert.equal(rec.headers['x-hookd-source'], src.id);
  assert.equal(rec.headers['x-hookd-event-id'], 'evt_inbound_1');
  assert.equal(rec.headers['x-forwarded-user-agent'], 'Stripe/1.0');
  // the destination can verify the provider's own signature
  assert.equal(stripe.webhooks.constructEvent(rec.body, rec.headers['stripe-signature'], STRIPE_SECRET).id, 'evt_inbound_1');
  const { req } = api(h);
  const list = await eventually(async () => {
    const l = (await req('GET', `/source/${src.id}/request`)).json;
    assert.equal(l.data[1].forwardStatus, 'success');
    return l;
  });
  assert.equal(list.data.length, 2);
  assert.equal(list.data[0].duplicate, true);
  assert.equal(list.data[1].verified, true);
});

e2e('inbound: bad and stale signatures are 401 and not forwarded; 413 and 415', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t);
  const src = await source(h, rcv, { scheme: 'stripe', secrets: [STRIPE_SECRET], maxBody: 1000,
    contentTypes: ['application/json'] });
  const { payload } = stripeEvent('evt_bad');
  const bad = stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_other' });
  let r = await post(h, src, payload, { 'stripe-signature': bad });
  assert.equal(r.status, 401);
  assert.equal(JSON.parse(r.text).code, 'invalid_signature');
  r = await post(h, src, payload);
  assert.equal(r.status, 401);
  r = await post(h, src, 'x'.repeat(2000), { 'stripe-signature': bad });
  assert.equal(r.status, 413);
  r = await post(h, src, 'a=b', { 'stripe-signature': bad, 'content-type': 'application/x-www-form-urlencoded' });
  assert.equal(r.status, 415);

  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const std = await source(h, rcv, { scheme: 'standard', secrets: [secret] });
  const body = '{"type":"user.created"}';
  const wh = new Webhook(secret);
  const old = new Date(Date.now() - 10 * 60 * 1000);
  r = await post(h, std, body, { 'webhook-id': 'msg_stale', 'webhook-timestamp': String(Math.floor(old / 1000)),
    'webhook-signature': wh.sign('msg_stale', old, body) });
  assert.equal(r.status, 401);
  assert.match(JSON.parse(r.text).detail, /old|stale|toler/i);
  const now = new Date();
  r = await post(h, std, body, { 'webhook-id': 'msg_fresh', 'webhook-timestamp': String(Math.floor(now / 1000)),
    'webhook-signature': wh.sign('msg_fresh', now, body) });
  assert.equal(r.status, 200, r.text);
  await rcv.waitForCount(1, 5000);
  await sleep(200);
  assert.equal(rcv.requests.length, 1, 'only the valid request was forwarded');
  const rec = rcv.requests[0];
  assert.equal(rec.headers['webhook-id'], 'msg_fresh', "the provider's headers win over hookd's");
  new Webhook(secret).verify(rec.body, rec.headers);

  // every rejection is counted by its reason in /metrics
  assert.equal((await post(h, { id: 'src_nope' }, body)).status, 404);
  const text = await (await fetchMetrics(h)).text();
  const count = (o) => Number(new RegExp(`^hookd_inbound_requests_total\\{outcome="${o}"\\} (\\d+)$`, 'm').exec(text)[1]);
  assert.deepEqual(
    ['accepted', 'invalid_signature', 'missing_signature', 'stale', 'too_large', 'unsupported_type', 'unknown_source']
      .map((o) => [o, count(o)]),
    [['accepted', 1], ['invalid_signature', 1], ['missing_signature', 1], ['stale', 1], ['too_large', 1],
      ['unsupported_type', 1], ['unknown_source', 1]]);
});

e2e('inbound: github with X-GitHub-Delivery, form bodies keep their content type', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t);
  const src = await source(h, rcv, { scheme: 'github', secrets: ['gh-secret'] });
  assert.deepEqual(src.dedup, { header: 'X-GitHub-Delivery' });
  const body = 'payload=%7B%22zen%22%3A%22hi%22%7D';
  const sig = await octokitSign('gh-secret', body);
  const hdrs = { 'x-hub-signature-256': sig, 'x-github-delivery': 'd-1', 'x-github-event': 'ping',
    'content-type': 'application/x-www-form-urlencoded' };
  assert.equal((await post(h, src, body, hdrs)).status, 200);
  assert.equal(JSON.parse((await post(h, src, body, hdrs)).text).duplicate, true);
  await rcv.waitForCount(1, 5000);
  const rec = rcv.requests[0];
  assert.equal(rec.body.toString(), body);
  assert.equal(rec.headers['content-type'], 'application/x-www-form-urlencoded');
  assert.equal(rec.headers['x-github-event'], 'ping');
  assert.equal(rec.headers['x-hookd-event-id'], 'd-1');
  assert.equal(rec.headers['x-hub-signature-256'], sig);
});

e2e('inbound: a destination down then up gets the request after a retry', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t, [503, 200]);
  const src = await source(h, rcv, { scheme: 'stripe', secrets: [STRIPE_SECRET] });
  const { payload, header } = stripeEvent('evt_retry');
  assert.equal((await post(h, src, payload, { 'stripe-signature': header })).status, 200);
  await rcv.waitForCount(2, 5000);
  assert.equal(rcv.requests[1].body.toString(), payload);
});

e2e('inbound: kill -9 right after the 200, the request is still forwarded after restart', async (t) => {
  const h = await startHookd(t);
  let up = false;
  const rcv = await startReceiver(t, () => (up ? 200 : 503));
  const src = await source(h, rcv, { scheme: 'stripe', secrets: [STRIPE_SECRET] });
  const { payload, header } = stripeEvent('evt_crash');
  assert.equal((await post(h, src, payload, { 'stripe-signature': header })).status, 200);
  await h.kill9();
  const before = rcv.requests.length;
  up = true;
  await h.restart();
  await rcv.waitForCount(before + 1, 10000);
  assert.equal(rcv.requests.at(-1).body.toString(), payload);
  const { req } = api(h);
  await eventually(async () => {
    const l = (await req('GET', `/source/${src.id}/request`)).json;
    assert.equal(l.data.length, 1);
    assert.equal(l.data[0].forwardStatus, 'success');
  });
});

e2e('inbound: slack (v0 over a form body) and scheme none with a body-hash dedup', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t);
  const src = await source(h, rcv, { uid: 'slack', scheme: 'slack', secrets: ['slack-signing-secret'] });
  const body = 'token=x&command=%2Fhookd&text=hi+%F0%9F%9A%80';
  const ts = String(Math.floor(Date.now() / 1000));
  const sig = 'v0=' + crypto.createHmac('sha256', 'slack-signing-secret').update(`v0:${ts}:${body}`).digest('hex');
  const hdrs = { 'x-slack-signature': sig, 'x-slack-request-timestamp': ts,
    'content-type': 'application/x-www-form-urlencoded' };
  assert.equal((await post(h, src, body, hdrs)).status, 200);
  assert.equal((await post(h, src, body, { ...hdrs, 'x-slack-signature': 'v0=' + '0'.repeat(64) })).status, 401);
  await rcv.waitForCount(1, 5000);
  assert.equal(rcv.requests[0].body.toString(), body);
  assert.equal(rcv.requests[0].headers['x-slack-signature'], sig);

  const open = await source(h, rcv, { scheme: 'none' });
  assert.equal(JSON.parse((await post(h, open, '{"a":1}')).text).duplicate, false);
  assert.equal(JSON.parse((await post(h, open, '{"a":1}')).text).duplicate, true);
  assert.equal(JSON.parse((await post(h, open, '{"a":2}')).text).duplicate, false);
  await rcv.waitForCount(3, 5000);
  const { req } = api(h);
  const l = (await req('GET', `/source/${open.id}/request?limit=2`)).json;
  assert.equal(l.data.length, 2);
  assert.equal(l.done, false);
  assert.match(l.data[0].dedupKey, /^sha256:[0-9a-f]{64}$/);
});
