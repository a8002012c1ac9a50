// The official svix SDK (1.99.1) against hookd: the wire compatibility users rely on.
import assert from 'node:assert/strict';
import { ApiException } from 'svix';
import { api, e2e, eventually, startHookd, startReceiver, svixClient, verifyDelivery } from './lib/harness.mjs';

const ID = (prefix) => new RegExp(`^${prefix}_[0-9A-Za-z]{27}$`);

async function rejectsWith(promise, code) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof ApiException, `expected ApiException, got ${err}`);
    assert.equal(err.code, code, `HTTP status (body ${JSON.stringify(err.body)})`);
    return true;
  });
}

e2e('sdk: app, endpoint, message, verified delivery, messages and attempts', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t);
  const svix = svixClient(h);

  const app = await svix.application.create({ name: 'SDK app', uid: 'sdk-app-1', metadata: { team: 'e2e' } });
  assert.match(app.id, ID('app'));
  assert.equal(app.name, 'SDK app');
  assert.equal(app.uid, 'sdk-app-1');
  assert.deepEqual(app.metadata, { team: 'e2e' });
  assert.ok(app.createdAt instanceof Date && !Number.isNaN(app.createdAt.getTime()), 'createdAt is a date');

  const same = await svix.application.getOrCreate({ name: 'SDK app', uid: 'sdk-app-1' });
  assert.equal(same.id, app.id, 'getOrCreate with an existing uid returns that app');
  const other = await svix.application.getOrCreate({ name: 'Other', uid: 'sdk-app-2' });
  assert.notEqual(other.id, app.id, 'getOrCreate with a new uid creates an app');
  assert.equal(other.uid, 'sdk-app-2');
  assert.equal((await svix.application.get('sdk-app-1')).id, app.id, 'get by uid');

  const ep = await svix.endpoint.create(app.id, {
    url: rcv.url, description: 'receiver', filterTypes: ['user.created', 'user.deleted'],
  });
  assert.match(ep.id, ID('ep'));
  assert.equal(ep.url, rcv.url);
  assert.equal(ep.description, 'receiver');
  assert.deepEqual([...ep.filterTypes].sort(), ['user.created', 'user.deleted']);
  assert.equal(ep.disabled, false);
  assert.equal(ep.version, 1);

  const { key } = await svix.endpoint.getSecret(app.id, ep.id);
  assert.match(key, /^whsec_[A-Za-z0-9+/=]{32,100}$/);

  const payload = { hello: 'world', n: 1, nested: { emoji: '\u{1F680}', list: [1, 2, 3] } };
  const msg = await svix.message.create(app.id, { eventType: 'user.created', payload, eventId: 'evt-sdk-1' });
  assert.match(msg.id, ID('msg'));
  assert.equal(msg.eventType, 'user.created');
  assert.equal(msg.eventId, 'evt-sdk-1');
  assert.deepEqual(msg.payload, payload);
  assert.ok(msg.timestamp instanceof Date && !Number.isNaN(msg.timestamp.getTime()));

  const [rec] = await rcv.waitForCount(1, 15000, 'the delivery');
  assert.equal(rec.method, 'POST');
  assert.equal(rec.url, '/hook');
  assert.equal(rec.headers['webhook-id'], msg.id);
  assert.match(rec.headers['content-type'], /^application\/json/);
  assert.match(rec.headers['user-agent'] ?? '', /^hookd\//, 'user-agent: hookd/<version>');
  assert.match(rec.headers['webhook-timestamp'], /^\d+$/);
  assert.ok(Math.abs(Number(rec.headers['webhook-timestamp']) - Date.now() / 1000) < 60, 'timestamp is now');
  assert.match(rec.headers['webhook-signature'], /^v1,[A-Za-z0-9+/]{43}=/);
  assert.deepEqual(verifyDelivery(key, rec), payload, 'standardwebhooks verifies and the body is the payload');
  assert.deepEqual(JSON.parse(rec.body.toString()), payload);

  assert.equal((await svix.message.get(app.id, msg.id)).id, msg.id);
  assert.equal((await svix.message.get(app.id, 'evt-sdk-1')).id, msg.id, 'get a message by eventId');
  const msgs = await svix.message.list(app.id);
  assert.deepEqual(msgs.data.map((m) => m.id), [msg.id]);
  assert.equal(msgs.done, true);
  assert.deepEqual(msgs.data[0].payload, payload);

  // The attempt row is written after the receiver answered: poll the API for it.
  const byEp = await eventually(async () => {
    const r = await svix.messageAttempt.listByEndpoint(app.id, ep.id);
    assert.equal(r.data.length, 1);
    return r;
  }, { what: 'one attempt listed by endpoint' });
  const at = byEp.data[0];
  assert.match(at.id, ID('atmpt'));
  assert.equal(at.msgId, msg.id);
  assert.equal(at.endpointId, ep.id);
  assert.equal(at.url, rcv.url);
  assert.equal(at.status, 0, 'status success');
  assert.equal(at.responseStatusCode, 200);
  assert.equal(at.response, 'ok');
  assert.equal(at.triggerType, 0);
  assert.equal(typeof at.responseDurationMs, 'number');
  assert.ok(at.responseDurationMs >= 0);
  assert.ok(at.timestamp instanceof Date && !Number.isNaN(at.timestamp.getTime()));

  const byMsg = await svix.messageAttempt.listByMsg(app.id, msg.id);
  assert.deepEqual(byMsg.data.map((a) => a.id), [at.id]);
  assert.equal(byMsg.data[0].status, 0);
  assert.equal(byMsg.data[0].responseStatusCode, 200);

  const one = await svix.messageAttempt.get(app.id, msg.id, at.id);
  assert.equal(one.id, at.id);
  assert.equal(one.msgId, msg.id);
  assert.equal(one.endpointId, ep.id);
  assert.equal(one.responseStatusCode, 200);

  // A type the endpoint does not subscribe to is not delivered; a subscribed one is.
  await svix.message.create(app.id, { eventType: 'invoice.paid', payload: { skip: true } });
  const m2 = await svix.message.create(app.id, { eventType: 'user.deleted', payload: { n: 2 } });
  const reqs = await rcv.waitForCount(2, 15000, 'the user.deleted delivery');
  assert.equal(reqs[1].headers['webhook-id'], m2.id);

  assert.equal(await h.stop(), 0, 'hookd exits 0 on SIGTERM');
});

