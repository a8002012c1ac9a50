// harness.mjs: what every e2e test shares. One hookd per test (fresh port and data dir), real HTTP
// receivers, and cleanup that runs even when a test fails, so no test leaves a process or a directory behind.
//
//   e2e(name, async (t) => {
//     const h = await startHookd(t, { env: { HOOKD_RETRY_SCHEDULE: '100ms' } });
//     const rcv = await startReceiver(t, [503, 200]);
//     ...
//     assert.equal(await h.stop(), 0);
//   });
//
// e2e() wraps node:test's test() and prints the hookd logs of a test that fails or times out.
//
// PostgreSQL: with HOOKD_TEST_PG set (a superuser's URL; `make e2e-pg` runs the suite under scripts/pg.sh, which
// sets it), every hookd runs on a database of its own on that server (HOOKD_DB), created before it starts and dropped
// after its test; a hookd started again on the same data dir gets the same database. Without it, SQLite in the data
// dir, as always. startHookd(t, { db: h1.db }) starts another node on h1's database; { db: null } keeps SQLite.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Svix } from 'svix';
import { Webhook } from 'standardwebhooks';

const here = path.dirname(fileURLToPath(import.meta.url));
export const HOOKD_BIN = path.resolve(process.env.HOOKD_BIN || path.join(here, '../../../build/hookd'));

/** The PostgreSQL server the hookds run on (a URL), or null: SQLite. */
export const PG = process.env.HOOKD_TEST_PG || null;
const PSQL = process.env.HOOKD_TEST_PG_BIN ? path.join(process.env.HOOKD_TEST_PG_BIN, 'psql') : 'psql';

/** Run SQL with psql on url (default: HOOKD_TEST_PG's database); resolves with its unaligned output. */
export function pgSql(sql, url = PG) {
  return new Promise((resolve, reject) => {
    execFile(PSQL, ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql], { timeout: 30000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`psql ${sql}: ${stderr.trim() || err.message}`));
        else resolve(stdout);
      });
  });
}

const PG_SH = path.join(here, '../../../scripts/pg.sh');

