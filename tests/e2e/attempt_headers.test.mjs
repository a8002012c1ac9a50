// An attempt's record of the request as sent and of the answer's headers (hookd's extension fields
// requestHeaders / responseHeaders): what the receiver got, with the endpoint's sensitive header values redacted
// (the signature kept), the answer's headers bounded, and no answer headers on a network error. At rest a record
// holding a custom header value is sealed, one of hookd's own headers only is not, and both read back.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { api, e2e, eventually, freePort, PG, pgSql, startHookd, startReceiver, svixClient } from './lib/harness.mjs';

async function attempts(h, appId, msgId, n = 1) {
  return eventually(async () => {
    const r = await api(h).req('GET', `/app/${appId}/attempt/msg/${msgId}`);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.data.length >= n, `${r.json.data.length} attempt(s)`);
    return r;
  }, { what: `${n} attempt(s) of ${msgId}` });
}

e2e('attempts: the request headers as sent (a sensitive custom value redacted) and the answer\'s headers', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t, {
    status: 201, body: 'accepted',
    headers: { 'x-receiver': 'r1', 'set-cookie': ['a=1', 'b=2'], 'x-quote': 'say "hi"' },
  });
  const svix = svixClient(h);
  const app = await svix.application.create({ name: 'hdrs' });
  const ep = await svix.endpoint.create(app.id, { url: rcv.url });
  const put = await api(h).req('PUT', `/app/${app.id}/endpoint/${ep.id}/headers`,
    { headers: { Authorization: 'Bearer topsecret-123', 'X-Tier': 'gold' } });
  assert.equal(put.status, 204, put.text);
  const msg = await svix.message.create(app.id, { eventType: 'hdrs.test', payload: { n: 1 } });
  const [got] = await rcv.waitForCount(1);
  assert.equal(got.headers.authorization, 'Bearer topsecret-123'); // the receiver gets it in the clear

  const r = await attempts(h, app.id, msg.id);
  assert.ok(!r.text.includes('topsecret'), 'the sensitive value is not in the attempt');
  const a = r.json.data[0];
  assert.equal(a.responseStatusCode, 201);
  assert.equal(a.response, 'accepted');
  const rq = a.requestHeaders;
  assert.equal(rq.Authorization, '[redacted]');
  assert.equal(rq['X-Tier'], 'gold');
  assert.equal(rq['webhook-id'], got.headers['webhook-id']);
  assert.equal(rq['webhook-timestamp'], got.headers['webhook-timestamp']);
  assert.equal(rq['webhook-signature'], got.headers['webhook-signature']); // the proof, not the secret
  assert.equal(rq['content-type'], 'application/json');
  assert.equal(rq['user-agent'], got.headers['user-agent']);
  assert.equal(rq.Expect, undefined);
  const rs = a.responseHeaders;
  const lower = Object.fromEntries(Object.entries(rs).map(([k, v]) => [k.toLowerCase(), v]));
  assert.equal(lower['x-receiver'], 'r1');
  assert.equal(lower['set-cookie'], 'a=1, b=2');
  assert.equal(lower['x-quote'], 'say "hi"');
  assert.equal(lower['content-type'], 'text/plain');

  // the one attempt's GET says the same
  const one = await api(h).req('GET', `/app/${app.id}/msg/${msg.id}/attempt/${a.id}`);
  assert.equal(one.status, 200, one.text);
  assert.deepEqual(one.json.requestHeaders, rq);
  assert.deepEqual(one.json.responseHeaders, rs);
});

e2e('attempts: the answer\'s headers are bounded; a network error has request headers and no answer headers', async (t) => {
  const h = await startHookd(t);
  const many = {};
  for (let i = 0; i < 100; i++) many[`x-h${String(i).padStart(3, '0')}`] = 'v'.repeat(200);
  const rcv = await startReceiver(t, { status: 200, headers: many });
  const svix = svixClient(h);
  const app = await svix.application.create({ name: 'bounded' });
  await svix.endpoint.create(app.id, { url: rcv.url });
  const msg = await svix.message.create(app.id, { eventType: 'hdrs.test', payload: { n: 2 } });
  await rcv.waitForCount(1);
  const a = (await attempts(h, app.id, msg.id)).json.data[0];
  const names = Object.keys(a.responseHeaders);
  assert.ok(names.length <= 64, `${names.length} headers kept`);
  assert.ok(JSON.stringify(a.responseHeaders).length <= 8192 + 64 * 8, 'about 8 KiB at most');
  assert.ok(names.length >= 30, `${names.length}: the first ones up to the cap are kept`);

  const dead = await freePort();
  const app2 = await svix.application.create({ name: 'refused' });
  await svix.endpoint.create(app2.id, { url: `http://127.0.0.1:${dead}/hook` });
  const msg2 = await svix.message.create(app2.id, { eventType: 'hdrs.test', payload: { n: 3 } });
  const b = (await attempts(h, app2.id, msg2.id)).json.data[0];
  assert.equal(b.responseStatusCode, 0);
  assert.ok(b.requestHeaders['webhook-signature'], 'the request it tried to send');
  assert.equal(b.responseHeaders, undefined);
});

