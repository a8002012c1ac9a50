// api_version.test.mjs: payload versions (docs/versions.md). The /api-version registry and its rules (names in
// time order, a new one is the newest, a downgrade for all but the oldest that compiles, deletes that never break
// a pin), the endpoint field apiVersion (default: the newest at creation; must exist; changed or unpinned by
// PUT/PATCH), a version made on one node seen on another of the same PostgreSQL, and the shapes delivered: three
// endpoints pinned to three versions get three shapes of one message, signed, with webhook-api-version.
import assert from 'node:assert/strict';
import { PG, api, e2e, eventually, startHookd, startReceiver, svixClient, verifyDelivery } from './lib/harness.mjs';

const KEEP = 'function handler(webhook) return webhook end';

/** The 422 entries' fields and messages, for asserts. */
function problems(r) {
  assert.equal(r.status, 422, r.text);
  assert.equal(r.json.code, 'validation_error');
  return r.json.detail.map((d) => `${d.loc.at(-1)}: ${d.msg}`).join('; ');
}

e2e('api-version: create, list, get, patch and their rules', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  const empty = await req('GET', '/api-version');
  assert.equal(empty.status, 200, empty.text);
  assert.deepEqual(empty.json, { data: [], iterator: null, prevIterator: null, done: true });

  // names: 1-64 of [A-Za-z0-9._-]
  assert.match(problems(await req('POST', '/api-version', {})), /^name: field required/);
  assert.match(problems(await req('POST', '/api-version', { name: '2025 01 01' })), /^name: must be 1-64/);
  assert.match(problems(await req('POST', '/api-version', { name: 'v'.repeat(65) })), /^name: ensure this value has at most/);
  assert.match(problems(await req('POST', '/api-version', { name: 7 })), /^name: str type expected/);
  // the first version has nothing older to downgrade to
  assert.match(problems(await req('POST', '/api-version', { name: '2025-01-01', downgrade: KEEP })),
    /^downgrade: the first version has no older version/);

  const t0 = Date.now();
  const v1 = await req('POST', '/api-version', { name: '2025-01-01' });
  assert.equal(v1.status, 201, v1.text);
  assert.deepEqual(Object.keys(v1.json).sort(), ['createdAt', 'downgrade', 'name']);
  assert.equal(v1.json.name, '2025-01-01');
  assert.equal(v1.json.downgrade, null);
  assert.ok(Math.abs(Date.parse(v1.json.createdAt) - t0) < 60000, v1.json.createdAt);

  // every later version needs a downgrade, and it must be Lua text that compiles, 64 KiB at most
  assert.match(problems(await req('POST', '/api-version', { name: '2025-02-01' })),
    /^downgrade: field required: every version but the oldest/);
  assert.match(problems(await req('POST', '/api-version', { name: '2025-02-01', downgrade: null })),
    /^downgrade: field required/);
  const syntax = problems(await req('POST', '/api-version', { name: '2025-02-01', downgrade: 'function handler(w) return w' }));
  assert.match(syntax, /^downgrade: the downgrade is not valid Lua: .*'end' expected/);
  assert.match(problems(await req('POST', '/api-version', { name: '2025-02-01', downgrade: `-- ${'x'.repeat(64 * 1024)}` })),
    /^downgrade: ensure this value has at most the maximum length/);
  assert.match(problems(await req('POST', '/api-version', { name: '2025-02-01', downgrade: 42 })), /^downgrade: str type expected/);
  const v2 = await req('POST', '/api-version', { name: '2025-02-01', downgrade: KEEP });
  assert.equal(v2.status, 201, v2.text);
  assert.equal(v2.json.downgrade, KEEP);

  // a new version is the newest: the same name, or one sorting before the newest, is a conflict
  const dup = await req('POST', '/api-version', { name: '2025-02-01', downgrade: KEEP });
  assert.equal(dup.status, 409, dup.text);
  assert.equal(dup.json.code, 'conflict');
  assert.match(dup.json.detail, /2025-02-01 already exists/);
  const older = await req('POST', '/api-version', { name: '2025-01-15', downgrade: KEEP });
  assert.equal(older.status, 409, older.text);
  assert.match(older.json.detail, /must sort after the newest, 2025-02-01/);
  for (const name of ['2025-03-01', '2025-04-01'])
    assert.equal((await req('POST', '/api-version', { name, downgrade: KEEP })).status, 201);

  // lists: newest first by default, oldest first with order=ascending; paged by name
  const names = (r) => r.json.data.map((v) => v.name);
  const all = ['2025-04-01', '2025-03-01', '2025-02-01', '2025-01-01'];
  assert.deepEqual(names(await req('GET', '/api-version')), all);
  assert.deepEqual(names(await req('GET', '/api-version?order=ascending')), [...all].reverse());
  const p1 = await req('GET', '/api-version?limit=3');
  assert.deepEqual(names(p1), all.slice(0, 3));
  assert.equal(p1.json.done, false);
  assert.equal(p1.json.iterator, '2025-02-01');
  const p2 = await req('GET', `/api-version?limit=3&iterator=${p1.json.iterator}`);
  assert.deepEqual(names(p2), ['2025-01-01']);
  assert.equal(p2.json.done, true);
  const back = await req('GET', `/api-version?limit=3&iterator=${encodeURIComponent(p2.json.prevIterator)}`);
  assert.deepEqual(names(back), all.slice(0, 3));
  assert.equal((await req('GET', '/api-version?iterator=a%20b')).status, 422);

  // get
  const got = await req('GET', '/api-version/2025-02-01');
  assert.equal(got.status, 200, got.text);
  assert.deepEqual(got.json, v2.json);
  assert.equal((await req('GET', '/api-version/2099-01-01')).status, 404);

  // patch fixes a downgrade's code; the same rules hold
  const fixed = 'function handler(webhook) webhook.payload.fixed = true return webhook end';
  const pa = await req('PATCH', '/api-version/2025-03-01', { downgrade: fixed });
  assert.equal(pa.status, 200, pa.text);
  assert.equal(pa.json.downgrade, fixed);
  assert.equal((await req('GET', '/api-version/2025-03-01')).json.downgrade, fixed);
  assert.equal((await req('GET', '/api-version/2025-03-01')).json.createdAt, pa.json.createdAt);
  assert.match(problems(await req('PATCH', '/api-version/2025-03-01', { downgrade: 'return (' })), /^downgrade: the downgrade is not valid Lua/);
  assert.match(problems(await req('PATCH', '/api-version/2025-03-01', { downgrade: null })), /^downgrade: every version but the oldest needs/);
  assert.match(problems(await req('PATCH', '/api-version/2025-01-01', { downgrade: KEEP })), /^downgrade: the oldest version has no older/);
  assert.equal((await req('PATCH', '/api-version/2025-01-01', { downgrade: null })).status, 200);
  assert.equal((await req('PATCH', '/api-version/2025-01-01', {})).status, 200); // nothing to change
  assert.equal((await req('PATCH', '/api-version/2099-01-01', { downgrade: KEEP })).status, 404);
  assert.equal((await req('GET', '/api-version/2025-03-01')).json.downgrade, fixed, 'failed patches changed nothing');

  // the registry is loaded from the store at start-up
  await h.stop();
  await h.restart();
  const again = await req('GET', '/api-version');
  assert.deepEqual(names(again), all);
  assert.equal(again.json.data[1].downgrade, fixed);
  assert.equal((await req('POST', '/api-version', { name: '2025-03-15', downgrade: KEEP })).status, 409);
});

