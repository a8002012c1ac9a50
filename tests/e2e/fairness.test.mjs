// Fair delivery: endpoints that accept the connection and never answer must not delay other endpoints'
// deliveries, whether those are in another app or in the same one. Before the fix, each hanging endpoint took
// --endpoint-inflight (32) slots until the request timeout, 8 of them filled --max-inflight (256), and every other
// delivery waited for the timeouts (p99 of seconds). Now an endpoint starts with 4 slots and earns more by
// answering, an app holds at most its share, and the last eighth of the budget is kept for apps holding few.
import assert from 'node:assert/strict';
import { api, e2e, startHookd, startReceiver } from './lib/harness.mjs';

const RATE = 50;        // healthy messages per second
const HEALTHY = 150;    // healthy messages measured (3 s)
const TIMEOUT = '30s';  // the hanging deliveries hold their slots for the whole test

function p(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(q * s.length) - 1)];
}

async function app(req, name, urls, opts = {}) {
  const a = (await req('POST', '/app', { name })).json;
  const eps = [];
  for (const url of urls) {
    const r = await req('POST', `/app/${a.id}/endpoint`, { url, ...opts });
    assert.equal(r.status, 201, r.text);
    eps.push(r.json.id);
  }
  return { id: a.id, eps };
}

async function post(req, appId, payload) {
  const r = await req('POST', `/app/${appId}/msg`, { eventType: 'fair.test', payload });
  assert.equal(r.status, 202, r.text);
  return r.json.id;
}

/** Post HEALTHY messages at RATE to appId and return the sent -> received latencies the receiver saw. */
async function healthyLatencies(req, appId, rcv) {
  const sent = new Map();
  const t0 = performance.now();
  const posts = [];
  for (let i = 0; i < HEALTHY; i++) {
    const wait = t0 + (i * 1000) / RATE - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    sent.set(i, performance.now());
    posts.push(post(req, appId, { healthy: i }));
  }
  await Promise.all(posts);
  const got = await rcv.waitFor((rs) => rs.filter((r) => JSON.parse(r.body).healthy !== undefined).length >= HEALTHY,
    20000, `${HEALTHY} healthy deliveries`);
  const lat = [];
  for (const r of got) {
    const i = JSON.parse(r.body).healthy;
    if (i !== undefined) lat.push(r.time - sent.get(i));
  }
  return lat;
}

/** The most requests any one endpoint (?ep=N) had open at the hanging receiver. */
function perEndpoint(rs) {
  const n = new Map();
  for (const r of rs) {
    const ep = new URL(r.url, 'http://x').searchParams.get('ep');
    n.set(ep, (n.get(ep) ?? 0) + 1);
  }
  return Math.max(...n.values());
}

e2e('fairness: 20 hanging endpoints in one app leave another app\'s endpoint at p99 <= 100 ms', async (t) => {
  const h = await startHookd(t, { env: { HOOKD_REQUEST_TIMEOUT: TIMEOUT } });
  const { req } = api(h);
  const hang = await startReceiver(t, { hang: true });
  const ok = await startReceiver(t);
  const bad = await app(req, 'hostile', Array.from({ length: 20 }, (_, i) => `${hang.url}?ep=${i}`));
  const good = await app(req, 'healthy', [ok.url]);
  for (let i = 0; i < 40; i++) await post(req, bad.id, { hostile: i }); // 800 deliveries that will hang
  await hang.waitForCount(80, 10000, 'the hanging endpoints holding their first slots');

  const lat = await healthyLatencies(req, good.id, ok);
  const p50 = p(lat, 0.5), p99 = p(lat, 0.99);
  t.diagnostic(`healthy app: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms over ${lat.length} messages at ` +
    `${RATE}/s; hanging requests open: ${hang.requests.length}, at most ${perEndpoint(hang.requests)} per endpoint`);
  assert.ok(p99 <= 100, `p99 ${p99.toFixed(1)} ms`);
  assert.ok(perEndpoint(hang.requests) <= 4, 'an endpoint that never answered holds at most 4 slots');
});

