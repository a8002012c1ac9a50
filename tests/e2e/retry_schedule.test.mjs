// Per-endpoint retry schedules (retrySchedule, hookd's addition): the endpoint's delays replace the server's
// (TEST_ENV: 100ms,200ms,400ms), [] means no retries, null the server's; validation; the Svix SDK still works.
import assert from 'node:assert/strict';
import { api, e2e, eventually, startHookd, startReceiver, svixClient } from './lib/harness.mjs';

/** An app and a raw API client for it. */
async function setup(h, name) {
  const { req } = api(h);
  const app = await req('POST', '/app', { name });
  assert.equal(app.status, 201, app.text);
  const appId = app.json.id;
  const createEp = async (body) => {
    const r = await req('POST', `/app/${appId}/endpoint`, body);
    assert.equal(r.status, 201, r.text);
    return r.json;
  };
  const send = async (payload = { name }) => {
    const r = await req('POST', `/app/${appId}/msg`, { eventType: 'retry.schedule', payload });
    assert.equal(r.status, 202, r.text);
    return r.json;
  };
  return { req, appId, createEp, send };
}

/** Once the delivery of msg to ep has ended `fail`: its attempts (all failed), oldest first. */
async function failedAttempts(h, appId, msgId, epId, n) {
  const { req } = api(h);
  await eventually(async () => {
    const dest = await req('GET', `/app/${appId}/msg/${msgId}/endpoint`);
    assert.equal(dest.status, 200, dest.text);
    const row = dest.json.data.find((d) => d.id === epId);
    assert.equal(row?.status, 2, `delivery to ${epId}: ${JSON.stringify(row)}, want status 2 (fail)`);
  }, { what: `delivery of ${msgId} to ${epId} failed` });
  const r = await req('GET', `/app/${appId}/attempt/endpoint/${epId}`);
  assert.equal(r.status, 200, r.text);
  const atts = r.json.data.filter((a) => a.msgId === msgId);
  assert.equal(atts.length, n, `attempts to ${epId}: ${atts.length}, want ${n}`);
  assert.ok(atts.every((a) => a.status === 2 && a.responseStatusCode === 500));
  return atts;
}

e2e('retry schedule: an endpoint\'s own [0.05, 0.05] is 3 attempts, another keeps the server\'s 4', async (t) => {
  const h = await startHookd(t);
  const fast = await startReceiver(t, { status: 500, body: 'no' });
  const slow = await startReceiver(t, { status: 500, body: 'no' });
  const { appId, createEp, send } = await setup(h, 'own-schedule');
  const epFast = await createEp({ url: fast.url, retrySchedule: [0.05, 0.05] });
  const epSlow = await createEp({ url: slow.url });
  assert.deepEqual(epFast.retrySchedule, [0.05, 0.05]);
  assert.equal(epSlow.retrySchedule, null);
  const msg = await send();

  const reqs = await fast.waitForCount(3, 15000);
  assert.ok(reqs[1].time - reqs[0].time >= 40, `the retry waited its 50 ms (${reqs[1].time - reqs[0].time} ms)`);
  // the server's schedule would wait 200 ms before the third attempt (measured from the second's arrival, which
  // leaves out how long the first attempt took: hundreds of ms on a loaded machine)
  assert.ok(reqs[2].time - reqs[1].time < 170, `the second retry came ${Math.round(reqs[2].time - reqs[1].time)} ms after the first`);
  await failedAttempts(h, appId, msg.id, epFast.id, 3);

  await slow.waitForCount(4, 15000);
  await failedAttempts(h, appId, msg.id, epSlow.id, 4);
  await fast.expectNoMore(3, 300);
  await slow.expectNoMore(4, 800); // the server's last delay is 400 ms: a 5th try would have come by now
  assert.equal(await h.stop(), 0);
});

e2e('retry schedule: [] is one attempt, then fail', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t, { status: 500, body: 'no' });
  const { appId, createEp, send } = await setup(h, 'no-retries');
  const ep = await createEp({ url: rcv.url, retrySchedule: [] });
  assert.deepEqual(ep.retrySchedule, []);
  const msg = await send();
  await rcv.waitForCount(1, 15000);
  await failedAttempts(h, appId, msg.id, ep.id, 1);
  await rcv.expectNoMore(1, 400); // the server's first delay is 100 ms
  assert.equal(await h.stop(), 0);
});

e2e('retry schedule: PATCH sets, keeps and clears it; PUT without it is the server\'s', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t, { status: 500, body: 'no' });
  const { req, appId, createEp, send } = await setup(h, 'patch');
  const ep = await createEp({ url: rcv.url });
  const path = `/app/${appId}/endpoint/${ep.id}`;

  let r = await req('PATCH', path, { retrySchedule: [0.05] });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.retrySchedule, [0.05]);
  r = await req('PATCH', path, { description: 'other field' }); // absent: unchanged
  assert.deepEqual(r.json.retrySchedule, [0.05]);
  const m1 = await send({ n: 1 });
  await failedAttempts(h, appId, m1.id, ep.id, 2);

  r = await req('PATCH', path, { retrySchedule: null });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.retrySchedule, null);
  const m2 = await send({ n: 2 });
  await failedAttempts(h, appId, m2.id, ep.id, 4);

  r = await req('PUT', path, { url: rcv.url, retrySchedule: [1, 2] });
  assert.deepEqual(r.json.retrySchedule, [1, 2]);
  r = await req('PUT', path, { url: rcv.url });
  assert.equal(r.json.retrySchedule, null, 'PUT replaces the endpoint: without retrySchedule, the server\'s');
  assert.equal(await h.stop(), 0);
});