e2e('sdk: update, patch and delete endpoints and apps', async (t) => {
  const h = await startHookd(t);
  const rcv1 = await startReceiver(t);
  const rcv2 = await startReceiver(t);
  const svix = svixClient(h);

  const app = await svix.application.create({ name: 'before' });
  const ep = await svix.endpoint.create(app.id, { url: rcv1.url, uid: 'ep-uid-1' });
  assert.equal(ep.uid, 'ep-uid-1');
  assert.equal((await svix.endpoint.get(app.id, 'ep-uid-1')).id, ep.id, 'endpoint get by uid');

  const updated = await svix.endpoint.update(app.id, ep.id, {
    url: rcv2.url, description: 'moved', filterTypes: ['a.b'], disabled: false,
  });
  assert.equal(updated.id, ep.id);
  assert.equal(updated.url, rcv2.url);
  assert.equal(updated.description, 'moved');
  assert.deepEqual(updated.filterTypes, ['a.b']);
  assert.ok(updated.updatedAt.getTime() >= ep.updatedAt.getTime());

  const patched = await svix.endpoint.patch(app.id, ep.id, { description: 'patched' });
  assert.equal(patched.description, 'patched');
  assert.equal(patched.url, rcv2.url, 'patch keeps fields it does not name');
  assert.deepEqual(patched.filterTypes, ['a.b']);
  const got = await svix.endpoint.get(app.id, ep.id);
  assert.equal(got.description, 'patched');
  assert.equal(got.url, rcv2.url);

  // The new URL and filter are live for the next message.
  const msg = await svix.message.create(app.id, { eventType: 'a.b', payload: { moved: true } });
  const [rec] = await rcv2.waitForCount(1, 15000, 'delivery to the updated URL');
  assert.equal(rec.headers['webhook-id'], msg.id);
  assert.equal(rcv1.requests.length, 0, 'the old URL gets nothing');

  const list = await svix.endpoint.list(app.id);
  assert.deepEqual(list.data.map((e) => e.id), [ep.id]);

  await svix.endpoint.delete(app.id, ep.id);
  await rejectsWith(svix.endpoint.get(app.id, ep.id), 404);
  assert.equal((await svix.endpoint.list(app.id)).data.length, 0);

  const app2 = await svix.application.update(app.id, { name: 'after', uid: 'app-upd' });
  assert.equal(app2.id, app.id);
  assert.equal(app2.name, 'after');
  assert.equal(app2.uid, 'app-upd');
  const app3 = await svix.application.patch(app.id, { metadata: { k: 'v' } });
  assert.equal(app3.name, 'after', 'patch keeps the name');
  assert.deepEqual(app3.metadata, { k: 'v' });
  assert.equal((await svix.application.get('app-upd')).name, 'after');

  await svix.application.delete(app.id);
  await rejectsWith(svix.application.get(app.id), 404);
  await rejectsWith(svix.application.get('app-upd'), 404);
  assert.equal(await h.stop(), 0);
});

