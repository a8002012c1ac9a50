// payload_filter.test.mjs: an endpoint's payloadFilter (docs/api.md, "Payload filters"): each operator and
// nested/array paths select exactly their messages on real receivers; a message a filter keeps out has no
// delivery and no attempt for that endpoint and is counted in /metrics; bad filters are 422 with their location;
// PATCH adds and removes a filter; replay-missing applies it; on PostgreSQL a filter set on one node applies on
// another within 1 s.
import assert from 'node:assert/strict';
import { PG, api, e2e, eventually, fetchMetrics, startHookd, startReceiver, svixClient, verifyDelivery } from './lib/harness.mjs';

// Endpoint name -> payloadFilter (undefined: none).
const FILTERS = {
  eq: { type: 'order' },
  ne: { type: { $ne: 'order' } },
  gt: { amount: { $gt: 100 } },
  gte: { amount: { $gte: 100 } },
  lt: { amount: { $lt: 100 } },
  lte: { amount: { $lte: 100 } },
  in: { 'customer.tier': { $in: ['gold', 'platinum'] } },
  nin: { 'customer.tier': { $nin: ['gold', 'platinum'] } },
  exists: { coupon: { $exists: true } },
  notExists: { coupon: { $exists: false } },
  regex: { 'customer.email': { $regex: '@example\\.com$', $options: 'i' } },
  and: { $and: [{ type: 'order' }, { amount: { $gte: 100 } }] },
  or: { $or: [{ type: 'refund' }, { 'customer.tier': 'gold' }] },
  not: { amount: { $not: { $gt: 100 } } },
  notFilter: { $not: { type: 'order' } },
  nested: { 'customer.address.country': 'PT' },
  array: { 'items.sku': 'SKU-2' },
  index: { 'items.0.qty': { $gte: 3 } },
  threeClause: { type: 'order', amount: { $gt: 50 }, 'customer.tier': 'gold' },
  none: undefined,
};

const MESSAGES = {
  m1: { type: 'order', amount: 150, customer: { tier: 'gold', email: 'Ana@EXAMPLE.com', address: { country: 'PT' } },
    items: [{ sku: 'SKU-1', qty: 1 }, { sku: 'SKU-2', qty: 5 }] },
  m2: { type: 'order', amount: 100, coupon: 'X',
    customer: { tier: 'silver', email: 'bo@other.org', address: { country: 'ES' } }, items: [{ sku: 'SKU-3', qty: 3 }] },
  m3: { type: 'refund', amount: 20.5, customer: { tier: 'platinum', email: 'cy@example.com' } },
  m4: { type: 'order', amount: '150' }, // a string: no numeric comparison matches it
};

// Worked out by hand from the semantics.
const EXPECTED = {
  eq: ['m1', 'm2', 'm4'],
  ne: ['m3'],
  gt: ['m1'],
  gte: ['m1', 'm2'],
  lt: ['m3'],
  lte: ['m2', 'm3'],
  in: ['m1', 'm3'],
  nin: ['m2', 'm4'], // a missing field is not in the list
  exists: ['m2'],
  notExists: ['m1', 'm3', 'm4'],
  regex: ['m1', 'm3'],
  and: ['m1', 'm2'],
  or: ['m1', 'm3'],
  not: ['m2', 'm3', 'm4'],
  notFilter: ['m3'],
  nested: ['m1'],
  array: ['m1'],
  index: ['m2'],
  threeClause: ['m1'],
  none: ['m1', 'm2', 'm3', 'm4'],
};

function metric(text, re) {
  const m = re.exec(text);
  return m ? Number(m[1]) : 0;
}

