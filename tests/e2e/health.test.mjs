// health.test.mjs: endpoints that fail: 410 disables, a run of failures pauses (circuit breaker) then one probe
// resumes, and an endpoint failing for the disable-after period is disabled until re-enabled.
import assert from 'node:assert/strict';
import { api, e2e, eventually, startHookd, startReceiver } from './lib/harness.mjs';

e2e('health: 410 Gone disables the endpoint; later messages are not sent to it', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t, [410]);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'h410' })).json;
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url })).json;
  await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: {} });
  await eventually(async () => {
    assert.equal((await req('GET', `/app/${app.id}/endpoint/${ep.id}`)).json.disabled, true);
  }, { what: 'the endpoint disabled' });
  await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: {} });
  await new Promise((r) => setTimeout(r, 800)); // the retry schedule is 100-400 ms: anything sent would be here
  assert.equal(rcv.requests.length, 1, 'nothing more is sent to a disabled endpoint');
  assert.equal(await h.stop(), 0);
});

e2e('health: failures in a row for the cooldown pause the endpoint; a probe after it resumes', async (t) => {
  const h = await startHookd(t, { env: { HOOKD_BREAKER_FAILURES: '3', HOOKD_BREAKER_COOLDOWN: '1s',
    HOOKD_ENDPOINT_INFLIGHT: '1', HOOKD_RETRY_SCHEDULE: '30s' } });
  let healthy = false;
  const rcv = await startReceiver(t, () => (healthy ? 200 : 500));
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'hbrk' })).json;
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url })).json;
  // a message every 150 ms, all failing: the breaker trips once the failures have lasted 1 s
  for (let i = 0; i < 10; i++) {
    await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: { i } });
    await new Promise((r) => setTimeout(r, 150));
  }
  const held = rcv.requests.length;
  assert.ok(held >= 7 && held < 10, `${held} of 10 sent before the pause`);
  healthy = true;
  await rcv.waitForCount(10, 10000, 'the probe, then the rest');
  const gap = rcv.requests[held].at - rcv.requests[held - 1].at;
  assert.ok(gap >= 900, `the probe came ${gap} ms after the last failure; the cooldown is 1 s`);
  assert.ok(rcv.requests[9].at - rcv.requests[held].at < 1000, 'the rest follow the probe at once');
  assert.equal((await req('GET', `/app/${app.id}/endpoint/${ep.id}`)).json.disabled, false);
  assert.equal(await h.stop(), 0);
});

e2e('health: an endpoint that fails first tries but takes retries is never paused', async (t) => {
  const h = await startHookd(t, { env: { HOOKD_BREAKER_FAILURES: '3', HOOKD_BREAKER_COOLDOWN: '1s',
    HOOKD_RETRY_SCHEDULE: '50ms,50ms' } });
  const seen = new Map();
  const rcv = await startReceiver(t, (rec) => {
    const id = rec.headers['webhook-id'];
    seen.set(id, (seen.get(id) || 0) + 1);
    return seen.get(id) <= 2 ? 503 : 200;
  });
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'hflaky' })).json;
  await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url });
  for (let i = 0; i < 50; i++)
    await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: { i } });
  await rcv.waitForCount(150, 10000, 'every message on its third try');
  assert.equal(seen.size, 50);
  assert.equal(await h.stop(), 0);
});

e2e('health: an endpoint failing for the disable-after period is disabled; PATCH re-enables it', async (t) => {
  const h = await startHookd(t, { env: { HOOKD_DISABLE_AFTER: '1s', HOOKD_BREAKER_FAILURES: '1000',
    HOOKD_RETRY_SCHEDULE: '200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms' } });
  let healthy = false;
  const rcv = await startReceiver(t, () => (healthy ? 200 : 503));
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'hdis' })).json;
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url })).json;
  await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: {} });
  await eventually(async () => {
    assert.equal((await req('GET', `/app/${app.id}/endpoint/${ep.id}`)).json.disabled, true);
  }, { what: 'disabled after failing for 1 s', timeout: 10000 });
  const first = rcv.requests[0].at;
  const last = rcv.requests[rcv.requests.length - 1].at;
  assert.ok(last - first >= 900, `disabled after ${last - first} ms of failures`);
  healthy = true;
  const patched = await req('PATCH', `/app/${app.id}/endpoint/${ep.id}`, { disabled: false });
  assert.equal(patched.json.disabled, false);
  const n = rcv.requests.length;
  const m = (await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: { again: true } })).json;
  await rcv.waitFor((r) => r.some((x) => x.headers['webhook-id'] === m.id), 5000, 'delivery after re-enabling');
  assert.ok(rcv.requests.length > n);
  assert.equal((await req('GET', `/app/${app.id}/endpoint/${ep.id}`)).json.disabled, false, 'stays enabled');
  assert.equal(await h.stop(), 0);
});

e2e('health: the failing period counts across a restart', async (t) => {
  const env = { HOOKD_DISABLE_AFTER: '3s', HOOKD_BREAKER_FAILURES: '1000',
    HOOKD_RETRY_SCHEDULE: Array(30).fill('150ms').join(',') };
  const h = await startHookd(t, { env });
  const rcv = await startReceiver(t, () => 503);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'hrestart' })).json;
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url })).json;
  await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: {} });
  await rcv.waitForCount(1, 5000, 'the first failure');
  const t0 = rcv.requests[0].at;
  await rcv.waitFor((r) => r[r.length - 1].at - t0 >= 1500, 10000, 'failing for 1.5 s');
  assert.equal(await h.stop(), 0);
  await h.restart();
  await eventually(async () => {
    assert.equal((await req('GET', `/app/${app.id}/endpoint/${ep.id}`)).json.disabled, true);
  }, { what: 'disabled after the restart', timeout: 10000, interval: 20 });
  const took = Date.now() - t0;
  // 3 s from the first failure, not 3 s from the restart (which came after 1.5 s and more)
  assert.ok(took < 4300, `disabled ${took} ms after the first failure`);
  assert.equal(await h.stop(), 0);
});