e2e('sdk: list pagination with iterator sees every app exactly once', async (t) => {
  const h = await startHookd(t);
  const svix = svixClient(h);
  const created = [];
  for (let i = 0; i < 7; i++) created.push((await svix.application.create({ name: `app ${i}` })).id);

  const seen = [];
  const pages = [];
  let iterator = null;
  for (let i = 0; i < 10; i++) {
    const page = await svix.application.list({ limit: 3, iterator });
    pages.push(page);
    seen.push(...page.data.map((a) => a.id));
    if (page.done) break;
    assert.ok(page.iterator, 'a page that is not done has an iterator');
    iterator = page.iterator;
  }
  assert.deepEqual(pages.map((p) => p.data.length), [3, 3, 1], 'page sizes');
  assert.deepEqual(pages.map((p) => p.done), [false, false, true], 'done flags');
  assert.equal(new Set(seen).size, seen.length, 'no app seen twice');
  assert.deepEqual([...seen].sort(), [...created].sort(), 'every app seen');

  // The raw wire shape: iterator and prevIterator present, limit 7 returns all at once.
  const r = await api(h).req('GET', '/app?limit=7');
  assert.equal(r.status, 200);
  assert.equal(r.json.data.length, 7);
  assert.equal(r.json.done, true);
  assert.ok('iterator' in r.json && 'prevIterator' in r.json, `list shape: ${r.text.slice(0, 200)}`);
  assert.equal(await h.stop(), 0);
});

