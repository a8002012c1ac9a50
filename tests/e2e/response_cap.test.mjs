// Bounded reads of receivers' answers: hookd keeps the first 20,000 bytes of a response body and stops reading
// there; the status code decides the outcome, and the connection is closed rather than reused.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { api, e2e, eventually, startHookd, svixClient } from './lib/harness.mjs';

const CAP = 20000;
const HUNDRED_MB = 100 * 1024 * 1024;
const MB = 1024 * 1024;

// What a receiver writing as fast as it can gets into the kernel before hookd's close reaches it, whatever hookd
// reads: its own send buffer (autotuned up to tcp_wmem's maximum) and hookd's receive window. 1 MB beyond those.
function kernelBuffered() {
  const third = (f, dflt) => { try { return Number(readFileSync(f, 'utf8').trim().split(/\s+/)[2]) || dflt; } catch { return dflt; } };
  const second = (f, dflt) => { try { return Number(readFileSync(f, 'utf8').trim().split(/\s+/)[1]) || dflt; } catch { return dflt; } };
  return third('/proc/sys/net/ipv4/tcp_wmem', 4 * MB) + second('/proc/sys/net/ipv4/tcp_rmem', 128 * 1024);
}

/**
 * A receiver whose answers stream a big body: plan(i) for the i-th request gives {status, length (a
 * Content-Length, or undefined: chunked and endless), chunk (bytes per write), everyMs (pause between writes; 0:
 * as fast as the socket drains)}, or null for a plain 200 "ok". Each answer's record: {status, bytes (body bytes
 * the receiver managed to write), closedAfterMs, socket (the connection's number)}.
 */
async function startStreamer(t, plan) {
  const answers = [];
  let sockets = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const p = plan(answers.length);
      const rec = { status: p ? p.status : 200, bytes: 0, closedAfterMs: null, socket: req.socket.n,
        start: performance.now(), webhookId: req.headers['webhook-id'] };
      answers.push(rec);
      if (!p) { res.end('ok'); return; }
      res.writeHead(p.status, { 'content-type': 'text/plain', ...(p.length ? { 'content-length': p.length } : {}) });
      const chunk = Buffer.alloc(p.chunk, 'x');
      const total = p.length ?? Infinity;
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        rec.closedAfterMs = performance.now() - rec.start;
      };
      res.on('close', finish);
      req.socket.on('close', finish);
      const pump = () => {
        while (!done && rec.bytes < total) {
          const n = Math.min(chunk.length, total - rec.bytes);
          rec.bytes += n;
          const more = res.write(n === chunk.length ? chunk : chunk.subarray(0, n));
          if (rec.bytes >= total) { res.end(); return; }
          if (p.everyMs > 0) { setTimeout(pump, p.everyMs); return; }
          if (!more) { res.once('drain', pump); return; }
        }
      };
      pump();
    });
  });
  server.on('connection', (s) => { s.n = ++sockets; });
  server.keepAliveTimeout = 30000;
  await new Promise((res) => server.listen(0, '127.0.0.1', res));
  t.after(() => { server.closeAllConnections(); return new Promise((res) => server.close(res)); });
  return { url: `http://127.0.0.1:${server.address().port}/hook`, answers, connections: () => sockets };
}

async function setup(h, url, name) {
  const svix = svixClient(h);
  const app = await svix.application.create({ name });
  const ep = await svix.endpoint.create(app.id, { url });
  const send = (payload = { name }) => svix.message.create(app.id, { eventType: 'cap.test', payload });
  return { app, ep, send };
}

