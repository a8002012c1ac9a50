// inbound_ops.test.mjs: the inbound gateway's operations: Shopify signed by its own test helper, replay of one
// request and of a time window, secrets kept out of SourceOut, scheme options, per-destination header
// rewriting, rejected requests recorded (and capped), retention of received requests, and Twilio (which signs
// the URL) with node crypto.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { getHmac } from '@shopify/shopify-api/test-helpers';
import Stripe from 'stripe';
import { api, e2e, eventually, fetchMetrics, startHookd, startReceiver } from './lib/harness.mjs';

const stripe = new Stripe('sk_test_hookd');
const STRIPE_SECRET = 'whsec_inbound_ops_secret';

async function source(h, rcvs, fields) {
  const destinations = (Array.isArray(rcvs) ? rcvs : [rcvs]).map((r) => ({ url: r.url }));
  const r = await api(h).req('POST', '/source', { name: 'src', destinations, ...fields });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

async function post(h, src, body, headers = {}) {
  const res = await fetch(`${h.url}/in/${src.uid ?? src.id}`, { method: 'POST', body,
    headers: { 'content-type': 'application/json', ...headers } });
  const text = await res.text();
  return { status: res.status, text, json: text ? JSON.parse(text) : null };
}

function stripeEvent(id, secret = STRIPE_SECRET) {
  const payload = JSON.stringify({ id, object: 'event', type: 'charge.succeeded' });
  return { payload, header: stripe.webhooks.generateTestHeaderString({ payload, secret }) };
}

async function sendStripe(h, src, id, headerName = 'stripe-signature') {
  const { payload, header } = stripeEvent(id);
  const r = await post(h, src, payload, { [headerName]: header });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

e2e('inbound ops: shopify, signed by the shopify-api test helper, is verified, deduplicated and forwarded', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t);
  const secret = 'shpss_hookd_e2e_secret';
  const src = await source(h, rcv, { uid: 'shop', scheme: 'shopify', secrets: [secret] });
  assert.deepEqual(src.dedup, { header: 'X-Shopify-Webhook-Id' });
  const body = JSON.stringify({ id: 820982911946154500, email: 'jon@example.com', total_price: '12.00' });
  const hdrs = { 'x-shopify-hmac-sha256': getHmac(body, secret), 'x-shopify-topic': 'orders/create',
    'x-shopify-shop-domain': 'hookd.myshopify.com', 'x-shopify-webhook-id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043' };
  let r = await post(h, src, body, hdrs);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.duplicate, false);
  r = await post(h, src, body, hdrs);
  assert.equal(r.json.duplicate, true);
  r = await post(h, src, body, { ...hdrs, 'x-shopify-hmac-sha256': getHmac(body, 'other') });
  assert.equal(r.status, 401);
  assert.equal(r.json.code, 'invalid_signature');
  const { 'x-shopify-hmac-sha256': _, ...unsigned } = hdrs;
  r = await post(h, src, body, unsigned);
  assert.equal(r.status, 401);
  assert.equal(r.json.detail, 'missing header');
  const stripeSrc = await source(h, rcv, { scheme: 'stripe', secrets: [STRIPE_SECRET] });
  r = await post(h, stripeSrc, body, { 'stripe-signature': 'v1=abc' });
  assert.equal(r.status, 400, 'a Stripe header without t= does not parse');
  assert.equal(r.json.code, 'malformed_signature');
  await rcv.waitForCount(1, 5000);
  await rcv.expectNoMore(1, 300);
  const rec = rcv.requests[0];
  assert.equal(rec.body.toString(), body);
  assert.equal(getHmac(rec.body.toString(), secret), rec.headers['x-shopify-hmac-sha256'],
    "the destination can check Shopify's HMAC itself");
  assert.equal(rec.headers['x-shopify-topic'], 'orders/create');
  assert.equal(rec.headers['x-hookd-event-id'], 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043');
});