e2e('payload filters: each operator and nested/array paths deliver exactly the matching messages', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'pfilter' })).json;
  const eps = {};
  for (const [name, payloadFilter] of Object.entries(FILTERS)) {
    const rcv = await startReceiver(t);
    const body = { url: rcv.url, description: name };
    if (payloadFilter) body.payloadFilter = payloadFilter;
    const r = await req('POST', `/app/${app.id}/endpoint`, body);
    assert.equal(r.status, 201, `create ${name}: ${r.text}`);
    assert.deepEqual(r.json.payloadFilter, payloadFilter ?? null, `${name}: the filter is echoed as given`);
    const key = (await req('GET', `/app/${app.id}/endpoint/${r.json.id}/secret`)).json.key;
    eps[name] = { id: r.json.id, rcv, key };
  }
  const before = await (await fetchMetrics(h)).text();
  const sent = {};
  for (const [label, payload] of Object.entries(MESSAGES)) {
    const r = await req('POST', `/app/${app.id}/msg`, { eventType: 'shop.event', payload: { label, ...payload } });
    assert.equal(r.status, 202, r.text);
    sent[label] = r.json.id;
  }
  // the deliveries are made with the message: its destinations are exactly the endpoints whose filter matches
  for (const [label, id] of Object.entries(sent)) {
    const r = await req('GET', `/app/${app.id}/msg/${id}/endpoint?limit=250`);
    assert.equal(r.status, 200, r.text);
    const want = Object.keys(EXPECTED).filter((n) => EXPECTED[n].includes(label)).map((n) => eps[n].id).sort();
    assert.deepEqual(r.json.data.map((d) => d.id).sort(), want, `destinations of ${label}`);
  }
  const labelsOf = (rcv) => rcv.requests.map((x) => JSON.parse(x.body.toString()).label);
  await Promise.all(Object.entries(eps).map(([name, { rcv }]) => rcv.waitFor(
    () => EXPECTED[name].every((l) => labelsOf(rcv).includes(l)), 20000, `${name} to get ${EXPECTED[name]}`)));
  for (const [name, { id, rcv, key }] of Object.entries(eps)) {
    assert.deepEqual(labelsOf(rcv).sort(), EXPECTED[name], `${name} received exactly these`);
    for (const rec of rcv.requests) verifyDelivery(key, rec); // signed with this endpoint's secret
    const r = await req('GET', `/app/${app.id}/attempt/endpoint/${id}?limit=250`);
    assert.deepEqual(r.json.data.map((a) => a.msgId).sort(), EXPECTED[name].map((l) => sent[l]).sort(),
      `${name}: attempts only for the matching messages`);
  }
  // /metrics: every (endpoint, message) pair a filter kept out, in total and per endpoint
  const after = await (await fetchMetrics(h)).text();
  const total = /^hookd_deliveries_filtered_total (\d+)$/m;
  const kept = Object.values(EXPECTED).reduce((n, l) => n + (4 - l.length), 0);
  assert.equal(metric(after, total) - metric(before, total), kept);
  for (const [name, { id }] of Object.entries(eps)) {
    const re = new RegExp(`^hookd_endpoint_filtered_total\\{endpoint="${id}"\\} (\\d+)$`, 'm');
    assert.equal(metric(after, re), 4 - EXPECTED[name].length, `${name}: filtered count`);
  }
  assert.equal(await h.stop(), 0);
});

e2e('payload filters: a bad filter is a 422 naming its location, on create, update and patch', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  const rcv = await startReceiver(t);
  const app = (await req('POST', '/app', { name: 'bad' })).json;
  const cases = [
    [{ amount: { $gt: true } }, 'payloadFilter.amount.$gt: must be a number or string'],
    [{ amount: { $foo: 1 } }, 'payloadFilter.amount.$foo: unknown operator'],
    [{ $or: [{ a: 1 }, { b: { $in: 3 } }] }, 'payloadFilter.$or.1.b.$in: must be an array'],
    [{ $or: [] }, 'payloadFilter.$or: must be a non-empty array of filters'],
    [{ $where: 'x' }, 'payloadFilter.$where: unknown operator'],
    [{ 'a..b': 1 }, 'payloadFilter.a..b: a path needs a name between every two dots'],
    [{ name: { $regex: '(' } }, 'payloadFilter.name.$regex: invalid regular expression at offset 1'],
    [{ name: { $regex: 'x'.repeat(1025) } }, 'payloadFilter.name.$regex: the pattern is longer than 1024 bytes'],
    [{ name: { $regex: 'x', $options: 'g' } }, 'payloadFilter.name.$options: must be a string of the flags'],
    [{ a: { $exists: 'yes' } }, 'payloadFilter.a.$exists: must be true or false'],
    [{ a: { $not: 3 } }, 'payloadFilter.a.$not: must be an operator expression'],
    [{ a: { $gt: 1, b: 2 } }, 'payloadFilter.a.b: an operator expression cannot mix operators and field names'],
    [{ a: { $in: Array.from({ length: 300 }, (_, i) => i) } }, 'payloadFilter.a.$in: too many clauses (at most 256)'],
    [{ a: 'x'.repeat(17000) }, 'payloadFilter: longer than 16384 bytes of JSON'],
    [['a'], 'payloadFilter: must be an object'],
    ['a', 'payloadFilter: must be an object'],
  ];
  const check = (r, msg, what) => {
    assert.equal(r.status, 422, `${what}: ${r.text}`);
    assert.equal(r.json.code, 'validation_error');
    const d = r.json.detail.find((x) => x.loc[1] === 'payloadFilter');
    assert.ok(d, `${what}: ${r.text}`);
    assert.ok(d.msg.startsWith(msg), `${what}: got "${d.msg}", want "${msg}"`);
  };
  for (const [payloadFilter, msg] of cases)
    check(await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url, payloadFilter }), msg, JSON.stringify(payloadFilter).slice(0, 60));
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url, payloadFilter: { a: 1 } })).json;
  check(await req('PATCH', `/app/${app.id}/endpoint/${ep.id}`, { payloadFilter: { a: { $lt: [] } } }),
    'payloadFilter.a.$lt: must be a number or string', 'patch');
  check(await req('PUT', `/app/${app.id}/endpoint/${ep.id}`, { url: rcv.url, payloadFilter: { $and: {} } }),
    'payloadFilter.$and: must be a non-empty array of filters', 'put');
  assert.deepEqual((await req('GET', `/app/${app.id}/endpoint/${ep.id}`)).json.payloadFilter, { a: 1 }, 'unchanged');
  // the endpoint list carries it too
  const list = (await req('GET', `/app/${app.id}/endpoint`)).json;
  assert.deepEqual(list.data[0].payloadFilter, { a: 1 });
});