/** scripts/pg.sh with args (start, stop DIR, ctl DIR ...); resolves with what it printed. */
export function pgsh(...args) {
  return new Promise((resolve, reject) => {
    execFile('sh', [PG_SH, ...args], { timeout: 60000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`pg.sh ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

/** A PostgreSQL cluster of the test's own, to stop and start under it: {url, dir}, removed after the test. */
export async function pgOwnCluster(t) {
  const out = await pgsh('start');
  const v = (name) => (out.match(new RegExp(`${name}='?([^'\\n]+)'?`)) || [])[1];
  const cluster = { url: v('HOOKD_TEST_PG'), dir: v('HOOKD_TEST_PG_DIR') };
  if (!cluster.url || !cluster.dir) throw new Error(`pg.sh start printed ${out}`);
  t.after(() => pgsh('stop', cluster.dir).catch(() => {}));
  return cluster;
}

/** The URL of database name on the same server as HOOKD_TEST_PG (same user, host, port and parameters). */
export function pgUrl(name) {
  const u = new URL(PG);
  u.pathname = `/${name}`;
  return u.toString();
}

// The database of each data dir, while a test uses it: dataDir -> {name, url, refs (hookds with a test context),
// made (a promise: CREATE DATABASE done)}.
const pgDbs = new Map();

async function pgDatabaseFor(dataDir) {
  let db = pgDbs.get(dataDir);
  if (!db) {
    const name = `hookd_e2e_${randomBytes(6).toString('hex')}`;
    db = { name, url: pgUrl(name), refs: 0, made: pgSql(`CREATE DATABASE ${name}`) };
    pgDbs.set(dataDir, db);
    db.made.catch(() => pgDbs.delete(dataDir));
  }
  await db.made;
  return db;
}

async function pgRelease(dataDir, db) {
  if (--db.refs > 0 || pgDbs.get(dataDir) !== db) return;
  pgDbs.delete(dataDir);
  try {
    await pgSql(`DROP DATABASE IF EXISTS ${db.name} WITH (FORCE)`);
  } catch (err) {
    process.stderr.write(`[harness: ${err.message}]\n`); // the cluster goes away with pg.sh anyway
  }
}

// The nodes of one database share the key that encrypts its stored secrets (docs/security.md): a hookd started on
// another's database (opts.db) gets a copy of the first one's DIR/secret.key. dbUrl -> the first node's data dir.
const keyDirs = new Map();

function shareSecretKey(dbUrl, dataDir, env, args) {
  if (!dbUrl || env.HOOKD_SECRET_KEY !== undefined || args.some((a) => a.startsWith('--secret-key'))) return;
  const first = keyDirs.get(dbUrl);
  const theirs = first && path.join(first, 'secret.key'), ours = path.join(dataDir, 'secret.key');
  if (first && first !== dataDir && existsSync(theirs)) {
    if (!existsSync(ours)) copyFileSync(theirs, ours);
  } else if (!first || !existsSync(theirs)) {
    keyDirs.set(dbUrl, dataDir);
  }
}

// Settings that make a test fast and deterministic; a test's env overrides them.
export const TEST_ENV = {
  HOOKD_RETRY_SCHEDULE: '100ms,200ms,400ms',
  HOOKD_RETRY_JITTER: '0',
  HOOKD_THROTTLED_MIN_DELAY: '0',
  HOOKD_REQUEST_TIMEOUT: '5s',
  HOOKD_DRAIN_TIMEOUT: '3s',
  HOOKD_LOG_LEVEL: 'info',
};

const LOG_CAP = 512 * 1024; // keep the last 512 KiB of a run's output
/** Over the cap: the per-delivery outcome lines go first (a long run's other lines, which tests look for, outlive
 *  them), then the oldest of the rest. */
function trimLog(text) {
  const kept = text.split('\n').filter((l) => !/ info delivery app=/.test(l)).join('\n');
  if (kept.length <= LOG_CAP / 2) return `[... delivery lines dropped]\n${kept}`;
  return `[...]\n${kept.slice(-LOG_CAP / 2)}`;
}
const live = new Set(); // every hookd process still running, killed if this process exits
process.on('exit', () => {
  for (const p of live) try { p.kill('SIGKILL'); } catch { /* gone */ }
});

// Hookds started by each test, for printing their logs when it fails.
const byTest = new WeakMap();

/** The limit scripts/e2e.sh gives node --test (--test-timeout). It also bounds each file's process as a whole. */
const TEST_TIMEOUT_MS = Number(process.env.E2E_TIMEOUT_MS) || 120000;

/** A test whose failure or timeout prints the output of the hookds it started. A file that times out is killed
 *  without its after hooks running, so the logs are also printed a little before the nearer of the two limits. */
export function e2e(name, fn, opts = {}) {
  return test(name, opts, async (t) => {
    let settled = false;
    t.after(() => { if (!settled) dumpLogs(t, 'timed out or was cancelled'); });
    const left = Math.min(opts.timeout ?? TEST_TIMEOUT_MS, TEST_TIMEOUT_MS - process.uptime() * 1000) - 3000;
    const watchdog = setTimeout(() => dumpLogs(t, `is about to time out (${Math.round(left)} ms)`), Math.max(left, 0));
    watchdog.unref();
    try {
      await fn(t);
    } catch (err) {
      dumpLogs(t, 'failed');
      throw err;
    } finally {
      settled = true;
      clearTimeout(watchdog);
    }
  });
}

function dumpLogs(t, why) {
  for (const h of byTest.get(t) ?? [])
    process.stderr.write(`\n----- ${t.name} ${why}: hookd on port ${h.port} -----\n${h.allLogs()}\n----- end -----\n`);
}

/** A free TCP port on 127.0.0.1 (bind port 0, read it, close). */
export async function freePort() {
  const srv = net.createServer();
  await new Promise((res, rej) => { srv.once('error', rej); srv.listen(0, '127.0.0.1', res); });
  const { port } = srv.address();
  await new Promise((res) => srv.close(res));
  return port;
}

/** The environment for a hookd child: ours without HOOKD_*, then TEST_ENV, then overrides
 *  (an override of undefined removes the variable). */
function childEnv(overrides) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HOOKD_')) env[k] = v;
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined || v === null) delete env[k];
    else env[k] = String(v);
  }
  return env;
}

