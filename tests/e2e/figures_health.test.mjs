// figures_health.test.mjs: the figures' time series (?series=true), the circuit breaker and the disabled state
// with its reason (GET .../figures), and the filters of an endpoint's attempted messages (GET .../endpoint/{ep}/msg).
import assert from 'node:assert/strict';
import { api, e2e, eventually, startHookd, startReceiver } from './lib/harness.mjs';

e2e('figures: series buckets add up to their window; a malformed series flag is a 422', async (t) => {
  const h = await startHookd(t, { env: { HOOKD_RETRY_SCHEDULE: '50ms' } });
  const rcv = await startReceiver(t, (rec) => (JSON.parse(rec.body).bad ? 503 : 200));
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'series' })).json;
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url })).json;
  for (let i = 0; i < 5; i++) await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: { i } });
  await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: { bad: true } });
  const fig = await eventually(async () => {
    const r = await req('GET', `/app/${app.id}/endpoint/${ep.id}/figures?series=true`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.hour.attempts, 7);
    assert.equal(r.json.deadLetter, 1);
    return r.json;
  }, { what: 'seven attempts' });
  for (const [w, n, step] of [['hour', 12, 300000], ['day', 24, 3600000], ['week', 28, 6 * 3600000]]) {
    const f = fig[w];
    assert.equal(f.series.length, n, w);
    assert.equal(f.bucketMs, step);
    const sum = (k) => f.series.reduce((a, p) => a + p[k], 0);
    assert.equal(sum('attempts'), 7);
    assert.equal(sum('success'), 5);
    assert.equal(sum('failed'), 2);
    const last = f.series[n - 1]; // everything happened just now
    assert.equal(last.attempts, 7);
    assert.deepEqual(last.statusCodes, { 200: 5, 503: 2 });
    assert.ok(last.p50Ms <= last.p95Ms && last.p95Ms <= last.p99Ms);
    assert.equal(f.series[0].attempts, 0);
    assert.equal(f.series[0].p95Ms, null);
    const starts = f.series.map((p) => Date.parse(p.start));
    for (let i = 1; i < n; i++) assert.equal(starts[i] - starts[i - 1], step);
  }
  const plain = (await req('GET', `/app/${app.id}/endpoint/${ep.id}/figures`)).json;
  assert.equal(plain.hour.series, undefined);
  assert.equal(plain.breaker.state, 'closed');
  assert.equal(plain.breaker.thisNode, true);
  assert.equal(plain.disabled, false);
  assert.equal(plain.disabledReason, null);
  assert.equal((await req('GET', `/app/${app.id}/endpoint/${ep.id}/figures?series=maybe`)).status, 422);
  assert.equal(await h.stop(), 0);
});

e2e('figures: the breaker opens on failures in a row and closes when the endpoint answers again', async (t) => {
  const h = await startHookd(t, { env: { HOOKD_RETRY_SCHEDULE: '50ms,50ms,50ms,50ms,50ms,50ms,50ms,50ms',
    HOOKD_BREAKER_FAILURES: '3', HOOKD_BREAKER_COOLDOWN: '300ms' } });
  let healthy = false;
  const rcv = await startReceiver(t, () => (healthy ? 200 : 500));
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'breaker' })).json;
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url })).json;
  const figures = async () => (await req('GET', `/app/${app.id}/endpoint/${ep.id}/figures`)).json;
  for (let i = 0; i < 3; i++) await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: { i } });
  const open = await eventually(async () => {
    const f = await figures();
    assert.ok(['open', 'half-open'].includes(f.breaker.state), JSON.stringify(f.breaker)); // null: not owned yet
    return f.breaker;
  }, { what: 'the breaker to open' });
  assert.ok(open.failures >= 3, JSON.stringify(open));
  assert.ok(Date.parse(open.openedAt) <= Date.now());
  assert.ok(Date.parse(open.failingSince) <= Date.parse(open.openedAt));
  if (open.state === 'open') assert.ok(Date.parse(open.retryAt) > Date.parse(open.openedAt));
  healthy = true;
  const closed = await eventually(async () => {
    const f = await figures();
    assert.equal(f.breaker.state, 'closed', JSON.stringify(f.breaker));
    return f.breaker;
  }, { what: 'the breaker to close', timeout: 20000 });
  assert.equal(closed.failures, 0);
  assert.equal(closed.failingSince, null);
  assert.ok(Date.parse(closed.closedAt) >= Date.parse(open.openedAt));
  assert.equal(await h.stop(), 0);
});

e2e('figures: an endpoint disabled by a 410 says why; one disabled through the API is manual', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t, 410);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'gone' })).json;
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url })).json;
  await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: {} });
  const f = await eventually(async () => {
    const r = (await req('GET', `/app/${app.id}/endpoint/${ep.id}/figures`)).json;
    assert.equal(r.disabled, true);
    return r;
  }, { what: 'the endpoint disabled' });
  assert.equal(f.disabledReason, 'gone');
  assert.ok(Math.abs(Date.parse(f.disabledAt) - Date.now()) < 60000);
  const ep2 = (await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url, disabled: true })).json;
  const f2 = (await req('GET', `/app/${app.id}/endpoint/${ep2.id}/figures`)).json;
  assert.equal(f2.disabled, true);
  assert.equal(f2.disabledReason, 'manual');
  assert.equal(await h.stop(), 0);
});

e2e('endpoint msg list: status, channel, tag, event_types, before and after', async (t) => {
  const h = await startHookd(t, { env: { HOOKD_RETRY_SCHEDULE: '50ms' } });
  const rcv = await startReceiver(t, (rec) => (JSON.parse(rec.body).bad ? 500 : 200));
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'dl' })).json;
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url })).json;
  const send = async (body) => (await req('POST', `/app/${app.id}/msg`, { payload: {}, ...body })).json;
  const ok1 = await send({ eventType: 'a.ok', channels: ['c1'], tags: ['t1'] });
  const bad1 = await send({ eventType: 'a.bad', payload: { bad: true }, channels: ['c1'] });
  const mid = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 5)); // "after" is strict: a later millisecond
  const bad2 = await send({ eventType: 'b.bad', payload: { bad: true }, tags: ['t1'] });
  const base = `/app/${app.id}/endpoint/${ep.id}/msg`;
  const ids = async (qs) => {
    const r = await req('GET', `${base}?${qs}`);
    assert.equal(r.status, 200, r.text);
    return r.json.data.map((m) => m.id).sort();
  };
  await eventually(async () => assert.deepEqual(await ids('status=2'), [bad1.id, bad2.id].sort(), (await req('GET', base)).text),
    { what: 'two failed deliveries' });
  assert.deepEqual(await ids('status=0'), [ok1.id]);
  assert.deepEqual(await ids('status=1'), []);
  assert.deepEqual(await ids('status=2&channel=c1'), [bad1.id]);
  assert.deepEqual(await ids('tag=t1'), [ok1.id, bad2.id].sort());
  assert.deepEqual(await ids('event_types=a.ok&event_types=b.bad'), [ok1.id, bad2.id].sort());
  assert.deepEqual(await ids(`after=${mid}`), [bad2.id]);
  assert.deepEqual(await ids(`before=${mid}&status=2`), [bad1.id]);
  const r = (await req('GET', `${base}?status=2&limit=1`)).json;
  assert.equal(r.data.length, 1);
  assert.equal(r.data[0].status, 2);
  assert.equal(r.done, false);
  assert.equal((await req('GET', `${base}?status=9`)).status, 422);
  assert.equal((await req('GET', `${base}?after=yesterday`)).status, 422);
  assert.equal(await h.stop(), 0);
});
