// Transformations (docs/transformations.md): Lua handlers that change the payload, URL, method and headers of a
// delivery, or cancel it; the signature covers the body sent; the attempt records it; simulate; validation; and
// sandbox escapes that fail their own attempts while other endpoints keep delivering.
import assert from 'node:assert/strict';
import { PG, api, e2e, eventually, fetchMetrics, startHookd, startReceiver, svixClient, verifyDelivery } from './lib/harness.mjs';

async function endpointWith(h, appId, rcvUrl, code) {
  const { req } = api(h);
  const r = await req('POST', `/app/${appId}/endpoint`, { url: rcvUrl });
  assert.equal(r.status, 201, r.text);
  const id = r.json.id;
  if (code !== undefined) {
    const p = await req('PATCH', `/app/${appId}/endpoint/${id}/transformation`, { code, enabled: true });
    assert.equal(p.status, 204, p.text);
  }
  const { key } = await svixClient(h).endpoint.getSecret(appId, id);
  return { id, key };
}

async function attemptsOf(h, appId, epId, n) {
  return eventually(async () => {
    const r = await api(h).req('GET', `/app/${appId}/attempt/endpoint/${epId}`);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.data.length >= n, `${r.json.data.length} attempt(s)`);
    return r.json.data;
  }, { what: `${n} attempt(s) at ${epId}` });
}

e2e('transformation: add a field, change the URL and method, add a header, cancel; signed over the body sent', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  const app = await svixClient(h).application.create({ name: 'xform' });
  const [rAdd, rOld, rNew, rHdr, rCancel, rPlain] = await Promise.all(Array.from({ length: 6 }, () => startReceiver(t)));

  const add = await endpointWith(h, app.id, rAdd.url,
    'function handler(webhook) webhook.payload.added = "yes"; webhook.payload.n = webhook.payload.n * 2 return webhook end');
  const url = await endpointWith(h, app.id, rOld.url,
    `function handler(webhook) webhook.url = "${rNew.url}/moved?x=1"; webhook.method = "PUT" return webhook end`);
  const hdr = await endpointWith(h, app.id, rHdr.url,
    'function handler(webhook) webhook.headers["X-Tier"] = webhook.payload.tier return webhook end');
  const cancel = await endpointWith(h, app.id, rCancel.url,
    'function handler(webhook) webhook.cancel = webhook.payload.tier == "gold" return webhook end');
  const plain = await endpointWith(h, app.id, rPlain.url);

  const got = await req('GET', `/app/${app.id}/endpoint/${add.id}/transformation`);
  assert.equal(got.status, 200, got.text);
  assert.equal(got.json.enabled, true);
  assert.match(got.json.code, /added = "yes"/);
  const none = await req('GET', `/app/${app.id}/endpoint/${plain.id}/transformation`);
  assert.deepEqual(none.json, { code: null, enabled: false });

  const sent = await req('POST', `/app/${app.id}/msg`, { eventType: 'user.created', payload: { n: 21, tier: 'gold', z: 1, a: 2 } });
  assert.equal(sent.status, 202, sent.text);
  const msgId = sent.json.id;

  const [a] = await rAdd.waitForCount(1);
  // the handler's output, verified with the endpoint's secret: the signature covers the transformed body
  assert.deepEqual(verifyDelivery(add.key, a), { n: 42, tier: 'gold', z: 1, a: 2, added: 'yes' });
  assert.equal(a.body.toString(), '{"n":42,"tier":"gold","z":1,"a":2,"added":"yes"}', 'key order kept, new keys after');

  const [u] = await rNew.waitForCount(1);
  assert.equal(u.method, 'PUT');
  assert.equal(u.url, '/hook/moved?x=1');
  assert.deepEqual(verifyDelivery(url.key, u), { n: 21, tier: 'gold', z: 1, a: 2 });
  assert.equal(rOld.requests.length, 0, 'nothing went to the old URL');

  const [hh] = await rHdr.waitForCount(1);
  assert.equal(hh.headers['x-tier'], 'gold');
  verifyDelivery(hdr.key, hh);

  await rPlain.waitForCount(1);
  verifyDelivery(plain.key, rPlain.requests[0]);

  // the cancel: no request, the delivery canceled, no attempt
  await eventually(async () => {
    const dest = await req('GET', `/app/${app.id}/msg/${msgId}/endpoint`);
    const row = dest.json.data.find((d) => d.id === cancel.id);
    assert.ok(row, dest.text);
    assert.equal(row.statusText, 'canceled');
  }, { what: 'the canceled delivery' });
  assert.equal(rCancel.requests.length, 0);
  const ca = await req('GET', `/app/${app.id}/attempt/endpoint/${cancel.id}`);
  assert.equal(ca.json.data.length, 0);

  // the attempts: the URL used, and the body as sent when it differs from the payload
  const [aa] = await attemptsOf(h, app.id, add.id, 1);
  assert.equal(aa.requestBody, a.body.toString());
  const [ua] = await attemptsOf(h, app.id, url.id, 1);
  assert.equal(ua.url, `${rNew.url}/moved?x=1`);
  assert.equal(ua.requestBody, undefined, 'the body was the payload');
  const [pa] = await attemptsOf(h, app.id, plain.id, 1);
  assert.equal(pa.requestBody, undefined);
  const one = await req('GET', `/app/${app.id}/msg/${msgId}/attempt/${aa.id}`);
  assert.equal(one.json.requestBody, a.body.toString());

  // disabled: the payload as posted
  const off = await req('PATCH', `/app/${app.id}/endpoint/${add.id}/transformation`, { enabled: false });
  assert.equal(off.status, 204, off.text);
  await req('POST', `/app/${app.id}/msg`, { eventType: 'user.created', payload: { n: 1 } });
  const [, second] = await rAdd.waitForCount(2);
  assert.deepEqual(verifyDelivery(add.key, second), { n: 1 });
});