function exitCode(code, signal) {
  if (code !== null) return code;
  return 128 + (os.constants.signals[signal] ?? 0);
}

/**
 * Start `hookd serve --listen 127.0.0.1:PORT --data DIR` and wait until GET /api/v1/health answers 204.
 * t: the test context (cleanup and log dumps are tied to it), or null to clean up by hand.
 * opts.env: extra environment; opts.token: the HOOKD_TOKEN (default random; null: none, hookd makes one and
 * the harness reads it from DIR/token); opts.dataDir, opts.port: reuse these; opts.args: more flags.
 * opts.db: the HOOKD_DB URL to use (another hookd's h.db: a second node), or null for hookd's default (SQLite);
 * by default, with HOOKD_TEST_PG set, the data dir's own database (see the top), unless env or args set one.
 * h.db is the database URL given to hookd, or null.
 * The receivers of the tests listen on 127.0.0.1, which the SSRF guard blocks: hookd gets
 * --allow-network 127.0.0.0/8 unless opts.guard is true (the default guard) or opts.args has its own.
 */
export async function startHookd(t, opts = {}) {
  const port = opts.port ?? await freePort();
  const ownDir = !opts.dataDir;
  const dataDir = opts.dataDir ?? await mkdtemp(path.join(os.tmpdir(), 'hookd-e2e-'));
  const fixedToken = opts.token === undefined ? `testtoken-${randomBytes(12).toString('hex')}` : opts.token;
  const testSetsDb = opts.env?.HOOKD_DB !== undefined || (opts.args ?? []).some((a) => a === '--db' || a.startsWith('--db='));
  let pgDb = null; // the data dir's database, when the harness made it
  let dbUrl = opts.db ?? null;
  if (opts.db === undefined && PG && !testSetsDb) {
    pgDb = await pgDatabaseFor(dataDir);
    if (t) pgDb.refs++;
    dbUrl = pgDb.url;
  }
  const env = childEnv({ ...TEST_ENV, HOOKD_TOKEN: fixedToken ?? undefined, HOOKD_DB: dbUrl ?? undefined, ...opts.env });
  const ownGuard = opts.guard || (opts.args ?? []).some((a) => a === '--allow-network' || a.startsWith('--allow-network='));
  const args = ['serve', '--listen', `127.0.0.1:${port}`, '--data', dataDir,
    ...(ownGuard ? [] : ['--allow-network', '127.0.0.0/8']), ...(opts.args ?? [])];

  const h = {
    url: `http://127.0.0.1:${port}`, port, dataDir, token: fixedToken, db: dbUrl, proc: null, runs: [],
    logs: () => h.runs.at(-1)?.text ?? '',
    allLogs: () => h.runs.map((r, i) => `[run ${i + 1}: ${r.cmd}]\n${r.text}`).join('\n'),
    /** SIGTERM; resolves with the exit code (128+signal if killed by one; a stuck hookd is killed after 20 s). */
    stop: () => signalAndWait('SIGTERM', 20000),
    kill9: () => signalAndWait('SIGKILL', 10000),
    /** Start again with the same data dir, port, token and environment. */
    restart: () => launch(),
  };
  let exited = null; // promise of the current run's exit code

  function signalAndWait(sig, graceMs) {
    const p = h.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return exited ?? Promise.resolve(null);
    h.runs.at(-1).stopped = true;
    p.kill(sig);
    const timer = setTimeout(() => {
      h.runs.at(-1).text += `\n[harness: no exit ${graceMs} ms after ${sig}; SIGKILL]\n`;
      p.kill('SIGKILL');
    }, graceMs);
    return exited.finally(() => clearTimeout(timer));
  }

  async function launch() {
    if (h.proc && h.proc.exitCode === null && h.proc.signalCode === null) throw new Error('hookd is still running');
    shareSecretKey(dbUrl, dataDir, env, args);
    const run = { cmd: `${env.HOOKD_DB ? `HOOKD_DB=${env.HOOKD_DB} ` : ''}${HOOKD_BIN} ${args.join(' ')}`, text: '' };
    h.runs.push(run);
    const proc = spawn(HOOKD_BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    h.proc = proc;
    live.add(proc);
    const append = (chunk) => {
      run.text += chunk.toString();
      if (run.text.length > LOG_CAP) run.text = trimLog(run.text);
    };
    proc.stdout.on('data', append);
    proc.stderr.on('data', append);
    exited = new Promise((resolve) => {
      proc.once('error', (err) => { append(`[harness: spawn failed: ${err.message}]\n`); live.delete(proc); resolve(-1); });
      proc.once('close', (code, signal) => {
        live.delete(proc);
        // died by itself after it was up (a crash, a sanitizer's report): said at once, as the test may only
        // notice it by waiting for something that never comes
        if (run.healthy && !run.stopped)
          process.stderr.write(`\n----- ${t?.name ?? 'hookd'}: hookd on port ${h.port} exited by itself ` +
            `(${exitCode(code, signal)}) -----\n${run.text.slice(-6000)}\n----- end -----\n`);
        resolve(exitCode(code, signal));
      });
    });
    await waitHealthy(run);
    run.healthy = true;
    return h;
  }

  async function waitHealthy(run) {
    const deadline = performance.now() + 15000;
    let last = 'no answer';
    while (performance.now() < deadline) {
      if (h.proc.exitCode !== null || h.proc.signalCode !== null || h.proc.pid === undefined) {
        const code = await exited;
        throw new Error(`hookd exited (${code}) before it was healthy:\n${run.text}`);
      }
      if (h.token === null && existsSync(path.join(dataDir, 'token')))
        h.token = readFileSync(path.join(dataDir, 'token'), 'utf8').trim() || null;
      try {
        const headers = h.token ? { authorization: `Bearer ${h.token}` } : {};
        const res = await fetch(`${h.url}/api/v1/health`, { headers, signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        if (res.status === 204 && h.token) return;
        last = h.token ? `status ${res.status}` : `status ${res.status}, no ${dataDir}/token yet`;
      } catch (err) {
        last = err.cause?.code ?? err.message;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await signalAndWait('SIGKILL', 5000);
    throw new Error(`hookd not healthy after 15 s (${last}):\n${run.text}`);
  }

  if (t) {
    if (!byTest.has(t)) byTest.set(t, []);
    byTest.get(t).push(h);
    t.after(async () => {
      await h.stop();
      if (pgDb) await pgRelease(dataDir, pgDb);
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
    });
  }
  return launch();
}

/** Run hookd once with args (not a server): resolves {code, stdout, stderr}; killed after timeoutMs.
 *  With --data DIR of a hookd on PostgreSQL (startHookd), it gets that hookd's database too. */
export function runHookd(args, { env = {}, timeoutMs = 15000 } = {}) {
  const i = args.indexOf('--data');
  const db = i >= 0 ? pgDbs.get(args[i + 1]) : undefined;
  if (db && env.HOOKD_DB === undefined && !args.includes('--db')) env = { HOOKD_DB: db.url, ...env };
  return new Promise((resolve) => {
    const proc = spawn(HOOKD_BIN, args, { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(proc);
    let stdout = '', stderr = '', timedOut = false;
    proc.stdout.on('data', (c) => { stdout += c; });
    proc.stderr.on('data', (c) => { stderr += c; });
    const timer = setTimeout(() => { timedOut = true; proc.kill('SIGKILL'); }, timeoutMs);
    proc.once('error', (err) => { stderr += `[spawn failed: ${err.message}]`; });
    proc.once('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(proc);
      resolve({ code: exitCode(code, signal), stdout, stderr, timedOut });
    });
  });
}

/**
 * api(h).req(method, path, body?, headers?) -> {status, json, text, headers}.
 * path is relative to /api/v1 unless it starts with /api/. body: an object (sent as JSON), a string or a
 * Buffer (sent as is). headers: extra headers; a header set to null is removed (e.g. authorization).
 */
export function api(h, { token, timeoutMs = 30000 } = {}) {
  async function req(method, p, body, headers = {}) {
    const url = h.url + (p.startsWith('/api/') ? p : `/api/v1${p}`);
    const hdrs = { authorization: `Bearer ${token ?? h.token}` };
    let payload;
    if (body !== undefined) {
      payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
      hdrs['content-type'] = 'application/json';
    }
    for (const [k, v] of Object.entries(headers)) {
      if (v === null) delete hdrs[k.toLowerCase()];
      else hdrs[k.toLowerCase()] = v;
    }
    const res = await fetch(url, { method, headers: hdrs, body: payload, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let json;
    try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
    return { status: res.status, json, text, headers: res.headers, url };
  }
  return { req };
}

/** GET /metrics with the API token (it needs one unless --metrics-public); resolves with the Response. */
export function fetchMetrics(h, { token } = {}) {
  return fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${token ?? h.token}` },
    signal: AbortSignal.timeout(30000) });
}

/**
 * Send bytes on a fresh TCP connection to h and read until the server closes it or timeoutMs passes.
 * Resolves {text (latin1), status (of the first status line, or 0), closed (by the server), ms (until the close or
 * the timeout)}. opts.localAddress: the client address (any 127.x.y.z on Linux's loopback).
 */
export function rawHttp(h, bytes, { timeoutMs = 5000, localAddress } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const sock = net.connect({ host: '127.0.0.1', port: h.port, localAddress });
    const chunks = [];
    let finished = false;
    const finish = (closed) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      sock.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ text, status: m ? Number(m[1]) : 0, closed, ms: performance.now() - t0 });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.on('connect', () => sock.write(bytes));
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', (err) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return; // then 'close'
      if (!finished) { finished = true; clearTimeout(timer); reject(err); }
    });
    sock.on('close', () => finish(true));
  });
}

/** The official SDK pointed at this hookd. */
export function svixClient(h) {
  return new Svix(h.token, { serverUrl: h.url });
}

/** Verify one received request with the standardwebhooks library; returns the parsed payload or throws. */
export function verifyDelivery(secret, rec) {
  return new Webhook(secret).verify(rec.body, rec.headers);
}

/** Call fn until it returns without throwing (polling the API for a state the receiver cannot see). */
export async function eventually(fn, { timeout = 15000, interval = 50, what = 'condition' } = {}) {
  const deadline = performance.now() + timeout;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (performance.now() > deadline) {
        err.message = `${what} not met after ${timeout} ms: ${err.message}`;
        throw err;
      }
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** A node's id, from its log of its current run ("sched: node node_..."). The line is written as the node's
 * cluster thread starts and reaches the log a moment after the node answers: waited for. */
export async function nodeOf(h) {
  return eventually(() => {
    const m = h.logs().match(/sched: node (node_\w+)/);
    assert.ok(m, `no node id in the log:\n${h.logs()}`);
    return m[1];
  }, { what: 'a node id in the log' });
}

/** Bounded concurrency: run worker(item) over items with at most n in flight. */
export async function pool(items, n, worker) {
  let next = 0;
  const run = async () => { while (next < items.length) { const i = next++; await worker(items[i], i); } };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, run));
}

/**
 * An HTTP receiver on 127.0.0.1 that records every request and answers per `handler`:
 *   undefined            200 "ok"
 *   an entry             that answer, always
 *   array                one entry per request in order (the last one repeats); entries like below
 *   function(rec, i)     returns (or resolves to) an entry
 * An entry is a status number or {status=200, headers={}, body='ok', hang=false}; hang never answers.
 * rec = {i, method, url, headers, body (Buffer), time (performance.now() ms), at (Date.now())}.
 */
export async function startReceiver(t, handler) {
  const requests = [];
  const waiters = new Set();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const rec = { i: requests.length, method: req.method, url: req.url, headers: req.headers,
        body: Buffer.concat(chunks), time: performance.now(), at: Date.now() };
      requests.push(rec);
      for (const w of waiters) w.check();
      let entry;
      try {
        entry = await pick(rec);
      } catch (err) {
        entry = { status: 500, body: `receiver handler threw: ${err.message}` };
      }
      if (typeof entry === 'number') entry = { status: entry };
      entry = { status: 200, headers: {}, body: 'ok', ...entry };
      if (entry.hang) return; // keep the socket open until the client gives up or we close
      res.writeHead(entry.status, { 'content-type': 'text/plain', ...entry.headers });
      res.end(entry.body);
    });
  });
  function pick(rec) {
    if (handler === undefined) return 200;
    if (Array.isArray(handler)) return handler[Math.min(rec.i, handler.length - 1)];
    if (typeof handler === 'function') return handler(rec, rec.i);
    return handler; // one entry for every request
  }
  server.keepAliveTimeout = 30000;
  await new Promise((res) => server.listen(0, '127.0.0.1', res));
  const { port } = server.address();
  let closed = false;

  const rcv = {
    port, requests,
    url: `http://127.0.0.1:${port}/hook`,
    /** Resolve with the requests once predicate(requests) is truthy; reject after timeoutMs. */
    waitFor(predicate, timeoutMs = 20000, what = 'receiver condition') {
      return new Promise((resolve, reject) => {
        const w = {
          check() {
            let ok;
            try { ok = predicate(requests); } catch (err) { done(); reject(err); return; }
            if (ok) { done(); resolve(requests); }
          },
        };
        const timer = setTimeout(() => {
          done();
          const seen = requests.map((r) => `  #${r.i} ${r.method} ${r.url} webhook-id=${r.headers['webhook-id']} ` +
            `+${Math.round(r.time - (requests[0]?.time ?? 0))}ms ${r.body.toString().slice(0, 120)}`).join('\n');
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${requests.length} request(s):\n${seen}`));
        }, timeoutMs);
        const done = () => { clearTimeout(timer); waiters.delete(w); };
        waiters.add(w);
        w.check();
      });
    },
    /** Resolve with the requests once at least n arrived. */
    waitForCount(n, timeoutMs, what = `${n} request(s)`) {
      return rcv.waitFor((r) => r.length >= n, timeoutMs, what);
    },
    /** Assert no request beyond the first n arrives within ms (the one place a quiet period is the point). */
    async expectNoMore(n, ms) {
      if (requests.length > n) throw new Error(`expected ${n} request(s), got ${requests.length}`);
      await new Promise((r) => setTimeout(r, ms));
      if (requests.length > n) throw new Error(`expected ${n} request(s), got ${requests.length} after ${ms} ms`);
    },
    async close() {
      if (closed) return;
      closed = true;
      server.closeAllConnections();
      await new Promise((res) => server.close(res));
    },
  };
  if (t) t.after(() => rcv.close());
  return rcv;
}

/** Unique request ids (webhook-id) seen by a receiver. */
export function webhookIds(requests) {
  return new Set(requests.map((r) => r.headers['webhook-id']));
}
