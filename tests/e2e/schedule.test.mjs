// schedule.test.mjs: deliverAt holds a message until its time, and what is held is reloaded intact.
import assert from 'node:assert/strict';
import { api, e2e, startHookd, startReceiver, verifyDelivery } from './lib/harness.mjs';

e2e('schedule: deliverAt in the future is delivered then, not before, with its payload intact', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 's' })).json;
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url })).json;
  const key = (await req('GET', `/app/${app.id}/endpoint/${ep.id}/secret`)).json.key;
  const payload = { text: 'later ☕', n: [1, 2, 3] };
  const at = Date.now() + 6000; // beyond the 5 s hookd keeps payloads in memory: reloaded from the store
  const later = await req('POST', `/app/${app.id}/msg`, {
    eventType: 'a.later', payload, deliverAt: new Date(at).toISOString() });
  assert.equal(later.status, 202, later.text);
  assert.equal(later.json.deliverAt, new Date(at).toISOString());
  const now = await req('POST', `/app/${app.id}/msg`, { eventType: 'a.now', payload: { n: 0 } });
  assert.equal(now.status, 202);

  await rcv.waitForCount(1, 5000, 'the immediate message');
  assert.equal(rcv.requests.length, 1, 'the scheduled message is not sent early');
  assert.equal(rcv.requests[0].headers['webhook-id'], now.json.id);

  await rcv.waitForCount(2, 15000, 'the scheduled message');
  const rec = rcv.requests[1];
  assert.equal(rec.headers['webhook-id'], later.json.id);
  assert.ok(rec.at >= at - 50, `delivered ${at - rec.at} ms before its deliverAt`);
  assert.ok(rec.at < at + 3000, `delivered ${rec.at - at} ms after its deliverAt`);
  assert.deepEqual(JSON.parse(rec.body.toString('utf8')), payload);
  verifyDelivery(key, rec);
  assert.equal(await h.stop(), 0);
});

e2e('schedule: a scheduled message survives a restart', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 's2' })).json;
  await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url });
  const at = Date.now() + 2500;
  const msg = (await req('POST', `/app/${app.id}/msg`, {
    eventType: 'a.later', payload: { k: 1 }, deliverAt: new Date(at).toISOString() })).json;
  assert.equal(await h.stop(), 0);
  await h.restart();
  await rcv.waitForCount(1, 15000, 'the scheduled message after restart');
  assert.equal(rcv.requests[0].headers['webhook-id'], msg.id);
  assert.ok(rcv.requests[0].at >= at - 50);
  assert.equal(await h.stop(), 0);
});