e2e('payload filters: PATCH adds and removes a filter, PUT without one removes it; the Svix SDK is unaffected', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  const svix = svixClient(h);
  const rcv = await startReceiver(t);
  const app = await svix.application.create({ name: 'patch' });
  const ep = await svix.endpoint.create(app.id, { url: rcv.url });
  assert.equal((await req('GET', `/app/${app.id}/endpoint/${ep.id}`)).json.payloadFilter, null);
  const send = async (n) => (await svix.message.create(app.id, { eventType: 'n.sent', payload: { n } })).id;
  const dests = async (id) => (await req('GET', `/app/${app.id}/msg/${id}/endpoint`)).json.data.map((d) => d.id);

  const a = await send(1);
  const p = await req('PATCH', `/app/${app.id}/endpoint/${ep.id}`, { payloadFilter: { n: { $gte: 2 } } });
  assert.equal(p.status, 200, p.text);
  assert.deepEqual(p.json.payloadFilter, { n: { $gte: 2 } });
  const b = await send(1);
  const c = await send(2);
  assert.deepEqual(await dests(b), [], 'n=1 kept out');
  assert.deepEqual(await dests(c), [ep.id]);
  // the SDK reads and patches an endpoint with the extra field; a patch of other fields keeps the filter
  const got = await svix.endpoint.get(app.id, ep.id);
  assert.equal(got.id, ep.id);
  await svix.endpoint.patch(app.id, ep.id, { description: 'patched' });
  assert.deepEqual((await req('GET', `/app/${app.id}/endpoint/${ep.id}`)).json.payloadFilter, { n: { $gte: 2 } });
  assert.deepEqual(await dests(await send(1)), []);

  const r = await req('PATCH', `/app/${app.id}/endpoint/${ep.id}`, { payloadFilter: null });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.payloadFilter, null);
  const d = await send(1);
  assert.deepEqual(await dests(d), [ep.id]);

  await req('PATCH', `/app/${app.id}/endpoint/${ep.id}`, { payloadFilter: { n: 5 } });
  const u = await req('PUT', `/app/${app.id}/endpoint/${ep.id}`, { url: rcv.url });
  assert.equal(u.status, 200, u.text);
  assert.equal(u.json.payloadFilter, null, 'a PUT without payloadFilter removes it');
  const e = await send(1);
  assert.deepEqual(await dests(e), [ep.id]);
  // {} is no filter
  const empty = await req('PATCH', `/app/${app.id}/endpoint/${ep.id}`, { payloadFilter: {} });
  assert.equal(empty.json.payloadFilter, null);

  await rcv.waitFor((reqs) => [a, c, d, e].every((id) => reqs.some((x) => x.headers['webhook-id'] === id)), 10000, 'a c d e');
  const ids = rcv.requests.map((x) => x.headers['webhook-id']);
  assert.ok(!ids.includes(b), 'the filtered message never arrived');
});

e2e('payload filters: replay-missing sends only the messages the filter takes', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  const rcv = await startReceiver(t);
  const app = (await req('POST', '/app', { name: 'replay' })).json;
  const since = new Date(Date.now() - 1000).toISOString();
  const want = [];
  for (let i = 0; i < 20; i++) {
    const m = (await req('POST', `/app/${app.id}/msg`, { eventType: 'r.x', payload: { i, even: i % 2 === 0 } })).json;
    if (i % 2 === 0) want.push(m.id);
  }
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url, payloadFilter: { even: true } })).json;
  const res = await req('POST', `/app/${app.id}/endpoint/${ep.id}/replay-missing`, { since });
  assert.equal(res.status, 202, res.text);
  const task = await eventually(async () => {
    const r = await req('GET', `/background-task/${res.json.id}`);
    assert.equal(r.json.status, 'finished', r.text);
    return r.json;
  }, { what: 'the replay' });
  assert.deepEqual(task.data, { processed: want.length });
  await rcv.waitForCount(want.length, 10000, 'the even messages');
  assert.deepEqual(rcv.requests.map((x) => x.headers['webhook-id']).sort(), want.sort());
});