e2e('attempts: a transformation\'s method and headers are in the record of the request', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t);
  const svix = svixClient(h);
  const app = await svix.application.create({ name: 'put' });
  const ep = await svix.endpoint.create(app.id, { url: rcv.url });
  const code = 'function handler(webhook)\n  webhook.method = "PUT"\n  webhook.headers["X-Added"] = "by-lua"\n  return webhook\nend';
  const p = await api(h).req('PATCH', `/app/${app.id}/endpoint/${ep.id}/transformation`, { code, enabled: true });
  assert.equal(p.status, 204, p.text);
  const msg = await svix.message.create(app.id, { eventType: 'hdrs.test', payload: { n: 4 } });
  const [got] = await rcv.waitForCount(1);
  assert.equal(got.method, 'PUT');
  const a = (await attempts(h, app.id, msg.id)).json.data[0];
  assert.equal(a.requestMethod, 'PUT');
  assert.equal(a.requestHeaders['X-Added'], 'by-lua');
  assert.equal(a.requestBody, undefined); // the body is the payload
  // a plain POST has no requestMethod (POST is the default)
  await api(h).req('PATCH', `/app/${app.id}/endpoint/${ep.id}/transformation`, { enabled: false });
  const msg2 = await svix.message.create(app.id, { eventType: 'hdrs.test', payload: { n: 5 } });
  await rcv.waitForCount(2);
  const b = (await attempts(h, app.id, msg2.id)).json.data[0];
  assert.equal(b.requestMethod, undefined);
});

e2e('attempts: at rest the record is sealed when it holds a custom header value, stored as it is otherwise', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t);
  const svix = svixClient(h);
  const tier = `gold-${crypto.randomBytes(8).toString('hex')}`;
  const lua = `lua-${crypto.randomBytes(8).toString('hex')}`;
  const app = await svix.application.create({ name: 'at-rest' });
  const eps = {
    plain: await svix.endpoint.create(app.id, { url: `${rcv.url}/plain` }),
    custom: await svix.endpoint.create(app.id, { url: `${rcv.url}/custom` }),
    handler: await svix.endpoint.create(app.id, { url: `${rcv.url}/handler` }),
  };
  let r = await api(h).req('PUT', `/app/${app.id}/endpoint/${eps.custom.id}/headers`, { headers: { 'X-Tier': tier } });
  assert.equal(r.status, 204, r.text);
  // made by the code (which is stored as it is), not written in it
  const code = `function handler(webhook)\n  webhook.headers["X-Added"] = "${lua.slice(0, 10)}" .. "${lua.slice(10)}"\n` +
    '  return webhook\nend';
  r = await api(h).req('PATCH', `/app/${app.id}/endpoint/${eps.handler.id}/transformation`, { code, enabled: true });
  assert.equal(r.status, 204, r.text);
  const msg = await svix.message.create(app.id, { eventType: 'hdrs.test', payload: { n: 6 } });
  const got = await rcv.waitForCount(3);
  const sig = Object.fromEntries(got.map((g) => [g.url.split('/').at(-1), g.headers['webhook-signature']]));
  assert.deepEqual(Object.keys(sig).sort(), ['custom', 'handler', 'plain']);
  await attempts(h, app.id, msg.id, 3);
  assert.equal(await h.stop(), 0);

  const clear = (name) => `"webhook-signature":"${sig[name]}"`; // the record's own text
  if (PG) {
    const rows = (await pgSql('SELECT endpoint_id, request_headers FROM attempts', h.db)).trim().split('\n');
    const stored = Object.fromEntries(rows.map((l) => [l.slice(0, l.indexOf('|')), l.slice(l.indexOf('|') + 1)]));
    assert.ok(stored[eps.plain.id].startsWith('{') && stored[eps.plain.id].includes(clear('plain')), stored[eps.plain.id]);
    for (const name of ['custom', 'handler'])
      assert.match(stored[eps[name].id], /^enc:v1:[0-9a-f]{8}:/);
    const dump = await pgSql('SELECT a::text FROM attempts a', h.db);
    for (const n of [tier, lua, clear('custom'), clear('handler')]) assert.ok(!dump.includes(n), n);
  } else {
    const files = readdirSync(h.dataDir).filter((f) => f.startsWith('hookd.db'));
    const bytes = Buffer.concat(files.map((f) => readFileSync(path.join(h.dataDir, f))));
    assert.notEqual(bytes.indexOf(clear('plain')), -1, 'the plain record is stored as it is');
    for (const n of [tier, lua, clear('custom'), clear('handler')]) assert.equal(bytes.indexOf(n), -1, n);
  }

  await h.restart(); // and both forms read back
  const all = (await attempts(h, app.id, msg.id, 3)).json.data;
  const by = Object.fromEntries(all.map((a) => [a.endpointId, a.requestHeaders]));
  assert.equal(by[eps.plain.id]['webhook-signature'], sig.plain);
  assert.equal(by[eps.plain.id]['X-Tier'], undefined);
  assert.equal(by[eps.custom.id]['X-Tier'], tier);
  assert.equal(by[eps.custom.id]['webhook-signature'], sig.custom);
  assert.equal(by[eps.handler.id]['X-Added'], lua);
});
