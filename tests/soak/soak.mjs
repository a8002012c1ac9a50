#!/usr/bin/env node
// soak.mjs: hookd under chaos for a bounded time, then an account of every message it accepted (docs/testing.md).
//
//   HOOKD_BIN=build-san/hookd SOAK_SECONDS=60 node tests/soak/soak.mjs      (make soak; make test runs 60 s)
//
// One hookd (its own port and data dir; on PostgreSQL when HOOKD_TEST_PG is set, like the e2e tests), three apps
// whose endpoints are real receivers in this process: healthy ones (fast, slow, flaky, fifo) that verify each
// signature and record every message id with its arrival time, and hostile ones in the third app (two that accept
// and never answer, one that resets the connection, one that answers 200 with an endless body, one whose port
// refuses). For SOAK_SECONDS: keep-alive clients post messages at SOAK_RATE per second, slow clients trickle
// their requests a few bytes at a time, and about every SOAK_CHAOS_EVERY seconds hookd gets kill -9 or SIGTERM
// and is started again on the same data dir. The ledger is every message id answered 2xx.
//
// Then the chaos stops, hookd drains (until every healthy endpoint has every message it should get, or the API
// says it failed for good, or SOAK_DRAIN_SECONDS pass), and every (accepted message, endpoint its filters take)
// pair is counted: delivered (the receiver answered it 2xx, or the API says success), failed (the API says fail),
// pending (the API says pending or sending), or lost (none of these). The table prints per endpoint and per app,
// with duplicates (a receiver answering 2xx to the same id again: at-least-once) and the healthy endpoints'
// latency from the POST to the receiver, chaos included.
//
// Exit status 1 if anything accepted is lost, a healthy endpoint still has deliveries pending after the drain,
// a signature or payload is wrong, hookd died when not told to, a SIGTERM did not exit 0, or a start failed.
import http from 'node:http';
import net from 'node:net';
import { rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { HOOKD_BIN, PG, api, freePort, startHookd, verifyDelivery } from '../e2e/lib/harness.mjs';

// ---- settings -------------------------------------------------------------------------------------------------

function num(name, dflt) {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) { console.error(`soak: ${name}=${v} is not a number >= 0`); process.exit(2); }
  return n;
}
const SECONDS = num('SOAK_SECONDS', 600);       // chaos and load
const RATE = num('SOAK_RATE', 40);              // messages per second from the keep-alive clients
const CHAOS_EVERY = num('SOAK_CHAOS_EVERY', 8); // mean seconds between restarts (0: none)
const DRAIN_SECONDS = num('SOAK_DRAIN_SECONDS', 20 + Math.round(SECONDS / 20)); // the account's API reads grow with the run
const SLOW_CLIENTS = num('SOAK_SLOW_CLIENTS', 4);
const SEED = num('SOAK_SEED', Math.floor(Math.random() * 2 ** 31));
const KEEP = process.env.SOAK_KEEP === '1';     // keep the data dir even on success

const HOOKD_ENV = {
  HOOKD_RETRY_SCHEDULE: '250ms,500ms,1s,2s,4s',
  HOOKD_RETRY_JITTER: '0.2',
  HOOKD_THROTTLED_MIN_DELAY: '1s',
  HOOKD_REQUEST_TIMEOUT: '2s',
  HOOKD_DRAIN_TIMEOUT: '2s',
  HOOKD_BREAKER_COOLDOWN: '3s',
  HOOKD_LOG_LEVEL: 'info',
};
const DRAIN_MS = 2000;

// ---- small things ---------------------------------------------------------------------------------------------

