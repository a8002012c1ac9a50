#!/usr/bin/env node
// bench/run.mjs: hookd's benchmark suite (see bench/README.md). Node 20, no dependencies; builds nothing (the
// Makefile builds build/hookd, build/bench/loadgen and build/bench/receiver first).
//
//   node bench/run.mjs [--bin build] [--scale 1] [--smoke] [--only limits,ingest,...] [--out bench/results]
//                      [--no-write] [--json]
//
// The pg-* scenarios run hookd on PostgreSQL (a fresh database of HOOKD_TEST_PG per hookd, made with psql and
// dropped after): only when HOOKD_TEST_PG is set, as under `sh scripts/pg.sh run -- ...` (make bench-pg); without
// it they are listed as skipped, and --smoke leaves them out. pg2-ingest, pg2-fanout and pg2-latency are the same
// loads on two hookd nodes sharing one database (endpoints spread by leases); pg-takeover kills one of two nodes
// with -9 and times the survivor's takeover of its endpoints.
//
// Every scenario gets a fresh hookd (own port, own data dir) and a fresh receiver; every process is killed and
// every temp dir removed on the way out, error or not. Figures are printed next to their targets and never
// asserted: the exit status is 1 only if something is broken (a process crashed or hung, messages were lost or
// duplicated, signatures did not verify, or, in --smoke, any request failed).
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

// ---- options ---------------------------------------------------------------------------------------------------

const SCENARIOS = ['limits', 'ingest', 'ingest-idem', 'fanout', 'fanout-filter', 'fanout-xform', 'latency', 'faults', 'backlog', 'inbound', 'pg-ingest', 'pg-ingest-idem', 'pg-fanout',
  'pg-latency', 'pg2-ingest', 'pg2-fanout', 'pg2-latency', 'pg-takeover'];
const PG_SCENARIOS = new Set(['pg-ingest', 'pg-ingest-idem', 'pg-fanout', 'pg-latency', 'pg2-ingest', 'pg2-fanout', 'pg2-latency',
  'pg-takeover']);
/** The PostgreSQL server of the pg-* scenarios (scripts/pg.sh sets it), its cluster directory and binaries. */
const PG = process.env.HOOKD_TEST_PG || null;
const PG_DIR = process.env.HOOKD_TEST_PG_DIR || null;
const PSQL = process.env.HOOKD_TEST_PG_BIN ? path.join(process.env.HOOKD_TEST_PG_BIN, 'psql') : 'psql';

function parseArgs(argv) {
  const o = { bin: path.join(root, 'build'), scale: Number(process.env.BENCH_SCALE ?? 1), smoke: false,
    only: SCENARIOS, out: path.join(here, 'results'), write: true, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--bin') o.bin = path.resolve(val());
    else if (a === '--scale') o.scale = Number(val());
    else if (a === '--smoke') o.smoke = true;
    else if (a === '--only') o.only = val().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--out') o.out = path.resolve(val());
    else if (a === '--no-write') o.write = false;
    else if (a === '--json') o.json = true;
    else if (a === '--help' || a === '-h') usage();
    else usage(`unknown argument ${a}`);
  }
  if (!(o.scale > 0)) usage('--scale must be > 0');
  for (const s of o.only) if (!SCENARIOS.includes(s)) usage(`unknown scenario ${s} (${SCENARIOS.join(', ')})`);
  if (o.smoke) {
    if (!PG) o.only = o.only.filter((s) => !PG_SCENARIOS.has(s)); // a smoke run without PostgreSQL: SQLite only
    o.scale = Math.min(o.scale, 0.01);
    o.write = false; // a smoke run's figures mean nothing; keep bench/results/ for real runs
  }
  return o;
}

function usage(msg) {
  if (msg) process.stderr.write(`run.mjs: ${msg}\n`);
  process.stderr.write('usage: node bench/run.mjs [--bin DIR] [--scale X] [--smoke] [--only a,b] [--out DIR] ' +
    '[--no-write] [--json]\n');
  process.exit(2);
}

const opt = parseArgs(process.argv.slice(2));
const HOOKD = path.join(opt.bin, 'hookd');
const LOADGEN = path.join(opt.bin, 'bench', 'loadgen');
const RECEIVER = path.join(opt.bin, 'bench', 'receiver');
const PFILTER = path.join(opt.bin, 'bench', 'pfilter'); // payload filter micro-bench (fanout-filter)
for (const b of [HOOKD, LOADGEN, RECEIVER])
  if (!existsSync(b)) { process.stderr.write(`run.mjs: ${b} is missing (make bench builds it)\n`); process.exit(2); }

/** n scaled, at least min. */
const sc = (n, min) => Math.max(min, Math.round(n * opt.scale));

// The counts of the full run (scale 1) and the floors that keep a smoke run meaningful.
const P = {
  limits: { count: sc(200000, 2000), concurrency: 64 },
  ingest: { count: sc(50000, 300), concurrency: 64, size: 1024 },
  fanout: { count: sc(10000, 100), endpoints: 10, concurrency: 64, size: 1024 },
  latency: { count: sc(5000, 50), rate: 1000, concurrency: 32, size: 1024 },
  faults: { count: sc(2000, 40), failFirst: 2, schedule: '50ms,50ms,50ms', concurrency: 16, size: 1024 },
  backlog: { messages: sc(100000, 300), endpoints: 10, burst: sc(5000, 100), repeats: 3, probe: sc(2000, 50),
    probeRate: 1000, concurrency: 64, size: 1024 },
  inbound: { count: sc(20000, 200), resend: sc(2000, 20), concurrency: 64, size: 1024 },
  // two nodes, one killed with -9: endpoints spread over both (one app each), HOOKD_LEASE_TIME short
  takeover: { endpoints: 8, leaseTime: '2s', leaseMs: 2000, rounds: sc(3, 1) },
};
// Time limits (seconds): a loadgen run, a wait for deliveries without progress, a whole scenario.
const T = opt.smoke
  ? { loadgen: 60, stall: 15, scenario: 90, total: 600 }
  : { loadgen: 600, stall: 30, scenario: 1200, total: 3600 };

const TARGETS = {
  pgIngestRate: 8000, // one node on PostgreSQL, delivering meanwhile
  pgCrossP99Ms: 50, // two nodes: from the 202 of one node to the first send by the other, at 1,000 msg/s
  ingestRate: 25000, fanoutRate: 20000, latencyP99Ms: 10, fanoutRssMiB: 64, txPerMsg: 0.05, backlogRatio: 1.5,
};

// ---- processes and temp dirs: all of them go away on exit --------------------------------------------------------

const live = new Set();
const tempDirs = new Set();
const pgDbs = new Set(); // databases we made on HOOKD_TEST_PG and have not dropped yet
function cleanupSync() {
  for (const p of live) try { p.kill('SIGKILL'); } catch { /* gone */ }
  live.clear();
  for (const d of tempDirs) try { rmSync(d, { recursive: true, force: true }); } catch { /* best effort */ }
  tempDirs.clear();
  for (const name of pgDbs) {
    try {
      execFileSync(PSQL, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', PG, '-c', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`],
        { stdio: 'ignore', timeout: 10000 });
    } catch { /* the cluster of pg.sh goes away anyway */ }
  }
  pgDbs.clear();
}
process.on('exit', cleanupSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.on(sig, () => { process.stderr.write(`\nrun.mjs: ${sig}, cleaning up\n`); cleanupSync(); process.exit(130); });

// Temp dirs are named hookd-bench-<our pid>-...: those of a run that was SIGKILLed (no cleanup) are removed by the
// next run once their pid is gone.
function removeStaleDirs() {
  for (const name of readdirSync(os.tmpdir())) {
    const m = /^hookd-bench-(\d+)-/.exec(name);
    if (!m || Number(m[1]) === process.pid) continue;
    try { process.kill(Number(m[1]), 0); continue; } catch (err) { if (err.code === 'EPERM') continue; }
    try { rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true }); } catch { /* not ours to remove */ }
  }
}

function tempDir(prefix) {
  const d = mkdtempSync(path.join(os.tmpdir(), `hookd-bench-${process.pid}-${prefix}`));
  tempDirs.add(d);
  return d;
}
function removeDir(d) {
  rmSync(d, { recursive: true, force: true });
  tempDirs.delete(d);
}

