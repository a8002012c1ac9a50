// figures.test.mjs: per-endpoint figures for the last hour, day and week.
import assert from 'node:assert/strict';
import { api, e2e, eventually, startHookd, startReceiver } from './lib/harness.mjs';

e2e('figures: attempts, success rate, response times, status codes and dead letters per window', async (t) => {
  const h = await startHookd(t, { env: { HOOKD_RETRY_SCHEDULE: '50ms' } });
  const rcv = await startReceiver(t, (rec) => (JSON.parse(rec.body).bad ? 503 : 200));
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'fig' })).json;
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url })).json;
  for (let i = 0; i < 8; i++)
    await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: { i } });
  await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: { bad: true } }); // 2 attempts, then fail
  const fig = await eventually(async () => {
    const r = await req('GET', `/app/${app.id}/endpoint/${ep.id}/figures`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.hour.attempts, 10);
    assert.equal(r.json.deadLetter, 1);
    return r.json;
  }, { what: 'ten attempts and one dead letter' });
  for (const w of ['hour', 'day', 'week']) {
    const f = fig[w];
    assert.equal(f.attempts, 10);
    assert.equal(f.success, 8);
    assert.equal(f.failed, 2);
    assert.equal(f.successRate, 0.8);
    assert.deepEqual(f.statusCodes, { 200: 8, 503: 2 });
    assert.ok(f.avgMs >= 0 && f.p50Ms >= 0 && f.p95Ms >= f.p50Ms && f.p99Ms >= f.p95Ms);
  }
  assert.equal(fig.pending, 0);
  const empty = (await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url, eventTypes: ['none.such'] })).json;
  const e = (await req('GET', `/app/${app.id}/endpoint/${empty.id}/figures`)).json;
  assert.equal(e.hour.attempts, 0);
  assert.equal(e.hour.successRate, null);
  assert.equal((await req('GET', `/app/${app.id}/endpoint/ep_nope/figures`)).status, 404);
  assert.equal(await h.stop(), 0);
});