let rngState = (SEED >>> 0) || 1;
function rand() { // xorshift32: the choices of a run (apps, event types, chaos) repeat with its seed
  rngState ^= rngState << 13; rngState >>>= 0;
  rngState ^= rngState >>> 17;
  rngState ^= rngState << 5; rngState >>>= 0;
  return rngState / 2 ** 32;
}
const pick = (a) => a[Math.floor(rand() * a.length)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();
const T0 = now();
const elapsed = () => ((now() - T0) / 1000).toFixed(1);
function log(msg) { process.stderr.write(`[soak ${elapsed().padStart(6)} s] ${msg}\n`); }

function pct(sorted, q) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Does an endpoint's eventTypes list (null: every type) take this event type? The rules of src/filter.c. */
function takes(types, et) {
  if (!types) return true;
  return types.some((p) => p === '*' || p === et || (p.endsWith('.*') && et.startsWith(p.slice(0, -1)) &&
    et.length > p.length - 1));
}

const failures = []; // what makes the run fail, in words
function fail(msg) { failures.push(msg); log(`FAIL: ${msg}`); }

// ---- the apps and their endpoints -----------------------------------------------------------------------------

const EVENT_TYPES = ['order.created', 'order.paid', 'user.created', 'user.deleted', 'invoice.sent'];
// kind: fast (200 at once), slow (200 after 20-400 ms), flaky (503 one time in four), fifo (fast, ordering fifo),
// hang (never answers), reset (destroys the connection), stream (200 and an endless body), refused (no listener).
// healthy: every delivery must arrive; the others are counted from the API.
const APPS = [
  { uid: 'shop', weight: 4, endpoints: [
    { uid: 'all', kind: 'fast', types: null },
    { uid: 'orders', kind: 'fast', types: ['order.*'] },
    { uid: 'slow', kind: 'slow', types: null },
    { uid: 'flaky', kind: 'flaky', types: ['order.paid', 'user.created'] },
  ] },
  { uid: 'crm', weight: 3, endpoints: [
    { uid: 'all', kind: 'fast', types: null },
    { uid: 'users', kind: 'fifo', types: ['user.*'] },
  ] },
  { uid: 'hostile', weight: 2, endpoints: [
    { uid: 'ok', kind: 'fast', types: null },
    { uid: 'hang1', kind: 'hang', types: null },
    { uid: 'hang2', kind: 'hang', types: ['order.*', 'user.*'] },
    { uid: 'reset', kind: 'reset', types: null },
    { uid: 'stream', kind: 'stream', types: ['order.*', 'invoice.*'] },
    { uid: 'refused', kind: 'refused', types: ['user.*'] },
  ] },
];
const HEALTHY = new Set(['fast', 'slow', 'flaky', 'fifo']);
const LATENCY_KINDS = new Set(['fast', 'fifo']); // the latency summary: endpoints that answer at once
for (const app of APPS) for (const ep of app.endpoints) { ep.app = app; ep.healthy = HEALTHY.has(ep.kind); }
const ENDPOINTS = APPS.flatMap((a) => a.endpoints);

// ---- receivers ------------------------------------------------------------------------------------------------

const servers = [];

/** A receiver for endpoint ep: ep.url, and ep.got: msg id -> {n (answers 2xx written), first (arrival time of the
 *  first one), seq (the payload's)}; ep.bad: signature or payload problems. */
async function startReceiver(ep) {
  ep.got = new Map();
  ep.requests = 0;
  ep.bad = [];
  if (ep.kind === 'refused') {
    ep.url = `http://127.0.0.1:${await freePort()}/hook`;
    return;
  }
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const at = now();
      ep.requests++;
      if (ep.kind === 'hang') return; // never answered: hookd times out
      if (ep.kind === 'reset') { req.socket.destroy(); return; }
      const id = req.headers['webhook-id'];
      let seq = null;
      if (ep.secret) {
        try {
          seq = verifyDelivery(ep.secret, { body: Buffer.concat(chunks).toString(), headers: req.headers }).seq;
        } catch (err) {
          if (ep.bad.length < 5) ep.bad.push(`${id}: ${err.message}`);
          res.writeHead(400).end('bad signature');
          return;
        }
      }
      const answered = () => {
        const g = ep.got.get(id);
        if (g) g.n++;
        else ep.got.set(id, { n: 1, first: at, seq });
      };
      if (ep.kind === 'stream') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const chunk = Buffer.alloc(16 * 1024, 's');
        let open = true;
        res.on('close', () => { open = false; });
        const pump = () => { if (open && !res.destroyed) { res.write(chunk); setTimeout(pump, 20); } };
        answered();
        pump();
        return;
      }
      let status = 200;
      if (ep.kind === 'flaky' && Math.random() < 0.25) status = 503;
      const answer = () => {
        res.on('finish', () => { if (status === 200) answered(); });
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'try later');
      };
      if (ep.kind === 'slow') setTimeout(answer, 20 + Math.random() * 380);
      else answer();
    });
  });
  server.keepAliveTimeout = 30000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  ep.url = `http://127.0.0.1:${server.address().port}/hook`;
}

// ---- the ledger and the clients -------------------------------------------------------------------------------