const HAVE_SETPRIV = (() => { try { execFileSync('setpriv', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; } })();
const CLK_TCK = (() => { try { return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100; } catch { return 100; } })();

/** Start a child that dies with us (PR_SET_PDEATHSIG through setpriv when available; our C tools set it
 *  themselves). Output is kept (the last 256 KiB of each stream). */
/** A stream's last cap characters, as the chunks that came (joined only when read). */
function tailBuffer(cap = 262144) {
  let parts = [], len = 0;
  return {
    push(c) {
      const t = c.toString();
      parts.push(t);
      len += t.length;
      while (parts.length > 1 && len - parts[0].length >= cap) len -= parts.shift().length;
    },
    text() { const t = parts.join(''); return t.length > cap ? t.slice(-cap) : t; },
    reset(v) { parts = [String(v)]; len = parts[0].length; },
  };
}

function startProc(name, cmd, args, { env = process.env, deathsig = false } = {}) {
  const [file, argv] = deathsig && HAVE_SETPRIV ? ['setpriv', ['--pdeathsig', 'KILL', '--', cmd, ...args]] : [cmd, args];
  const p = spawn(file, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  // the last 256 KiB of each stream, kept as chunks: hookd logs a line per delivery, and copying the whole
  // tail at every chunk would make this process, on the same cores, a load that the figures then show
  const out = tailBuffer(), err = tailBuffer();
  const rec = { name, proc: p, pid: p.pid, code: undefined };
  Object.defineProperty(rec, 'stdout', { get: () => out.text(), set: (v) => out.reset(v) });
  Object.defineProperty(rec, 'stderr', { get: () => err.text(), set: (v) => err.reset(v) });
  p.stdout.on('data', (c) => out.push(c));
  p.stderr.on('data', (c) => err.push(c));
  live.add(p);
  rec.exited = new Promise((resolve) => {
    p.once('error', (err) => { rec.stderr += `[spawn failed: ${err.message}]`; live.delete(p); rec.code = -1; resolve(-1); });
    p.once('close', (code, signal) => {
      live.delete(p);
      rec.code = code ?? 128 + (os.constants.signals[signal] ?? 0);
      resolve(rec.code);
    });
  });
  rec.alive = () => rec.code === undefined;
  rec.stop = async (graceMs = 20000) => {
    if (!rec.alive()) return rec.code;
    ourCpu += procStats(p.pid).cpuS || 0;
    p.kill('SIGTERM');
    const t = setTimeout(() => { rec.stderr += `\n[run.mjs: no exit ${graceMs} ms after SIGTERM; SIGKILL]\n`; p.kill('SIGKILL'); }, graceMs);
    try { return await rec.exited; } finally { clearTimeout(t); }
  };
  return rec;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// CPU seconds used by our children (added as each one stops, or from loadgen's own report): with the machine's
// busy time from /proc/stat, this tells how much CPU other processes took during a scenario (the machine is
// shared: a busy neighbour makes every figure worse, and the results say so).
let ourCpu = 0;
function machineBusyS() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    return (f[0] + f[1] + f[2] + f[5] + f[6]) / CLK_TCK;
  } catch { return NaN; }
}
function nodeCpuS() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function freePort() {
  const srv = net.createServer();
  await new Promise((res, rej) => { srv.once('error', rej); srv.listen(0, '127.0.0.1', res); });
  const { port } = srv.address();
  await new Promise((res) => srv.close(res));
  return port;
}

async function http(method, url, { body, token, timeoutMs = 10000 } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  return { status: res.status, text };
}

// ---- the receiver ----------------------------------------------------------------------------------------------

async function startReceiver({ capacity, failFirst = 0, verify = null }) {
  const args = ['--listen', '127.0.0.1:0', '--capacity', String(capacity)];
  if (failFirst) args.push('--fail-first', String(failFirst));
  if (verify) args.push('--verify', verify);
  const r = startProc('receiver', RECEIVER, args);
  const deadline = Date.now() + 5000;
  while (!/\{"port":\d+\}/.test(r.stdout)) {
    if (!r.alive()) throw new Error(`receiver exited (${r.code}): ${r.stderr}`);
    if (Date.now() > deadline) throw new Error(`receiver did not start: ${r.stderr}`);
    await sleep(10);
  }
  const port = Number(/\{"port":(\d+)\}/.exec(r.stdout)[1]);
  const base = `http://127.0.0.1:${port}`;
  return {
    ...r, port, base,
    async counters() { return JSON.parse((await http('GET', `${base}/counters`)).text); },
    async stats() { return JSON.parse((await http('GET', `${base}/stats`, { timeoutMs: 30000 })).text); },
    async receipts() {
      const m = new Map();
      for (const line of (await http('GET', `${base}/receipts`, { timeoutMs: 30000 })).text.split('\n')) {
        const [s, ns] = line.split(' ');
        if (ns) m.set(Number(s), BigInt(ns));
      }
      return m;
    },
    async reset() { await http('POST', `${base}/reset`); },
  };
}

/** Poll the receiver until its distinct ids answered 2xx reach `expected` (or `received` reaches it, with
 *  field). Gives up after T.stall seconds without progress. hookd: one node or an array of them, that must stay up. */
async function waitReceived(rcv, expected, { field = 'distinct_ok', hookd = null } = {}) {
  let last = -1, lastChange = Date.now(), c;
  const nodes = hookd === null ? [] : [].concat(hookd);
  for (;;) {
    c = await rcv.counters();
    if (c[field] >= expected) return { complete: true, counters: c };
    if (c[field] !== last) { last = c[field]; lastChange = Date.now(); }
    if (Date.now() - lastChange > T.stall * 1000) return { complete: false, counters: c };
    for (const h of nodes)
      if (!h.alive()) throw new Error(`hookd exited (${h.code}) while delivering:\n${tail(h.stderr)}`);
    await sleep(expected - c[field] > 1000 ? 100 : 20);
  }
}

// ---- hookd -------------------------------------------------------------------------------------------------------

let hookdsOfScenario = []; // for their logs when a scenario breaks
let metricsMissing = false; // hookd answered GET /metrics with something else than 200
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

async function startHookd(extraEnv = {}, { db = null } = {}) {
  const port = await freePort();
  const dataDir = tempDir('data-');
  const token = `bench-${randomBytes(12).toString('hex')}`;
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HOOKD_')) env[k] = v;
  Object.assign(env, { HOOKD_TOKEN: token, HOOKD_LOG_LEVEL: 'info' }, extraEnv);
  // the bench receivers are on 127.0.0.1, which the SSRF guard blocks by default
  const args = ['serve', '--listen', `127.0.0.1:${port}`, '--data', dataDir, '--allow-network', '127.0.0.0/8'];
  if (db) args.push('--db', db);
  const h = startProc('hookd', HOOKD, args, { env, deathsig: true });
  hookdsOfScenario.push(h);
  Object.assign(h, { port, dataDir, token, url: `http://127.0.0.1:${port}` });
  const deadline = Date.now() + 15000;
  let last = 'no answer';
  for (;;) {
    if (!h.alive()) throw new Error(`hookd exited (${h.code}) before it was healthy:\n${tail(h.stderr)}`);
    try {
      const r = await http('GET', `${h.url}/api/v1/health`, { token, timeoutMs: 1000 });
      if (r.status === 204 || r.status === 200) break;
      last = `status ${r.status}`;
    } catch (err) { last = err.cause?.code ?? err.message; }
    if (Date.now() > deadline) throw new Error(`hookd not healthy after 15 s (${last}):\n${tail(h.stderr)}`);
    await sleep(20);
  }
  h.api = async (method, p, body) => {
    const r = await http(method, `${h.url}/api/v1${p}`, { body, token });
    if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${r.text.slice(0, 300)}`);
    return r.text ? JSON.parse(r.text) : null;
  };
  h.metrics = async () => {
    try {
      const r = await http('GET', `${h.url}/metrics`, { token, timeoutMs: 5000 }); // it needs the token
      if (r.status !== 200) {
        metricsMissing = true;
        return null;
      }
      const m = {};
      for (const line of r.text.split('\n')) {
        const x = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?)\s+([-+0-9.eE]+|NaN)$/.exec(line.trim());
        if (x) m[x[1]] = Number(x[2]);
      }
      return m;
    } catch { return null; }
  };
  h.proc_ = () => procStats(h.pid);
  h.dbBytes = () => dbBytes(dataDir);
  return h;
}

/** An app with n endpoints at receiver paths /<app>/<i>, all signed with SECRET (rcv: one receiver, or an
 *  array: endpoint i at receiver i). Returns its messages URL on h; makeAppEps also the endpoint ids. */
async function makeAppEps(h, uid, n, rcv, extra = {}) {
  await h.api('POST', '/app', { name: uid, uid });
  const eps = [];
  for (let i = 0; i < n; i++) {
    const r = Array.isArray(rcv) ? rcv[i] : rcv;
    eps.push((await h.api('POST', `/app/${uid}/endpoint`, { url: `${r.base}/${uid}/${i}`, secret: SECRET, ...extra })).id);
  }
  return { url: `${h.url}/api/v1/app/${uid}/msg`, uid, eps };
}
const makeApp = async (h, uid, n, rcv) => (await makeAppEps(h, uid, n, rcv)).url;
/** The messages URL of app uid on node h (any node takes any app's messages). */
const msgUrl = (h, uid) => `${h.url}/api/v1/app/${uid}/msg`;

/** POST one message to app uid on h, in the body shape of loadgen (the receiver reads sent_ns and seq). */
async function postMessage(h, uid, seq) {
  const body = `{"eventType":"bench.event","payload":{"sent_ns":${BigInt(Date.now()) * 1000000n},"seq":${seq}}}`;
  const res = await fetch(msgUrl(h, uid), { method: 'POST', body, signal: AbortSignal.timeout(10000),
    headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' } });
  const text = await res.text();
  if (res.status !== 202) throw new Error(`POST /app/${uid}/msg on ${h.url}: ${res.status} ${text.slice(0, 300)}`);
}

function procStats(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
    const cpu = (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime (14), stime (15)
    return { hwmMiB: kb('VmHWM') / 1024, rssMiB: kb('VmRSS') / 1024, cpuS: cpu };
  } catch { return { hwmMiB: NaN, rssMiB: NaN, cpuS: NaN }; }
}

function dbBytes(dir) {
  let total = 0;
  const files = {};
  for (const f of ['hookd.db', 'hookd.db-wal']) {
    try { files[f] = statSync(path.join(dir, f)).size; total += files[f]; } catch { files[f] = 0; }
  }
  return { total, ...files };
}

// ---- PostgreSQL (the pg-* scenarios) -------------------------------------------------------------------------

/** Run SQL with psql on url (default HOOKD_TEST_PG's database); resolves with its unaligned, tuples-only output. */
function pgSql(sql, url = PG) {
  return new Promise((resolve, reject) => {
    const p = spawn(PSQL, ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (c) => { out += c; });
    p.stderr.on('data', (c) => { err += c; });
    const t = setTimeout(() => p.kill('SIGKILL'), 30000);
    p.once('error', (e) => { clearTimeout(t); reject(new Error(`psql: ${e.message}`)); });
    p.once('close', (code) => {
      clearTimeout(t);
      if (code === 0) resolve(out.trim());
      else reject(new Error(`psql ${sql}: ${err.trim() || `exit ${code}`}`));
    });
  });
}

/** A fresh database on HOOKD_TEST_PG's server: {name, url, emptyBytes (its size before hookd)}. Dropped by
 *  pgDropDb, or on exit. */
async function pgCreateDb() {
  const name = `bench_${randomBytes(6).toString('hex')}`;
  pgDbs.add(name);
  await pgSql(`CREATE DATABASE ${name}`);
  const u = new URL(PG);
  u.pathname = `/${name}`;
  return { name, url: u.toString(), emptyBytes: Number(await pgSql(`SELECT pg_database_size('${name}')`)) };
}
async function pgDropDb(db) {
  if (!db || !pgDbs.has(db.name)) return;
  await pgSql(`DROP DATABASE IF EXISTS ${db.name} WITH (FORCE)`);
  pgDbs.delete(db.name);
}
/** What hookd added to its database (pg_database_size, less that of the empty database). */
const pgDbSize = async (db) => Number(await pgSql(`SELECT pg_database_size('${db.name}')`)) - db.emptyBytes;

/** CPU seconds of the whole cluster so far: the postmaster (its pid is the first line of data/postmaster.pid)
 *  with its children that have exited (cutime + cstime), and every live child (/proc/<pid>/stat whose ppid is
 *  the postmaster): backends, checkpointer, WAL writer, autovacuum. NaN without HOOKD_TEST_PG_DIR. */
function pgCpuS() {
  if (!PG_DIR) return NaN;
  let pm;
  try { pm = Number(readFileSync(path.join(PG_DIR, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]); } catch { return NaN; }
  const fields = (pid) => {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return st.slice(st.lastIndexOf(')') + 2).split(' '); // from field 3 (state) on
  };
  let ticks;
  try {
    const f = fields(pm);
    ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]); // utime stime cutime cstime
  } catch { return NaN; }
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const f = fields(name);
      if (Number(f[1]) === pm) ticks += Number(f[11]) + Number(f[12]); // ppid (4); utime (14), stime (15)
    } catch { /* gone meanwhile */ }
  }
  return ticks / CLK_TCK;
}

const HAVE_SS = (() => { try { execFileSync('ss', ['-V'], { stdio: 'ignore' }); return true; } catch { return false; } })();
/** Data segments each client connection to the server's port has sent so far (`ss -ti`, tcp_info's
 *  data_segs_out), by local address. A libpq client sends once per round trip (a query, or a pipeline up to its
 *  sync) and a send below the loopback MSS (64 KiB) is one segment, so their count is the round trips; only our
 *  hookd talks to the throwaway cluster during a load. null when ss is missing or shows no tcp_info. The owning
 *  process of each (ss -p, when allowed) in the map's `pids`: local address -> [pid, fd]. */
function pgClientSegs() {
  if (!HAVE_SS || !PG) return null;
  const port = new URL(PG).port || '5432';
  let out;
  try {
    out = execFileSync('ss', ['-tinpH', 'state', 'established', `( dport = :${port} )`], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  } catch { return null; }
  const m = new Map();
  m.pids = new Map();
  let local = null;
  for (const line of out.split('\n')) {
    const sock = /^\s*\d+\s+\d+\s+(\S+)\s+\S+/.exec(line);
    if (sock && !/data_segs|rtt:/.test(line)) {
      local = sock[1];
      const pid = /\bpid=(\d+),fd=(\d+)/.exec(line);
      if (pid) m.pids.set(local, [Number(pid[1]), Number(pid[2])]);
      continue;
    }
    const d = /\bdata_segs_out:(\d+)/.exec(line);
    if (local !== null && d) { m.set(local, Number(d[1])); local = null; }
    else if (local !== null && /rtt:/.test(line)) { m.set(local, 0); local = null; } // connected, nothing sent yet
  }
  return m;
}

/** CPU seconds so far of hookd h, or of all the nodes of an array (summed). */
const hookdCpuS = (h) => [].concat(h).reduce((sum, x) => sum + procStats(x.pid).cpuS, 0);

/** Start measuring a pg-* load on hookd h (or the nodes of an array: their CPU summed, all their connections):
 *  the cluster's CPU, hookd's CPU, the client segments. */
function pgMeterStart(h) {
  return { pg: pgCpuS(), hookd: hookdCpuS(h), segs: pgClientSegs(), t: Date.now() };
}
/** The figures since pgMeterStart: CPU seconds of PostgreSQL and hookd, client round trips (null if unknown; the
 *  connections closed meanwhile are not counted, so it is a lower bound then, and said so). */
function pgMeterStop(m0, h) {
  const segs = pgClientSegs();
  let trips = null, closed = 0;
  const byPid = new Map(), byConn = [];
  if (m0.segs && segs) {
    trips = 0;
    for (const [k, v] of segs) {
      const d = v - (m0.segs.get(k) ?? 0);
      trips += d;
      const [pid, fd] = segs.pids.get(k) ?? [];
      if (pid) byPid.set(pid, (byPid.get(pid) ?? 0) + d);
      byConn.push({ pid: pid ?? null, fd: fd ?? null, trips: d, new: !m0.segs.has(k) });
    }
    for (const k of m0.segs.keys()) if (!segs.has(k)) closed++;
  }
  const nodes = [].concat(h);
  return { pgCpuS: pgCpuS() - m0.pg, hookdCpuS: hookdCpuS(h) - m0.hookd, roundTrips: trips,
    roundTripsPerNode: nodes.length > 1 && trips !== null && byPid.size ? nodes.map((x) => byPid.get(x.pid) ?? 0) : undefined,
    roundTripsByConnection: byConn.length ? byConn : undefined,
    connections: segs ? segs.size : null, closedMeanwhile: closed, seconds: (Date.now() - m0.t) / 1000 };
}
/** The rows every pg-* scenario adds: CPU per message of hookd and of PostgreSQL, round trips per message. */
function pgRows(label, pm, msgs, window) {
  const us = (cpu) => (msgs ? (cpu / msgs) * 1e6 : NaN);
  row(label, `hookd CPU per message (${window})`, us(pm.hookdCpuS), { unit: 'us' });
  row(label, `PostgreSQL CPU per message (${window}, all of the cluster's processes)`, us(pm.pgCpuS), { unit: 'us' });
  row(label, `round trips to PostgreSQL per message (${window}; client sends, ss data_segs_out)`,
    pm.roundTrips === null ? null : pm.roundTrips / msgs, { digits: 2 });
  if (pm.roundTripsPerNode)
    row(label, '  of which by each node', pm.roundTripsPerNode.map((x) => fx(x / msgs)).join(' / '));
}

/** hookd for scenario kind k: on a fresh PostgreSQL database for the pg-* ones (h.pgdb). */
async function startNode(k, extraEnv = {}) {
  return (await startNodes({ ...k, nodes: 1 }, extraEnv))[0];
}
/** The k.nodes (default 1) hookd nodes of scenario kind k, one after the other: each with its own port and data
 *  dir, all on one fresh PostgreSQL database for the pg* kinds (h.pgdb; h.nodeId: the id it keeps in its data
 *  dir, as in the leases table and its log's "sched: node ..."). */
async function startNodes(k, extraEnv = {}) {
  const db = k.pg ? await pgCreateDb() : null;
  // every node on one database needs the key that seals its stored secrets (docs/security.md)
  if (db) db.secretKey = randomBytes(32).toString('base64');
  const hs = [];
  for (let i = 0; i < (k.nodes ?? 1); i++) hs.push(await addNode(db, extraEnv));
  return hs;
}
/** One more hookd on database db (null: SQLite in its own data dir). */
async function addNode(db, extraEnv = {}) {
  const env = db?.secretKey ? { HOOKD_SECRET_KEY: db.secretKey, ...extraEnv } : extraEnv;
  const h = await startHookd(env, { db: db?.url ?? null });
  h.pgdb = db;
  try { h.nodeId = readFileSync(path.join(h.dataDir, 'node'), 'utf8').trim(); } catch { h.nodeId = null; }
  return h;
}
/** Stop it (again: a no-op once stopped), remove its data dir, drop its database. */
async function endNode(h) {
  await endNodes([h]);
}
/** Stop every node (a no-op for one already stopped), remove their data dirs, then drop their databases. */
async function endNodes(hs) {
  for (const h of hs) await h.stop();
  for (const h of hs) removeDir(h.dataDir);
  for (const db of new Set(hs.map((h) => h.pgdb))) await pgDropDb(db);
}
/** kill -9 (its CPU so far is counted as ours, as stop() does). */
async function kill9(h) {
  ourCpu += procStats(h.pid).cpuS || 0;
  h.proc.kill('SIGKILL');
  return h.exited;
}

/** The live leases of database db: endpoint id -> node id. */
async function pgLeases(db) {
  const m = new Map();
  const out = await pgSql('SELECT endpoint_id, node_id FROM leases WHERE expires_at > clock_timestamp()', db.url);
  for (const line of out.split('\n')) {
    const [ep, node] = line.split('|');
    if (node) m.set(ep, node);
  }
  return m;
}
/** waitLeases' answer for the results file (its owner map as an object). */
const leaseRaw = (lease) => (lease ? { ...lease, owner: Object.fromEntries(lease.owner) } : lease);
/** Wait (up to 30 s) until every endpoint of eps has a live lease and every node of hs holds its fair share
 *  (floor or ceil of endpoints / nodes), twice in a row 100 ms apart. Returns {owner: endpoint id -> node id,
 *  perNode: counts in the order of hs, waitedS, settled}. */
async function waitLeases(hs, eps, s) {
  const t0 = Date.now();
  const lo = Math.floor(eps.length / hs.length), hi = Math.ceil(eps.length / hs.length);
  let good = 0, owner = new Map(), perNode = [];
  for (;;) {
    owner = await pgLeases(hs[0].pgdb);
    perNode = hs.map((h) => eps.filter((e) => owner.get(e) === h.nodeId).length);
    const ok = eps.every((e) => owner.has(e)) && perNode.every((n) => n >= lo && n <= hi);
    good = ok ? good + 1 : 0;
    if (good >= 2) return { owner, perNode, waitedS: (Date.now() - t0) / 1000, settled: true };
    for (const h of hs) if (!h.alive()) throw new Error(`hookd exited (${h.code}) while endpoints were leased:\n${tail(h.stderr)}`);
    if (Date.now() - t0 > 30000) {
      s.note(`${s.name}: the ${eps.length} endpoints were not spread over the ${hs.length} nodes after 30 s (leases per node: ${perNode.join(' / ')}, ${eps.length - eps.filter((e) => owner.has(e)).length} without a lease)`);
      return { owner, perNode, waitedS: (Date.now() - t0) / 1000, settled: false };
    }
    await sleep(100);
  }
}

/** Wait (up to 30 s) until every node of hs knows every app of apps (makeAppEps) and its endpoints: GET of each
 *  answers 200 there (reads come from each node's cache, which learns other nodes' changes through notifications).
 *  Returns the seconds waited; notes it when that was long. */
async function waitKnown(hs, apps, s) {
  const t0 = Date.now();
  const paths = apps.flatMap((a) => [`/app/${a.uid}`, ...a.eps.map((e) => `/app/${a.uid}/endpoint/${e}`)]);
  for (const h of hs) {
    for (const p of paths) {
      for (;;) {
        const r = await http('GET', `${h.url}/api/v1${p}`, { token: h.token });
        if (r.status === 200) break;
        if (r.status !== 404) throw new Error(`GET ${p} on ${h.url}: ${r.status} ${r.text.slice(0, 300)}`);
        if (Date.now() - t0 > 30000) throw new Error(`GET ${p} on ${h.url}: still 404 30 s after it was made on ${hs[0].url}`);
        await sleep(5);
      }
    }
  }
  const waited = (Date.now() - t0) / 1000;
  if (waited > 1) s.note(`${s.name}: the other nodes knew the apps and endpoints made on node 1 only after ${waited.toFixed(1)} s`);
  return waited;
}

/** GET /metrics of every node of hs, summed by series (null if one of them has none); each node's own in the
 *  sum's `nodes` (not enumerable: not in the results file twice). */
async function metricsSum(hs) {
  const all = await Promise.all(hs.map((h) => h.metrics()));
  if (all.some((m) => m === null)) return null;
  if (all.length === 1) return all[0];
  const sum = {};
  for (const m of all) for (const [key, v] of Object.entries(m)) sum[key] = (sum[key] ?? 0) + v;
  Object.defineProperty(sum, 'nodes', { value: all, enumerable: false });
  return sum;
}

/** Stop hookd (SIGTERM, drain); broken if it does not exit 0. Returns the database size after the stop. */
async function stopHookd(h, sc_) {
  const code = await h.stop();
  if (code !== 0) sc_.fail(`hookd exited ${code} after SIGTERM:\n${tail(h.stderr)}`);
  return dbBytes(h.dataDir);
}

function metricDelta(a, b, key) {
  if (!a || !b || a[key] === undefined || b[key] === undefined) return null;
  return b[key] - a[key];
}
const M = {
  batches: 'hookd_commit_batches_total',
  jobs: 'hookd_commit_jobs_total',
  accepted: 'hookd_messages_accepted_total',
  success: 'hookd_deliveries_total{outcome="success"}',
  retry: 'hookd_deliveries_total{outcome="retry"}',
  fail: 'hookd_deliveries_total{outcome="fail"}',
  scheduled: 'hookd_deliveries_scheduled',
};

// ---- the load generator ------------------------------------------------------------------------------------------

async function loadgen(args, what) {
  const a = ['--timeout', String(T.loadgen), ...args.map(String)];
  const p = startProc(`loadgen ${what}`, LOADGEN, a);
  const guard = setTimeout(() => p.proc.kill('SIGKILL'), (T.loadgen + 30) * 1000);
  const code = await p.exited;
  clearTimeout(guard);
  let res;
  try { res = JSON.parse(p.stdout.trim().split('\n').at(-1)); } catch { res = null; }
  if (res) ourCpu += res.cpu_s;
  if (!res) throw new Error(`loadgen (${what}) exited ${code} without results: ${p.stderr}`);
  if (res.timed_out || code !== 0)
    throw new Error(`loadgen (${what}) did not finish (exit ${code}, ${res.completed}/${res.count} answered ` +
      `in ${T.loadgen} s): the server stalled?`);
  return res;
}

function sendArgs(url, token, { count, concurrency, size = 1024, rate = 0, seqStart = 0, deliverAt, acks, engine, sign,
  idem }) {
  const a = ['--url', url, '--count', count, '--concurrency', concurrency, '--size', size, '--seq-start', seqStart];
  if (sign) a.push('--sign', sign);
  if (idem) a.push('--idempotency', idem);
  if (token) a.push('--token', token);
  if (rate) a.push('--rate', rate);
  if (deliverAt) a.push('--deliver-at', deliverAt);
  if (acks) a.push('--acks', acks);
  if (engine) a.push('--engine', engine);
  return a;
}

/** One load spread over several targets ({url, token}) at once, one loadgen each: count, concurrency and rate
 *  split evenly, seq ranges one after the other; their results merged (mergeLoadgen). One target: plain loadgen. */
async function loadgenSplit(targets, p, what) {
  if (targets.length === 1) return loadgen(sendArgs(targets[0].url, targets[0].token, p), what);
  const n = targets.length;
  const dir = tempDir('acks-');
  try {
    let seq = p.seqStart ?? 0;
    const acks = targets.map((_, i) => path.join(dir, `acks-${i}.txt`));
    const runs = targets.map((t, i) => {
      const count = Math.floor(p.count / n) + (i < p.count % n ? 1 : 0);
      const a = { ...p, count, concurrency: Math.max(1, Math.round(p.concurrency / n)), rate: p.rate ? p.rate / n : 0,
        seqStart: seq, acks: acks[i] };
      seq += count;
      return loadgen(sendArgs(t.url, t.token, a), `${what} ${i + 1}/${n}`);
    });
    return mergeLoadgen(await Promise.all(runs), acks);
  } finally {
    removeDir(dir);
  }
}

/** The results of loadgens run side by side as one: counts summed, the rate over the span from the first send to
 *  the last answer, latency percentiles over all the requests from their acks files (answer - send, the closed
 *  loop's latency), the separate results in `parts`. */
function mergeLoadgen(rs, acksFiles) {
  const sum = (f) => rs.reduce((a, r) => a + f(r), 0);
  const max = (f) => Math.max(...rs.map(f));
  const add = (f) => {
    const o = {};
    for (const r of rs) for (const [key, v] of Object.entries(f(r) ?? {})) o[key] = (o[key] ?? 0) + v;
    return o;
  };
  const lat = [];
  for (const f of acksFiles)
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      const [, sent, done, status] = line.split(' ');
      if (status >= 200 && status < 300) lat.push(Number(BigInt(done) - BigInt(sent)) / 1e6);
    }
  lat.sort((a, b) => a - b);
  const first = Math.min(...rs.map((r) => r.first_send_ns)), last = max((r) => r.last_done_ns);
  const elapsed = (last - first) / 1e9, completed = sum((r) => r.completed);
  return {
    engine: rs[0].engine, mode: rs[0].mode, count: sum((r) => r.count), concurrency: sum((r) => r.concurrency),
    target_rate: sum((r) => r.target_rate), size: rs[0].size, issued: sum((r) => r.issued), completed, ok: sum((r) => r.ok),
    timed_out: rs.some((r) => r.timed_out), elapsed_s: elapsed, rate: elapsed > 0 ? completed / elapsed : 0,
    status: add((r) => r.status), errors: add((r) => r.errors), connections_opened: sum((r) => r.connections_opened),
    latency_ms: { p50: pctOf(lat, 0.5), p90: pctOf(lat, 0.9), p99: pctOf(lat, 0.99), p999: pctOf(lat, 0.999),
      max: lat.at(-1) ?? 0, mean: lat.length ? lat.reduce((a, b) => a + b, 0) / lat.length : 0, from: 'acks' },
    send_lag_ms: { p99: max((r) => r.send_lag_ms.p99), max: max((r) => r.send_lag_ms.max) },
    first_send_ns: first, last_done_ns: last, cpu_s: sum((r) => r.cpu_s), parts: rs,
  };
}

// ---- scenario bookkeeping ----------------------------------------------------------------------------------------

const results = { date: new Date().toISOString(), scale: opt.scale, smoke: opt.smoke, machine: machine(),
  hookd: hookdVersion(), params: P, limits: {}, scenarios: {}, table: [], failures: [], notes: [] };

function scenario(name) {
  const s = { name, raw: {}, failures: [], notes: [] };
  s.fail = (msg) => { s.failures.push(msg); };
  s.note = (msg) => { s.notes.push(msg); };
  /** Loadgen answers that were not 2xx: broken in a smoke run (tiny load), a note otherwise. */
  s.checkAnswers = (what, r) => {
    const errs = Object.entries(r.errors ?? {});
    if (errs.length === 0) return;
    const msg = `${what}: ${r.count - r.ok} of ${r.count} requests not accepted (${errs.map(([k, v]) => `${k}: ${v}`).join(', ')})`;
    if (opt.smoke) s.fail(msg); else s.note(msg);
  };
  /** Receiver counters that mean hookd is broken. */
  s.checkReceiver = (what, st, expected) => {
    if (expected !== undefined && st.distinct_ok < expected)
      s.fail(`${what}: lost deliveries: ${st.distinct_ok} of ${expected} received`);
    if (st.duplicates > 0) s.fail(`${what}: ${st.duplicates} duplicate deliveries (same webhook-id after a 2xx)`);
    if (st.verify && st.verify_failed > 0) s.fail(`${what}: ${st.verify_failed} signatures did not verify`);
    if (st.parse_failed > 0) s.fail(`${what}: ${st.parse_failed} bodies without sent_ns/seq (payload mangled?)`);
    if (st.no_id > 0) s.fail(`${what}: ${st.no_id} deliveries without a webhook-id`);
    if (st.table_full > 0) s.note(`${what}: receiver id table full (${st.table_full} untracked); raise --capacity`);
  };
  return s;
}

function row(scenarioName, figure, value, { unit = '', target = null, met = null, fraction = null, digits = 0 } = {}) {
  results.table.push({ scenario: scenarioName, figure, value, unit, target, met, fraction, digits });
}

const tail = (s, n = 4000) => (s.length > n ? `[...]${s.slice(-n)}` : s);
const ms = (ns) => Number(ns) / 1e6;
const mib = (bytes) => (bytes / 1048576).toFixed(1);
const pctOf = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.round(p * (sorted.length - 1)))] : NaN);
const log = (msg) => process.stderr.write(`bench: ${msg}\n`);

