// flood.test.mjs: slow and flooding clients cannot lock the others out: the per-address cap
// (--max-connections-per-ip), the deadline on receiving a request (--receive-timeout), and room made for new
// clients when the connections near --max-connections (docs/security.md).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { api, e2e, fetchMetrics, rawHttp, startHookd } from './lib/harness.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** This process's open-file limit (a child shell inherits it). */
function openFileLimit() {
  const v = execFileSync('sh', ['-c', 'ulimit -n']).toString().trim();
  return v === 'unlimited' ? Infinity : Number(v);
}

/**
 * A slowloris: n connections to h (from addresses, in turn), each sending a request line and then one more header
 * byte every everyMs, which resets libmicrohttpd's idle timeout every time. With reconnectMs, a connection the
 * server closes is opened again that much later, as a determined attacker does. Resolves once every connection
 * is open or refused; open() counts those still open, stop() ends them.
 */
async function slowloris(t, h, n, { addresses = ['127.0.0.1'], everyMs = 3000, reconnectMs = null } = {}) {
  const socks = new Set();
  let stopped = false, opened = 0;
  const head = `GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: `;
  function connect(i, onSettled) {
    const s = net.connect({ host: '127.0.0.1', port: h.port, localAddress: addresses[i % addresses.length] });
    s.setNoDelay(true);
    let settled = false;
    const settle = () => { if (!settled) { settled = true; onSettled?.(); } };
    s.on('connect', () => { socks.add(s); opened++; s.write(head); settle(); });
    s.on('error', () => {});
    s.on('close', () => {
      socks.delete(s);
      settle();
      if (reconnectMs !== null && !stopped) setTimeout(() => { if (!stopped) connect(i); }, reconnectMs);
    });
  }
  await new Promise((resolve) => {
    let pending = n;
    for (let i = 0; i < n; i++) connect(i, () => { if (--pending === 0) resolve(); });
  });
  const timer = setInterval(() => { for (const s of socks) s.write('a'); }, everyMs);
  const flood = {
    open: () => socks.size,
    opened: () => opened,
    stop() {
      stopped = true;
      clearInterval(timer);
      for (const s of socks) s.destroy();
    },
  };
  t.after(() => flood.stop());
  return flood;
}

