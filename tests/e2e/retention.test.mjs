// retention.test.mjs: payloads and attempt response bodies older than --retention are purged in the background;
// a message's own payloadRetentionPeriod overrides the setting.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { api, e2e, eventually, pool, startHookd, startReceiver } from './lib/harness.mjs';

e2e('retention: old payloads and response bodies are purged, a message keeps its own period', async (t) => {
  const h = await startHookd(t, { env: { HOOKD_RETENTION: '1s', HOOKD_CHORE_INTERVAL: '100ms' } });
  const rcv = await startReceiver(t, { status: 200, body: 'receiver says hi' });
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'ret' })).json;
  await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url });
  const short = (await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: { secret: 1 } })).json;
  const kept = (await req('POST', `/app/${app.id}/msg`,
    { eventType: 'a.b', payload: { secret: 2 }, payloadRetentionPeriod: 1 })).json;
  await rcv.waitForCount(2, 5000, 'both deliveries');
  // two deliveries in flight at once may arrive in either order
  assert.deepEqual(rcv.requests.map((r) => JSON.parse(r.body)).sort((x, y) => x.secret - y.secret),
    [{ secret: 1 }, { secret: 2 }], 'sent with their payloads');

  await eventually(async () => {
    const m = (await req('GET', `/app/${app.id}/msg/${short.id}`)).json;
    assert.deepEqual(m.payload, {});
    assert.equal(m.eventType, 'a.b', 'the record stays');
    const atts = (await req('GET', `/app/${app.id}/attempt/msg/${short.id}`)).json.data;
    assert.equal(atts.length, 1);
    assert.equal(atts[0].response, '');
    assert.equal(atts[0].responseStatusCode, 200);
  }, { what: 'the payload and the response body purged' });
  // a day of its own retention: the payload stays (its attempt's body follows the server's setting)
  const k = (await req('GET', `/app/${app.id}/msg/${kept.id}`)).json;
  assert.deepEqual(k.payload, { secret: 2 });
  await eventually(async () => {
    const atts = (await req('GET', `/app/${app.id}/attempt/msg/${kept.id}`)).json.data;
    assert.equal(atts[0].response, '');
  }, { what: 'the kept message attempt body purged' });
  assert.equal((await req('POST', `/app/${app.id}/msg`,
    { eventType: 'a.b', payload: {}, payloadRetentionPeriod: 0 })).status, 422);
  assert.equal(await h.stop(), 0);
});

e2e('retention: the default keeps payloads', async (t) => {
  const h = await startHookd(t, { env: { HOOKD_CHORE_INTERVAL: '50ms' } });
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'ret' })).json;
  const m = (await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: { x: 1 } })).json;
  await new Promise((r) => setTimeout(r, 500)); // ten chore passes
  assert.deepEqual((await req('GET', `/app/${app.id}/msg/${m.id}`)).json.payload, { x: 1 });
  assert.equal(await h.stop(), 0);
});

e2e('retention: one pass purges a backlog beyond one batch, batch after batch', async (t) => {
  const first = await startHookd(null);
  const { req } = api(first);
  const app = (await req('POST', '/app', { name: 'ret' })).json;
  const ids = [];
  await pool(Array.from({ length: 2500 }, (_, i) => i), 16, async (i) => {
    ids[i] = (await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: { i } })).json.id;
  });
  assert.equal(await first.stop(), 0);
  // the same data, now with a retention they are all past, and a pass every 3 s
  const h = await startHookd(t, { dataDir: first.dataDir, token: first.token,
    env: { HOOKD_RETENTION: '1ms', HOOKD_CHORE_INTERVAL: '3s' } });
  t.after(() => rm(first.dataDir, { recursive: true, force: true }));
  const payload = async (id) => (await api(h).req('GET', `/app/${app.id}/msg/${id}`)).json.payload;
  await eventually(async () => assert.deepEqual(await payload(ids[0]), {}), { what: 'the first pass' });
  // 1,000 rows a job: the last of 2,500 goes in the third job of the same pass, long before the next pass
  await eventually(async () => assert.deepEqual(await payload(ids[2499]), {}),
    { timeout: 1500, what: 'the whole backlog purged by one pass' });
  assert.equal(await h.stop(), 0);
});