// ---- scenarios ---------------------------------------------------------------------------------------------------

async function runLimits(s) {
  const p = P.limits;
  const rcv = await startReceiver({ capacity: 1024 });
  try {
    const url = `${rcv.base}/limits/0`;
    const before = procStats(rcv.pid);
    const ep = await loadgen(sendArgs(url, null, { count: p.count, concurrency: p.concurrency }), 'limits epoll');
    const mid = procStats(rcv.pid);
    await rcv.reset();
    const cu = await loadgen(sendArgs(url, null, { count: p.count, concurrency: p.concurrency, engine: 'curl' }), 'limits curl');
    const after = procStats(rcv.pid);
    s.checkAnswers('loadgen -> receiver', ep);
    s.checkAnswers('libcurl -> receiver', cu);
    results.limits = { receiverRate: ep.rate, curlRate: cu.rate };
    s.raw = { epoll: ep, curl: cu, receiverCpuS: { epoll: mid.cpuS - before.cpuS, curl: after.cpuS - mid.cpuS } };
    row('limits', 'receiver ceiling (loadgen -> receiver, 64 conns)', ep.rate, { unit: 'req/s' });
    row('limits', '  loadgen / receiver CPU s', `${ep.cpu_s.toFixed(2)} / ${(mid.cpuS - before.cpuS).toFixed(2)} in ${ep.elapsed_s.toFixed(2)} s`);
    row('limits', 'libcurl multi -> receiver (64 handles)', cu.rate, { unit: 'req/s' });
    row('limits', '  loadgen(curl) / receiver CPU s', `${cu.cpu_s.toFixed(2)} / ${(after.cpuS - mid.cpuS).toFixed(2)} in ${cu.elapsed_s.toFixed(2)} s`);
  } finally {
    await rcv.stop(5000);
  }
}