e2e('sdk: idempotency-key replays the first response and creates one message', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t);
  const svix = svixClient(h);
  const { req } = api(h);
  const app = await svix.application.create({ name: 'idem' });
  await svix.endpoint.create(app.id, { url: rcv.url });

  const body = { eventType: 'order.created', payload: { order: 42 } };
  const a = await req('POST', `/app/${app.id}/msg`, body, { 'idempotency-key': 'key-raw-1' });
  const b = await req('POST', `/app/${app.id}/msg`, body, { 'idempotency-key': 'key-raw-1' });
  assert.equal(a.status, 202, a.text);
  assert.equal(b.status, 202, b.text);
  assert.deepEqual(b.json, a.json, 'the replay has the same body');

  const s1 = await svix.message.create(app.id, { eventType: 'x.y', payload: { v: 1 } }, { idempotencyKey: 'key-sdk-1' });
  const s2 = await svix.message.create(app.id, { eventType: 'x.y', payload: { v: 1 } }, { idempotencyKey: 'key-sdk-1' });
  assert.equal(s2.id, s1.id);
  const s3 = await svix.message.create(app.id, { eventType: 'x.y', payload: { v: 1 } }, { idempotencyKey: 'key-sdk-2' });
  assert.notEqual(s3.id, s1.id, 'another key makes another message');

  // A message's 202 is kept with the key's claim; a 409 (its eventId taken) keeps nothing: the key runs again.
  const e1 = await req('POST', `/app/${app.id}/msg`, { ...body, eventId: 'evt-k' }, { 'idempotency-key': 'key-e1' });
  const e2 = await req('POST', `/app/${app.id}/msg`, { ...body, eventId: 'evt-k' }, { 'idempotency-key': 'key-e2' });
  assert.equal(e1.status, 202, e1.text);
  assert.equal(e2.status, 409, e2.text);
  const e3 = await req('POST', `/app/${app.id}/msg`, { ...body, eventId: 'evt-k2' }, { 'idempotency-key': 'key-e2' });
  const e4 = await req('POST', `/app/${app.id}/msg`, { ...body, eventId: 'evt-k3' }, { 'idempotency-key': 'key-e2' });
  assert.equal(e3.status, 202, e3.text);
  assert.equal(e3.json.eventId, 'evt-k2', 'the key was free again after the 409');
  assert.deepEqual(e4.json, e3.json, 'then its 202 is replayed');

  // The same key sent 20 times at once (a client's retries racing): the claims share a batch, so the batch's
  // insert runs stop before a key they claim already; one message, every answer its 202.
  const same = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    req('POST', `/app/${app.id}/msg`, { ...body, payload: { i } }, { 'idempotency-key': 'key-burst' })));
  for (const r of same) assert.equal(r.status, 202, r.text);
  assert.equal(new Set(same.map((r) => r.json.id)).size, 1, 'one message for the key');

  const list = await svix.message.list(app.id, { limit: 50 });
  const ids = [a.json.id, s1.id, s3.id, e1.json.id, e3.json.id, same[0].json.id].sort();
  assert.deepEqual(list.data.map((m) => m.id).sort(), ids, 'six messages in all');

  // One delivery per message, not per request.
  await rcv.waitForCount(6, 15000, 'six deliveries');
  await rcv.expectNoMore(6, 500);
  assert.deepEqual(rcv.requests.map((r) => r.headers['webhook-id']).sort(), ids);
  assert.equal(await h.stop(), 0);
});

e2e('sdk: a duplicate eventId or uid is a 409 conflict', async (t) => {
  const h = await startHookd(t);
  const svix = svixClient(h);
  const app = await svix.application.create({ name: 'dup', uid: 'dup-app' });
  const first = await svix.message.create(app.id, { eventType: 'a', payload: {}, eventId: 'evt-dup' });
  await assert.rejects(
    svix.message.create(app.id, { eventType: 'a', payload: { other: 1 }, eventId: 'evt-dup' }),
    (err) => {
      assert.ok(err instanceof ApiException, String(err));
      assert.equal(err.code, 409);
      assert.equal(err.body.code, 'conflict');
      assert.equal(typeof err.body.detail, 'string');
      return true;
    });
  assert.equal((await svix.message.list(app.id)).data.length, 1);
  assert.equal((await svix.message.get(app.id, 'evt-dup')).id, first.id);

  // The same eventId in another app is fine.
  const app2 = await svix.application.create({ name: 'dup2' });
  await svix.message.create(app2.id, { eventType: 'a', payload: {}, eventId: 'evt-dup' });

  await rejectsWith(svix.application.create({ name: 'again', uid: 'dup-app' }), 409);
  const ep = await svix.endpoint.create(app.id, { url: 'http://127.0.0.1:9/x', uid: 'dup-ep' });
  assert.match(ep.id, ID('ep'));
  await rejectsWith(svix.endpoint.create(app.id, { url: 'http://127.0.0.1:9/y', uid: 'dup-ep' }), 409);
  assert.equal(await h.stop(), 0);
});