e2e('transformation: validation, simulate, and a URL the SSRF guard refuses', async (t) => {
  const h = await startHookd(t, { guard: true, args: ['--allow-network', '127.0.0.1/32'] });
  const { req } = api(h);
  const app = await svixClient(h).application.create({ name: 'xform-api' });
  const rcv = await startReceiver(t);
  const ep = await endpointWith(h, app.id, rcv.url);
  const path = `/app/${app.id}/endpoint/${ep.id}/transformation`;

  let r = await req('PATCH', path, { code: 'function handler(webhook' });
  assert.equal(r.status, 422, r.text);
  assert.equal(r.json.detail[0].loc.at(-1), 'code');
  assert.match(r.json.detail[0].msg, /handler:1:/);
  r = await req('PATCH', path, { code: 'x = 1' });
  assert.equal(r.status, 422, r.text);
  assert.match(r.json.detail[0].msg, /no function handler/);
  r = await req('PATCH', path, { code: 'while true do end' });
  assert.equal(r.status, 422, r.text);
  assert.match(r.json.detail[0].msg, /instruction budget/);
  r = await req('PATCH', path, { code: `-- ${'x'.repeat(70000)}\nfunction handler(w) return w end` });
  assert.equal(r.status, 422, r.text);
  r = await req('PATCH', path, { enabled: 'yes' });
  assert.equal(r.status, 422, r.text);
  r = await req('GET', path);
  assert.deepEqual(r.json, { code: null, enabled: false }, 'nothing stored by the refused writes');

  const sim = `${path}/simulate`;
  r = await req('POST', sim, {
    code: 'function handler(webhook) webhook.payload.b = webhook.payload.a + 1 webhook.headers.x = "1" return webhook end',
    payload: { a: 1 }, eventType: 'user.created',
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.payload, '{"a":1,"b":2}');
  assert.equal(r.json.url, rcv.url);
  assert.equal(r.json.method, 'POST');
  assert.deepEqual(r.json.headers, { x: '1' });
  r = await req('POST', sim, { code: 'function handler(webhook) error("boom") end', payload: {}, eventType: 'x' });
  assert.equal(r.status, 400, r.text);
  assert.match(r.json.detail, /^transformation failed: handler:1: boom/);
  r = await req('POST', sim, { code: 'function handler(w) while true do end end', payload: {}, eventType: 'x' });
  assert.equal(r.status, 400, r.text);
  assert.match(r.json.detail, /instruction budget/);
  r = await req('POST', sim, { payload: {} });
  assert.equal(r.status, 422, r.text);

  // a handler's URL goes through the SSRF guard's checks: refused, the attempt fails and says why
  r = await req('PATCH', path, { code: 'function handler(webhook) webhook.url = "http://169.254.169.254/latest" return webhook end', enabled: true });
  assert.equal(r.status, 204, r.text);
  await req('POST', `/app/${app.id}/msg`, { eventType: 'user.created', payload: { a: 1 } });
  const [att] = await attemptsOf(h, app.id, ep.id, 1);
  assert.equal(att.responseStatusCode, 0);
  assert.match(att.response, /^transformation failed: webhook\.url refused/);
  r = await req('PATCH', path, { code: 'function handler(webhook) webhook.url = "file:///etc/passwd" return webhook end' });
  assert.equal(r.status, 204, r.text);
  const m2 = await req('POST', `/app/${app.id}/msg`, { eventType: 'user.created', payload: { a: 2 } });
  await eventually(async () => {
    const l = await req('GET', `/app/${app.id}/attempt/msg/${m2.json.id}`);
    assert.ok(l.json.data.length >= 1);
    assert.match(l.json.data[0].response, /webhook\.url refused: not an http/);
  }, { what: 'the refused file: URL' });
  assert.equal(rcv.requests.length, 0);
});

const ESCAPES = {
  osExecute: 'function handler(w) os.execute("touch /tmp/hookd-pwned") return w end',
  ioOpen: 'function handler(w) w.payload.p = io.open("/etc/passwd"):read("a") return w end',
  require: 'function handler(w) local os = require("os") return w end',
  load: 'function handler(w) load("return 1")() return w end',
  repBomb: 'function handler(w) local s = string.rep("x", 1 << 30) w.payload.s = s return w end',
  endless: 'function handler(w) while true do end end',
  pcallLoop: 'function handler(w) while true do pcall(function() while true do end end) end end',
  patternBomb: 'function handler(w) string.find(string.rep("a", 3000), ".-.-.-b") return w end',
};

e2e('transformation: sandbox escapes fail their attempts while other endpoints keep delivering', async (t) => {
  const h = await startHookd(t, { env: { HOOKD_TRANSFORM_BUDGET: '3000000', HOOKD_RETRY_SCHEDULE: '200ms' } });
  const { req } = api(h);
  const svix = svixClient(h);
  const app = await svix.application.create({ name: 'escapes' });
  const other = await svix.application.create({ name: 'bystander' });
  const bad = {};
  for (const [name, code] of Object.entries(ESCAPES)) {
    const rcv = await startReceiver(t);
    bad[name] = { rcv, ...(await endpointWith(h, app.id, rcv.url, code)) };
  }
  const rSame = await startReceiver(t);
  const same = await endpointWith(h, app.id, rSame.url, 'function handler(w) w.payload.ok = true return w end');
  const rPlain = await startReceiver(t);
  const plainEp = await endpointWith(h, app.id, rPlain.url); // same app, no transformation
  const rOther = await startReceiver(t);
  const otherEp = await endpointWith(h, other.id, rOther.url);

  // a few rounds: each sends to every escape (two attempts each) and to the bystanders
  const latencies = { sameApp: [], otherApp: [] };
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    await req('POST', `/app/${app.id}/msg`, { eventType: 'user.created', payload: { round } });
    const [p] = (await rPlain.waitForCount(round + 1)).slice(round);
    latencies.sameApp.push(p.time - t0);
    assert.deepEqual(verifyDelivery(plainEp.key, p), { round });
    const t1 = performance.now();
    await req('POST', `/app/${other.id}/msg`, { eventType: 'user.created', payload: { round } });
    const [r] = (await rOther.waitForCount(round + 1)).slice(round);
    latencies.otherApp.push(r.time - t1);
    assert.deepEqual(verifyDelivery(otherEp.key, r), { round });
  }
  // the same app's endpoint with a (quick) transformation of its own waits only for the workers' turns
  const rs = await rSame.waitForCount(3, 20000);
  for (const r of rs) assert.equal(verifyDelivery(same.key, r).ok, true);
  for (const [who, l] of Object.entries(latencies))
    assert.ok(Math.max(...l) < 1000, `${who}: an endpoint without handlers delivers promptly: ${l.map(Math.round)} ms`);

  for (const [name, { id, rcv }] of Object.entries(bad)) {
    const atts = await attemptsOf(h, app.id, id, 3);
    for (const a of atts) {
      assert.equal(a.responseStatusCode, 0, name);
      assert.match(a.response, /^transformation failed: /, `${name}: ${a.response}`);
    }
    assert.equal(rcv.requests.length, 0, `${name} sent nothing`);
  }
  const text = (name) => attemptsOf(h, app.id, bad[name].id, 1).then((a) => a[0].response);
  assert.match(await text('osExecute'), /global 'os'/);
  assert.match(await text('ioOpen'), /global 'io'/);
  assert.match(await text('require'), /global 'require'/);
  assert.match(await text('load'), /global 'load'/);
  assert.match(await text('repBomb'), /memory limit/);
  assert.match(await text('endless'), /instruction budget/);
  assert.match(await text('pcallLoop'), /instruction budget/);
  assert.match(await text('patternBomb'), /pattern too costly/);
  const metrics = await (await fetchMetrics(h)).text();
  assert.match(metrics, /hookd_transformations_total\{result="failed"\} [1-9]/);
  // a stop while endless loops run on the workers: they end at their budget, the process exits cleanly
  await req('POST', `/app/${app.id}/msg`, { eventType: 'user.created', payload: { last: true } });
  assert.equal(await h.stop(), 0, 'exit code');
});