/** The kinds of the scenarios that also run on PostgreSQL: the label of their rows, on PostgreSQL or not, and how
 *  many hookd nodes share the database (default 1). */
const KIND = {
  ingest: { label: 'ingest', pg: false }, 'pg-ingest': { label: 'pg-ingest', pg: true },
  // the same load with an Idempotency-Key on every request, as the Svix SDKs send
  'ingest-idem': { label: 'ingest+idem', pg: false, idem: true, plain: 'ingest' },
  'pg-ingest-idem': { label: 'pg-ingest+idem', pg: true, idem: true, plain: 'pg-ingest' },
  fanout: { label: 'fan-out', pg: false }, 'pg-fanout': { label: 'pg-fan-out', pg: true },
  // every endpoint with a three-clause payloadFilter that every message matches (each clause is evaluated)
  'fanout-filter': { label: 'fan-out+filter', pg: false, plain: 'fanout',
    filter: { seq: { $gte: 0 }, sent_ns: { $gt: 0 }, pad: { $regex: '^x' } } },
  // the same load with a Lua transformation on every endpoint (docs/transformations.md)
  'fanout-xform': { label: 'fan-out+xform', pg: false, plain: 'fanout',
    transform: 'function handler(webhook) webhook.payload.transformed = true return webhook end' },
  latency: { label: 'latency', pg: false }, 'pg-latency': { label: 'pg-latency', pg: true },
  'pg2-ingest': { label: 'pg2-ingest', pg: true, nodes: 2, one: 'pg-ingest' },
  'pg2-fanout': { label: 'pg2-fan-out', pg: true, nodes: 2, one: 'pg-fanout' },
  'pg2-latency': { label: 'pg2-latency', pg: true, nodes: 2, one: 'pg-latency' },
};

/** One figure per node: the number itself for one node, "a / b" for several. */
const perNode = (xs, d = 0) => (xs.length === 1 ? xs[0] : xs.map((x) => fx(x, d)).join(' / '));
/** Rows of a scenario on several nodes: how the endpoints were spread and what each node did. */
function nodeRows(L, hs, lease, known, m0, m1, c0, c1) {
  if (hs.length === 1) return;
  row(L, `nodes: ${hs.length} on one database; apps made on node 1 known to all after; endpoints leased per node`,
    `${fx(known * 1000, 0)} ms; ${lease.perNode.join(' / ')}${lease.settled ? '' : ' (not spread)'} after ${fx(lease.waitedS, 1)} s`);
  const acc = hs.map((_, i) => (m0?.nodes && m1?.nodes ? m1.nodes[i][M.accepted] - m0.nodes[i][M.accepted] : NaN));
  const del = hs.map((_, i) => (m0?.nodes && m1?.nodes ? m1.nodes[i][M.success] - m0.nodes[i][M.success] : NaN));
  row(L, '  per node: messages accepted; deliveries sent; hookd CPU s',
    `${acc.map((x) => fx(x, 0)).join(' / ')}; ${del.map((x) => fx(x, 0)).join(' / ')}; ${hs.map((_, i) => fx(c1[i] - c0[i])).join(' / ')}`);
}
/** The rate of the same scenario on one node in this run, for a target of "at least as much" (or undefined). */
const oneNodeRate = (k, get) => {
  const raw = k.one ? results.scenarios[k.one]?.raw : undefined;
  return raw && !results.scenarios[k.one].failures?.length ? get(raw) : undefined;
};

/** Several nodes' rate against one node's in this run, in percent. A single pair says little on a machine whose
 *  runs vary by 10%: docs/performance.md compares medians of alternating pairs. */
function againstOne(L, k, rate, one) {
  if (one) row(L, `  against ${k.one} (one node) in this run`, (rate / one) * 100, { unit: '%', digits: 0 });
}