e2e('payload filters: a payload that is not JSON (inbound forwarding) matches no filter', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  const plain = await startReceiver(t);
  const filtered = await startReceiver(t);
  const src = (await req('POST', '/source', { name: 'src', scheme: 'none', destinations: [{ url: plain.url }, { url: filtered.url }] }));
  assert.equal(src.status, 201, src.text);
  const eps = (await req('GET', `/app/${src.json.appId}/endpoint`)).json.data;
  const fep = eps.find((e) => e.url === filtered.url);
  assert.ok(fep, JSON.stringify(eps));
  const p = await req('PATCH', `/app/${src.json.appId}/endpoint/${fep.id}`, { payloadFilter: { kind: { $exists: false } } });
  assert.equal(p.status, 200, p.text);
  const post = (body, ct) => fetch(`${h.url}/in/${src.json.id}`, { method: 'POST', body, headers: { 'content-type': ct } });
  assert.equal((await post('kind=form', 'application/x-www-form-urlencoded')).status, 200);
  assert.equal((await post('{"json":1}', 'application/json')).status, 200);
  await plain.waitForCount(2, 10000, 'both at the endpoint without a filter');
  await filtered.waitForCount(1, 10000, 'the JSON one');
  assert.equal(filtered.requests[0].body.toString(), '{"json":1}');
  // the form's message has a delivery to the endpoint without a filter only
  const reqs = (await req('GET', `/source/${src.json.id}/request`)).json.data;
  const form = reqs.find((q) => q.msgId && q.id && !filtered.requests.some((x) => x.headers['webhook-id'] === q.msgId));
  assert.ok(form, JSON.stringify(reqs));
  const dests = (await req('GET', `/app/${src.json.appId}/msg/${form.msgId}/endpoint`)).json.data.map((d) => d.id);
  assert.deepEqual(dests, eps.filter((e) => e.url === plain.url).map((e) => e.id));
  assert.equal(filtered.requests.length, 1);
});

e2e('payload filters: a filter set on one node applies on another node of the database within 1 s', async (t) => {
  const rcv = await startReceiver(t);
  const h1 = await startHookd(t);
  const h2 = await startHookd(t, { db: h1.db, token: h1.token });
  const [n1, n2] = [h1, h2].map((h) => api(h).req);
  const app = (await n1('POST', '/app', { name: 'cluster' })).json;
  const ep = (await n1('POST', `/app/${app.id}/endpoint`, { url: rcv.url })).json;
  assert.equal((await n1('PATCH', `/app/${app.id}/endpoint/${ep.id}`, { payloadFilter: { tier: 'gold' } })).status, 200);
  await eventually(async () => assert.deepEqual((await n2('GET', `/app/${app.id}/endpoint/${ep.id}`)).json.payloadFilter,
    { tier: 'gold' }), { timeout: 1000, what: 'the filter on node 2 within 1 s' });
  const silver = (await n2('POST', `/app/${app.id}/msg`, { eventType: 'c.t', payload: { tier: 'silver' } })).json;
  const gold = (await n2('POST', `/app/${app.id}/msg`, { eventType: 'c.t', payload: { tier: 'gold' } })).json;
  assert.deepEqual((await n2('GET', `/app/${app.id}/msg/${silver.id}/endpoint`)).json.data, [], 'silver kept out on node 2');
  await rcv.waitFor((r) => r.some((x) => x.headers['webhook-id'] === gold.id), 10000, 'gold');
  assert.ok(!rcv.requests.some((x) => x.headers['webhook-id'] === silver.id));
  // removed on node 2: node 1 takes everything again
  assert.equal((await n2('PATCH', `/app/${app.id}/endpoint/${ep.id}`, { payloadFilter: null })).status, 200);
  await eventually(async () => assert.equal((await n1('GET', `/app/${app.id}/endpoint/${ep.id}`)).json.payloadFilter, null),
    { timeout: 1000, what: 'the removal on node 1 within 1 s' });
  const any = (await n1('POST', `/app/${app.id}/msg`, { eventType: 'c.t', payload: { tier: 'silver' } })).json;
  await rcv.waitFor((r) => r.some((x) => x.headers['webhook-id'] === any.id), 10000, 'after the removal');
}, { skip: !PG && 'PostgreSQL only (HOOKD_TEST_PG)' });