const ledger = new Map(); // msg id -> {app, et, seq, sent (time the POST began; for slow clients its last byte), slow}
const ingest = { sent: 0, skipped: 0, statuses: new Map(), errors: 0 };
const slow = { sent: 0, accepted: 0, statuses: new Map(), refused: 0, cut: 0 };
let seqNext = 0;
let h; // the hookd
let stopIngest = false;

function chooseApp() {
  const total = APPS.reduce((s, a) => s + a.weight, 0);
  let r = rand() * total;
  for (const a of APPS) if ((r -= a.weight) < 0) return a;
  return APPS.at(-1);
}

function newMessage() {
  const app = chooseApp();
  const et = pick(EVENT_TYPES);
  const seq = seqNext++;
  const body = JSON.stringify({ eventType: et, payload: { seq, app: app.uid, pad: 'p'.repeat(Math.floor(rand() * 300)) } });
  return { app, et, seq, body };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const MAX_POSTS = 48;
let posting = 0;

function count(map, k) { map.set(k, (map.get(k) ?? 0) + 1); }

function post() {
  const m = newMessage();
  const sent = now();
  posting++;
  ingest.sent++;
  return new Promise((resolve) => {
    const done = () => { posting--; resolve(); };
    const req = http.request(`${h.url}/api/v1/app/${m.app.uid}/msg`, {
      method: 'POST', agent, timeout: 10000,
      headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json',
        'content-length': Buffer.byteLength(m.body) },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        count(ingest.statuses, res.statusCode);
        if (res.statusCode >= 200 && res.statusCode <= 299) {
          try {
            ledger.set(JSON.parse(Buffer.concat(chunks).toString()).id, { app: m.app, et: m.et, seq: m.seq, sent, slow: false });
          } catch (err) {
            fail(`a ${res.statusCode} answer to POST /msg without an id: ${Buffer.concat(chunks).toString().slice(0, 200)}`);
          }
        }
        done();
      });
      res.on('error', () => { ingest.errors++; done(); });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => { ingest.errors++; done(); }); // refused while hookd is down, reset when it dies
    req.end(m.body);
  });
}

/** Post at RATE per second until stopIngest; a tick that finds MAX_POSTS in flight skips its messages. */
async function ingestLoop() {
  const start = now();
  let issued = 0;
  while (!stopIngest) {
    const due = Math.floor(((now() - start) / 1000) * RATE);
    for (; issued < due; issued++) {
      if (posting >= MAX_POSTS) ingest.skipped++;
      else post();
    }
    await sleep(10);
  }
  const deadline = now() + 15000;
  while (posting > 0 && now() < deadline) await sleep(20);
}

const slowSockets = new Set();

/** One message from a slow client: a raw connection that trickles the body (and with headsToo, the headers) a few
 *  bytes at a time, then reads the answer. Resolves when the connection closes: true if it was refused. */
function slowPost(headsToo) {
  const m = newMessage();
  const head = `POST /api/v1/app/${m.app.uid}/msg HTTP/1.1\r\nHost: 127.0.0.1:${h.port}\r\n` +
    `Authorization: Bearer ${h.token}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(m.body)}\r\nConnection: close\r\n\r\n`;
  slow.sent++;
  return new Promise((resolve) => {
    const sock = net.connect(h.port, '127.0.0.1');
    slowSockets.add(sock);
    const pieces = [];
    if (headsToo) for (let i = 0; i < head.length; i += 24) pieces.push(head.slice(i, i + 24));
    else pieces.push(head);
    const body = m.body.slice(0, 160); // the rest of a long body goes in one piece at the end
    for (let i = 0; i < body.length; i += 10) pieces.push(body.slice(i, i + 10));
    if (m.body.length > 160) pieces.push(m.body.slice(160));
    let lastByte = null, answer = '', refused = false;
    const timer = setTimeout(() => sock.destroy(), 30000);
    sock.setNoDelay(true);
    sock.on('connect', async () => {
      for (const p of pieces) {
        if (sock.destroyed || stopIngest) { sock.destroy(); return; }
        sock.write(p);
        await sleep(150);
      }
      lastByte = now();
    });
    sock.on('data', (c) => { answer += c; });
    sock.on('error', (err) => { if (err.code === 'ECONNREFUSED') refused = true; });
    sock.on('close', () => {
      clearTimeout(timer);
      slowSockets.delete(sock);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? 0);
      if (status !== 0) count(slow.statuses, status);
      else if (refused) slow.refused++;
      else slow.cut++; // reset by a stop or a kill, or by us at the end
      if (status >= 200 && status <= 299) {
        const text = answer.slice(answer.indexOf('\r\n\r\n') + 4);
        try {
          ledger.set(JSON.parse(text).id, { app: m.app, et: m.et, seq: m.seq, sent: lastByte ?? now(), slow: true });
          slow.accepted++;
        } catch {
          fail(`a slow client's ${status} answer without an id: ${answer.slice(0, 300)}`);
        }
      }
      resolve(refused);
    });
  });
}