async function runIngest(s, k = KIND.ingest) {
  const p = k.idem ? { ...P.ingest, idem: `bench-${randomBytes(6).toString('hex')}` } : P.ingest;
  const L = k.label;
  const n = k.nodes ?? 1;
  const one = oneNodeRate(k, (raw) => raw.loadgen?.rate);
  const rateTarget = one ?? (k.pg ? TARGETS.pgIngestRate : TARGETS.ingestRate);
  const targetText = one ? `>= ${Math.round(one)} (${k.one})` : `>= ${rateTarget}`;
  const rcv = await startReceiver({ capacity: p.count * 2, verify: SECRET });
  const hs = await startNodes(k);
  const h = hs[0];
  try {
    // One app with one endpoint per node; on several nodes the leases spread the endpoints and every node takes
    // an equal part of every app's messages, so 1/n of each node's messages are for an endpoint it owns.
    const apps = [];
    for (let i = 0; i < n; i++) apps.push(await makeAppEps(h, n === 1 ? 'ingest' : `ingest${i}`, 1, rcv));
    const known = n > 1 ? await waitKnown(hs, apps, s) : null;
    const lease = n > 1 ? await waitLeases(hs, apps.flatMap((a) => a.eps), s) : null;
    const targets = hs.flatMap((x) => apps.map((a) => ({ url: msgUrl(x, a.uid), token: x.token })));
    const m0 = await metricsSum(hs);
    const c0 = hs.map(hookdCpuS);
    const pm0 = k.pg ? pgMeterStart(hs) : null;
    const r = await loadgenSplit(targets, p, L);
    const m1 = await metricsSum(hs);
    const c1 = hs.map(hookdCpuS);
    s.checkAnswers(L, r);
    const w = await waitReceived(rcv, r.ok, { hookd: hs });
    const pm = k.pg ? pgMeterStop(pm0, hs) : null;
    const c2 = hs.map(hookdCpuS);
    const st = await rcv.stats();
    s.checkReceiver(L, st, r.ok);
    const m2 = await metricsSum(hs);
    const ps = hs.map((x) => procStats(x.pid));
    const dbLive = h.dbBytes();
    let dbAfter;
    for (const x of hs) dbAfter = await stopHookd(x, s);
    const pgBytes = k.pg ? await pgDbSize(h.pgdb) : null;
    const batches = metricDelta(m0, m1, M.batches), acc = metricDelta(m0, m1, M.accepted);
    const tx = batches !== null && acc ? batches / acc : null;
    const txAll = m2 && m0 && metricDelta(m0, m2, M.accepted) ? metricDelta(m0, m2, M.batches) / metricDelta(m0, m2, M.accepted) : null;
    const drainS = st.last_ns && r.first_send_ns ? (st.last_ns - r.first_send_ns) / 1e9 : NaN;
    const cpuIngest = c1.reduce((a, x, i) => a + x - c0[i], 0);
    s.raw = { loadgen: r, receiver: st, complete: w.complete, metrics: { before: m0, afterIngest: m1, afterDrain: m2 },
      hookd: n === 1 ? { ...ps[0], cpuIngestS: cpuIngest } : { nodes: ps, cpuIngestS: cpuIngest },
      db: { live: dbLive, afterStop: dbAfter, pgBytes }, txPerMsg: tx, txPerMsgWithDrain: txAll, pg: pm };
    if (n > 1) s.raw.nodes = { ids: hs.map((x) => x.nodeId), knownAfterS: known, leases: leaseRaw(lease), perNodeMetrics: { before: m0?.nodes, afterDrain: m2?.nodes } };
    const lim = results.limits.receiverRate;
    row(L, `accepted (${r.count} x ${p.size} B, ${p.concurrency} senders${n > 1 ? `, over ${n} nodes` : ''})`, r.rate,
      { unit: 'msg/s', target: targetText, met: r.rate >= rateTarget, fraction: lim ? r.rate / lim : null });
    nodeRows(L, hs, lease, known, m0, m2, c0, c2);
    againstOne(L, k, r.rate, one);
    const plain = k.plain ? results.scenarios[k.plain]?.raw?.loadgen?.rate : undefined;
    if (plain) row(L, `  against ${k.plain} (no keys) in this run`, (r.rate / plain) * 100, { unit: '%', digits: 0 });
    row(L, 'ingest latency p50 / p99 / max', `${r.latency_ms.p50.toFixed(2)} / ${r.latency_ms.p99.toFixed(2)} / ${r.latency_ms.max.toFixed(1)}`, { unit: 'ms' });
    row(L, 'transactions per message (during ingest)', tx, { digits: 4, target: `<= ${TARGETS.txPerMsg}`,
      met: tx === null ? null : tx <= TARGETS.txPerMsg });
    row(L, 'transactions per message (ingest + delivery)', txAll, { digits: 4 });
    const msgs = metricDelta(m0, m2, M.accepted) || r.ok;
    if (k.pg) {
      pgRows(L, pm, r.ok, `ingest + delivery${n > 1 ? `, the ${n} nodes` : ''}`);
      row(L, 'database bytes per message (pg_database_size after stop, less the empty database)', pgBytes / msgs, { unit: 'B' });
    } else {
      row(L, 'database bytes per message (after stop)', dbAfter.total / msgs, { unit: 'B' });
      row(L, 'database files before stop: hookd.db / -wal', `${mib(dbLive['hookd.db'])} / ${mib(dbLive['hookd.db-wal'])}`, { unit: 'MiB' });
    }
    row(L, 'all delivered: first send -> last receipt', drainS, { unit: 's', digits: 2 });
    row(L, `hookd peak RSS${n > 1 ? ' per node' : ''}`, perNode(ps.map((x) => x.hwmMiB), 1), { unit: 'MiB', digits: 1 });
    row(L, `hookd CPU s during ingest${n > 1 ? ' (the nodes together)' : ''}`, cpuIngest, { unit: 's', digits: 2 });
  } finally {
    await rcv.stop(5000);
    await endNodes(hs);
  }
  // The same load to an app without endpoints: the API and commit path alone, nothing delivered.
  const hs2 = await startNodes(k);
  try {
    const app0 = await makeAppEps(hs2[0], 'ingest0', 0, null);
    if (hs2.length > 1) await waitKnown(hs2, [app0], s);
    const m0 = await metricsSum(hs2);
    const pm0 = k.pg ? pgMeterStart(hs2) : null;
    const r = await loadgenSplit(hs2.map((x) => ({ url: msgUrl(x, 'ingest0'), token: x.token })), p, `${L}, no endpoint`);
    const pm = k.pg ? pgMeterStop(pm0, hs2) : null;
    const m1 = await metricsSum(hs2);
    s.checkAnswers(`${L}, no endpoint`, r);
    for (const x of hs2) await stopHookd(x, s);
    const acc = metricDelta(m0, m1, M.accepted);
    const tx = acc ? metricDelta(m0, m1, M.batches) / acc : null;
    s.raw.noEndpoint = { loadgen: r, metrics: { before: m0, after: m1 }, txPerMsg: tx, pg: pm };
    const lim = results.limits.receiverRate;
    const one0 = oneNodeRate(k, (raw) => raw.noEndpoint?.loadgen?.rate);
    const target0 = one0 ?? rateTarget;
    row(L, 'accepted, app without endpoints (commit path only)', r.rate,
      { unit: 'msg/s', target: `(>= ${Math.round(target0)}${one0 ? ` ${k.one}` : ''})`, met: r.rate >= target0, fraction: lim ? r.rate / lim : null });
    row(L, '  ingest latency p50 / p99; transactions per message', `${r.latency_ms.p50.toFixed(2)} / ${r.latency_ms.p99.toFixed(2)} ms; ${tx === null ? 'n/a' : tx.toFixed(4)}`);
    if (k.pg) {
      const us = (cpu) => fx((cpu / Math.max(1, r.ok)) * 1e6, 1);
      row(L, '  hookd / PostgreSQL CPU per message; round trips per message',
        `${us(pm.hookdCpuS)} / ${us(pm.pgCpuS)} us; ${pm.roundTrips === null ? 'n/a' : fx(pm.roundTrips / Math.max(1, r.ok))}`);
    }
  } finally {
    await endNodes(hs2);
  }
  if (n > 1) await runIngestLocal(s, k, p, one);
}

/** Several nodes, nothing handed off: each node's senders post only to the app whose endpoint that node owns, so
 * the figure against one node is the cost of running n nodes on these cores without the hand-off (what the
 * coordination itself costs is the gap between this row and the main one). */
async function runIngestLocal(s, k, p, one) {
  const L = k.label, n = k.nodes;
  const rcv = await startReceiver({ capacity: p.count * 2, verify: SECRET });
  const hs = await startNodes(k);
  try {
    const apps = [];
    for (let i = 0; i < n; i++) apps.push(await makeAppEps(hs[0], `local${i}`, 1, rcv));
    await waitKnown(hs, apps, s);
    const lease = await waitLeases(hs, apps.flatMap((a) => a.eps), s);
    const targets = hs.flatMap((x) => apps.filter((a) => lease.owner.get(a.eps[0]) === x.nodeId)
      .map((a) => ({ url: msgUrl(x, a.uid), token: x.token })));
    if (!lease.settled || targets.length !== n) {
      s.note(`${L}: nothing-handed-off run skipped: the endpoints were not one per node`);
      return;
    }
    const r = await loadgenSplit(targets, p, `${L}, nothing handed off`);
    s.checkAnswers(`${L}, nothing handed off`, r);
    await waitReceived(rcv, r.ok, { hookd: hs });
    s.checkReceiver(`${L}, nothing handed off`, await rcv.stats(), r.ok);
    for (const x of hs) await stopHookd(x, s);
    s.raw.nothingHandedOff = { loadgen: r };
    row(L, 'accepted, nothing handed off (each node\'s senders to the app of the endpoint it owns)', r.rate, { unit: 'msg/s' });
    againstOne(L, k, r.rate, one);
  } finally {
    await rcv.stop(5000);
    await endNodes(hs);
  }
}

async function runFanout(s, k = KIND.fanout) {
  const p = P.fanout;
  const L = k.label;
  const n = k.nodes ?? 1;
  const expectedMax = p.count * p.endpoints;
  const rcv = await startReceiver({ capacity: expectedMax * 2, verify: SECRET });
  const hs = await startNodes(k);
  const h = hs[0];
  try {
    // several nodes: the endpoints spread over them by the leases, the messages posted to each node in turn
    const app = await makeAppEps(h, 'fanout', p.endpoints, rcv, k.filter ? { payloadFilter: k.filter } : {});
    if (k.transform)
      for (const ep of app.eps)
        await h.api('PATCH', `/app/fanout/endpoint/${ep}/transformation`, { code: k.transform, enabled: true });
    const known = n > 1 ? await waitKnown(hs, [app], s) : null;
    const lease = n > 1 ? await waitLeases(hs, app.eps, s) : null;
    const m0 = await metricsSum(hs);
    const c0 = hs.map(hookdCpuS);
    const pm0 = k.pg ? pgMeterStart(hs) : null;
    const r = await loadgenSplit(hs.map((x) => ({ url: msgUrl(x, 'fanout'), token: x.token })), p, L);
    s.checkAnswers(L, r);
    const expected = r.ok * p.endpoints;
    const w = await waitReceived(rcv, expected, { hookd: hs });
    const pm = k.pg ? pgMeterStop(pm0, hs) : null;
    const c1 = hs.map(hookdCpuS);
    const st = await rcv.stats();
    const ps = hs.map((x) => procStats(x.pid));
    s.checkReceiver(L, st, expected);
    const m1 = await metricsSum(hs);
    let dbAfter;
    for (const x of hs) dbAfter = await stopHookd(x, s);
    const pgBytes = k.pg ? await pgDbSize(h.pgdb) : null;
    const span = st.last_ns ? (st.last_ns - r.first_send_ns) / 1e9 : NaN;
    const rate = st.distinct_ok / span;
    const succ = metricDelta(m0, m1, M.success) ?? st.distinct_ok;
    const cpu = c1.reduce((a, x, i) => a + x - c0[i], 0);
    const cpu1k = (cpu / succ) * 1000;
    const tx = metricDelta(m0, m1, M.batches) !== null ? metricDelta(m0, m1, M.batches) / r.ok : null;
    const hwm = Math.max(...ps.map((x) => x.hwmMiB));
    const one = oneNodeRate(k, (raw) => raw.receiver?.distinct_ok / raw.spanS);
    s.raw = { loadgen: r, receiver: st, complete: w.complete, metrics: { before: m0, after: m1 }, hookd: n === 1 ? ps[0] : { nodes: ps },
      db: { afterStop: dbAfter, pgBytes }, spanS: span, pg: pm, cpuPer1k: cpu1k };
    if (n > 1) s.raw.nodes = { ids: hs.map((x) => x.nodeId), knownAfterS: known, leases: leaseRaw(lease), perNodeMetrics: { before: m0?.nodes, after: m1?.nodes } };
    row(L, `deliveries/s (${r.count} msgs x ${p.endpoints} endpoints${n > 1 ? `, over ${n} nodes` : ''}, first send -> last receipt)`, rate,
      { unit: 'del/s', target: one ? `>= ${Math.round(one)} (${k.one})` : `>= ${TARGETS.fanoutRate}`,
        met: rate >= (one ?? TARGETS.fanoutRate), fraction: results.limits.curlRate ? rate / results.limits.curlRate : null });
    nodeRows(L, hs, lease, known, m0, m1, c0, c1);
    againstOne(L, k, rate, one);
    row(L, 'ingest rate while fanning out', r.rate, { unit: 'msg/s' });
    row(L, 'sent -> received p50 / p99 / max', `${ms(st.lat_ns.p50).toFixed(1)} / ${ms(st.lat_ns.p99).toFixed(1)} / ${ms(st.lat_ns.max).toFixed(1)}`, { unit: 'ms' });
    row(L, `hookd peak RSS${n > 1 ? ' per node' : ''}`, perNode(ps.map((x) => x.hwmMiB), 1),
      { unit: 'MiB', digits: 1, target: `<= ${TARGETS.fanoutRssMiB}`, met: hwm <= TARGETS.fanoutRssMiB });
    row(L, `hookd CPU s per 1,000 deliveries${n > 1 ? ' (the nodes together)' : ''}`, cpu1k, { unit: 's', digits: 3 });
    row(L, 'transactions per message', tx, { digits: 4 });
    if (k.filter) filterRows(s, L, rate, cpu1k, k);
    if (k.pg) {
      pgRows(L, pm, r.ok, `ingest + fan-out${n > 1 ? `, the ${n} nodes` : ''}`);
      row(L, 'database bytes per message (pg_database_size after stop, less the empty database)', pgBytes / r.ok, { unit: 'B' });
    } else {
      row(L, 'database bytes per message (after stop)', dbAfter.total / r.ok, { unit: 'B' });
    }
  } finally {
    await rcv.stop(5000);
    await endNodes(hs);
  }
}

/** fan-out+filter: the plain fan-out's figures beside this one's (when it ran), and the micro-bench of one
 *  filter's evaluation (bench/pfilter.c). */
function filterRows(s, L, rate, cpu1k, k) {
  const plain = results.scenarios[k.plain];
  const praw = plain && !plain.failures?.length ? plain.raw : null;
  const prate = praw ? praw.receiver.distinct_ok / praw.spanS : NaN;
  row(L, 'vs plain fan-out: deliveries/s; hookd CPU s per 1,000 deliveries',
    praw ? `${fx(rate / prate * 100, 0)}% (${fx(prate, 0)} plain); ${fx(cpu1k, 3)} vs ${fx(praw.cpuPer1k, 3)}` : 'n/a (run fanout too)');
  let mb = null;
  try {
    mb = JSON.parse(execFileSync(PFILTER, [opt.smoke ? '20000' : '1000000'], { timeout: 60000 }).toString());
  } catch (err) {
    s.fail(`bench/pfilter: ${err.message}`);
    return;
  }
  s.raw.micro = mb;
  row(L, 'filter evaluation per endpoint, three clauses (C micro-bench)', mb.eval3_ns,
    { unit: 'ns', target: '<= 2000', met: mb.eval3_ns <= 2000 });
  row(L, '  the same with a $regex clause; parsing the 1 KiB payload (once per message)',
    `${fx(mb.eval3_regex_ns, 0)} ns; ${fx(mb.parse_ns / 1000, 1)} us`);
}