e2e('api-version: endpoint apiVersion defaults to the newest, must exist, changes and unpins; deletes keep pins whole', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  const svix = svixClient(h);
  const app = await svix.application.create({ name: 'versions' });
  const url = 'https://example.com/hook';
  const ep = async (body) => {
    const r = await req('POST', `/app/${app.id}/endpoint`, { url, ...body });
    assert.equal(r.status, 201, r.text);
    return r.json;
  };
  // no version yet: not pinned (the newest shape, whatever it is later)
  const early = await ep({});
  assert.equal(early.apiVersion, null);
  assert.match(problems(await req('POST', `/app/${app.id}/endpoint`, { url, apiVersion: '2025-01-01' })),
    /^apiVersion: API version 2025-01-01 does not exist/);

  for (const [name, downgrade] of [['2025-01-01'], ['2025-02-01', KEEP], ['2025-03-01', KEEP]])
    assert.equal((await req('POST', '/api-version', { name, downgrade })).status, 201);
  // created without one: pinned to the newest at its creation, so that it keeps the shape it was built against
  const dflt = await ep({});
  assert.equal(dflt.apiVersion, '2025-03-01');
  assert.equal((await svix.endpoint.get(app.id, dflt.id)).id, dflt.id, 'the SDK reads it');
  const old = await ep({ apiVersion: '2025-01-01' });
  assert.equal(old.apiVersion, '2025-01-01');
  const unpinned = await ep({ apiVersion: null });
  assert.equal(unpinned.apiVersion, null);
  assert.match(problems(await req('POST', `/app/${app.id}/endpoint`, { url, apiVersion: '2024-12-31' })),
    /^apiVersion: API version 2024-12-31 does not exist/);
  assert.match(problems(await req('POST', `/app/${app.id}/endpoint`, { url, apiVersion: 20250101 })), /^apiVersion: str type expected/);
  assert.match(problems(await req('POST', `/app/${app.id}/endpoint`, { url, apiVersion: 'no such/thing' })), /^apiVersion: .*does not exist/);
  assert.equal((await req('GET', `/app/${app.id}/endpoint/${early.id}`)).json.apiVersion, null, 'an earlier endpoint stays unpinned');

  // changed by PATCH and PUT; another field's PATCH, or a PUT without it, keeps the pin; null unpins
  const path = `/app/${app.id}/endpoint/${old.id}`;
  let r = await req('PATCH', path, { apiVersion: '2025-02-01' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.apiVersion, '2025-02-01');
  r = await req('PATCH', path, { description: 'still pinned' });
  assert.equal(r.json.apiVersion, '2025-02-01');
  r = await req('PUT', path, { url, description: 'put keeps it' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.apiVersion, '2025-02-01');
  assert.match(problems(await req('PATCH', path, { apiVersion: '2026-01-01' })), /^apiVersion: API version 2026-01-01 does not exist/);
  r = await req('PUT', path, { url, apiVersion: '2025-01-01' });
  assert.equal(r.json.apiVersion, '2025-01-01');
  assert.equal((await req('GET', path)).json.apiVersion, '2025-01-01');
  const list = await req('GET', `/app/${app.id}/endpoint?limit=10`);
  assert.deepEqual(Object.fromEntries(list.json.data.map((e) => [e.id, e.apiVersion])),
    { [early.id]: null, [dflt.id]: '2025-03-01', [old.id]: '2025-01-01', [unpinned.id]: null });

  // deletes: never the version an endpoint is pinned to, nor one an older pin's payloads pass through
  const del = async (name, status, detail) => {
    const d = await req('DELETE', `/api-version/${name}`);
    assert.equal(d.status, status, d.text);
    if (detail) {
      assert.equal(d.json.code, 'conflict');
      assert.match(d.json.detail, detail);
    }
  };
  await del('2099-01-01', 404);
  await del('2025-01-01', 409, new RegExp(`2025-01-01 is in use: endpoints pinned to it: ${old.id}`));
  await del('2025-02-01', 409, new RegExp(`2025-02-01 is not the newest and endpoints pinned to older versions need its downgrade: ${old.id}`));
  await del('2025-03-01', 409, new RegExp(`in use: endpoints pinned to it: ${dflt.id}`));
  assert.equal((await req('PATCH', `/app/${app.id}/endpoint/${dflt.id}`, { apiVersion: null })).json.apiVersion, null);
  await del('2025-03-01', 204); // the newest: the producer went back to 2025-02-01's shape
  assert.equal((await req('GET', '/api-version/2025-03-01')).status, 404);
  assert.equal((await req('PATCH', path, { apiVersion: '2025-02-01' })).json.apiVersion, '2025-02-01');
  await del('2025-01-01', 204); // the oldest, pinned by none: nothing older needs it
  await del('2025-02-01', 409, /in use/);
  assert.equal((await req('PATCH', path, { apiVersion: null })).json.apiVersion, null);
  await del('2025-02-01', 204);
  assert.deepEqual((await req('GET', '/api-version')).json.data, []);
  assert.equal((await ep({})).apiVersion, null, 'no version left: not pinned');
});

// Three shapes of one message. The newest shape (2025-03-01) nests the amount; 2025-02-01 had it flat; 2025-01-01
// also had the customer's name flat. Each downgrade turns its own version's shape into the one before it.
const SHAPES = {
  '2025-03-01': { id: 'inv_1', customer: { name: 'Ada' }, amount: { value: 42, currency: 'EUR' } },
  '2025-02-01': { id: 'inv_1', customer: { name: 'Ada' }, amount: 42, currency: 'EUR' },
  '2025-01-01': { id: 'inv_1', customer_name: 'Ada', amount: 42, currency: 'EUR' },
};
const DOWNGRADES = {
  '2025-02-01': `function handler(webhook)
  local p = webhook.payload
  p.customer_name = p.customer.name
  p.customer = nil
  return webhook
end`,
  '2025-03-01': `function handler(webhook)
  local p = webhook.payload
  p.currency = p.amount.currency
  p.amount = p.amount.value
  return webhook
end`,
};

e2e('api-version: endpoints pinned to three versions get three shapes of one message, each with its header', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  const svix = svixClient(h);
  for (const name of Object.keys(SHAPES).reverse()) {
    const r = await req('POST', '/api-version', { name, downgrade: DOWNGRADES[name] });
    assert.equal(r.status, 201, r.text);
  }
  const app = await svix.application.create({ name: 'shapes' });
  const eps = {};
  for (const [label, apiVersion] of [['newest', undefined], ['mid', '2025-02-01'], ['oldest', '2025-01-01'], ['unpinned', null]]) {
    const rcv = await startReceiver(t);
    const body = { url: rcv.url };
    if (apiVersion !== undefined) body.apiVersion = apiVersion;
    const r = await req('POST', `/app/${app.id}/endpoint`, body);
    assert.equal(r.status, 201, r.text);
    const { key } = await svix.endpoint.getSecret(app.id, r.json.id);
    eps[label] = { rcv, key, pin: r.json.apiVersion };
  }
  assert.equal(eps.newest.pin, '2025-03-01');
  const msg = await req('POST', `/app/${app.id}/msg`, { eventType: 'invoice.paid', payload: SHAPES['2025-03-01'] });
  assert.equal(msg.status, 202, msg.text);
  const want = { newest: '2025-03-01', mid: '2025-02-01', oldest: '2025-01-01', unpinned: '2025-03-01' };
  for (const [label, version] of Object.entries(want)) {
    const [rec] = await eps[label].rcv.waitForCount(1, 15000, `${label}'s delivery`);
    assert.equal(rec.headers['webhook-id'], msg.json.id);
    assert.equal(rec.headers['webhook-api-version'], version, `${label}: webhook-api-version`);
    assert.deepEqual(verifyDelivery(eps[label].key, rec), SHAPES[version], `${label}: the ${version} shape, signed as sent`);
  }
  // the message as posted is never changed
  const stored = await req('GET', `/app/${app.id}/msg/${msg.json.id}`);
  assert.deepEqual(stored.json.payload, SHAPES['2025-03-01']);
});

