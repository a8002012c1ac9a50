// auth.test.mjs: app-scoped tokens (Svix's Authentication API, the app portal's tokens). The official svix SDK
// asks for a portal token; that token works on its own app's routes as its capabilities allow and is 403
// `forbidden` everywhere else; expire-all, logout and expiry revoke it; the store keeps only its hash; on a shared
// PostgreSQL another node honours a token made on the first and its revocation within about a second.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Svix } from 'svix';
import { api, e2e, eventually, PG, pgSql, startHookd, svixClient } from './lib/harness.mjs';

async function twoApps(h) {
  const { req } = api(h);
  for (const uid of ['acme', 'other']) {
    const r = await req('POST', '/app', { name: uid, uid });
    assert.equal(r.status, 201, r.text);
  }
  const ep = await req('POST', '/app/other/endpoint', { url: 'http://127.0.0.1:9/hook' });
  assert.equal(ep.status, 201, ep.text);
  return { otherEp: ep.json.id };
}

e2e('the SDK gets a portal token that is scoped to its app', async (t) => {
  const h = await startHookd(t);
  const { otherEp } = await twoApps(h);
  const svix = svixClient(h);
  const out = await svix.authentication.appPortalAccess('acme', {});
  assert.match(out.token, /^hkapp_[A-Za-z0-9_-]{43}$/);
  const acme = (await api(h).req('GET', '/app/acme')).json;
  assert.equal(out.url, `${h.url}/portal/#key=${out.token}&app=${acme.id}`);

  // the token through the SDK, as a portal would use it
  const portal = new Svix(out.token, { serverUrl: h.url });
  const ep = await portal.endpoint.create('acme', { url: 'http://127.0.0.1:9/mine' });
  assert.match(ep.id, /^ep_/);
  assert.equal((await portal.endpoint.list('acme')).data.length, 1);
  assert.equal((await portal.application.get('acme')).uid, 'acme');
  assert.ok((await portal.endpoint.getSecret('acme', ep.id)).key.startsWith('whsec_'));

  const { req } = api(h, { token: out.token });
  const forbidden = [
    ['GET', '/app'], ['POST', '/app', { name: 'x' }], ['DELETE', '/app/acme'], ['PATCH', '/app/acme', { name: 'y' }],
    ['GET', '/app/other/endpoint'], ['GET', `/app/other/endpoint/${otherEp}`], ['GET', '/app/other/msg'],
    ['POST', '/app/acme/msg', { eventType: 'a.b', payload: {} }], ['DELETE', '/app/acme/msg/msg_x/content'],
    ['POST', '/event-type', { name: 'x.y', description: 'x' }], ['GET', '/source'], ['GET', '/background-task'],
    ['POST', '/auth/app-portal-access/acme', {}], ['POST', '/auth/app/acme/expire-all', {}],
  ];
  for (const [m, p, body] of forbidden) {
    const r = await req(m, p, body);
    assert.equal(r.status, 403, `${m} ${p}: ${r.status} ${r.text}`);
    assert.equal(r.json.code, 'forbidden');
  }
  assert.equal((await req('GET', '/metrics')).status, 404); // /metrics is outside /api/v1: not this token's
  // the operator's token still does everything
  assert.equal((await api(h).req('GET', '/app/other/endpoint')).status, 200);
});

e2e('capabilities and readOnly narrow what a token may do', async (t) => {
  const h = await startHookd(t);
  await twoApps(h);
  const svix = svixClient(h);
  const ep = await svix.endpoint.create('acme', { url: 'http://127.0.0.1:9/a' });
  const ro = await svix.authentication.appPortalAccess('acme', { readOnly: true });
  const { req } = api(h, { token: ro.token });
  assert.equal((await req('GET', '/app/acme/endpoint')).status, 200);
  assert.equal((await req('GET', `/app/acme/endpoint/${ep.id}/secret`)).status, 403);
  assert.equal((await req('POST', '/app/acme/endpoint', { url: 'http://127.0.0.1:9/b' })).status, 403);
  assert.equal((await req('POST', `/app/acme/endpoint/${ep.id}/recover`, { since: new Date().toISOString() })).status, 403);

  const some = await svix.authentication.appPortalAccess('acme', { capabilities: ['ViewEndpointSecret'] });
  const s = api(h, { token: some.token });
  assert.equal((await s.req('GET', `/app/acme/endpoint/${ep.id}/secret`)).status, 200);
  assert.equal((await s.req('POST', `/app/acme/endpoint/${ep.id}/secret/rotate`, {})).status, 403);
  assert.equal((await s.req('PATCH', `/app/acme/endpoint/${ep.id}`, { description: 'x' })).status, 403);

  const bad = await api(h).req('POST', '/auth/app-portal-access/acme', { capabilities: ['Everything'] });
  assert.equal(bad.status, 422, bad.text);
  assert.equal((await api(h).req('POST', '/auth/app-portal-access/acme', { expiry: 0 })).status, 422);
  assert.equal((await api(h).req('POST', '/auth/app-portal-access/nosuchapp', {})).status, 404);
});

