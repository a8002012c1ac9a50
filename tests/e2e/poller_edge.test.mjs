// poller_edge.test.mjs: poller sinks at their edges (api_poll.c): a message with deliverAt in the future is read
// when due and never lost behind a cursor that moved on; a disabled sink answers 409 and reads on from its cursor
// once enabled; an endpoint turned from https into a sink drops its pending pushes (and back, pushes again).
import assert from 'node:assert/strict';
import { PG, api, e2e, eventually, fetchMetrics, startHookd, startReceiver, svixClient } from './lib/harness.mjs';

async function post(req, app, eventType, payload, extra = {}) {
  const r = await req('POST', `/app/${app}/msg`, { eventType, payload, ...extra });
  assert.equal(r.status, 202, r.text);
  return r.json.id;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

e2e('poller sink: a deferred message (deliverAt) is read once due, after the cursor that moved on meanwhile', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  const poller = svixClient(h).message.poller;
  const app = (await req('POST', '/app', { name: 'later' })).json;
  const sink = (await req('POST', `/app/${app.id}/endpoint`, { url: 'poll:' })).json;
  const due = Date.now() + 6000; // room for two reads (each a second after its message) before it
  const a = await post(req, app.id, 'x', { n: 'a' });
  const late = await post(req, app.id, 'x', { n: 'late' }, { deliverAt: new Date(due).toISOString() });
  const b = await post(req, app.id, 'x', { n: 'b' });
  // before it is due: the others only, and the consumer commits past them
  const first = await eventually(async () => {
    const p = await poller.consumerPoll(app.id, sink.id, 'w');
    assert.deepEqual(p.data.map((m) => m.id), [a, b]);
    return p;
  }, { what: 'the two immediate messages' });
  assert.ok(Date.now() < due, 'read before the deferred one was due');
  assert.deepEqual((await poller.poll(app.id, sink.id)).data.map((m) => m.id), [a, b]);
  const c = await post(req, app.id, 'x', { n: 'c' });
  const second = await eventually(async () => {
    const p = await poller.consumerPoll(app.id, sink.id, 'w', { iterator: first.iterator });
    assert.deepEqual(p.data.map((m) => m.id), [c]);
    return p;
  }, { what: 'the next immediate one' });
  assert.ok(Date.now() < due);
  // once due it comes, after everything read before (its place is its deliverAt), and only once
  const third = await eventually(async () => {
    const p = await poller.consumerPoll(app.id, sink.id, 'w', { iterator: second.iterator });
    assert.deepEqual(p.data.map((m) => m.id), [late]);
    return p;
  }, { timeout: 15000, what: 'the deferred message once due' });
  assert.ok(Date.now() >= due);
  assert.deepEqual(third.data[0].payload, { n: 'late' });
  assert.equal(third.iterator, late);
  const d = await post(req, app.id, 'x', { n: 'd' });
  await eventually(async () => {
    const p = await poller.consumerPoll(app.id, sink.id, 'w', { iterator: third.iterator });
    assert.deepEqual(p.data.map((m) => m.id), [d], 'the deferred one not again');
  }, { what: 'on after the deferred one' });
  // a fresh read from the start has them in the order they came due
  assert.deepEqual((await poller.poll(app.id, sink.id)).data.map((m) => m.id), [a, b, c, late, d]);
  // paging through the boundary one at a time loses nothing
  const seen = [];
  let it;
  for (let i = 0; i < 6; i++) {
    const p = await poller.poll(app.id, sink.id, { limit: 1, ...(it ? { iterator: it } : {}) });
    seen.push(...p.data.map((m) => m.id));
    it = p.iterator;
  }
  assert.deepEqual(seen, [a, b, c, late, d]);
});

e2e('poller sink: disabled it answers 409 endpoint_disabled; enabled again it reads on from the cursor', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  const poller = svixClient(h).message.poller;
  const app = (await req('POST', '/app', { name: 'off' })).json;
  const sink = (await req('POST', `/app/${app.id}/endpoint`, { url: 'poll:' })).json;
  const a = await post(req, app.id, 'x', { n: 1 });
  const p = await eventually(async () => {
    const r = await poller.consumerPoll(app.id, sink.id, 'w');
    assert.deepEqual(r.data.map((m) => m.id), [a]);
    return r;
  }, { what: 'the first message' });
  await poller.consumerPoll(app.id, sink.id, 'w', { iterator: p.iterator }); // committed
  let r = await req('PATCH', `/app/${app.id}/endpoint/${sink.id}`, { disabled: true });
  assert.equal(r.status, 200, r.text);
  const b = await post(req, app.id, 'x', { n: 2 });
  for (const path of [`/poller/${sink.id}`, `/poller/${sink.id}/consumer/w`, `/poller/${sink.id}/consumer/w?iterator=${b}`]) {
    r = await req('GET', `/app/${app.id}${path}`);
    assert.equal(r.status, 409, `${path}: ${r.text}`);
    assert.equal(r.json.code, 'endpoint_disabled');
    assert.match(r.json.detail, /disabled/);
  }
  r = await req('POST', `/app/${app.id}/poller/${sink.id}/consumer/w/seek`, { after: new Date(0).toISOString() });
  assert.equal(r.status, 409, r.text);
  r = await req('PATCH', `/app/${app.id}/endpoint/${sink.id}`, { disabled: false });
  assert.equal(r.status, 200, r.text);
  // from its cursor: the one sent while disabled, not the one it had committed (the iterator above did not commit)
  await eventually(async () => {
    const q = await poller.consumerPoll(app.id, sink.id, 'w');
    assert.deepEqual(q.data.map((m) => m.id), [b]);
  }, { what: 'the message sent while disabled' });
});