e2e('inbound ops: replay one request, refuse duplicates and rejected ones, replay a window as a task', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t);
  const { req } = api(h);
  const src = await source(h, rcv, { scheme: 'stripe', secrets: [STRIPE_SECRET] });
  const first = await sendStripe(h, src, 'evt_r1');
  const dup = await sendStripe(h, src, 'evt_r1');
  assert.equal(dup.duplicate, true);
  const { payload } = stripeEvent('evt_bad');
  const bad = stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_wrong' });
  assert.equal((await post(h, src, payload, { 'stripe-signature': bad })).status, 401);
  await rcv.waitForCount(1, 5000);

  let r = await req('POST', `/source/${src.id}/request/${first.id}/replay`);
  assert.equal(r.status, 202, r.text);
  assert.equal(r.json.destinations, 1);
  await rcv.waitForCount(2, 5000, 'the replayed request');
  assert.equal(rcv.requests[1].body.toString(), rcv.requests[0].body.toString());
  assert.equal(rcv.requests[1].headers['stripe-signature'], rcv.requests[0].headers['stripe-signature']);
  r = await req('POST', `/source/${src.id}/request/${dup.id}/replay`);
  assert.equal(r.status, 409);
  assert.match(r.json.detail, /duplicate/);
  const list = (await req('GET', `/source/${src.id}/request`)).json.data;
  const rejected = list.find((q) => !q.verified);
  assert.equal(rejected.verification, 'signature mismatch');
  assert.equal((await req('POST', `/source/${src.id}/request/${rejected.id}/replay`)).status, 409);
  assert.equal((await req('POST', `/source/${src.id}/request/inr_nope/replay`)).status, 404);

  // one request with its body: a forwarded one's is its message's payload, a rejected one keeps none
  r = await req('GET', `/source/${src.id}/request/${first.id}`);
  assert.equal(r.status, 200);
  assert.equal(r.json.body, rcv.requests[0].body.toString());
  assert.equal(r.json.bodySize, rcv.requests[0].body.length);
  assert.equal((await req('GET', `/source/${src.id}/request/${dup.id}`)).json.body, rcv.requests[0].body.toString());
  assert.equal((await req('GET', `/source/${src.id}/request/${rejected.id}`)).json.body, null);

  // a window: every forwarded request received since then goes out again, duplicates and rejects do not
  const since = new Date(Date.now() - 60000).toISOString();
  await sendStripe(h, src, 'evt_r2');
  await sendStripe(h, src, 'evt_r3');
  await rcv.waitForCount(4, 5000);
  r = await req('POST', `/source/${src.id}/replay`, { since });
  assert.equal(r.status, 202, r.text);
  assert.equal(r.json.task, 'source.replay');
  const task = await eventually(async () => {
    const tk = (await req('GET', `/background-task/${r.json.id}`)).json;
    assert.equal(tk.status, 'finished');
    return tk;
  });
  assert.equal(task.data.processed, 3);
  await rcv.waitForCount(7, 5000, 'three requests replayed');
  await rcv.expectNoMore(7, 300);
  const ids = rcv.requests.slice(4).map((q) => JSON.parse(q.body).id).sort();
  assert.deepEqual(ids, ['evt_r1', 'evt_r2', 'evt_r3']);
  assert.equal((await req('POST', `/source/${src.id}/replay`, {})).status, 422);
  assert.equal((await req('POST', `/source/src_nope/replay`, { since })).status, 404);
});

