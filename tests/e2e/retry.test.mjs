// Retries: the schedule, Retry-After, timeouts, exhaustion into `fail`, and 3xx as failure.
import assert from 'node:assert/strict';
import { api, e2e, eventually, startHookd, startReceiver, svixClient, verifyDelivery } from './lib/harness.mjs';

/** One app + one endpoint at rcv, and a function to send a message. */
async function setup(h, rcv, name) {
  const svix = svixClient(h);
  const app = await svix.application.create({ name });
  const ep = await svix.endpoint.create(app.id, { url: rcv.url });
  const { key } = await svix.endpoint.getSecret(app.id, ep.id);
  const send = (payload = { name }) => svix.message.create(app.id, { eventType: 'retry.test', payload });
  return { svix, app, ep, key, send };
}

/** Attempts of a message, oldest first, once there are n of them. */
async function attemptsOf(h, appId, msgId, n) {
  return eventually(async () => {
    const r = await api(h).req('GET', `/app/${appId}/attempt/msg/${msgId}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.data.length, n, `attempts listed: ${JSON.stringify(r.json.data.map((a) => a.responseStatusCode))}`);
    return [...r.json.data].sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp) || (a.id < b.id ? -1 : 1));
  }, { what: `${n} attempt(s) of ${msgId}` });
}

/** The delivery state of (msg, endpoint): attempted destinations and the endpoint's stats. */
async function deliveryState(h, appId, msgId, epId) {
  const { req } = api(h);
  const dest = await req('GET', `/app/${appId}/msg/${msgId}/endpoint`);
  assert.equal(dest.status, 200, dest.text);
  const row = dest.json.data.find((d) => d.id === epId);
  assert.ok(row, `endpoint ${epId} among attempted destinations: ${dest.text}`);
  const stats = await req('GET', `/app/${appId}/endpoint/${epId}/stats`);
  assert.equal(stats.status, 200, stats.text);
  return { status: row.status, statusText: row.statusText, stats: stats.json };
}

e2e('retry: 503, 503, 200 is delivered on the third attempt with the same webhook-id', async (t) => {
  const h = await startHookd(t, { env: { HOOKD_RETRY_SCHEDULE: '100ms,100ms,100ms' } });
  const rcv = await startReceiver(t, [{ status: 503, body: 'unavailable' }, { status: 503, body: 'unavailable' }, 200]);
  const { app, ep, key, send } = await setup(h, rcv, 'r503');
  const msg = await send({ n: 1 });

  const reqs = await rcv.waitForCount(3, 15000);
  for (const r of reqs) {
    assert.equal(r.headers['webhook-id'], msg.id, 'the same webhook-id on every retry');
    assert.deepEqual(verifyDelivery(key, r), { n: 1 }, 'every attempt is signed');
  }
  assert.ok(reqs[1].time - reqs[0].time >= 90, `retry waited the schedule (${reqs[1].time - reqs[0].time} ms)`);

  const atts = await attemptsOf(h, app.id, msg.id, 3);
  assert.deepEqual(atts.map((a) => [a.status, a.responseStatusCode]), [[2, 503], [2, 503], [0, 200]]);
  assert.equal(atts[0].response, 'unavailable', 'the failed response body is kept');
  assert.ok(atts.every((a) => a.endpointId === ep.id && a.msgId === msg.id && a.triggerType === 0));
  await eventually(async () => assert.equal((await deliveryState(h, app.id, msg.id, ep.id)).status, 0),
    { what: 'delivery success' });
  await rcv.expectNoMore(3, 500);
  assert.equal(await h.stop(), 0);
});

e2e('retry: Retry-After on a 429 is honoured over a shorter schedule', async (t) => {
  const h = await startHookd(t, { env: { HOOKD_RETRY_SCHEDULE: '100ms,100ms', HOOKD_THROTTLED_MIN_DELAY: '0' } });
  const rcv = await startReceiver(t, [{ status: 429, headers: { 'retry-after': '2' }, body: 'slow down' }, 200]);
  const { app, send } = await setup(h, rcv, 'r429');
  const msg = await send();
  const reqs = await rcv.waitForCount(2, 15000);
  const gap = reqs[1].time - reqs[0].time;
  assert.ok(gap >= 1900, `second attempt ${Math.round(gap)} ms after the first; Retry-After: 2 asks for >= 2000`);
  assert.ok(gap < 10000, `second attempt ${Math.round(gap)} ms after the first`);
  const atts = await attemptsOf(h, app.id, msg.id, 2);
  assert.deepEqual(atts.map((a) => [a.status, a.responseStatusCode]), [[2, 429], [0, 200]]);
  assert.equal(await h.stop(), 0);
});

e2e('retry: Retry-After as an HTTP date is honoured', async (t) => {
  const h = await startHookd(t, { env: { HOOKD_RETRY_SCHEDULE: '100ms', HOOKD_THROTTLED_MIN_DELAY: '0' } });
  // Three seconds ahead, rounded down to the second by the date format: at least ~2 s from now.
  const rcv = await startReceiver(t, () => ({ status: 503, headers: { 'retry-after': new Date(Date.now() + 3000).toUTCString() } }));
  const { send } = await setup(h, rcv, 'rdate');
  await send();
  const reqs = await rcv.waitForCount(2, 15000);
  const gap = reqs[1].time - reqs[0].time;
  assert.ok(gap >= 1900, `second attempt ${Math.round(gap)} ms after the first; Retry-After named a date >= 2 s ahead`);
  assert.ok(gap < 10000, `second attempt ${Math.round(gap)} ms after the first`);
  assert.equal(await h.stop(), 0);
});

e2e('retry: a 429 without Retry-After waits the throttled minimum', async (t) => {
  const h = await startHookd(t, { env: { HOOKD_RETRY_SCHEDULE: '100ms', HOOKD_THROTTLED_MIN_DELAY: '1500ms' } });
  const rcv = await startReceiver(t, [429, 200]);
  const { send } = await setup(h, rcv, 'r429min');
  await send();
  const reqs = await rcv.waitForCount(2, 15000);
  const gap = reqs[1].time - reqs[0].time;
  assert.ok(gap >= 1400, `second attempt ${Math.round(gap)} ms after a 429; the throttled minimum is 1500 ms`);
  assert.equal(await h.stop(), 0);
});

e2e('retry: a receiver that hangs past the request timeout is a failed attempt (code 0), then retried', async (t) => {
  const h = await startHookd(t, {
    env: { HOOKD_RETRY_SCHEDULE: '100ms,100ms', HOOKD_REQUEST_TIMEOUT: '1s', HOOKD_THROTTLED_MIN_DELAY: '0' },
  });
  const rcv = await startReceiver(t, [{ hang: true }, 200]);
  const { app, ep, send } = await setup(h, rcv, 'rhang');
  const msg = await send();
  const reqs = await rcv.waitForCount(2, 15000);
  const gap = reqs[1].time - reqs[0].time;
  assert.ok(gap >= 900, `retry ${Math.round(gap)} ms after a hung request; the timeout is 1 s`);
  assert.ok(gap < 8000, `retry ${Math.round(gap)} ms after a hung request; the timeout is 1 s`);
  assert.equal(reqs[1].headers['webhook-id'], msg.id);
  const atts = await attemptsOf(h, app.id, msg.id, 2);
  assert.deepEqual(atts.map((a) => [a.status, a.responseStatusCode]), [[2, 0], [0, 200]]);
  assert.ok(atts[0].responseDurationMs >= 900 && atts[0].responseDurationMs < 5000,
    `the timed-out attempt took ${atts[0].responseDurationMs} ms`);
  await eventually(async () => assert.equal((await deliveryState(h, app.id, msg.id, ep.id)).status, 0),
    { what: 'delivery success' });
  assert.equal(await h.stop(), 0);
});

e2e('retry: always 500 with a 2-step schedule is exactly 3 attempts, then fail', async (t) => {
  const h = await startHookd(t, { env: { HOOKD_RETRY_SCHEDULE: '100ms,100ms' } });
  const rcv = await startReceiver(t, { status: 500, body: 'boom' });
  const { app, ep, send } = await setup(h, rcv, 'r500');
  const msg = await send();
  const reqs = await rcv.waitForCount(3, 15000);
  assert.ok(reqs.every((r) => r.headers['webhook-id'] === msg.id));

  const atts = await attemptsOf(h, app.id, msg.id, 3);
  assert.deepEqual(atts.map((a) => [a.status, a.responseStatusCode]), [[2, 500], [2, 500], [2, 500]]);
  assert.ok(atts.every((a) => a.response === 'boom'));
  const state = await eventually(async () => {
    const s = await deliveryState(h, app.id, msg.id, ep.id);
    assert.equal(s.status, 2, `delivery status ${s.status} (${s.statusText}), want 2 (fail)`);
    return s;
  }, { what: 'delivery fail' });
  if (state.statusText !== undefined) assert.equal(state.statusText, 'fail');
  assert.equal(state.stats.fail, 1, `stats ${JSON.stringify(state.stats)}`);
  assert.equal(state.stats.pending, 0);
  assert.equal(state.stats.sending, 0);
  assert.equal(state.stats.success, 0);
  await rcv.expectNoMore(3, 1000); // the schedule is 100 ms: a 4th try would have come by now
  await attemptsOf(h, app.id, msg.id, 3);
  assert.equal(await h.stop(), 0);
});

e2e('retry: a 3xx is a failure and the redirect is not followed', async (t) => {
  const h = await startHookd(t, { env: { HOOKD_RETRY_SCHEDULE: '100ms' } });
  const rcv = await startReceiver(t, (rec) =>
    rec.url === '/hook' ? { status: 302, headers: { location: '/elsewhere' }, body: 'moved' } : 200);
  const { app, ep, send } = await setup(h, rcv, 'r302');
  const msg = await send();
  await rcv.waitForCount(2, 15000);
  const atts = await attemptsOf(h, app.id, msg.id, 2);
  assert.deepEqual(atts.map((a) => [a.status, a.responseStatusCode]), [[2, 302], [2, 302]]);
  await eventually(async () => assert.equal((await deliveryState(h, app.id, msg.id, ep.id)).status, 2),
    { what: 'delivery fail' });
  await rcv.expectNoMore(2, 500);
  assert.deepEqual(rcv.requests.map((r) => r.url), ['/hook', '/hook'], 'only the endpoint URL was requested');
  assert.equal(await h.stop(), 0);
});
