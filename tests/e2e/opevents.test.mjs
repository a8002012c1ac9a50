// opevents.test.mjs: operational webhooks, signed, to the operator's URL.
import assert from 'node:assert/strict';
import { api, e2e, startHookd, startReceiver, verifyDelivery } from './lib/harness.mjs';

const OPS_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

function events(ops) {
  return ops.requests.map((r) => {
    verifyDelivery(OPS_SECRET, r);
    return JSON.parse(r.body);
  });
}

e2e('opevents: endpoint lifecycle, failing, exhausted, recovered and disabled events', async (t) => {
  const ops = await startReceiver(t);
  const h = await startHookd(t, { env: { HOOKD_OPERATIONAL_URL: ops.url, HOOKD_OPERATIONAL_SECRET: OPS_SECRET,
    HOOKD_RETRY_SCHEDULE: '50ms,50ms,50ms,50ms' } });
  let answers = [];
  const rcv = await startReceiver(t, () => answers.shift() ?? 200);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'opsapp', uid: 'opsapp' })).json;
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url, uid: 'main' })).json;
  await ops.waitForCount(1, 5000, 'endpoint.created');
  let ev = events(ops)[0];
  assert.equal(ev.type, 'endpoint.created');
  assert.deepEqual(ev.data, { appId: app.id, appUid: 'opsapp', endpointId: ep.id, endpointUid: 'main' });

  // three failures then success: failing, then recovered
  answers = [500, 500, 500, 200];
  const m1 = (await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', eventId: 'e1', payload: {} })).json;
  await ops.waitFor((r) => r.length >= 3, 10000, 'failing and recovered');
  const types = events(ops).map((e) => e.type);
  assert.deepEqual(types.slice(1, 3), ['message.attempt.failing', 'message.attempt.recovered']);
  ev = events(ops)[1];
  assert.equal(ev.data.msgId, m1.id);
  assert.equal(ev.data.msgEventId, 'e1');
  assert.equal(ev.data.lastAttempt.responseStatusCode, 500);
  assert.equal(events(ops)[2].data.lastAttempt.responseStatusCode, 200);

  // always failing: failing, then exhausted after the 5th attempt
  answers = [503, 503, 503, 503, 503];
  const m2 = (await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: {} })).json;
  await ops.waitFor((r) => r.length >= 5, 10000, 'failing and exhausted');
  assert.deepEqual(events(ops).slice(3, 5).map((e) => e.type), ['message.attempt.failing', 'message.attempt.exhausted']);
  assert.equal(events(ops)[4].data.msgId, m2.id);

  // PATCH: updated; a 410: disabled (automatic); DELETE: deleted
  await req('PATCH', `/app/${app.id}/endpoint/${ep.id}`, { description: 'x' });
  await ops.waitForCount(6, 5000, 'endpoint.updated');
  assert.equal(events(ops)[5].type, 'endpoint.updated');
  answers = [410];
  await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: {} });
  await ops.waitForCount(7, 5000, 'endpoint.disabled');
  ev = events(ops)[6];
  assert.equal(ev.type, 'endpoint.disabled');
  assert.equal(ev.data.trigger, 'automatic');
  assert.equal(ev.data.endpointId, ep.id);
  await req('DELETE', `/app/${app.id}/endpoint/${ep.id}`);
  await ops.waitForCount(8, 5000, 'endpoint.deleted');
  assert.equal(events(ops)[7].type, 'endpoint.deleted');

  // the internal app is not listed among the user's apps
  const list = (await req('GET', '/app')).json.data;
  assert.deepEqual(list.map((a) => a.id), [app.id]);
  assert.equal(await h.stop(), 0);
  // restart: the same internal app and endpoint are reused, and still deliver
  await h.restart();
  await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url });
  await ops.waitForCount(9, 5000, 'endpoint.created after restart');
  assert.equal(events(ops)[8].type, 'endpoint.created');
  assert.equal((await req('GET', '/app')).json.data.length, 1);
  assert.equal(await h.stop(), 0);
});

e2e('opevents: a bad operational URL or secret is refused at start', async (t) => {
  const { runHookd } = await import('./lib/harness.mjs');
  const r = await runHookd(['serve', '--listen', '127.0.0.1:0', '--data', '/tmp/hookd-nope-ops'],
    { env: { HOOKD_TOKEN: 'tok-tok-tok', HOOKD_OPERATIONAL_URL: 'ftp://x' } });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /operational-url/);
  const s = await runHookd(['serve', '--listen', '127.0.0.1:0', '--data', '/tmp/hookd-nope-ops'],
    { env: { HOOKD_TOKEN: 'tok-tok-tok', HOOKD_OPERATIONAL_URL: 'http://127.0.0.1:9', HOOKD_OPERATIONAL_SECRET: 'short' } });
  assert.notEqual(s.code, 0);
  assert.match(s.stderr, /operational-secret/);
});