e2e('inbound ops: secrets stay out of SourceOut; scheme options; destination headers rewritten', async (t) => {
  const h = await startHookd(t);
  const rewritten = await startReceiver(t);
  const plain = await startReceiver(t);
  const { req } = api(h);
  const src = (await req('POST', '/source', { name: 'fc', scheme: 'stripe', secrets: [STRIPE_SECRET],
    schemeOptions: { header: 'X-FC-Signature' },
    destinations: [
      { url: rewritten.url, headers: { 'x-internal-token': 'tok-1', 'x-fc-signature': null, 'x-extra': 'a' } },
      { url: plain.url }] })).json;
  assert.equal(src.secrets, undefined, 'no secrets in SourceOut');
  assert.equal(src.secretCount, 1);
  assert.deepEqual(src.schemeOptions, { header: 'X-FC-Signature' });
  assert.equal((await req('GET', `/source/${src.id}`)).json.secrets, undefined);
  assert.equal((await req('GET', '/source')).json.data[0].secrets, undefined);
  assert.deepEqual((await req('GET', `/source/${src.id}/secret`)).json, { secrets: [STRIPE_SECRET] });
  const authed = await startReceiver(t);
  const withAuth = (await req('POST', '/source', { name: 'auth', scheme: 'none',
    destinations: [{ url: authed.url, headers: { authorization: 'Bearer internal', 'x-team': 'billing' } }] })).json;
  assert.deepEqual(withAuth.destinations[0].headers, { 'x-team': 'billing' }, 'sensitive values are not shown');
  assert.deepEqual(withAuth.destinations[0].sensitiveHeaders, ['authorization']);
  assert.equal((await post(h, withAuth, '{"k":1}')).status, 200);
  await authed.waitFor((q) => q.some((x) => x.headers.authorization === 'Bearer internal'), 5000, 'the sensitive header sent');

  const { payload, header } = stripeEvent('evt_fc');
  assert.equal((await post(h, src, payload, { 'stripe-signature': header })).status, 401, 'the header is X-FC-Signature');
  assert.equal((await post(h, src, payload, { 'x-fc-signature': header })).status, 200);
  await rewritten.waitForCount(1, 5000);
  await plain.waitForCount(1, 5000);
  const rw = rewritten.requests[0].headers;
  assert.equal(rw['x-internal-token'], 'tok-1');
  assert.equal(rw['x-extra'], 'a');
  assert.equal(rw['x-fc-signature'], undefined, 'dropped for this destination');
  assert.equal(plain.requests[0].headers['x-fc-signature'], header, 'kept for the other');
  assert.equal(plain.requests[0].headers['x-internal-token'], undefined);
  assert.ok(rw['webhook-signature'], "hookd's own signature is still there");

  // a patch without secrets keeps them; bad options and headers are 422
  let r = await req('PATCH', `/source/${src.id}`, { name: 'fc2' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.secretCount, 1);
  assert.equal((await post(h, src, stripeEvent('evt_fc2').payload,
    { 'x-fc-signature': stripeEvent('evt_fc2').header })).status, 200);
  for (const bad of [{ schemeOptions: { hash: 'sha256' } }, { schemeOptions: { nope: 'x' } }, { schemeOptions: 'x' },
    { destinations: [{ url: plain.url, headers: { 'bad name': 'x' } }] },
    { destinations: [{ url: plain.url, headers: { 'x-a': 1 } }] }]) {
    r = await req('PATCH', `/source/${src.id}`, bad);
    assert.equal(r.status, 422, JSON.stringify(bad));
  }
  // an id header option is also the default dedup key
  const custom = (await req('POST', '/source', { name: 'c', scheme: 'standard',
    secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'], schemeOptions: { idHeader: 'x-event-id' },
    destinations: [{ url: plain.url }] })).json;
  assert.deepEqual(custom.dedup, { header: 'x-event-id' });
});

e2e('inbound ops: rejected requests are recorded up to a rate, all are counted', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t);
  const { req } = api(h);
  const src = await source(h, rcv, { scheme: 'github', secrets: ['s'] });
  const n = 150;
  for (let i = 0; i < n; i++) {
    const r = await post(h, src, `{"i":${i}}`, { 'x-hub-signature-256': 'sha256=' + '0'.repeat(64) });
    assert.equal(r.status, 401);
  }
  const text = await (await fetchMetrics(h)).text();
  assert.match(text, new RegExp(`^hookd_inbound_requests_total\\{outcome="invalid_signature"\\} ${n}$`, 'm'));
  let recorded = 0;
  let iterator = '';
  for (;;) {
    const l = (await req('GET', `/source/${src.id}/request?limit=250${iterator}`)).json;
    recorded += l.data.length;
    if (l.done) break;
    iterator = `&iterator=${l.iterator}`;
  }
  assert.ok(recorded >= 100 && recorded < n, `recorded ${recorded} of ${n}`);
  assert.equal(rcv.requests.length, 0);
  // each source has its own budget: a flood at one does not hide the rejections at another
  const other = await source(h, rcv, { scheme: 'github', secrets: ['s2'] });
  assert.equal((await post(h, other, '{}', { 'x-hub-signature-256': 'sha256=' + '1'.repeat(64) })).status, 401);
  assert.equal((await req('GET', `/source/${other.id}/request`)).json.data.length, 1);
});