e2e('retry schedule: a PATCH while an attempt is in flight decides that attempt\'s retry', async (t) => {
  const h = await startHookd(t);
  let patched;
  const patchDone = new Promise((res) => { patched = res; });
  // the second attempt is answered only after the PATCH: its failure must already see [] (no retries left)
  const rcv = await startReceiver(t, async (rec) => {
    if (rec.i === 1) await patchDone;
    return { status: 500, body: 'no' };
  });
  const { req, appId, createEp, send } = await setup(h, 'inflight');
  const ep = await createEp({ url: rcv.url });
  const msg = await send();
  await rcv.waitForCount(2, 15000);
  const r = await req('PATCH', `/app/${appId}/endpoint/${ep.id}`, { retrySchedule: [] });
  assert.equal(r.status, 200, r.text);
  patched();
  await failedAttempts(h, appId, msg.id, ep.id, 2);
  await rcv.expectNoMore(2, 600); // the server's schedule would retry 200 ms later
  assert.equal(await h.stop(), 0);
});

e2e('retry schedule: bad values are 422 naming retrySchedule and change nothing', async (t) => {
  const h = await startHookd(t);
  const { req, appId, createEp } = await setup(h, 'bad');
  const assert422 = (res, what) => {
    assert.equal(res.status, 422, `${what}: ${res.status} ${res.text}`);
    assert.equal(res.json.code, 'validation_error');
    assert.ok(res.json.detail.some((d) => d.loc.includes('retrySchedule')), `${what}: ${res.text}`);
  };
  const url = 'http://127.0.0.1:9/hook';
  const bad = { '[-1]': [-1], '"x"': 'x', '40 entries': Array(40).fill(1), '["x"]': ['x'], '[true]': [true],
    '{}': {}, '[[1]]': [[1]], 'over 30 days': [2592001], '[5, -0.5]': [5, -0.5] };
  for (const [what, v] of Object.entries(bad))
    assert422(await req('POST', `/app/${appId}/endpoint`, { url, retrySchedule: v }), `POST ${what}`);

  const ep = await createEp({ url, retrySchedule: [5] });
  for (const [what, v] of Object.entries(bad))
    assert422(await req('PATCH', `/app/${appId}/endpoint/${ep.id}`, { retrySchedule: v }), `PATCH ${what}`);
  const got = await req('GET', `/app/${appId}/endpoint/${ep.id}`);
  assert.deepEqual(got.json.retrySchedule, [5], 'a rejected PATCH changed nothing');
  const list = await req('GET', `/app/${appId}/endpoint`);
  assert.equal(list.json.data.length, 1, 'no rejected POST created an endpoint');

  // the limits themselves are accepted
  const max = await createEp({ url, retrySchedule: Array(32).fill(0) });
  assert.equal(max.retrySchedule.length, 32);
  const edge = await createEp({ url, retrySchedule: [0, 2592000] });
  assert.deepEqual(edge.retrySchedule, [0, 2592000]);
  assert.equal(await h.stop(), 0);
});

e2e('retry schedule: EndpointOut shows it in get and list, and it survives a restart', async (t) => {
  const h = await startHookd(t);
  const { req, appId, createEp } = await setup(h, 'out');
  const ep = await createEp({ url: 'http://127.0.0.1:9/hook', uid: 'sched', retrySchedule: [5, 300, 1800, 0.1] });
  const plain = await createEp({ url: 'http://127.0.0.1:9/hook2' });
  const check = async () => {
    const got = await req('GET', `/app/${appId}/endpoint/sched`);
    assert.equal(got.status, 200, got.text);
    assert.deepEqual(got.json.retrySchedule, [5, 300, 1800, 0.1]);
    const list = await req('GET', `/app/${appId}/endpoint`);
    const byId = Object.fromEntries(list.json.data.map((e) => [e.id, e.retrySchedule]));
    assert.deepEqual(byId, { [ep.id]: [5, 300, 1800, 0.1], [plain.id]: null });
  };
  await check();
  assert.equal(await h.stop(), 0);
  await h.restart();
  await check();
  assert.equal(await h.stop(), 0);
});

e2e('retry schedule: the Svix SDK creates, lists and reads endpoints of an app that uses it', async (t) => {
  const h = await startHookd(t);
  const svix = svixClient(h);
  const { req, appId, createEp } = await setup(h, 'sdk');
  const own = await createEp({ url: 'http://127.0.0.1:9/own', retrySchedule: [1, 2] });
  const viaSdk = await svix.endpoint.create(appId, { url: 'http://127.0.0.1:9/sdk', description: 'from the SDK' });
  assert.ok(viaSdk.id.startsWith('ep_'));
  const list = await svix.endpoint.list(appId);
  assert.deepEqual(list.data.map((e) => e.id).sort(), [own.id, viaSdk.id].sort());
  const got = await svix.endpoint.get(appId, own.id);
  assert.equal(got.url, 'http://127.0.0.1:9/own');
  const raw = await req('GET', `/app/${appId}/endpoint/${viaSdk.id}`);
  assert.equal(raw.json.retrySchedule, null, 'an SDK-made endpoint follows the server\'s schedule');
  const patched = await svix.endpoint.patch(appId, own.id, { description: 'patched by the SDK' });
  assert.equal(patched.description, 'patched by the SDK');
  const after = await req('GET', `/app/${appId}/endpoint/${own.id}`);
  assert.deepEqual(after.json.retrySchedule, [1, 2], 'an SDK patch keeps the schedule');
  assert.equal(await h.stop(), 0);
});
