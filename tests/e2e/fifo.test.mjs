// fifo.test.mjs: ordering "fifo" delivers an endpoint's messages strictly in acceptance order, through retries,
// exhaustion and restarts; other endpoints stay parallel.
import assert from 'node:assert/strict';
import { api, e2e, startHookd, startReceiver } from './lib/harness.mjs';

/** A receiver that fails the first `fails` attempts of the messages whose payload has fail: true. */
function flaky(fails) {
  const seen = new Map();
  return (rec) => {
    const id = rec.headers['webhook-id'];
    seen.set(id, (seen.get(id) || 0) + 1);
    return JSON.parse(rec.body).fail && seen.get(id) <= fails ? 503 : 200;
  };
}

e2e('fifo: message n+1 waits until n succeeded, through retries; a parallel endpoint does not wait', async (t) => {
  const h = await startHookd(t, { env: { HOOKD_RETRY_SCHEDULE: '200ms,200ms,200ms' } });
  const fifo = await startReceiver(t, flaky(2));
  const par = await startReceiver(t, flaky(2));
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'fifo' })).json;
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: fifo.url, ordering: 'fifo' })).json;
  assert.equal(ep.ordering, 'fifo');
  await req('POST', `/app/${app.id}/endpoint`, { url: par.url });
  const ids = [];
  for (let i = 0; i < 6; i++)
    ids.push((await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: { i, fail: i === 0 || i === 3 } })).json.id);
  await fifo.waitForCount(6 + 4, 15000, 'six messages, two of them after two failures');
  await par.waitForCount(10, 15000);
  // the fifo endpoint never saw message k before message k-1 was through
  const seq = fifo.requests.map((r) => ids.indexOf(r.headers['webhook-id']));
  for (let i = 1; i < seq.length; i++)
    assert.ok(seq[i] >= seq[i - 1], `fifo order broken: ${seq.join(',')}`);
  assert.deepEqual(seq, [0, 0, 0, 1, 2, 3, 3, 3, 4, 5]);
  // the parallel endpoint got message 1 before message 0's retries were done
  const pseq = par.requests.map((r) => ids.indexOf(r.headers['webhook-id']));
  assert.ok(pseq.indexOf(1) < pseq.lastIndexOf(0), `parallel: ${pseq.join(',')}`);
  assert.equal(await h.stop(), 0);
});

e2e('fifo: a head that fails for good lets the next go', async (t) => {
  const h = await startHookd(t, { env: { HOOKD_RETRY_SCHEDULE: '100ms' } });
  let mode = 'fail-first-message';
  const rcv = await startReceiver(t, (rec) => {
    const p = JSON.parse(rec.body);
    if (mode === 'down') return 503;
    return mode === 'fail-first-message' && p.i === 0 ? 500 : 200;
  });
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'fifo2' })).json;
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url, ordering: 'fifo' })).json;
  const send = async (i) => (await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: { i } })).json.id;
  const a = [await send(0), await send(1), await send(2)];
  await rcv.waitForCount(4, 10000, 'message 0 twice (failed for good), then 1 and 2');
  assert.deepEqual(rcv.requests.map((r) => r.headers['webhook-id']), [a[0], a[0], a[1], a[2]]);

  assert.equal((await req('PATCH', `/app/${app.id}/endpoint/${ep.id}`, { ordering: 'parallel' })).json.ordering, 'parallel');
  assert.equal((await req('PATCH', `/app/${app.id}/endpoint/${ep.id}`, { ordering: 'random' })).status, 422);
  assert.equal(await h.stop(), 0);
});

e2e('fifo: after a restart the oldest pending delivery is still the head', async (t) => {
  const h = await startHookd(t, { env: { HOOKD_RETRY_SCHEDULE: '2s,2s' } });
  let up = false;
  const rcv = await startReceiver(t, () => (up ? 200 : 503));
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'fifo3' })).json;
  await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url, ordering: 'fifo' });
  const b = [];
  for (let i = 0; i < 3; i++)
    b.push((await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: { i } })).json.id);
  await rcv.waitForCount(1, 5000, 'the head tried and failed');
  assert.equal(await h.stop(), 0);
  assert.equal(rcv.requests.length, 1, 'only the head was tried');
  up = true;
  await h.restart(); // b[1] and b[2] are due now, b[0] (the head) in ~2 s: they must still wait for it
  await rcv.waitForCount(4, 15000, 'all three after the restart');
  assert.deepEqual(rcv.requests.slice(1).map((r) => r.headers['webhook-id']), b);
  assert.equal(await h.stop(), 0);
});