async function slowLoop(headsToo) {
  while (!stopIngest) {
    const refused = await slowPost(headsToo);
    if (!stopIngest) await sleep((refused ? 500 : 100) + Math.random() * 400); // hookd down: a longer pause
  }
}

// ---- hookd and the chaos --------------------------------------------------------------------------------------

let changing = false; // the chaos loop is stopping or starting hookd: an exit now is expected
const chaos = { kill9: 0, term: 0, termBad: 0, stopMs: [], startMs: [], crashes: 0 };

function alive() { return h.proc && h.proc.exitCode === null && h.proc.signalCode === null; }

/** Called often: hookd exiting on its own is a crash; note it, show its log, and start it again. */
async function watch() {
  while (!stopWatch) {
    if (!changing && !alive()) {
      changing = true;
      chaos.crashes++;
      fail(`hookd exited by itself (code ${h.proc.exitCode}, signal ${h.proc.signalCode}) ${elapsed()} s in; ` +
        `its log ends:\n${h.logs().slice(-4000)}`);
      try { await start(); } catch (err) { fail(`restart after the crash: ${err.message.slice(0, 2000)}`); stopWatch = true; }
      changing = false;
    }
    await sleep(200);
  }
}
let stopWatch = false;

async function start() {
  const t = now();
  await h.restart(); // throws if not healthy within 15 s
  chaos.startMs.push(now() - t);
}

const firstKill = rand() < 0.5 ? 1 : 0;

async function chaosLoop(until) {
  if (CHAOS_EVERY <= 0) { await sleep(until - now()); return; }
  for (;;) {
    const wait = CHAOS_EVERY * 1000 * (0.5 + rand());
    if (now() + wait >= until) { await sleep(Math.max(0, until - now())); return; }
    await sleep(wait);
    if (changing || !alive()) continue; // the watcher is restarting a crashed one
    changing = true;
    const kill = (chaos.kill9 + chaos.term + firstKill) % 2 === 1; // alternate, so that a short run has both
    const t = now();
    const code = kill ? await h.kill9() : await h.stop();
    const took = now() - t;
    if (kill) {
      chaos.kill9++;
      if (code !== 137) fail(`kill -9: hookd exited ${code}, not 137 (it had died already?)`);
    } else {
      chaos.term++;
      chaos.stopMs.push(took);
      if (code !== 0) chaos.termBad++;
      if (code !== 0) fail(`SIGTERM: hookd exited ${code} after ${Math.round(took)} ms; its log ends:\n${h.logs().slice(-4000)}`);
    }
    log(`${kill ? 'kill -9' : 'SIGTERM'}: exit ${code} in ${Math.round(took)} ms; ${ledger.size} accepted so far`);
    await sleep(rand() * 800); // down a while: clients are refused
    try {
      await start();
    } catch (err) {
      fail(`hookd did not start again: ${err.message.slice(0, 4000)}`);
      changing = false;
      throw err;
    }
    changing = false;
  }
}

// ---- the account ----------------------------------------------------------------------------------------------

/** Every delivery of an endpoint through the API: msg id -> status (0 success, 1 pending, 2 fail, 3 sending,
 *  4 canceled). */
async function apiStatuses(ep) {
  const out = new Map();
  let iterator = null;
  for (let page = 0; page < 100000; page++) {
    const q = `limit=250&with_content=false${iterator ? `&iterator=${encodeURIComponent(iterator)}` : ''}`;
    const r = await api(h).req('GET', `/app/${ep.app.uid}/endpoint/${ep.uid}/msg?${q}`);
    if (r.status !== 200) throw new Error(`GET ${ep.app.uid}/${ep.uid} msgs: ${r.status} ${r.text.slice(0, 200)}`);
    for (const d of r.json.data) out.set(d.id, d.status);
    if (r.json.done || !r.json.iterator || r.json.data.length === 0) break;
    iterator = r.json.iterator;
  }
  return out;
}

