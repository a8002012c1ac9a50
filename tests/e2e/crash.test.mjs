// Durability: a 202 means committed. kill -9 in the middle of a burst loses no accepted message;
// SIGTERM drains and exits 0, and what was in flight is delivered after a restart.
import assert from 'node:assert/strict';
import { api, e2e, pool, startHookd, startReceiver, svixClient, verifyDelivery, webhookIds } from './lib/harness.mjs';

e2e('crash: kill -9 during a 1,000-message burst loses no accepted message', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t);
  const svix = svixClient(h);
  const app = await svix.application.create({ name: 'crash' });
  const ep = await svix.endpoint.create(app.id, { url: rcv.url });
  const { key } = await svix.endpoint.getSecret(app.id, ep.id);

  const accepted = new Map(); // msg id -> seq
  let killed = null;
  let refused = 0;
  const seqs = Array.from({ length: 1000 }, (_, i) => i);
  await pool(seqs, 32, async (seq) => {
    if (killed) return;
    try {
      const res = await fetch(`${h.url}/api/v1/app/${app.id}/msg`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ eventType: 'burst.item', payload: { seq, pad: 'x'.repeat(200) } }),
      });
      const text = await res.text();
      if (res.status === 202) {
        const id = JSON.parse(text).id;
        accepted.set(id, seq);
        if (accepted.size >= 300 && !killed) killed = h.kill9();
      } else {
        assert.ok(killed, `before the kill, message ${seq} got ${res.status}: ${text}`);
      }
    } catch (err) {
      // Connection reset or refused: only expected once we have killed the server.
      if (!killed) throw err;
      refused++;
    }
  });
  assert.ok(killed, `the kill was triggered (accepted ${accepted.size})`);
  const code = await killed;
  assert.equal(code, 128 + 9, 'hookd died of SIGKILL');
  t.diagnostic(`accepted ${accepted.size} before the kill, ${refused} requests failed after it; ` +
    `receiver had ${webhookIds(rcv.requests).size} distinct ids`);

  await h.restart();
  await rcv.waitFor((reqs) => {
    const seen = webhookIds(reqs);
    for (const id of accepted.keys()) if (!seen.has(id)) return false;
    return true;
  }, 60000, `all ${accepted.size} accepted messages delivered after the restart`);

  for (const rec of rcv.requests) {
    const payload = verifyDelivery(key, rec);
    const id = rec.headers['webhook-id'];
    if (accepted.has(id)) assert.equal(payload.seq, accepted.get(id), `payload of ${id}`);
  }

  // Every accepted message is still there through the API.
  const { req } = api(h);
  await pool([...accepted.keys()], 16, async (id) => {
    const r = await req('GET', `/app/${app.id}/msg/${id}`);
    assert.equal(r.status, 200, `GET ${id} after restart: ${r.text}`);
    assert.equal(r.json.payload.seq, accepted.get(id));
  });
  assert.equal(await h.stop(), 0);
});

e2e('crash: SIGTERM with a delivery in flight exits 0; the delivery completes after restart', async (t) => {
  const h = await startHookd(t, { env: { HOOKD_REQUEST_TIMEOUT: '2s', HOOKD_DRAIN_TIMEOUT: '5s' } });
  let hang = true;
  const rcv = await startReceiver(t, () => (hang ? { hang: true } : 200));
  const svix = svixClient(h);
  const app = await svix.application.create({ name: 'drain' });
  const ep = await svix.endpoint.create(app.id, { url: rcv.url });
  const { key } = await svix.endpoint.getSecret(app.id, ep.id);

  // A message delivered normally before, to show a plain shutdown path too.
  hang = false;
  const m0 = await svix.message.create(app.id, { eventType: 'd', payload: { n: 0 } });
  await rcv.waitForCount(1);
  hang = true;
  const m1 = await svix.message.create(app.id, { eventType: 'd', payload: { n: 1 } });
  await rcv.waitForCount(2, 15000, 'the hanging request');

  const t0 = performance.now();
  const code = await h.stop();
  const took = performance.now() - t0;
  assert.equal(code, 0, 'SIGTERM exits 0 with a request in flight');
  assert.ok(took < 15000, `shutdown took ${Math.round(took)} ms`);

  hang = false;
  await h.restart();
  await rcv.waitFor((reqs) => reqs.slice(2).some((r) => r.headers['webhook-id'] === m1.id), 20000,
    'the interrupted message redelivered after restart');
  for (const rec of rcv.requests) verifyDelivery(key, rec);
  assert.equal(rcv.requests.filter((r) => r.headers['webhook-id'] === m0.id).length, 1,
    'the message delivered before the restart is not sent again');
  assert.equal(await h.stop(), 0);
});