/** A Standard Webhooks provider (the generator, signing each request with libhookd) posts to POST /in/{source}:
 *  hookd verifies, deduplicates on webhook-id, commits and forwards to a receiver that checks the provider's
 *  signature. Then the first requests again with the same ids: answered 200 as duplicates, forwarded never. */
async function runInbound(s) {
  const p = P.inbound;
  const rcv = await startReceiver({ capacity: p.count * 2, verify: SECRET });
  const h = await startHookd();
  const ACC = 'hookd_inbound_requests_total{outcome="accepted"}', DUP = 'hookd_inbound_requests_total{outcome="duplicate"}';
  try {
    await h.api('POST', '/source', { name: 'bench', uid: 'bench-in', scheme: 'standard', secrets: [SECRET],
      destinations: [{ url: `${rcv.base}/inbound/0` }] });
    const url = `${h.url}/in/bench-in`;
    const m0 = await h.metrics();
    const c0 = procStats(h.pid).cpuS;
    const r = await loadgen(sendArgs(url, null, { ...p, sign: SECRET }), 'inbound');
    const m1 = await h.metrics();
    const c1 = procStats(h.pid).cpuS;
    s.checkAnswers('inbound', r);
    const w = await waitReceived(rcv, r.ok, { hookd: h });
    const d = await loadgen(sendArgs(url, null, { ...p, count: p.resend, sign: SECRET }), 'inbound duplicates');
    s.checkAnswers('inbound duplicates', d);
    const m2 = await h.metrics();
    const st = await rcv.stats();
    s.checkReceiver('inbound', st, r.ok);
    if (st.received > r.ok) s.fail(`inbound: ${st.received - r.ok} duplicates were forwarded`);
    const dups = metricDelta(m1, m2, DUP);
    if (dups !== null && dups !== d.ok) s.fail(`inbound: ${dups} of ${d.ok} resent requests counted as duplicates`);
    const ps = procStats(h.pid);
    await stopHookd(h, s);
    const acc = metricDelta(m0, m1, ACC) ?? r.ok;
    const tx = metricDelta(m0, m1, M.batches) !== null && acc ? metricDelta(m0, m1, M.batches) / acc : null;
    const drainS = st.last_ns && r.first_send_ns ? (st.last_ns - r.first_send_ns) / 1e9 : NaN;
    s.raw = { loadgen: r, duplicates: d, receiver: st, complete: w.complete, metrics: { before: m0, after: m1, end: m2 },
      hookd: { ...ps, cpuS: c1 - c0 }, txPerRequest: tx };
    row('inbound', `accepted, verified (${r.count} x ${p.size} B signed, ${p.concurrency} senders)`, r.rate, { unit: 'req/s' });
    row('inbound', 'latency (sent -> 200) p50 / p99 / max', `${r.latency_ms.p50.toFixed(2)} / ${r.latency_ms.p99.toFixed(2)} / ${r.latency_ms.max.toFixed(1)}`, { unit: 'ms' });
    row('inbound', 'all forwarded: first send -> last receipt', drainS, { unit: 's', digits: 2 });
    row('inbound', 'sent -> forwarded p50 / p99', `${ms(st.lat_ns.p50).toFixed(1)} / ${ms(st.lat_ns.p99).toFixed(1)}`, { unit: 'ms' });
    row('inbound', `duplicates resent / answered / forwarded`, `${d.count} / ${d.ok} / ${Math.max(0, st.received - r.ok)}`);
    row('inbound', 'duplicate checks per second', d.rate, { unit: 'req/s' });
    row('inbound', 'hookd CPU per accepted request (ingest + forward)', ((c1 - c0) / acc) * 1e6, { unit: 'us' });
    row('inbound', 'transactions per request', tx, { digits: 4 });
  } finally {
    await h.stop();
    await rcv.stop(5000);
    removeDir(h.dataDir);
  }
}

/** accepted -> received (ms, sorted): the receiver's first receipt of each seq minus the time the generator had
 *  its 2xx answer (acks lines "seq sent_ns done_ns status"), joined by seq; only the seqs that pass `want`. */
function acceptedToReceived(ackLines, receipts, want = () => true) {
  const d = [];
  for (const line of ackLines) {
    const [seq, , done, status] = line.split(' ');
    if (!status || status < 200 || status >= 300 || !want(Number(seq))) continue;
    const got = receipts.get(Number(seq));
    if (got !== undefined) d.push(ms(got - BigInt(done)));
  }
  return d.sort((a, b) => a - b);
}
const pcts = (d) => ({ count: d.length, p50: pctOf(d, 0.5), p99: pctOf(d, 0.99), max: d.at(-1) ?? NaN, min: d[0] ?? NaN });

async function runLatency(s, k = KIND.latency) {
  const p = P.latency;
  const L = k.label;
  const n = k.nodes ?? 1;
  // One app with one endpoint per node, each at its own receiver (the receipts of one message at each are told
  // apart); the messages are posted to the first node. On several nodes the leases spread the endpoints, so each
  // message is sent once by the node that accepted it and once by each other node (told by the leases table).
  const rcvs = [];
  for (let i = 0; i < n; i++) rcvs.push(await startReceiver({ capacity: p.count * 2, verify: SECRET }));
  const hs = await startNodes(k);
  const h = hs[0];
  const dir = tempDir('acks-');
  try {
    const app = await makeAppEps(h, 'latency', n, n === 1 ? rcvs[0] : rcvs);
    const known = n > 1 ? await waitKnown(hs, [app], s) : null;
    const lease = n > 1 ? await waitLeases(hs, app.eps, s) : null;
    const acks = path.join(dir, 'acks.txt');
    const m0 = k.pg ? await metricsSum(hs) : null;
    const c0 = hs.map(hookdCpuS);
    const pm0 = k.pg ? pgMeterStart(hs) : null;
    const r = await loadgen(sendArgs(app.url, h.token, { ...p, acks }), L);
    s.checkAnswers(L, r);
    const ws = [];
    for (const x of rcvs) ws.push(await waitReceived(x, r.ok, { hookd: hs }));
    const pm = k.pg ? pgMeterStop(pm0, hs) : null;
    const c1 = hs.map(hookdCpuS);
    const m1 = k.pg ? await metricsSum(hs) : null;
    const sts = [], receipts = [];
    for (const [i, x] of rcvs.entries()) {
      const st = await x.stats();
      s.checkReceiver(n === 1 ? L : `${L}, endpoint ${i}`, st, r.ok);
      sts.push(st);
      receipts.push(await x.receipts());
    }
    const leaseAfter = n > 1 ? await pgLeases(h.pgdb) : null;
    const ps = hs.map((x) => procStats(x.pid));
    for (const x of hs) await stopHookd(x, s);
    const ackLines = readFileSync(acks, 'utf8').split('\n');
    const lat = (d) => `${fx(d.p50)} / ${fx(d.p99)} / ${fx(d.max)}`;
    const sentRcv = (st) => `${ms(st.lat_ns.p50).toFixed(2)} / ${ms(st.lat_ns.p99).toFixed(2)} / ${ms(st.lat_ns.max).toFixed(2)}`;
    if (n === 1) {
      const ar = pcts(acceptedToReceived(ackLines, receipts[0]));
      s.raw = { loadgen: r, receiver: sts[0], complete: ws[0].complete, acceptedToReceivedMs: ar, hookd: ps[0], pg: pm,
        metrics: k.pg ? { before: m0, after: m1 } : undefined };
      row(L, `accepted -> received p50 / p99 / max (${r.count} at ${p.rate}/s)`, lat(ar),
        { unit: 'ms', target: `p99 <= ${TARGETS.latencyP99Ms}`, met: ar.p99 <= TARGETS.latencyP99Ms });
      row(L, 'sent -> received p50 / p99 / max', sentRcv(sts[0]), { unit: 'ms' });
    } else {
      // endpoint i: owned by the node that accepted the messages (same node) or by another one (cross-node)
      const owners = app.eps.map((e) => lease.owner.get(e) ?? null);
      const cls = owners.map((o) => (o === h.nodeId ? 'same' : o === null ? 'none' : 'cross'));
      const moved = app.eps.filter((e, i) => leaseAfter.get(e) !== owners[i]);
      if (moved.length) s.note(`${L}: ${moved.length} endpoint(s) changed owner during the load: the same/cross split is approximate`);
      const merged = (c) => {
        const d = [];
        for (let i = 0; i < n; i++) if (cls[i] === c) d.push(...acceptedToReceived(ackLines, receipts[i]));
        return pcts(d.sort((a, b) => a - b));
      };
      const cross = merged('cross'), same = merged('same');
      s.raw = { loadgen: r, receivers: sts, complete: ws.every((w) => w.complete), hookd: { nodes: ps }, pg: pm,
        metrics: { before: m0, after: m1 }, nodes: { ids: hs.map((x) => x.nodeId), knownAfterS: known, leases: leaseRaw(lease), leasesAfter: Object.fromEntries(leaseAfter ?? []) },
        endpoints: app.eps.map((e, i) => ({ id: e, owner: owners[i], class: cls[i] })),
        acceptedToReceivedMs: { crossNode: cross, sameNode: same } };
      row(L, `accepted by node 1 -> received from another node (cross-node) p50 / p99 / max (${r.count} at ${p.rate}/s)`,
        cross.count ? lat(cross) : 'n/a (no endpoint leased by another node)',
        { unit: cross.count ? 'ms' : '', target: `p99 <= ${TARGETS.pgCrossP99Ms}`, met: cross.count ? cross.p99 <= TARGETS.pgCrossP99Ms : null });
      row(L, '  the same messages to the endpoint of node 1 (same node) p50 / p99 / max',
        same.count ? lat(same) : 'n/a (no endpoint leased by node 1)',
        { unit: same.count ? 'ms' : '', target: `(p99 <= ${TARGETS.latencyP99Ms})`, met: same.count ? same.p99 <= TARGETS.latencyP99Ms : null });
      for (const c of ['cross', 'same']) {
        const i = cls.indexOf(c);
        if (i >= 0) row(L, `  sent -> received p50 / p99 / max, ${c === 'cross' ? 'cross-node' : 'same node'}`, sentRcv(sts[i]), { unit: 'ms' });
      }
      nodeRows(L, hs, lease, known, m0, m1, c0, c1);
    }
    row(L, 'ingest (sent -> 202) p50 / p99 / max', `${r.latency_ms.p50.toFixed(2)} / ${r.latency_ms.p99.toFixed(2)} / ${r.latency_ms.max.toFixed(2)}`, { unit: 'ms' });
    if (k.pg) {
      const acc = metricDelta(m0, m1, M.accepted);
      row(L, 'transactions per message (ingest + delivery)', acc ? metricDelta(m0, m1, M.batches) / acc : null, { digits: 4 });
      pgRows(L, pm, r.ok, n === 1 ? 'ingest + delivery' : `ingest + delivery to ${n} endpoints, the ${n} nodes`);
    }
    if (r.send_lag_ms.max > 5) s.note(`${L}: the generator sent up to ${r.send_lag_ms.max.toFixed(1)} ms late (p99 ${r.send_lag_ms.p99.toFixed(2)} ms)`);
  } finally {
    for (const x of rcvs) await x.stop(5000);
    await endNodes(hs);
    removeDir(dir);
  }
}

/** Two nodes (HOOKD_LEASE_TIME short), an app with one endpoint each (P.takeover.endpoints), spread over both by
 *  the leases; a message to every endpoint through node 1 (both nodes send); then kill -9 of node 2 and at once a
 *  message through node 1 to each endpoint node 2 held. Measured from the kill: all those endpoints leased by
 *  node 1 (psql polling the leases table, and node 1's log line "sched: N endpoints claimed" for the exact time),
 *  and every one of those messages received. Repeated with a fresh node 2 (rounds). */