/** The (message, endpoint) pairs hookd owes: every ledger message to every endpoint of its app that takes it. */
function expected(ep) {
  const ids = [];
  for (const [id, m] of ledger) if (m.app === ep.app && takes(ep.types, m.et)) ids.push(id);
  return ids;
}

/** Wait until every healthy endpoint has every message it should get and hookd has recorded it (the API says
 *  success), or the API says it failed for good. The receivers are asked first; the API once they have it all,
 *  or once they stop getting more. */
async function drain() {
  const t = now();
  const deadline = t + DRAIN_SECONDS * 1000;
  const healthy = ENDPOINTS.filter((e) => e.healthy);
  let lastRcv = -1;
  for (;;) {
    let missing = 0;
    for (const ep of healthy) for (const id of expected(ep)) if (!ep.got.has(id)) missing++;
    if (missing === 0 || missing === lastRcv || now() + 1000 > deadline) {
      const rcv = missing;
      missing = 0;
      for (const ep of healthy) {
        const st = await apiStatuses(ep);
        for (const id of expected(ep)) {
          const s = st.get(id);
          if (!((ep.got.has(id) && s === 0) || s === 2)) missing++;
        }
      }
      lastRcv = rcv;
    } else {
      lastRcv = missing;
    }
    if (missing === 0) return { ms: now() - t, missing: 0 };
    if (now() > deadline) return { ms: now() - t, missing };
    await sleep(500);
  }
}

function fmtMs(v) { return v === null ? '-' : v >= 10000 ? `${(v / 1000).toFixed(1)}s` : `${Math.round(v)}`; }

function table(rows, cols) {
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (r) => cols.map((c, i) => (i < 3 ? String(r[c] ?? '').padEnd(w[i]) : String(r[c] ?? '').padStart(w[i]))).join('  ');
  return [line(Object.fromEntries(cols.map((c) => [c, c]))), ...rows.map(line)].join('\n');
}

