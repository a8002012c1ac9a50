// Graceful stop under load: SIGTERM while clients keep posting on kept-alive connections and deliveries are in
// flight. Every run exits 0 within the drain timeout (plus a little), and every message answered 202 is delivered
// after the last restart. Before the fix, libmicrohttpd aborted ("MHD_stop_daemon() called while we have
// suspended connections") in most runs: writes suspended for their commit kept arriving after the wait.
import assert from 'node:assert/strict';
import http from 'node:http';
import { e2e, startHookd, startReceiver, svixClient, webhookIds } from './lib/harness.mjs';

const ROUNDS = 10;
const DRAIN_MS = 1500;

e2e(`shutdown: SIGTERM under ingest and delivery load exits 0 in time, ${ROUNDS} times; nothing accepted is lost`, async (t) => {
  const h = await startHookd(t, { env: { HOOKD_DRAIN_TIMEOUT: `${DRAIN_MS}ms`, HOOKD_REQUEST_TIMEOUT: '3s' } });
  // some answers are slow, so that deliveries are in flight when the signal comes; one in 50 hangs past the drain
  const rcv = await startReceiver(t, (rec) => {
    const n = rec.i;
    if (n % 50 === 0) return new Promise((r) => setTimeout(() => r(200), DRAIN_MS + 500));
    if (n % 5 === 0) return new Promise((r) => setTimeout(() => r(200), 100));
    return 200;
  });
  const svix = svixClient(h);
  const app = await svix.application.create({ name: 'shutdown' });
  for (let i = 0; i < 3; i++) await svix.endpoint.create(app.id, { url: `${rcv.url}?ep=${i}` });

  const accepted = new Set();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 24 });
  const post = (i) => new Promise((resolve) => {
    const body = JSON.stringify({ eventType: 'load.item', payload: { i } });
    const req = http.request(`${h.url}/api/v1/app/${app.id}/msg`, {
      method: 'POST', agent,
      headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        if (res.statusCode === 202) accepted.add(JSON.parse(text).id);
        else assert.ok([503].includes(res.statusCode), `a write during the stop got ${res.statusCode}: ${text}`);
        resolve(res.statusCode);
      });
      res.on('error', () => resolve(-1));
    });
    req.on('error', () => resolve(-1)); // refused or reset once the server stops: the client tries elsewhere
    req.end(body);
  });

  let seq = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let loading = true;
    const loops = Array.from({ length: 24 }, async () => {
      while (loading) if ((await post(seq++)) === -1) await new Promise((r) => setTimeout(r, 5));
    });
    const before = accepted.size;
    await new Promise((resolve, reject) => { // load until some hundreds are accepted in this round
      const iv = setInterval(() => {
        if (accepted.size - before >= 200) { clearInterval(iv); resolve(); }
        else if (h.proc.exitCode !== null || h.proc.signalCode !== null) { // the clients would retry for ever
          clearInterval(iv);
          loading = false;
          reject(new Error(`round ${round}: hookd died under load (${h.proc.exitCode ?? h.proc.signalCode}):\n${h.logs().slice(-3000)}`));
        }
      }, 5);
    });
    const t0 = performance.now();
    const code = await h.stop();
    const took = performance.now() - t0;
    loading = false;
    await Promise.all(loops);
    assert.equal(code, 0, `round ${round}: hookd exited ${code} after SIGTERM:\n${h.logs().slice(-3000)}`);
    assert.ok(took < DRAIN_MS + 3000, `round ${round}: the stop took ${Math.round(took)} ms`);
    t.diagnostic(`round ${round}: ${accepted.size - before} accepted, stopped in ${Math.round(took)} ms`);
    await h.restart();
  }
  agent.destroy();

  // every accepted message reaches all three endpoints
  await rcv.waitFor((reqs) => {
    const seen = new Map();
    for (const r of reqs) {
      const k = r.headers['webhook-id'];
      seen.set(k, (seen.get(k) ?? new Set()).add(r.url));
    }
    for (const id of accepted) if ((seen.get(id)?.size ?? 0) < 3) return false;
    return true;
  }, 60000, `all ${accepted.size} accepted messages delivered to the 3 endpoints`);
  t.diagnostic(`${accepted.size} accepted, ${rcv.requests.length} requests for ${webhookIds(rcv.requests).size} ids`);
});