/** One request on a fresh connection from localAddress; resolves {status, ms}. */
function probe(h, { path = '/api/v1/health', localAddress, token } = {}) {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: h.port, path, localAddress, agent: false, timeout: 10000,
      headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: performance.now() - t0 }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${localAddress} in 10 s`)));
    req.on('error', reject);
    req.end();
  });
}

async function metric(h, name) {
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(await (await fetchMetrics(h)).text());
  return m ? Number(m[1]) : NaN;
}

const FLOOD = 4500;

e2e('flood: 4,500 slow connections from one address; clients from others are answered within 1 s', async (t) => {
  if (openFileLimit() < FLOOD + 500) {
    t.skip(`ulimit -n is ${openFileLimit()}: this test needs ${FLOOD + 500} open files`);
    return;
  }
  const h = await startHookd(t);
  const t0 = performance.now();
  const flood = await slowloris(t, h, FLOOD, { addresses: ['127.0.0.1'] });
  t.diagnostic(`${flood.opened()} connections opened in ${Math.round(performance.now() - t0)} ms`);
  await sleep(300);
  const times = [];
  for (let i = 0; i < 10; i++) { // over about 4 s, while the slow connections trickle on (their deadline is 10 s)
    const health = await probe(h, { localAddress: '127.0.0.2' });
    assert.equal(health.status, 204);
    const list = await probe(h, { path: '/api/v1/app', localAddress: '127.0.0.3', token: h.token });
    assert.equal(list.status, 200);
    times.push(health.ms, list.ms);
    await sleep(400);
  }
  const max = Math.max(...times);
  t.diagnostic(`new clients answered in ${times.map((x) => Math.round(x)).join(', ')} ms (max ${Math.round(max)})`);
  assert.ok(max < 1000, `every new client answered within 1 s: max ${Math.round(max)} ms`);
  // One address holds at most --max-connections-per-ip (256); the rest were closed as they came.
  assert.ok(flood.open() <= 256, `${flood.open()} slow connections still open`);
  const open = await metric(h, 'hookd_http_connections');
  assert.ok(open <= 256 + 4, `hookd holds ${open} connections`);

  // The slow ones still trickle a byte every 3 s, yet none outlives --receive-timeout (10 s) by much.
  const deadline = t0 + 10000 + 3000;
  while (flood.open() > 0 && performance.now() < deadline) await sleep(100);
  assert.equal(flood.open(), 0, `${flood.open()} slow connections outlived the receive deadline`);
  assert.ok(await metric(h, 'hookd_http_slow_closed_total') >= 200);
  assert.equal((await api(h).req('GET', '/health')).status, 204);
  assert.equal(await h.stop(), 0);
});

e2e('flood: a request must arrive whole within --receive-timeout, however its bytes trickle', async (t) => {
  const h = await startHookd(t, { args: ['--receive-timeout', '2s'] });
  const trickle = (first, next, everyMs = 250) => new Promise((resolve) => {
    const t0 = performance.now();
    const s = net.connect({ host: '127.0.0.1', port: h.port });
    let got = '';
    const timer = setInterval(() => s.write(next), everyMs);
    s.on('connect', () => s.write(first));
    s.on('data', (c) => { got += c; });
    s.on('error', () => {});
    s.on('close', () => { clearInterval(timer); resolve({ ms: performance.now() - t0, got }); });
    setTimeout(() => s.destroy(), 8000);
  });
  const auth = `Authorization: Bearer ${h.token}\r\n`;
  const [headers, body, silent] = await Promise.all([
    trickle('GET /api/v1/health HTTP/1.1\r\nHost: x\r\n', 'X-Slow: a\r\n'),
    trickle(`POST /api/v1/app HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n`, ' '),
    trickle('', ''),
  ]);
  for (const [what, r] of Object.entries({ headers, body, silent })) {
    t.diagnostic(`${what}: closed after ${Math.round(r.ms)} ms`);
    assert.ok(r.ms > 1800 && r.ms < 3500, `trickled ${what}: closed after ${Math.round(r.ms)} ms, not about 2 s`);
    assert.equal(r.got, '', `${what}: no answer, the connection is closed`);
  }
  const { req } = api(h);
  assert.equal((await req('GET', '/app')).json.data.length, 0, 'the trickled POST created nothing');

  // Slow but in time is fine; and a kept-alive connection may wait longer than that between requests.
  const slow = await new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: h.port });
    const parts = ['GET /api/v1/health HTTP/1.1\r\n', 'Host: x\r\n', 'X-A: 1\r\n', '\r\n'];
    let got = '';
    s.on('connect', async () => {
      for (const p of parts) { s.write(p); await sleep(300); }
      await sleep(2700); // idle past --receive-timeout after the answer
      s.write(parts.join(''));
      await sleep(500);
      s.destroy();
    });
    s.on('data', (c) => { got += c; });
    s.on('error', () => {});
    s.on('close', () => resolve(got));
  });
  assert.equal(slow.match(/^HTTP\/1\.1 204/gm)?.length, 2, `two answers on one connection: ${slow}`);
  assert.equal(await h.stop(), 0);
});

e2e('flood: near --max-connections, slow connections make room for new clients', async (t) => {
  // 500 slow connections from 20 addresses against a limit of 400 (no per-address cap), each opened again 100 ms
  // after the server closes it: at 300 open, slow ones get 1 s instead of --receive-timeout.
  const h = await startHookd(t, { args: ['--max-connections', '400', '--max-connections-per-ip', '0'] });
  const addresses = Array.from({ length: 20 }, (_, i) => `127.0.1.${i + 1}`);
  const flood = await slowloris(t, h, 500, { addresses, everyMs: 300, reconnectMs: 100 });
  await sleep(1500);
  const times = [];
  for (let i = 0; i < 10; i++) {
    const r = await probe(h, { path: '/api/v1/app', localAddress: '127.0.2.1', token: h.token });
    assert.equal(r.status, 200);
    times.push(r.ms);
    await sleep(300);
  }
  const max = Math.max(...times);
  t.diagnostic(`new clients answered in ${times.map((x) => Math.round(x)).join(', ')} ms (max ${Math.round(max)}); ` +
    `${flood.opened()} slow connections opened in all`);
  assert.ok(max < 2000, `every new client answered within 2 s: max ${Math.round(max)} ms`);
  assert.ok(await metric(h, 'hookd_http_slow_closed_total') >= 400, 'the slow ones were closed and came back');
  flood.stop();
  assert.equal(await h.stop(), 0);
});