async function runTakeover(s) {
  const p = P.takeover;
  const L = 'pg-takeover';
  const env = { HOOKD_LEASE_TIME: p.leaseTime };
  const rcv = await startReceiver({ capacity: 65536, verify: SECRET });
  const hs = await startNodes({ pg: true, nodes: 2 }, env);
  const a = hs[0];
  const rounds = [];
  let seq = 0, delivered = 0;
  try {
    const apps = [];
    for (let i = 0; i < p.endpoints; i++) apps.push(await makeAppEps(a, `to${i}`, 1, rcv));
    const eps = apps.map((x) => x.eps[0]);
    await waitKnown(hs, apps, s);
    for (let round = 0; round < p.rounds; round++) {
      if (round > 0) hs.push(await addNode(a.pgdb, env));
      const b = hs.at(-1);
      if (round > 0) await waitKnown([b], apps, s);
      const lease = await waitLeases([a, b], eps, s);
      // both nodes send (node 2's messages come through node 1's commits and notifications)
      for (const x of apps) await postMessage(a, x.uid, seq++);
      delivered += apps.length;
      const w = await waitReceived(rcv, delivered, { hookd: [a, b] });
      if (!w.complete) throw new Error(`round ${round + 1}: only ${w.counters.distinct_ok} of ${delivered} messages received before the kill`);
      const victims = apps.filter((x) => lease.owner.get(x.eps[0]) === b.nodeId);
      if (victims.length === 0) throw new Error(`round ${round + 1}: node 2 holds no endpoint (leases per node ${lease.perNode.join(' / ')})`);
      const logFrom = a.stderr.length;
      const killMs = Date.now();
      await kill9(b);
      const posted = [];
      for (const x of victims) {
        posted.push(seq);
        await postMessage(a, x.uid, seq++);
      }
      const postedMs = Date.now() - killMs;
      delivered += victims.length;
      const expiry = Number(await pgSql(`SELECT extract(epoch FROM max(expires_at)) * 1000 FROM leases WHERE node_id = '${b.nodeId}'`, a.pgdb.url));
      let leasedMs = null, receivedMs = null;
      const deadline = killMs + p.leaseMs * 5 + 15000;
      for (;;) {
        if (leasedMs === null) {
          const owner = await pgLeases(a.pgdb);
          if (victims.every((x) => owner.get(x.eps[0]) === a.nodeId)) leasedMs = Date.now() - killMs;
        }
        if (receivedMs === null) {
          const got = await rcv.receipts();
          if (posted.every((q) => got.has(q))) receivedMs = Math.max(...posted.map((q) => ms(got.get(q)))) - killMs;
        }
        if (leasedMs !== null && receivedMs !== null) break;
        if (!a.alive()) throw new Error(`node 1 exited (${a.code}) during the takeover:\n${tail(a.stderr)}`);
        if (Date.now() > deadline) {
          s.fail(`${L}: round ${round + 1}: no takeover ${deadline - killMs} ms after the kill (leased by the survivor: ` +
            `${leasedMs === null ? 'no' : `${leasedMs} ms`}, messages received: ${receivedMs === null ? 'no' : `${fx(receivedMs, 0)} ms`})`);
          break;
        }
        await sleep(20);
      }
      // node 1's log: "<ISO time> info sched: N endpoints claimed, M deliveries pending", after the kill
      let claimed = 0, claimLogMs = null;
      for (const line of a.stderr.slice(logFrom).split('\n')) {
        const m = /^(\S+Z) info sched: (\d+) endpoints claimed/.exec(line);
        if (!m || Date.parse(m[1]) < killMs - 1) continue;
        claimed += Number(m[2]);
        if (claimed >= victims.length && claimLogMs === null) claimLogMs = Date.parse(m[1]) - killMs;
      }
      const r = { round: round + 1, endpoints: eps.length, victims: victims.length, leasesBefore: lease.perNode,
        expiryMs: expiry - killMs, postedMs, claimLogMs, leasedPollMs: leasedMs, receivedMs,
        takeoverMs: leasedMs === null || receivedMs === null ? null : Math.max(claimLogMs ?? leasedMs, receivedMs) };
      rounds.push(r);
      log(`${L}: round ${r.round}: ${JSON.stringify(r)}`);
    }
    await sleep(Math.min(1000, p.leaseMs / 2)); // anything more would be a duplicate
    const st = await rcv.stats();
    s.checkReceiver(L, st, delivered);
    for (const x of hs) if (x.alive()) await stopHookd(x, s);
    s.raw = { leaseTime: p.leaseTime, rounds, receiver: st, nodes: hs.map((x) => x.nodeId) };
    const list = (f, d = 0) => rounds.map((x) => fx(f(x), d)).join(' / ');
    const worst = Math.max(...rounds.map((x) => x.takeoverMs ?? Infinity));
    const each = rounds.length > 1 ? `; ${rounds.length} rounds` : '';
    row(L, `kill -9 of one of 2 nodes (lease time ${p.leaseTime}${each}): kill -> its endpoints claimed by the survivor ` +
      'and a message posted after the kill to each received', list((x) => x.takeoverMs),
      { unit: 'ms', target: `<= ${p.leaseMs} (lease time)`, met: worst <= p.leaseMs });
    row(L, `  endpoints the killed node held (of ${p.endpoints})`, list((x) => x.victims));
    row(L, '  kill -> the last of its leases expired (as last renewed)', list((x) => x.expiryMs), { unit: 'ms' });
    row(L, '  kill -> all claimed by the survivor (its log; psql polling)', `${list((x) => x.claimLogMs)}; ${list((x) => x.leasedPollMs)}`, { unit: 'ms' });
    row(L, '  lease expiry -> claimed (the survivor ticks every tenth of the lease time)',
      list((x) => (x.claimLogMs ?? x.leasedPollMs ?? NaN) - x.expiryMs), { unit: 'ms' });
    row(L, '  kill -> the last of those messages received', list((x) => x.receivedMs), { unit: 'ms' });
    row(L, '  messages received / posted; duplicates', `${st.distinct_ok} / ${delivered}; ${st.duplicates}`);
  } finally {
    await rcv.stop(5000);
    await endNodes(hs);
  }
}

async function runFaults(s) {
  const p = P.faults;
  const rcv = await startReceiver({ capacity: p.count * 4, failFirst: p.failFirst, verify: SECRET });
  // The circuit breaker (--breaker-failures, default 10 failures in a row) would pause this endpoint at once: two
  // of every three attempts fail on purpose. This scenario measures retries, so the breaker is set out of reach.
  const h = await startHookd({ HOOKD_RETRY_SCHEDULE: p.schedule, HOOKD_RETRY_JITTER: '0', HOOKD_BREAKER_FAILURES: '1000000' });
  try {
    const url = await makeApp(h, 'faults', 1, rcv);
    const m0 = await h.metrics();
    const r = await loadgen(sendArgs(url, h.token, p), 'faults');
    s.checkAnswers('faults', r);
    const w = await waitReceived(rcv, r.ok, { hookd: h });
    await sleep(opt.smoke ? 300 : 1000); // anything more after the last success would be a duplicate
    const st = await rcv.stats();
    s.checkReceiver('faults', st, r.ok);
    const m1 = await h.metrics();
    await stopHookd(h, s);
    const drain = st.last_ns ? (st.last_ns - r.first_send_ns) / 1e9 : NaN;
    const expectFailed = r.ok * p.failFirst;
    if (st.failed_on_purpose < expectFailed) s.fail(`faults: only ${st.failed_on_purpose} of ${expectFailed} planned failures were attempted`);
    const retries = metricDelta(m0, m1, M.retry), fails = metricDelta(m0, m1, M.fail);
    if (fails) s.fail(`faults: ${fails} deliveries failed for good (dead letter) with a 3-retry schedule`);
    s.raw = { loadgen: r, receiver: st, complete: w.complete, metrics: { before: m0, after: m1 }, drainS: drain };
    row('faults', `delivered (${r.ok} msgs, first ${p.failFirst} attempts of each answered 503)`, `${st.distinct_ok} / ${r.ok}`,
      { target: 'all', met: st.distinct_ok >= r.ok });
    row('faults', 'duplicates beyond the failed attempts', st.duplicates, { target: '0', met: st.duplicates === 0 });
    row('faults', 'attempts (received) / expected', `${st.received} / ${r.ok * (p.failFirst + 1)}`);
    row('faults', 'retries counted by hookd', retries === null ? null : retries);
    row('faults', `time to drain (first send -> last success, schedule ${p.schedule})`, drain, { unit: 's', digits: 2 });
  } finally {
    await h.stop();
    await rcv.stop(5000);
    removeDir(h.dataDir);
  }
}

/** hookd's read and written bytes so far (/proc/<pid>/io: rchar + wchar, every read and write call). */
function ioBytes(pid) {
  try {
    const t = readFileSync(`/proc/${pid}/io`, 'utf8');
    return Number(/^rchar:\s+(\d+)/m.exec(t)[1]) + Number(/^wchar:\s+(\d+)/m.exec(t)[1]);
  } catch { return NaN; }
}

/** Wait until hookd is idle after a load: no CPU (<= 20 ms) and no file I/O (< 1 MiB) for 500 ms, at most 120 s
 *  (background work such as a checkpoint copying the WAL into the database must not land in the next figures).
 *  Returns the seconds waited and a timeline of what hookd did meanwhile. */
async function settle(h) {
  const t0 = Date.now();
  const timeline = [];
  let prev = { cpu: procStats(h.pid).cpuS, io: ioBytes(h.pid) };
  while (Date.now() - t0 < 120000) {
    await sleep(500);
    const now = { cpu: procStats(h.pid).cpuS, io: ioBytes(h.pid) };
    const db = h.dbBytes();
    timeline.push({ t: (Date.now() - t0) / 1000, cpuS: Number((now.cpu - prev.cpu).toFixed(2)),
      ioMiB: Number(((now.io - prev.io) / 1048576).toFixed(1)), dbMiB: Number(mib(db['hookd.db'])), walMiB: Number(mib(db['hookd.db-wal'])) });
    const quiet = now.cpu - prev.cpu <= 0.02 && !(now.io - prev.io >= 1048576);
    prev = now;
    if (quiet) break;
  }
  return { seconds: (Date.now() - t0) / 1000, timeline };
}