e2e('feature flags gate the event types a token sees', async (t) => {
  const h = await startHookd(t);
  await twoApps(h);
  const { req } = api(h);
  assert.equal((await req('POST', '/event-type', { name: 'order.paid', description: 'd' })).status, 201);
  assert.equal((await req('POST', '/event-type', { name: 'beta.thing', description: 'd', featureFlag: 'beta' })).status, 201);
  const plain = await svixClient(h).authentication.appPortalAccess('acme', {});
  const beta = await svixClient(h).authentication.appPortalAccess('acme', { featureFlags: ['beta'] });
  const names = async (tok) => (await api(h, { token: tok }).req('GET', '/event-type')).json.data.map((e) => e.name);
  assert.deepEqual(await names(plain.token), ['order.paid']);
  assert.deepEqual((await names(beta.token)).sort(), ['beta.thing', 'order.paid']);
  assert.equal((await api(h, { token: plain.token }).req('GET', '/event-type/beta.thing')).status, 404);
  assert.equal((await api(h, { token: beta.token }).req('GET', '/event-type/beta.thing')).status, 200);
});

e2e('logout, expire-all and expiry revoke tokens; the store keeps only hashes', async (t) => {
  const h = await startHookd(t);
  await twoApps(h);
  const svix = svixClient(h);
  const a = await svix.authentication.appPortalAccess('acme', { sessionId: 'sa' });
  const b = await svix.authentication.appPortalAccess('acme', { sessionId: 'sb' });
  const c = await svix.authentication.appPortalAccess('acme', {});
  const o = await svix.authentication.appPortalAccess('other', {});
  const ok = async (tok) => (await api(h, { token: tok }).req('GET', '/app/acme/endpoint')).status;
  const okOther = async (tok) => (await api(h, { token: tok }).req('GET', '/app/other/endpoint')).status;
  for (const x of [a, b, c]) assert.equal(await ok(x.token), 200);

  // logout: the calling token only; the operator's token cannot log out
  await new Svix(a.token, { serverUrl: h.url }).authentication.logout();
  assert.equal(await ok(a.token), 401);
  assert.equal(await ok(b.token), 200);
  assert.equal((await api(h).req('POST', '/auth/logout')).status, 403);

  // expire-all of some sessions, then of the whole app; another app's tokens stay
  await svix.authentication.expireAll('acme', { sessionIds: ['sb'] });
  assert.equal(await ok(b.token), 401);
  assert.equal(await ok(c.token), 200);
  await svix.authentication.expireAll('acme', {});
  assert.equal(await ok(c.token), 401);
  assert.equal(await okOther(o.token), 200);

  // a short expiry ends by itself
  const short = await api(h).req('POST', '/auth/app-portal-access/other', { expiry: 1 });
  assert.equal(short.status, 200, short.text);
  assert.equal(await okOther(short.json.token), 200);
  await eventually(async () => assert.equal(await okOther(short.json.token), 401), { timeout: 5000, what: 'expiry' });

  // the application in the request is created with the token
  const made = await svix.authentication.appPortalAccess('newcomer', { application: { name: 'Newcomer' } });
  assert.equal((await api(h, { token: made.token }).req('GET', '/app/newcomer')).json.name, 'Newcomer');
  // dashboard-access (deprecated in Svix) answers the same way
  const dash = await api(h).req('POST', '/auth/dashboard-access/acme');
  assert.equal(dash.status, 200, dash.text);
  assert.equal(await ok(dash.json.token), 200);

  // the database holds no token, only hashes
  const tokens = [a, b, c, o, made].map((x) => x.token.slice(6));
  if (PG) {
    const dump = await pgSql('SELECT t::text FROM app_tokens t', h.db);
    for (const tok of tokens) assert.ok(!dump.includes(tok));
  } else {
    for (const f of readdirSync(h.dataDir)) {
      if (!f.startsWith('hookd.db')) continue;
      const bytes = readFileSync(path.join(h.dataDir, f));
      for (const tok of tokens) assert.equal(bytes.indexOf(tok), -1, `${f} holds a token`);
    }
  }
});

e2e('pg: a token made on one node works on another, and its revocation applies there within a second',
  async (t) => {
    const h1 = await startHookd(t);
    const h2 = await startHookd(t, { db: h1.db, token: h1.token });
    await twoApps(h1);
    const out = await svixClient(h1).authentication.appPortalAccess('acme', {});
    await eventually(async () => {
      assert.equal((await api(h2, { token: out.token }).req('GET', '/app/acme/endpoint')).status, 200);
    }, { timeout: 5000, what: 'the token on node 2' });
    await svixClient(h1).authentication.expireAll('acme', {});
    const t0 = Date.now();
    await eventually(async () => {
      assert.equal((await api(h2, { token: out.token }).req('GET', '/app/acme/endpoint')).status, 401);
    }, { timeout: 5000, what: 'revocation on node 2' });
    assert.ok(Date.now() - t0 < 2000, `revoked on node 2 after ${Date.now() - t0} ms`);
  }, { skip: !PG && 'needs HOOKD_TEST_PG' });