async function account(drained) {
  const rows = [];
  const latAll = new Map(); // app uid -> latencies of its fast endpoints
  let lostTotal = 0, stuckTotal = 0;
  for (const app of APPS) {
    const tot = { app: app.uid, endpoint: '(all)', kind: '', accepted: 0, delivered: 0, failed: 0, pending: 0, lost: 0, dups: 0 };
    const msgs = [...ledger.values()].filter((m) => m.app === app).length;
    const lat = [];
    for (const ep of app.endpoints) {
      const st = await apiStatuses(ep);
      const r = { app: app.uid, endpoint: ep.uid, kind: ep.kind, accepted: 0, delivered: 0, failed: 0, pending: 0, lost: 0, dups: 0 };
      const epLat = [];
      const lostIds = [], unsettled = [], phantom = [];
      for (const id of expected(ep)) {
        r.accepted++;
        const g = ep.got.get(id); // the receiver answered it 2xx (healthy and stream endpoints)
        const s = st.get(id);     // what hookd says
        if ((ep.healthy && g) || s === 0) r.delivered++;
        else if (s === 2) r.failed++;
        else if (s === 1 || s === 3) r.pending++;
        else { r.lost++; if (lostIds.length < 10) lostIds.push(`${id} (api: ${s ?? 'no delivery'})`); }
        if (ep.healthy && g && s !== 0 && s !== 2 && unsettled.length < 10) unsettled.push(`${id} (api: ${s ?? 'no delivery'})`);
        if (ep.healthy && !g && s === 0) phantom.push(id);
        if (!g) continue;
        const m = ledger.get(id);
        r.dups += g.n - 1;
        if (ep.healthy && g.seq !== m.seq) fail(`${app.uid}/${ep.uid}: ${id} arrived with seq ${g.seq}, was posted with ${m.seq}`);
        if (ep.healthy && !m.slow) epLat.push(g.first - m.sent);
      }
      if (ep.bad.length) fail(`${app.uid}/${ep.uid}: deliveries that did not verify: ${ep.bad.join('; ')}`);
      if (r.lost) fail(`${app.uid}/${ep.uid}: ${r.lost} accepted message(s) lost, e.g. ${lostIds.join(', ')}`);
      if (unsettled.length) fail(`${app.uid}/${ep.uid}: received, but after the drain hookd has not recorded the outcome: ${unsettled.join(', ')}`);
      if (phantom.length) fail(`${app.uid}/${ep.uid}: ${phantom.length} recorded as success that the receiver never answered 2xx, e.g. ${phantom.slice(0, 5).join(', ')}`);
      if (ep.healthy && r.pending) {
        stuckTotal += r.pending;
        fail(`${app.uid}/${ep.uid}: a healthy endpoint still has ${r.pending} deliveries pending after the drain`);
      }
      lostTotal += r.lost;
      epLat.sort((a, b) => a - b);
      if (LATENCY_KINDS.has(ep.kind)) lat.push(...epLat);
      r.p50 = ep.healthy ? fmtMs(pct(epLat, 0.5)) : '';
      r.p99 = ep.healthy ? fmtMs(pct(epLat, 0.99)) : '';
      r.max = ep.healthy ? fmtMs(epLat.at(-1) ?? null) : '';
      r.requests = ep.requests;
      for (const k of ['accepted', 'delivered', 'failed', 'pending', 'lost', 'dups']) tot[k] += r[k];
      rows.push(r);
    }
    lat.sort((a, b) => a - b);
    latAll.set(app.uid, lat);
    tot.endpoint = `(all: ${msgs} msgs)`;
    tot.p50 = fmtMs(pct(lat, 0.5));
    tot.p99 = fmtMs(pct(lat, 0.99));
    tot.max = fmtMs(lat.at(-1) ?? null);
    rows.push(tot);
  }
  // messages that arrived without being in the ledger: accepted by hookd, but the 2xx never reached the client
  const unledgered = new Set();
  for (const ep of ENDPOINTS) for (const id of ep.got.keys()) if (!ledger.has(id)) unledgered.add(id);

  const statuses = (m) => [...m].sort((a, b) => a[0] - b[0]).map(([k, v]) => `${k}:${v}`).join(' ') || '-';
  const out = [];
  out.push(`soak: ${SECONDS} s of chaos on ${PG ? 'PostgreSQL' : 'SQLite'}, ${HOOKD_BIN}, seed ${SEED}`);
  out.push(`  clients: ${ingest.sent} posts at ${RATE}/s (answers ${statuses(ingest.statuses)}; ${ingest.errors} refused or ` +
    `reset; ${ingest.skipped} skipped with ${MAX_POSTS} in flight), ${slow.sent} slow posts (answers ` +
    `${statuses(slow.statuses)}; ${slow.refused} refused, ${slow.cut} cut off by a stop or the end)`);
  out.push(`  ledger: ${ledger.size} messages accepted (2xx), ${slow.accepted} of them from slow clients; ` +
    `${unledgered.size} delivered whose 2xx the client never got (not counted)`);
  const stopMax = chaos.stopMs.length ? Math.round(Math.max(...chaos.stopMs)) : 0;
  const startMax = chaos.startMs.length ? Math.round(Math.max(...chaos.startMs)) : 0;
  out.push(`  chaos: ${chaos.kill9} kill -9, ${chaos.term} SIGTERM` +
    `${chaos.term ? ` (${chaos.term - chaos.termBad} exited 0; slowest stop ${stopMax} ms, drain timeout ${DRAIN_MS} ms)` : ''}, ` +
    `slowest start ${startMax} ms, ${chaos.crashes} unexpected exits`);
  out.push(`  drain: ${drained.missing === 0 ? 'done' : `${drained.missing} healthy deliveries still missing`} after ` +
    `${(drained.ms / 1000).toFixed(1)} s (limit ${DRAIN_SECONDS} s)`);
  out.push('');
  out.push(table(rows, ['app', 'endpoint', 'kind', 'accepted', 'delivered', 'failed', 'pending', 'lost', 'dups',
    'p50', 'p99', 'max', 'requests']));
  out.push('');
  out.push('  accepted = delivered + failed + pending + lost, per (message, endpoint its filters take); dups: a receiver');
  out.push('  answered 2xx to the same id again; p50/p99/max: ms from the POST to the receiver (healthy endpoints; the');
  out.push('  (all) line: the fast ones), chaos included; requests: what the receiver saw, retries included.');
  const latLine = APPS.map((a) => { const l = latAll.get(a.uid); return `${a.uid} p50 ${fmtMs(pct(l, 0.5))} ms, p99 ${fmtMs(pct(l, 0.99))} ms`; });
  out.push(`  healthy endpoints' latency during the chaos: ${latLine.join('; ')}`);
  out.push(`  lost: ${lostTotal}; healthy deliveries stuck pending: ${stuckTotal}`);
  return out.join('\n');
}