e2e('fairness: 8 hanging endpoints in the same app as a healthy one leave it at p99 <= 100 ms', async (t) => {
  const h = await startHookd(t, { env: { HOOKD_REQUEST_TIMEOUT: TIMEOUT } });
  const { req } = api(h);
  const hang = await startReceiver(t, { hang: true });
  const ok = await startReceiver(t);
  // every message goes to all nine endpoints: the healthy one shares each message with eight that hang
  const one = await app(req, 'mixed', [...Array.from({ length: 8 }, (_, i) => `${hang.url}?ep=${i}`), ok.url]);
  for (let i = 0; i < 40; i++) await post(req, one.id, { warmup: i });
  await hang.waitForCount(32, 10000, 'the hanging endpoints holding their first slots');
  await ok.waitForCount(40, 10000, 'the healthy endpoint\'s warm-up');

  const lat = await healthyLatencies(req, one.id, ok);
  const p50 = p(lat, 0.5), p99 = p(lat, 0.99);
  t.diagnostic(`healthy endpoint beside 8 hanging ones: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms; ` +
    `hanging requests open: ${hang.requests.length}`);
  assert.ok(p99 <= 100, `p99 ${p99.toFixed(1)} ms`);
});

e2e('fairness: three hostile apps cannot take a small budget: a fourth app\'s endpoint keeps p99 <= 100 ms', async (t) => {
  // --max-inflight 64: an app's share is 32; once 56 are taken the last 8 go only to apps holding fewer than 4
  const h = await startHookd(t, { env: { HOOKD_REQUEST_TIMEOUT: TIMEOUT, HOOKD_MAX_INFLIGHT: '64' } });
  const { req } = api(h);
  const hang = await startReceiver(t, { hang: true });
  const ok = await startReceiver(t);
  const bad = [];
  for (let a = 0; a < 3; a++)
    bad.push(await app(req, `hostile ${a}`, Array.from({ length: 10 }, (_, i) => `${hang.url}?ep=${a * 10 + i}`)));
  const good = await app(req, 'healthy', [ok.url]);
  for (let i = 0; i < 20; i++) for (const b of bad) await post(req, b.id, { hostile: i });
  await hang.waitForCount(56, 10000, 'the hostile apps holding all but the reserve');

  const lat = await healthyLatencies(req, good.id, ok);
  const p99 = p(lat, 0.99);
  t.diagnostic(`healthy app beside 3 hostile ones (budget 64): p50 ${p(lat, 0.5).toFixed(1)} ms, p99 ` +
    `${p99.toFixed(1)} ms; hanging requests open: ${hang.requests.length}`);
  assert.ok(p99 <= 100, `p99 ${p99.toFixed(1)} ms`);
  assert.ok(hang.requests.length <= 56, `the hostile apps hold ${hang.requests.length} of 64 slots`);
});

e2e('fairness: an endpoint that answers earns its slots back: 32 in flight at once to a slow one', async (t) => {
  // slow but answering: each request takes 300 ms; 96 messages at once need --endpoint-inflight slots to finish fast
  let open = 0, most = 0;
  const slow = await startReceiver(t, () => {
    open++;
    most = Math.max(most, open);
    return new Promise((r) => setTimeout(() => { open--; r(200); }, 300));
  });
  const h = await startHookd(t);
  const { req } = api(h);
  const a = await app(req, 'slow', [slow.url]);
  const posts = [];
  for (let i = 0; i < 96; i++) posts.push(post(req, a.id, { i }));
  await Promise.all(posts);
  await slow.waitForCount(96, 20000, 'all 96 deliveries');
  t.diagnostic(`at most ${most} requests open at once at the slow endpoint`);
  assert.equal(most, 32, 'the window grew to --endpoint-inflight');
});
