// Fan-out: one message reaches exactly the endpoints whose filters (event types, wildcards, channels,
// disabled) select it, each delivery signed with that endpoint's own secret.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { api, e2e, eventually, startHookd, startReceiver, svixClient, verifyDelivery } from './lib/harness.mjs';

// Endpoints: the body sent to POST /endpoint (both the `eventTypes` and the older `filterTypes` spelling).
const ENDPOINTS = {
  exact: { eventTypes: ['user.created'] },
  star: { filterTypes: ['*'] },
  order: { eventTypes: ['order.*'] },
  none: {},
  chan: { channels: ['eu'] },
  chanOrder: { channels: ['us', 'eu'], filterTypes: ['order.created'] },
  multi: { eventTypes: ['user.deleted', 'invoice.*'] },
  disabled: { disabled: true },
};

// Messages, by label: [eventType, channels].
const MESSAGES = {
  userCreated: ['user.created'],
  orderCreated: ['order.created'],
  orderItemAdded: ['order.item.added'],
  orderBare: ['order'],
  ordersCreated: ['orders.created'], // `order.*` must not match a longer first segment
  invoiceEu: ['invoice.paid', ['eu']],
  orderUs: ['order.created', ['us']],
  userAsia: ['user.created', ['asia']],
  userDeleted: ['user.deleted'],
};

// Sent after all of the above; between them every enabled endpoint gets at least one.
const MARKERS = {
  markerUser: ['user.created', ['eu', 'us']],
  markerOrder: ['order.created', ['us']],
};

// What each endpoint must receive, worked out by hand from the contract.
const EXPECTED = {
  exact: ['userCreated', 'userAsia', 'markerUser'],
  star: [...Object.keys(MESSAGES), ...Object.keys(MARKERS)],
  order: ['orderCreated', 'orderItemAdded', 'orderUs', 'markerOrder'],
  none: [...Object.keys(MESSAGES), ...Object.keys(MARKERS)],
  chan: ['invoiceEu', 'markerUser'],
  chanOrder: ['orderUs', 'markerOrder'],
  multi: ['invoiceEu', 'userDeleted'],
  disabled: [],
};

e2e('fanout: each endpoint gets exactly the messages its filters select', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  const svix = svixClient(h);
  const app = await svix.application.create({ name: 'fanout' });

  const eps = {};
  for (const [name, spec] of Object.entries(ENDPOINTS)) {
    const rcv = await startReceiver(t);
    const body = { url: rcv.url, description: name, ...spec };
    if (name === 'none') body.secret = `whsec_${randomBytes(32).toString('base64')}`; // a secret of our own
    const r = await req('POST', `/app/${app.id}/endpoint`, body);
    assert.equal(r.status, 201, `create endpoint ${name}: ${r.text}`);
    const { key } = await svix.endpoint.getSecret(app.id, r.json.id);
    if (body.secret) assert.equal(key, body.secret, 'the secret we gave is the one used');
    eps[name] = { id: r.json.id, rcv, key, out: r.json };
  }
  // Both spellings are stored and echoed.
  assert.deepEqual(eps.exact.out.filterTypes, ['user.created']);
  assert.deepEqual(eps.star.out.filterTypes, ['*']);
  assert.deepEqual([...eps.chanOrder.out.channels].sort(), ['eu', 'us']);
  assert.equal(eps.disabled.out.disabled, true);

  const sent = {}; // label -> msg id
  const send = async (label, [eventType, channels]) => {
    const body = { eventType, payload: { label } };
    if (channels) body.channels = channels;
    const r = await req('POST', `/app/${app.id}/msg`, body);
    assert.equal(r.status, 202, `send ${label}: ${r.text}`);
    sent[label] = r.json.id;
  };
  for (const [label, m] of Object.entries(MESSAGES)) await send(label, m);
  // Wait until every expected non-marker delivery is in, then send the markers.
  const labelsOf = (reqs) => reqs.map((r) => JSON.parse(r.body.toString()).label);
  const waitLabels = (name, want) => eps[name].rcv.waitFor(
    (reqs) => want.every((l) => labelsOf(reqs).includes(l)), 20000, `${name} to receive ${want.join(', ')}`);
  await Promise.all(Object.keys(eps).map((name) =>
    waitLabels(name, EXPECTED[name].filter((l) => l in MESSAGES))));
  for (const [label, m] of Object.entries(MARKERS)) await send(label, m);
  await Promise.all(Object.keys(eps).map((name) => waitLabels(name, EXPECTED[name])));

  for (const [name, { rcv, key }] of Object.entries(eps)) {
    const got = labelsOf(rcv.requests);
    assert.deepEqual([...got].sort(), [...EXPECTED[name]].sort(), `endpoint ${name} received exactly these`);
    for (const rec of rcv.requests) {
      const payload = verifyDelivery(key, rec); // throws if the signature is not this endpoint's
      assert.equal(rec.headers['webhook-id'], sent[payload.label], `${name}: webhook-id is the message id`);
    }
  }

  // The API agrees: attempts by endpoint list exactly the expected messages.
  for (const [name, { id }] of Object.entries(eps)) {
    const want = EXPECTED[name].map((l) => sent[l]).sort();
    await eventually(async () => {
      const r = await req('GET', `/app/${app.id}/attempt/endpoint/${id}?limit=250`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json.data.map((a) => a.msgId).sort(), want);
      assert.ok(r.json.data.every((a) => a.status === 0 && a.responseStatusCode === 200));
    }, { what: `attempts of ${name}` });
  }
  assert.equal(await h.stop(), 0);
});

e2e('fanout: disabling, re-enabling and deleting an endpoint take effect at once', async (t) => {
  const h = await startHookd(t);
  const svix = svixClient(h);
  const a = await startReceiver(t);
  const b = await startReceiver(t);
  const app = await svix.application.create({ name: 'toggle' });
  const epA = await svix.endpoint.create(app.id, { url: a.url });
  const epB = await svix.endpoint.create(app.id, { url: b.url });
  const ids = (rcv) => rcv.requests.map((r) => r.headers['webhook-id']);

  const m1 = await svix.message.create(app.id, { eventType: 't', payload: { n: 1 } });
  await a.waitForCount(1);
  await b.waitForCount(1);

  await svix.endpoint.patch(app.id, epA.id, { disabled: true });
  const m2 = await svix.message.create(app.id, { eventType: 't', payload: { n: 2 } });
  await b.waitForCount(2);

  await svix.endpoint.patch(app.id, epA.id, { disabled: false });
  await svix.endpoint.delete(app.id, epB.id);
  const m3 = await svix.message.create(app.id, { eventType: 't', payload: { n: 3 } });
  await a.waitForCount(2);
  // m3 reached A, so B (deleted before m3) would have had time too if it were going to get it.
  assert.deepEqual(ids(a), [m1.id, m3.id], 'A: not m2 (sent while A was disabled)');
  assert.deepEqual(ids(b), [m1.id, m2.id], 'B: not m3 (sent after B was deleted)');
  assert.equal(await h.stop(), 0);
});