e2e('inbound ops: received requests are purged after the retention (and the dedup window)', async (t) => {
  const h = await startHookd(t, { env: { HOOKD_RETENTION: '1s', HOOKD_CHORE_INTERVAL: '100ms' } });
  const rcv = await startReceiver(t);
  const { req } = api(h);
  const src = await source(h, rcv, { scheme: 'stripe', secrets: [STRIPE_SECRET], dedupWindow: 1 });
  await sendStripe(h, src, 'evt_old');
  await rcv.waitForCount(1, 5000);
  await eventually(async () => {
    assert.equal((await req('GET', `/source/${src.id}/request`)).json.data.length, 0);
  }, { what: 'the request purged' });
  // a source with a day's dedup window keeps its requests as long as the window
  const day = await source(h, rcv, { scheme: 'stripe', secrets: [STRIPE_SECRET] });
  await sendStripe(h, day, 'evt_kept');
  await rcv.waitForCount(2, 5000);
  await new Promise((r) => setTimeout(r, 1500)); // past the retention: what the purge would have taken
  assert.equal((await req('GET', `/source/${day.id}/request`)).json.data.length, 1);
  assert.equal((await sendStripe(h, day, 'evt_kept')).duplicate, true);
});

/** Twilio's algorithm (twilio-node getExpectedTwilioSignature): the URL, then each POST parameter sorted by
 * name as name + value, HMAC-SHA1 with the auth token, base64. */
function twilioSign(token, url, params = {}) {
  const data = Object.keys(params).sort().reduce((acc, k) => acc + k + params[k], url);
  return crypto.createHmac('sha1', token).update(Buffer.from(data, 'utf8')).digest('base64');
}

e2e('inbound ops: twilio, form and JSON bodies signed over the public URL, are verified and forwarded', async (t) => {
  const h = await startHookd(t, { env: { HOOKD_PUBLIC_URL: 'https://hooks.example.com/' } });
  const rcv = await startReceiver(t);
  const { req } = api(h);
  const token = 'twilio-auth-token-12345';
  const pub = 'https://hooks.example.com/twilio/sms';
  const src = await source(h, rcv, { uid: 'twilio', scheme: 'twilio', secrets: [token], publicUrl: pub });
  assert.deepEqual(src.dedup, { header: 'I-Twilio-Idempotency-Token' });
  const params = { From: '+15551234567', To: '+15557654321', Body: 'Hello wörld & more', MessageSid: 'SM1' };
  const form = new URLSearchParams(params).toString();
  const formHdrs = { 'content-type': 'application/x-www-form-urlencoded',
    'x-twilio-signature': twilioSign(token, pub, params), 'i-twilio-idempotency-token': 'idem-1' };
  let r = await post(h, src, form, formHdrs);
  assert.equal(r.status, 200, r.text);
  assert.equal((await post(h, src, form, formHdrs)).json.duplicate, true);
  r = await post(h, src, form.replace('SM1', 'SM2'), { ...formHdrs, 'i-twilio-idempotency-token': 'idem-2' });
  assert.equal(r.status, 401, 'a changed parameter');
  r = await post(h, src, form, { ...formHdrs, 'x-twilio-signature': twilioSign(token, pub + 'x', params) });
  assert.equal(r.status, 401, 'signed for another URL');

  // JSON: Twilio puts the body's SHA-256 in the query and signs the URL alone
  const json = JSON.stringify({ event: 'call.completed', sid: 'CA1' });
  const hash = crypto.createHash('sha256').update(json).digest('hex');
  const jsonUrl = `${h.url}/in/twilio?bodySHA256=${hash}`;
  const jsonHdrs = { 'content-type': 'application/json', 'x-twilio-signature': twilioSign(token, `${pub}?bodySHA256=${hash}`),
    'i-twilio-idempotency-token': 'idem-3' };
  let res = await fetch(jsonUrl, { method: 'POST', body: json, headers: jsonHdrs });
  assert.equal(res.status, 200, await res.text());
  res = await fetch(jsonUrl, { method: 'POST', body: json.replace('CA1', 'CA2'),
    headers: { ...jsonHdrs, 'i-twilio-idempotency-token': 'idem-4' } });
  assert.equal(res.status, 401, 'a body that does not match bodySHA256');
  await rcv.waitForCount(2, 5000);
  await rcv.expectNoMore(2, 300);
  // two messages to one endpoint that is not fifo: they may arrive in either order (on PostgreSQL both can wait
  // for the endpoint's lease and go out together)
  const formReq = rcv.requests.find((q) => q.headers['content-type'] === 'application/x-www-form-urlencoded');
  const jsonReq = rcv.requests.find((q) => q !== formReq);
  assert.ok(formReq, 'the form request was forwarded as a form');
  assert.equal(formReq.body.toString(), form);
  assert.equal(formReq.headers['x-twilio-signature'], formHdrs['x-twilio-signature']);
  assert.equal(jsonReq.body.toString(), json);

  // without its own publicUrl, a source's URL is --public-url + /in/<key> as the provider called it
  const plain = await source(h, rcv, { uid: 'tw2', scheme: 'twilio', secrets: [token] });
  const url2 = 'https://hooks.example.com/in/tw2';
  r = await post(h, plain, form, { ...formHdrs, 'x-twilio-signature': twilioSign(token, url2, params) });
  assert.equal(r.status, 200, r.text);
  await rcv.waitForCount(3, 5000);
});