async function runBacklog(s) {
  const p = P.backlog;
  const scheduledTotal = p.messages * p.endpoints;
  const perRound = p.burst * p.repeats + p.probe;
  const rcv = await startReceiver({ capacity: perRound * 4, verify: SECRET });
  const late = await startReceiver({ capacity: 1024 }); // the backlog's endpoints: must get nothing
  const h = await startHookd();
  try {
    const burstUrl = await makeApp(h, 'burst', 1, rcv);
    const backlogUrl = await makeApp(h, 'backlog', p.endpoints, late);
    let seq = 0;
    const send = async (what, args) => {
      await rcv.reset();
      const r = await loadgen(sendArgs(burstUrl, h.token, { size: p.size, seqStart: seq, ...args }), what);
      seq += args.count;
      s.checkAnswers(what, r);
      const w = await waitReceived(rcv, r.ok, { hookd: h });
      const st = await rcv.stats();
      s.checkReceiver(what, st, r.ok);
      return { loadgen: r, receiver: st, complete: w.complete };
    };
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
    // One round: `repeats` closed-loop bursts (medians of their p99s and rates: one burst is too noisy on 2 cores),
    // then a paced probe whose latency is the per-message cost without the burst's own queueing.
    const round = async (label) => {
      const bursts = [];
      for (let i = 0; i < p.repeats; i++)
        bursts.push(await send(`burst ${i + 1}, ${label}`, { count: p.burst, concurrency: p.concurrency }));
      const probe = await send(`paced probe, ${label}`, { count: p.probe, rate: p.probeRate, concurrency: 32 });
      return {
        bursts, probe,
        e2eP99: median(bursts.map((b) => ms(b.receiver.lat_ns.p99))),
        ingestP99: median(bursts.map((b) => b.loadgen.latency_ms.p99)),
        rate: median(bursts.map((b) => b.loadgen.rate)),
        probeP99: ms(probe.receiver.lat_ns.p99),
        probeIngestP99: probe.loadgen.latency_ms.p99,
      };
    };
    await send('backlog warm-up', { count: p.burst, concurrency: p.concurrency }); // a fresh hookd's cold caches
    const m0 = await h.metrics();
    const base = await round('no backlog');
    const ps0 = procStats(h.pid);

    const deliverAt = new Date(Date.now() + 3600 * 1000).toISOString();
    const load = await loadgen(sendArgs(backlogUrl, h.token, { count: p.messages, concurrency: p.concurrency, size: p.size,
      deliverAt, seqStart: 0 }), 'backlog load');
    s.checkAnswers('backlog load', load);
    const m1 = await h.metrics();
    const settled = await settle(h);
    const settleS = settled.seconds;
    const withB = await round('with backlog');
    const m2 = await h.metrics();
    const ps1 = procStats(h.pid);
    const lc = await late.counters();
    if (lc.received > 0) s.fail(`backlog: ${lc.received} deliveries scheduled an hour ahead arrived now`);
    const dbLive = h.dbBytes();
    const dbAfter = await stopHookd(h, s);
    const scheduled = m2?.[M.scheduled] ?? null;
    const ratio = withB.e2eP99 / base.e2eP99;
    const x = (a, b) => `x${fx(b / a)}`;
    s.raw = { base, withBacklog: withB, load, metrics: { before: m0, afterLoad: m1, end: m2 }, settle: settled,
      hookd: { before: ps0, after: ps1 }, db: { live: dbLive, afterStop: dbAfter }, lateReceiver: lc, scheduledGauge: scheduled };
    row('backlog', `backlog loaded (${load.ok} msgs x ${p.endpoints} endpoints, deliverAt +1 h)`, load.ok * p.endpoints,
      { unit: 'deliveries' });
    row('backlog', '  load rate', `${Math.round(load.rate)} msg/s = ${Math.round(load.rate * p.endpoints)} deliveries scheduled/s`);
    if (scheduled !== null) row('backlog', '  hookd_deliveries_scheduled after load', scheduled);
    row('backlog', '  hookd busy after the load (CPU or file I/O) for', settleS, { unit: 's', digits: 1 });
    row('backlog', `burst of ${p.burst} (${p.concurrency} senders; median of ${p.repeats}) sent -> received p99: none / with`,
      `${fx(base.e2eP99)} / ${fx(withB.e2eP99)}`, { unit: 'ms' });
    row('backlog', '  ratio with / without backlog', ratio, { digits: 2, target: `<= ${TARGETS.backlogRatio}`, met: ratio <= TARGETS.backlogRatio });
    row('backlog', '  burst ingest p99: none / with backlog', `${fx(base.ingestP99)} / ${fx(withB.ingestP99)} ms (${x(base.ingestP99, withB.ingestP99)})`);
    row('backlog', '  burst rate: none / with backlog', `${Math.round(base.rate)} / ${Math.round(withB.rate)} msg/s (${x(base.rate, withB.rate)})`);
    row('backlog', `paced probe (${p.probe} at ${p.probeRate}/s) sent -> received p99: none / with`,
      `${fx(base.probeP99)} / ${fx(withB.probeP99)} ms (${x(base.probeP99, withB.probeP99)})`);
    row('backlog', '  probe ingest p99: none / with backlog', `${fx(base.probeIngestP99)} / ${fx(withB.probeIngestP99)} ms (${x(base.probeIngestP99, withB.probeIngestP99)})`);
    row('backlog', 'hookd peak RSS: before / after backlog', `${fx(ps0.hwmMiB, 1)} / ${fx(ps1.hwmMiB, 1)}`, { unit: 'MiB' });
    row('backlog', 'database files before stop: hookd.db / -wal', `${mib(dbLive['hookd.db'])} / ${mib(dbLive['hookd.db-wal'])}`, { unit: 'MiB' });
    row('backlog', 'database bytes per scheduled delivery (after stop)', dbAfter.total / Math.max(1, scheduledTotal), { unit: 'B' });
  } finally {
    await h.stop();
    await rcv.stop(5000);
    await late.stop(5000);
    removeDir(h.dataDir);
  }
}

const RUNNERS = { limits: runLimits, ingest: runIngest, 'ingest-idem': (s) => runIngest(s, KIND['ingest-idem']),
  'pg-ingest-idem': (s) => runIngest(s, KIND['pg-ingest-idem']), fanout: runFanout,
  'fanout-filter': (s) => runFanout(s, KIND['fanout-filter']), 
  'fanout-xform': (s) => runFanout(s, KIND['fanout-xform']), latency: runLatency, faults: runFaults, backlog: runBacklog,
  inbound: runInbound, 'pg-ingest': (s) => runIngest(s, KIND['pg-ingest']), 'pg-fanout': (s) => runFanout(s, KIND['pg-fanout']),
  'pg-latency': (s) => runLatency(s, KIND['pg-latency']), 'pg2-ingest': (s) => runIngest(s, KIND['pg2-ingest']),
  'pg2-fanout': (s) => runFanout(s, KIND['pg2-fanout']), 'pg2-latency': (s) => runLatency(s, KIND['pg2-latency']),
  'pg-takeover': runTakeover };

// ---- output ----------------------------------------------------------------------------------------------------

function machine() {
  let cpu = '';
  try { cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? ''; } catch { /* n/a */ }
  return { cpus: os.cpus().length, cpu, memMiB: Math.round(os.totalmem() / 1048576), kernel: os.release(), node: process.version };
}

function hookdVersion() {
  const git = (...a) => { try { return execFileSync('git', ['-C', root, ...a], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim(); } catch { return null; } };
  return { commit: git('rev-parse', 'HEAD'), dirty: (git('status', '--porcelain', '--', 'src', 'include') ?? '') !== '', bin: HOOKD };
}

/** n with d decimals, never "-0.00". */
const fx = (n, d = 2) => (Number.isFinite(n) ? (Math.abs(n) < 0.5 * 10 ** -d ? 0 : n).toFixed(d) : 'n/a');

function fmt(v, digits, unit) {
  if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) return 'n/a';
  if (typeof v === 'number') {
    const s = v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
    return unit ? `${s} ${unit}` : s;
  }
  return unit ? `${v} ${unit}` : String(v);
}

function printTable() {
  const rows = results.table.map((r) => [
    r.scenario, r.figure, fmt(r.value, r.digits, r.unit),
    r.target === null ? '' : `${r.target}${r.met === null ? '' : r.met ? '  ok' : '  MISSED'}`,
    r.fraction === null || r.fraction === undefined ? '' : `${(r.fraction * 100).toFixed(0)}% of ${r.scenario.endsWith('fan-out') ? 'libcurl' : 'ceiling'}`,
  ]);
  const head = ['scenario', 'figure', 'value', 'target', 'vs machine limit'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 2 ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  ').trimEnd();
  const out = [line(head), w.map((n) => '-'.repeat(n)).join('  ')];
  let prev = null;
  for (const r of rows) {
    if (prev !== null && r[0] !== prev) out.push('');
    out.push(line([r[0] === prev ? '' : r[0], ...r.slice(1)]));
    prev = r[0];
  }
  process.stdout.write(`\nhookd bench${opt.smoke ? ' (smoke: tiny counts, figures meaningless)' : ''}, scale ${opt.scale}, ` +
    `${results.machine.cpus} CPUs (${results.machine.cpu}), hookd ${results.hookd.commit?.slice(0, 10) ?? '?'}` +
    `${results.hookd.dirty ? '+dirty' : ''}\n\n${out.join('\n')}\n`);
  if (results.notes.length) process.stdout.write(`\nnotes:\n${results.notes.map((n) => `  - ${n}`).join('\n')}\n`);
  if (results.failures.length) process.stdout.write(`\nBROKEN:\n${results.failures.map((n) => `  - ${n}`).join('\n')}\n`);
}

// ---- main ------------------------------------------------------------------------------------------------------

/** Before a full-scale scenario: wait (up to 60 s) for a second in which other processes use less than 0.15 of
 *  a core, so that a neighbour's burst does not land in our figures. Returns the seconds waited. */
async function quietMachine() {
  const t0 = Date.now();
  for (;;) {
    const b0 = machineBusyS(), n0 = nodeCpuS();
    await sleep(1000);
    const foreign = machineBusyS() - b0 - (nodeCpuS() - n0);
    if (!(foreign > 0.15) || Date.now() - t0 > 60000) return { waitedS: (Date.now() - t0) / 1000, foreignCores: foreign };
  }
}

async function main() {
  removeStaleDirs();
  const watchdog = setTimeout(() => {
    process.stderr.write(`run.mjs: the whole run took more than ${T.total} s; giving up\n`);
    cleanupSync();
    process.exit(1);
  }, T.total * 1000);
  watchdog.unref();
  const order = SCENARIOS.filter((n) => opt.only.includes(n));
  if (PG && order.some((n) => PG_SCENARIOS.has(n))) {
    try {
      results.postgres = { version: await pgSql('SHOW server_version'), settings: Object.fromEntries((await pgSql(
        "SELECT name || '=' || setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'shared_buffers', 'wal_level', 'max_connections')"))
        .split('\n').map((l) => l.split('='))) };
    } catch (err) {
      process.stderr.write(`run.mjs: HOOKD_TEST_PG is set but PostgreSQL does not answer: ${err.message}\n`);
      process.exit(2);
    }
  }
  for (const name of order) {
    if (PG_SCENARIOS.has(name) && !PG) {
      row(name, 'skipped: HOOKD_TEST_PG is not set (run under scripts/pg.sh: make bench-pg)', '-');
      results.notes.push(`${name}: skipped, it needs PostgreSQL: run under scripts/pg.sh (make bench-pg)`);
      results.scenarios[name] = { skipped: 'HOOKD_TEST_PG not set' };
      continue;
    }
    const s = scenario(name);
    const quiet = opt.smoke ? null : await quietMachine();
    if (quiet && quiet.waitedS > 1.5) log(`${name}: waited ${quiet.waitedS.toFixed(0)} s for other processes to calm down`);
    const t0 = Date.now();
    const busy0 = machineBusyS(), ours0 = ourCpu, node0 = nodeCpuS();
    const pgCpu0 = PG_DIR ? pgCpuS() : NaN; // our cluster's CPU is ours, not a neighbour's
    hookdsOfScenario = [];
    log(`${name} ...`);
    let timer;
    try {
      await Promise.race([
        RUNNERS[name](s),
        new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`${name}: no end after ${T.scenario} s`)), T.scenario * 1000); }),
      ]);
    } catch (err) {
      s.fail(`${name}: ${err.message}`);
      for (const p of live) try { p.kill('SIGKILL'); } catch { /* gone */ } // whatever the scenario left running
    } finally {
      clearTimeout(timer);
    }
    s.seconds = (Date.now() - t0) / 1000;
    const pgCpu = PG_DIR ? pgCpuS() - pgCpu0 : NaN;
    const foreign = Math.max(0, machineBusyS() - busy0 - (ourCpu - ours0) - (nodeCpuS() - node0) - (pgCpu > 0 ? pgCpu : 0));
    s.foreignCpuS = Number(foreign.toFixed(2));
    if (!opt.smoke && foreign > 0.5 && foreign / s.seconds > 0.15)
      s.note(`${name}: other processes on this machine used ${foreign.toFixed(1)} CPU-s during its ${s.seconds.toFixed(1)} s ` +
        `(${(foreign / s.seconds).toFixed(2)} of ${os.cpus().length} cores): its figures are perturbed`);
    log(`${name} done in ${s.seconds.toFixed(1)} s${s.failures.length ? ` (${s.failures.length} problem(s))` : ''}`);
    results.scenarios[name] = { seconds: s.seconds, foreignCpuS: s.foreignCpuS, quietBefore: quiet, failures: s.failures, notes: s.notes, raw: s.raw };
    if (s.failures.length) {
      results.scenarios[name].hookdLogs = hookdsOfScenario.map((h) => tail(h.stderr + h.stdout, 20000));
      for (const h of hookdsOfScenario) process.stderr.write(`----- ${name}: hookd log (port ${h.port}) -----\n${tail(h.stderr + h.stdout)}\n`);
    }
    results.failures.push(...s.failures);
    results.notes.push(...s.notes);
  }
  if (metricsMissing) results.notes.push('hookd GET /metrics not available: the figures that need it are n/a');
  printTable();
  if (opt.write && results.failures.length) {
    process.stdout.write('\nnot writing bench/results/: something is broken (see above)\n');
  } else if (opt.write) {
    mkdirSync(opt.out, { recursive: true });
    // a run of the PostgreSQL scenarios alone (make bench-pg) does not replace the day's run of the others
    const pgOnly = order.every((n) => PG_SCENARIOS.has(n));
    // nor does a second run of the day replace the first: "-2", "-3", ... after the date
    const name = (n) => `${results.date.slice(0, 10)}${n > 1 ? `-${n}` : ''}${pgOnly ? '-pg' : ''}.json`;
    let n = 1;
    while (existsSync(path.join(opt.out, name(n)))) n++;
    const file = path.join(opt.out, name(n));
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`\nwrote ${path.relative(process.cwd(), file) || file}\n`);
  }
  if (opt.json) process.stdout.write(`${JSON.stringify(results)}\n`);
  cleanupSync();
  process.exitCode = results.failures.length ? 1 : 0;
}

main().catch((err) => {
  process.stderr.write(`run.mjs: ${err.stack ?? err}\n`);
  cleanupSync();
  process.exit(1);
});