/** The endpoint's messages as Svix's endpoint message list has them: id -> status. */
async function statuses(req, app, ep) {
  const r = await req('GET', `/app/${app}/endpoint/${ep}/msg?limit=50`);
  assert.equal(r.status, 200, r.text);
  return Object.fromEntries(r.json.data.map((m) => [m.id, m.status]));
}

async function urlSwitch(t, h1, h2) {
  let up = false;
  const rcv = await startReceiver(t, () => (up ? 200 : 503));
  const req1 = api(h1).req, req2 = api(h2).req;
  const app = (await req1('POST', '/app', { name: 'switch' })).json;
  // retried in 1 s, then in 60 s; the deferred one is due in 30 s
  const ep = (await req1('POST', `/app/${app.id}/endpoint`, { url: rcv.url, retrySchedule: [1, 60] })).json;
  const soon = await post(req1, app.id, 'x', { n: 'soon' });
  const later = await post(req1, app.id, 'x', { n: 'later' }, { deliverAt: new Date(Date.now() + 30000).toISOString() });
  await rcv.waitForCount(1, 10000, 'the first attempt');
  // edited on the other node (on PostgreSQL): the change feed brings it to the endpoint's owner
  let r = await req2('PATCH', `/app/${app.id}/endpoint/${ep.id}`, { url: 'poll:' });
  assert.equal(r.status, 200, r.text);
  await eventually(async () => {
    assert.deepEqual(await statuses(req1, app.id, ep.id), { [soon]: 4, [later]: 4 }, 'both canceled');
  }, { what: 'pending pushes canceled' });
  await sleep(2500); // the 1 s retry would have come by now
  const pushed = rcv.requests.length;
  assert.ok(pushed <= 2, `${pushed} pushes`); // the retry may have been in flight as the edit committed
  // its messages are its consumers' now
  await eventually(async () => {
    const p = await svixClient(h2).message.poller.consumerPoll(app.id, ep.id, 'w');
    assert.deepEqual(p.data.map((m) => m.id), [soon]);
  }, { what: 'pollable' });
  const polled = await post(req1, app.id, 'x', { n: 'polled' });
  await sleep(1500);
  assert.equal(rcv.requests.length, pushed, 'a sink gets no push');
  assert.equal((await statuses(req1, app.id, ep.id))[polled], undefined, 'no delivery made for the sink');
  // back to https: pushing again from then on, nothing from before sent again
  up = true;
  r = await req2('PATCH', `/app/${app.id}/endpoint/${ep.id}`, { url: rcv.url });
  assert.equal(r.status, 200, r.text);
  r = await req2('GET', `/app/${app.id}/poller/${ep.id}`);
  assert.equal(r.status, 404, r.text);
  const pushedAgain = await eventually(async () => {
    const id = await post(req1, app.id, 'x', { n: 'pushed' });
    await rcv.waitForCount(pushed + 1, 5000, 'a push after the switch back');
    return id;
  }, { what: 'the registry has the https URL again' });
  assert.equal(rcv.requests.at(-1).headers['webhook-id'], pushedAgain);
  await eventually(async () => assert.equal((await statuses(req1, app.id, ep.id))[pushedAgain], 0), { what: 'delivered' });
  await sleep(500);
  const ids = rcv.requests.slice(pushed).map((q) => q.headers['webhook-id']);
  assert.ok(!ids.includes(soon) && !ids.includes(later) && !ids.includes(polled), ids.join(' '));
}

e2e('endpoint turned into a poller sink: its pending pushes end, its messages are polled; turned back, it pushes', async (t) => {
  const h = await startHookd(t);
  await urlSwitch(t, h, h);
});

e2e('endpoint turned into a sink on another node (PostgreSQL): the owner stops pushing', async (t) => {
  const h1 = await startHookd(t);
  const h2 = await startHookd(t, { db: h1.db, token: h1.token });
  // each node counts the other, so that a write on one is answered once the other applied it (read-your-writes;
  // a node the writer does not count yet is not waited for: the app made on h1 could still be unknown on h2)
  for (const h of [h1, h2])
    await eventually(async () => assert.match(await (await fetchMetrics(h)).text(), /^hookd_cluster_nodes 2$/m),
      { timeout: 3000, what: 'two live nodes, as each node sees it' });
  await urlSwitch(t, h1, h2);
}, { skip: !PG && 'PostgreSQL only (HOOKD_TEST_PG)' });
