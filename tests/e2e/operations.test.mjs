// operations.test.mjs: resend, send-example, content expunge and endpoint headers.
import assert from 'node:assert/strict';
import { api, e2e, eventually, startHookd, startReceiver, svixClient, verifyDelivery } from './lib/harness.mjs';

async function setup(t, handler, env) {
  const h = await startHookd(t, { env });
  const rcv = await startReceiver(t, handler);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'ops' })).json;
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url, eventTypes: ['only.this'] })).json;
  const key = (await req('GET', `/app/${app.id}/endpoint/${ep.id}/secret`)).json.key;
  return { h, rcv, req, app, ep, key };
}

e2e('operations: resend is one manual attempt, bypasses filters, and is never retried', async (t) => {
  const { h, rcv, req, app, ep, key } = await setup(t, [200, 500]);
  // not matched by the endpoint's filter: no delivery
  const msg = (await req('POST', `/app/${app.id}/msg`, { eventType: 'other.type', payload: { a: 1 } })).json;
  const res = await req('POST', `/app/${app.id}/msg/${msg.id}/endpoint/${ep.id}/resend`);
  assert.equal(res.status, 202, res.text);
  assert.deepEqual(res.json, {});
  await rcv.waitForCount(1, 5000, 'the resent message');
  assert.equal(rcv.requests[0].headers['webhook-id'], msg.id);
  verifyDelivery(key, rcv.requests[0]);
  const atts = await eventually(async () => {
    const r = await req('GET', `/app/${app.id}/attempt/msg/${msg.id}`);
    assert.equal(r.json.data.length, 1);
    return r.json.data;
  }, { what: 'the manual attempt recorded' });
  assert.equal(atts[0].triggerType, 1, 'manual');
  assert.equal(atts[0].status, 0);

  // a failing resend (the receiver answers 500 next) is not retried
  await req('POST', `/app/${app.id}/msg/${msg.id}/endpoint/${ep.id}/resend`);
  await rcv.waitForCount(2, 5000, 'the second resend');
  await eventually(async () => {
    const r = await req('GET', `/app/${app.id}/attempt/msg/${msg.id}`);
    assert.equal(r.json.data.length, 2);
    assert.equal(r.json.data.filter((a) => a.status === 2).length, 1, 'one failed attempt');
  });
  await new Promise((r) => setTimeout(r, 1000)); // the schedule is 100ms..400ms: a retry would be here by now
  assert.equal(rcv.requests.length, 2, 'no retry of a manual attempt');

  assert.equal((await req('POST', `/app/${app.id}/msg/msg_nope/endpoint/${ep.id}/resend`)).status, 404);
  assert.equal((await req('POST', `/app/${app.id}/msg/${msg.id}/endpoint/ep_nope/resend`)).status, 404);
  assert.equal(await h.stop(), 0);
});

e2e('operations: send-example sends a signed example to one endpoint only', async (t) => {
  const { h, rcv, req, app, ep, key } = await setup(t);
  const other = await startReceiver(t);
  await req('POST', `/app/${app.id}/endpoint`, { url: other.url });
  const res = await req('POST', `/app/${app.id}/endpoint/${ep.id}/send-example`, { eventType: 'invoice.paid' });
  assert.equal(res.status, 202, res.text);
  assert.equal(res.json.eventType, 'invoice.paid');
  assert.ok(res.json.id.startsWith('msg_'));
  await rcv.waitForCount(1, 5000, 'the example');
  const body = JSON.parse(rcv.requests[0].body);
  assert.equal(body.type, 'invoice.paid');
  verifyDelivery(key, rcv.requests[0]);
  const dflt = await req('POST', `/app/${app.id}/endpoint/${ep.id}/send-example`, {});
  assert.equal(dflt.json.eventType, 'webhook.test');
  await rcv.waitForCount(2, 5000, 'the default example');
  assert.equal(other.requests.length, 0, 'the other endpoint gets no example');
  assert.equal((await req('POST', `/app/${app.id}/endpoint/${ep.id}/send-example`, { eventType: 5 })).status, 422);
  assert.equal(await h.stop(), 0);
});

e2e('operations: expunging content keeps the message but drops its payload', async (t) => {
  const { h, req, app } = await setup(t);
  const msg = (await req('POST', `/app/${app.id}/msg`, { eventType: 'x.y', eventId: 'evt-1', payload: { pii: 'x' } })).json;
  assert.equal((await req('DELETE', `/app/${app.id}/msg/evt-1/content`)).status, 204); // by eventId
  const got = await req('GET', `/app/${app.id}/msg/${msg.id}`);
  assert.equal(got.status, 200);
  assert.deepEqual(got.json.payload, {});
  assert.equal(got.json.eventType, 'x.y');
  assert.equal((await req('DELETE', `/app/${app.id}/msg/msg_nope/content`)).status, 404);
  assert.equal(await h.stop(), 0);
});

e2e('operations: endpoint headers are sent, redacted when sensitive, replaced and patched', async (t) => {
  const { h, rcv, req, app, ep } = await setup(t);
  const svix = svixClient(h);
  await svix.endpoint.updateHeaders(app.id, ep.id, { headers: { 'X-Tenant': 'acme', Authorization: 'Bearer s3cret' } });
  let got = await svix.endpoint.getHeaders(app.id, ep.id);
  assert.deepEqual(got.headers, { 'X-Tenant': 'acme' });
  assert.deepEqual(got.sensitive, ['Authorization']);
  await req('POST', `/app/${app.id}/msg`, { eventType: 'only.this', payload: {} });
  await rcv.waitForCount(1, 5000);
  assert.equal(rcv.requests[0].headers['x-tenant'], 'acme');
  assert.equal(rcv.requests[0].headers.authorization, 'Bearer s3cret');

  await svix.endpoint.patchHeaders(app.id, ep.id, { headers: { 'X-Tenant': null, 'X-Region': 'eu' } });
  got = await svix.endpoint.getHeaders(app.id, ep.id);
  assert.deepEqual(got.headers, { 'X-Region': 'eu' });
  assert.deepEqual(got.sensitive, ['Authorization']);
  // hookd's own headers cannot be overridden
  await req('PUT', `/app/${app.id}/endpoint/${ep.id}/headers`, { headers: { 'webhook-id': 'forged' } });
  const m = (await req('POST', `/app/${app.id}/msg`, { eventType: 'only.this', payload: {} })).json;
  await rcv.waitForCount(2, 5000);
  assert.equal(rcv.requests[1].headers['webhook-id'], m.id);
  assert.equal(rcv.requests[1].headers['x-region'], undefined, 'PUT replaced the set');
  const bad = await req('PUT', `/app/${app.id}/endpoint/${ep.id}/headers`, { headers: { 'X-A': 'a\r\nInjected: 1' } });
  assert.equal(bad.status, 422);
  assert.equal(await h.stop(), 0);
});