// ---- main -----------------------------------------------------------------------------------------------------

async function main() {
  log(`${SECONDS} s, ${RATE} msg/s, a restart every ~${CHAOS_EVERY} s, ${SLOW_CLIENTS} slow clients, seed ${SEED}, ` +
    `${HOOKD_BIN} on ${PG ? 'PostgreSQL' : 'SQLite'}`);
  for (const ep of ENDPOINTS) await startReceiver(ep);
  h = await startHookd(null, { env: HOOKD_ENV });
  process.stdout.write(''); // (keeps stdout for the report)
  log(`hookd on ${h.url}, data ${h.dataDir}`);
  const { req } = api(h);
  for (const app of APPS) {
    const r = await req('POST', '/app', { name: app.uid, uid: app.uid });
    if (r.status !== 201) throw new Error(`create app ${app.uid}: ${r.status} ${r.text}`);
    for (const ep of app.endpoints) {
      const body = { uid: ep.uid, url: ep.url, description: ep.kind };
      if (ep.types) body.filterTypes = ep.types;
      if (ep.kind === 'fifo') body.ordering = 'fifo';
      const e = await req('POST', `/app/${app.uid}/endpoint`, body);
      if (e.status !== 201) throw new Error(`create endpoint ${app.uid}/${ep.uid}: ${e.status} ${e.text}`);
      const s = await req('GET', `/app/${app.uid}/endpoint/${ep.uid}/secret`);
      if (s.status !== 200) throw new Error(`secret of ${app.uid}/${ep.uid}: ${s.status} ${s.text}`);
      ep.secret = s.json.key;
    }
  }

  const until = now() + SECONDS * 1000;
  const watcher = watch();
  const loads = [ingestLoop(), ...Array.from({ length: SLOW_CLIENTS }, (_, i) => slowLoop(i % 2 === 1))];
  const progress = setInterval(() => log(`${ledger.size} accepted, ${ingest.errors} refused or reset`), 15000);
  let chaosErr = null;
  try {
    await chaosLoop(until);
  } catch (err) {
    chaosErr = err;
  }
  clearInterval(progress);
  stopIngest = true;
  for (const s of slowSockets) s.destroy(); // a half-sent request is not accepted
  await Promise.all(loads);
  agent.destroy();
  while (changing) await sleep(50); // the watcher may be restarting a crash
  stopWatch = true;
  await watcher;
  if (chaosErr || !alive()) {
    log('hookd is not running: no account can be made');
    return finish(null);
  }
  log(`chaos over: ${ledger.size} accepted; draining`);
  const drained = await drain();
  const report = await account(drained);
  const t = now();
  const code = await h.stop();
  if (code !== 0) fail(`the final SIGTERM: hookd exited ${code}; its log ends:\n${h.logs().slice(-4000)}`);
  log(`final stop: exit ${code} in ${Math.round(now() - t)} ms`);
  const sanitizer = h.runs.map((r) => r.text).join('\n').match(/(AddressSanitizer|LeakSanitizer|runtime error:)[^\n]*/);
  if (sanitizer) fail(`a sanitizer spoke: ${sanitizer[0]}`);
  return finish(report);
}

async function finish(report) {
  for (const s of servers) { s.closeAllConnections(); s.close(); }
  if (report) process.stdout.write(`${report}\n`);
  if (failures.length) {
    process.stdout.write(`\nsoak FAILED (${failures.length}):\n${failures.map((f) => `  - ${f}`).join('\n')}\n`);
    process.stdout.write(`  data dir kept: ${h?.dataDir}\n`);
    if (h?.proc && alive()) await h.kill9();
    return 1;
  }
  process.stdout.write('\nsoak passed: nothing accepted was lost\n');
  if (h && !KEEP) await rm(h.dataDir, { recursive: true, force: true });
  return 0;
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(130)); // the harness kills hookd on exit
main().then((code) => process.exit(code), (err) => {
  process.stdout.write(`soak: ${err.stack}\n`);
  if (failures.length) process.stdout.write(`${failures.map((f) => `  - ${f}`).join('\n')}\n`);
  process.exit(1);
});