e2e('pg_api_version: a version made on one node is seen and applied on another of the same database within 1 s', async (t) => {
  const h1 = await startHookd(t);
  const h2 = await startHookd(t, { db: h1.db, token: h1.token });
  const [n1, n2] = [h1, h2].map((h) => api(h).req);
  const app = (await n1('POST', '/app', { name: 'cluster-versions', uid: 'cv' })).json;
  const seen = async (name, what, check) => {
    const t0 = performance.now();
    await eventually(async () => check(await n2('GET', `/api-version/${name}`)), { timeout: 1000, interval: 20, what });
    return performance.now() - t0;
  };
  assert.equal((await n1('POST', '/api-version', { name: '2025-01-01' })).status, 201);
  await seen('2025-01-01', 'the first version on node 2', (r) => assert.equal(r.status, 200));
  const v2 = await n1('POST', '/api-version', { name: '2025-02-01', downgrade: KEEP });
  assert.equal(v2.status, 201, v2.text);
  const ms = await seen('2025-02-01', 'the second version on node 2', (r) => assert.equal(r.json?.downgrade, KEEP));
  // applied there: node 2's new endpoints default to it, and its rules know it is the newest
  const ep = await n2('POST', `/app/${app.id}/endpoint`, { url: 'https://example.com/hook' });
  assert.equal(ep.status, 201, ep.text);
  assert.equal(ep.json.apiVersion, '2025-02-01');
  const stale = await n2('POST', '/api-version', { name: '2025-01-15', downgrade: KEEP });
  assert.equal(stale.status, 409, stale.text);
  // both nodes creating at once: the database orders them, one wins per name
  const race = await Promise.all([n1, n2].map((n) => n('POST', '/api-version', { name: '2025-03-01', downgrade: KEEP })));
  assert.deepEqual(race.map((r) => r.status).sort(), [201, 409], race.map((r) => r.text).join(' | '));
  // a fix and a delete travel too
  const fixed = 'function handler(webhook) webhook.payload.v = 2 return webhook end';
  assert.equal((await n1('PATCH', '/api-version/2025-03-01', { downgrade: fixed })).status, 200);
  await seen('2025-03-01', 'the patched downgrade on node 2', (r) => assert.equal(r.json?.downgrade, fixed));
  assert.equal((await n1('DELETE', '/api-version/2025-03-01')).status, 204);
  await seen('2025-03-01', 'the delete on node 2', (r) => assert.equal(r.status, 404));
  // a pin made on node 2 blocks a delete on node 1
  const del = await n1('DELETE', '/api-version/2025-02-01');
  assert.equal(del.status, 409, del.text);
  assert.match(del.json.detail, new RegExp(ep.json.id));
  assert.ok(ms < 1000, `${ms} ms`);
}, { skip: !PG && 'PostgreSQL only (HOOKD_TEST_PG)' });
