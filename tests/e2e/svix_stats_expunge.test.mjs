// svix_stats_expunge.test.mjs: PUT /stats/usage/event-types (the svix SDK's statistics.aggregateEventTypes) and
// POST /app/{app}/msg/bulk-expunge (Svix's BulkExpungeContentsIn/Out; not in the installed SDK: raw requests).
import assert from 'node:assert/strict';
import { api, e2e, startHookd, startReceiver, svixClient } from './lib/harness.mjs';

e2e('stats: aggregateEventTypes is a finished task counting the endpoints per event type filter', async (t) => {
  const rcv = await startReceiver(t);
  const h = await startHookd(t);
  const svix = svixClient(h);
  await svix.application.create({ name: 'e1', uid: 'e1' });
  await svix.application.create({ name: 'e2', uid: 'e2' });
  await svix.endpoint.create('e1', { url: rcv.url, filterTypes: ['order.created', 'order.paid'] });
  await svix.endpoint.create('e2', { url: rcv.url, filterTypes: ['order.created'] });
  await svix.endpoint.create('e2', { url: rcv.url });
  const out = await svix.statistics.aggregateEventTypes();
  assert.equal(out.task, 'event-type.aggregate');
  assert.equal(out.status, 'finished');
  const task = await svix.backgroundTask.get(out.id);
  assert.equal(task.task, 'event-type.aggregate');
  assert.deepEqual(task.data, {
    eventTypes: [{ name: 'order.created', endpoints: 2 }, { name: 'order.paid', endpoints: 1 }],
    endpoints: 3, endpointsWithoutFilter: 1,
  });
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'x' })).json;
  const tok = (await req('POST', `/auth/app-portal-access/${app.id}`, {})).json.token;
  assert.equal((await api(h, { token: tok }).req('PUT', '/stats/usage/event-types')).status, 403);
  assert.equal(await h.stop(), 0);
});

e2e('bulk-expunge: the payloads of the named messages (ids or eventIds) go; unknown ones are not-found', async (t) => {
  const h = await startHookd(t);
  const svix = svixClient(h);
  const { req } = api(h);
  await svix.application.create({ name: 'b', uid: 'bx' });
  const m1 = await svix.message.create('bx', { eventType: 'a', payload: { secret: 1 } });
  const m2 = await svix.message.create('bx', { eventType: 'a', payload: { secret: 2 }, eventId: 'evt-2' });
  const m3 = await svix.message.create('bx', { eventType: 'a', payload: { keep: 3 } });
  const r = await req('POST', '/app/bx/msg/bulk-expunge', { ids: [m1.id, 'evt-2', 'msg_nope'] });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { results: { [m1.id]: 'expunged', 'evt-2': 'expunged', msg_nope: 'not-found' } });
  assert.deepEqual((await svix.message.get('bx', m1.id)).payload, {});
  assert.deepEqual((await svix.message.get('bx', m2.id)).payload, {});
  assert.deepEqual((await svix.message.get('bx', m3.id)).payload, { keep: 3 });
  assert.equal((await req('POST', '/app/bx/msg/bulk-expunge', {})).status, 422);
  assert.equal((await req('POST', '/app/bx/msg/bulk-expunge', { ids: Array(251).fill('x') })).status, 422);
  assert.equal((await req('POST', '/app/nope/msg/bulk-expunge', { ids: [] })).status, 404);
  assert.equal(await h.stop(), 0);
});