async function attemptsOf(h, appId, msgId, n) {
  return eventually(async () => {
    const r = await api(h).req('GET', `/app/${appId}/attempt/msg/${msgId}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.data.length, n, `attempts: ${JSON.stringify(r.json.data.map((a) => [a.status, a.responseStatusCode]))}`);
    return [...r.json.data].sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp) || (a.id < b.id ? -1 : 1));
  }, { what: `${n} attempt(s) of ${msgId}`, timeout: 20000 });
}

async function destinationStatus(h, appId, msgId, epId) {
  const r = await api(h).req('GET', `/app/${appId}/msg/${msgId}/endpoint`);
  assert.equal(r.status, 200, r.text);
  return r.json.data.find((d) => d.id === epId)?.status;
}

// Slowly, the receiver's writes meet the closed connection at once: it manages < 1 MB. As fast as it can, it also
// fills the kernel's buffers (about 4 MB on Linux's defaults) before the close reaches it; still far from 100 MB,
// all of which the old read-to-the-end took.
for (const [how, pace, bound] of [['as fast as it can', { chunk: 64 * 1024, everyMs: 0 }, kernelBuffered() + MB],
  ['slowly (64 KiB every 20 ms)', { chunk: 64 * 1024, everyMs: 20 }, MB]]) {
  e2e(`response cap: a 200 that streams 100 MB ${how} is a success at once, 20,000 bytes kept, connection closed`, async (t) => {
    const h = await startHookd(t, { env: { HOOKD_REQUEST_TIMEOUT: '20s' } });
    // the first answer streams 100 MB; the second is a plain 200, to see whether the connection was reused
    const rcv = await startStreamer(t, (i) => (i === 0 ? { status: 200, length: HUNDRED_MB, ...pace } : null));
    const { app, ep, send } = await setup(h, rcv.url, `cap200-${pace.everyMs}`);
    const t0 = performance.now();
    const msg = await send();
    await eventually(async () => assert.equal(await destinationStatus(h, app.id, msg.id, ep.id), 0, 'delivery success'),
      { what: 'delivery success', timeout: 20000, interval: 20 });
    const took = performance.now() - t0;
    assert.ok(took < 3000, `success recorded ${Math.round(took)} ms after the send (request timeout 20 s)`);
    const [a] = await attemptsOf(h, app.id, msg.id, 1);
    assert.equal(a.status, 0);
    assert.equal(a.responseStatusCode, 200);
    assert.equal(a.response.length, CAP, 'the stored response is cut at the cap');
    assert.equal(a.response, 'x'.repeat(CAP));
    assert.ok(a.responseDurationMs < 3000, `attempt took ${a.responseDurationMs} ms`);

    const ans = rcv.answers[0];
    await eventually(() => assert.notEqual(ans.closedAfterMs, null, 'connection closed'),
      { what: 'the receiver sees its connection closed', timeout: 5000 });
    t.diagnostic(`receiver wrote ${ans.bytes} bytes, closed after ${Math.round(ans.closedAfterMs)} ms; success after ${Math.round(took)} ms`);
    assert.ok(ans.bytes < bound, `the receiver wrote ${ans.bytes} bytes before hookd hung up (of 100 MB; bound ${bound})`);
    assert.ok(ans.closedAfterMs < 3000, `closed after ${Math.round(ans.closedAfterMs)} ms`);

    // the next delivery opens a new connection: the one cut off was not put back in the pool
    const msg2 = await send({ n: 2 });
    await eventually(async () => assert.equal(await destinationStatus(h, app.id, msg2.id, ep.id), 0),
      { what: 'second delivery success', timeout: 10000 });
    assert.equal(rcv.answers.length, 2);
    assert.notEqual(rcv.answers[1].socket, ans.socket, 'the aborted connection is not reused');
    assert.equal(await h.stop(), 0);
    assert.doesNotMatch(h.logs(), /Failure writing output|Failed writing/i, 'the cap is not logged as a network error');
  });
}

e2e('response cap: a 500 with an endless body is a failed attempt with status 500, then retried', async (t) => {
  const h = await startHookd(t, {
    env: { HOOKD_REQUEST_TIMEOUT: '20s', HOOKD_RETRY_SCHEDULE: '100ms,100ms', HOOKD_LOG_LEVEL: 'debug' },
  });
  // chunked and endless, 16 KiB every 10 ms; then a plain 200
  const rcv = await startStreamer(t, (i) => (i === 0 ? { status: 500, chunk: 16 * 1024, everyMs: 10 } : null));
  const { app, ep, send } = await setup(h, rcv.url, 'cap500');
  const t0 = performance.now();
  const msg = await send();
  const atts = await attemptsOf(h, app.id, msg.id, 2);
  const took = performance.now() - t0;
  assert.ok(took < 5000, `both attempts within ${Math.round(took)} ms (request timeout 20 s)`);
  assert.deepEqual(atts.map((a) => [a.status, a.responseStatusCode]), [[2, 500], [0, 200]]);
  assert.equal(atts[0].response, 'x'.repeat(CAP));
  assert.equal(atts[1].response, 'ok');
  await eventually(async () => assert.equal(await destinationStatus(h, app.id, msg.id, ep.id), 0),
    { what: 'delivery success' });
  assert.ok(rcv.answers[0].bytes < MB, `the receiver wrote ${rcv.answers[0].bytes} bytes before hookd hung up`);
  assert.notEqual(rcv.answers[1].socket, rcv.answers[0].socket, 'the retry came on a new connection');
  assert.equal(rcv.answers[1].webhookId, msg.id);
  assert.equal(await h.stop(), 0);
  const logs = h.logs();
  assert.match(logs, /outcome=retry status=500 /, 'the 500 is logged as an answer with its status, not a network error');
  assert.doesNotMatch(logs, /Failure writing output|Failed writing/i, 'not as a network (write) error');
});