e2e('inbound ops: a twilio source needs a public URL', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t);
  const r = await api(h).req('POST', '/source', { name: 't', scheme: 'twilio', secrets: ['tok'],
    destinations: [{ url: rcv.url }] });
  assert.equal(r.status, 422);
  assert.equal(r.json.detail[0].loc.at(-1), 'publicUrl');
  assert.equal((await api(h).req('POST', '/source', { name: 't', scheme: 'github', secrets: ['tok'],
    publicUrl: 'https://x/in?q=1', destinations: [{ url: rcv.url }] })).status, 422);
  // a scheme to receive, not to send
  const app = (await api(h).req('POST', '/app', { name: 'a' })).json;
  const ep = await api(h).req('POST', `/app/${app.id}/endpoint`, { url: rcv.url, signatureScheme: 'twilio' });
  assert.equal(ep.status, 422);
  assert.match(JSON.stringify(ep.json.detail), /twilio/);
});

e2e('inbound ops: each destination keeps its own retry schedule', async (t) => {
  const h = await startHookd(t);
  const once = await startReceiver(t, 503);
  const twice = await startReceiver(t, 503);
  const { req } = api(h);
  let r = await req('POST', '/source', { name: 'rs', scheme: 'stripe', secrets: [STRIPE_SECRET],
    destinations: [{ url: once.url, retrySchedule: [] }, { url: twice.url, retrySchedule: [0.05] }] });
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(r.json.destinations.map((d) => d.retrySchedule), [[], [0.05]]);
  const src = r.json;
  const fwd = await sendStripe(h, src, 'evt_rs');
  await once.waitForCount(1, 5000);
  await twice.waitForCount(2, 5000);
  await eventually(async () => {
    const q = (await req('GET', `/source/${src.id}/request/${fwd.id}`)).json;
    assert.equal(q.forwardStatus, 'failed');
  }, { what: 'both destinations given up' });
  await once.expectNoMore(1, 200);
  assert.equal(twice.requests.length, 2);
  r = await req('PATCH', `/source/${src.id}`, { destinations: [{ url: once.url, retrySchedule: [-1] }] });
  assert.equal(r.status, 422);
});

e2e("inbound ops: a destination can do without hookd's signature (null drops a header, whoever sets it)", async (t) => {
  const h = await startHookd(t);
  const bare = await startReceiver(t);
  const signed = await startReceiver(t);
  const r = await api(h).req('POST', '/source', { name: 'ns', scheme: 'stripe', secrets: [STRIPE_SECRET],
    destinations: [{ url: bare.url, headers: { 'webhook-signature': null, 'webhook-timestamp': null, 'webhook-id': null } },
      { url: signed.url }] });
  assert.equal(r.status, 201, r.text);
  await sendStripe(h, r.json, 'evt_ns');
  await bare.waitForCount(1, 5000);
  await signed.waitForCount(1, 5000);
  const b = bare.requests[0].headers;
  assert.equal(b['webhook-signature'], undefined);
  assert.equal(b['webhook-timestamp'], undefined);
  assert.equal(b['webhook-id'], undefined);
  assert.ok(b['stripe-signature'], "the provider's own signature is still forwarded");
  assert.ok(signed.requests[0].headers['webhook-signature'], 'the other destination is signed');
});