e2e('pg_transformation: set on one node, run by whichever node owns the endpoint', async (t) => {
  const h1 = await startHookd(t);
  const h2 = await startHookd(t, { db: h1.db, token: h1.token });
  const app = await svixClient(h1).application.create({ name: 'xform-cluster' });
  const rcv = await startReceiver(t);
  const eps = [];
  for (let i = 0; i < 4; i++) eps.push(await endpointWith(h1, app.id, `${rcv.url}?ep=${i}`));
  // written on node 2: answered once node 1 has it too (the change feed)
  for (const ep of eps) {
    await eventually(async () => { // node 2 may not have seen the endpoint yet
      const r = await api(h2).req('PATCH', `/app/${app.id}/endpoint/${ep.id}/transformation`,
        { code: 'function handler(webhook) webhook.payload.via = "lua" return webhook end', enabled: true });
      assert.equal(r.status, 204, r.text);
    }, { what: 'the PATCH on node 2' });
  }
  const got = await api(h1).req('GET', `/app/${app.id}/endpoint/${eps[0].id}/transformation`);
  assert.equal(got.json.enabled, true, 'node 1 reads what node 2 wrote');
  for (let i = 0; i < 4; i++) {
    const r = await api(i % 2 ? h2 : h1).req('POST', `/app/${app.id}/msg`, { eventType: 'c.test', payload: { i } });
    assert.equal(r.status, 202, r.text);
  }
  await rcv.waitForCount(16, 30000);
  for (const r of rcv.requests) {
    const ep = eps[Number(new URL(r.url, 'http://x').searchParams.get('ep'))];
    assert.equal(verifyDelivery(ep.key, r).via, 'lua');
  }
}, { skip: !PG && 'PostgreSQL only (HOOKD_TEST_PG)' });
