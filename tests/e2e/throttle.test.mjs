// throttle.test.mjs: throttleRate limits sends per second to an endpoint, and a slow endpoint delays no other.
import assert from 'node:assert/strict';
import { api, e2e, startHookd, startReceiver } from './lib/harness.mjs';

e2e('throttle: an endpoint with throttleRate 5 gets 20 messages over ~3 s; its neighbour at once', async (t) => {
  const h = await startHookd(t);
  const slow = await startReceiver(t);
  const fast = await startReceiver(t);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'th' })).json;
  await req('POST', `/app/${app.id}/endpoint`, { url: slow.url, throttleRate: 5 });
  await req('POST', `/app/${app.id}/endpoint`, { url: fast.url });
  const t0 = Date.now();
  for (let i = 0; i < 20; i++)
    assert.equal((await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: { i } })).status, 202);
  await fast.waitForCount(20, 5000, 'the unthrottled endpoint');
  const fastDone = Math.max(...fast.requests.map((r) => r.at)) - t0;
  await slow.waitForCount(20, 15000, 'the throttled endpoint');
  const times = slow.requests.map((r) => r.at).sort((a, b) => a - b);
  const span = times[19] - times[0];
  // a bucket of 5 tokens, refilled at 5/s: 5 at once, then 15 more at 200 ms each = ~3 s
  assert.ok(span >= 2500, `20 sends took ${span} ms at 5/s`);
  assert.ok(span <= 6000, `20 sends took ${span} ms at 5/s`);
  // after the burst of 5, one send per token: any 5 sends in a row take about a second (a token bucket may let
  // two come close together when a wake-up was late, so single gaps are not checked)
  for (let i = 5; i + 5 < times.length; i++)
    assert.ok(times[i + 5] - times[i] >= 750, `sends ${i}..${i + 5} took ${times[i + 5] - times[i]} ms at 5/s`);
  assert.ok(fastDone < 2000, `the unthrottled endpoint finished in ${fastDone} ms`);
  assert.equal(await h.stop(), 0);
});

e2e('throttle: the app\'s throttleRate applies to endpoints without their own', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'th2', throttleRate: 2 })).json;
  await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url });
  for (let i = 0; i < 6; i++)
    await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: { i } });
  await rcv.waitForCount(6, 10000);
  const times = rcv.requests.map((r) => r.at).sort((a, b) => a - b);
  assert.ok(times[5] - times[0] >= 1500, `6 sends at 2/s took ${times[5] - times[0]} ms`);
  assert.equal(await h.stop(), 0);
});
