// Operability: a config file (precedence flag > environment > file > default) and `hookd serve --check`;
// --log-format json with one line per delivery outcome and per API error; GET /api/v1/health/ready;
// a W3C traceparent accepted on ingest and sent with every delivery.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PG, api, e2e, eventually as retry, freePort, pgOwnCluster, pgsh, pool, runHookd, startHookd, startReceiver } from './lib/harness.mjs';

/** Wait until cond() is truthy (the harness's eventually retries on a throw). */
function until(cond, opts) {
  return retry(async () => assert.ok(await cond(), opts?.what), opts);
}

async function tmpdir(t) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hookd-ops-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

e2e('serve --check: exit 0 for good settings, 1 with a one-line error naming the file and line', async (t) => {
  const dir = await tmpdir(t);
  const conf = path.join(dir, 'hookd.conf');
  await writeFile(conf, '# hookd settings\n\nlisten = 127.0.0.1:9999\nretry-schedule = "5s,1m"\n  log-format=json\n');
  const good = await runHookd(['serve', '--config', conf, '--check']);
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, /configuration ok \(.*hookd\.conf\)/);

  await writeFile(conf, 'listen = 127.0.0.1:9999\nmax-inflight = lots\n');
  const bad = await runHookd(['serve', '--config', conf, '--check']);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  assert.match(bad.stderr, /hookd\.conf:2: invalid value for --max-inflight: 'lots'/);

  await writeFile(conf, 'no-such-setting = 1\n');
  assert.match((await runHookd(['serve', '--config', conf, '--check'])).stderr, /:1: unknown option --no-such-setting/);
  await writeFile(conf, 'just words\n');
  assert.match((await runHookd(['serve', '--config', conf, '--check'])).stderr, /:1: expected 'name = value'/);
  const missing = await runHookd(['serve', '--config', path.join(dir, 'nope.conf'), '--check']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope\.conf: No such file/);
  const flag = await runHookd(['serve', '--check', '--max-inflight', '0']);
  assert.equal(flag.code, 1);
  assert.match(flag.stderr, /invalid value for --max-inflight/);
  assert.equal((await runHookd(['serve', '--check'])).code, 0);
});

e2e('config file: the same names as the flags; flag > environment > file > default', async (t) => {
  const dir = await tmpdir(t);
  const port = await freePort();
  const conf = path.join(dir, 'hookd.conf');
  // the file sets the port and the log format; the environment's max-body beats the file's; a flag beats both
  await writeFile(conf, `listen = 127.0.0.1:${port}\nlog-format = json\nmax-body = 2048\nmax-inflight = 7\n`);
  const h = await startHookd(t, { port, args: ['--config', conf, '--max-inflight', '9'],
    env: { HOOKD_MAX_BODY: '4096', HOOKD_LISTEN: '' } });
  assert.equal(h.port, port);
  const big = await api(h).req('POST', '/app', { name: 'x'.repeat(3000) });
  assert.notEqual(big.status, 413, 'the environment (4096) beats the file (2048)');
  const bigger = await api(h).req('POST', '/app', { name: 'x'.repeat(5000) });
  assert.equal(bigger.status, 413);
  assert.match(h.logs(), /^\{"time":"[^"]+","level":"info","msg":"hookd .* listening on/m, 'the file set json logs');
  // HOOKD_CONFIG names the file too
  const viaEnv = await runHookd(['serve', '--check'], { env: { HOOKD_CONFIG: conf } });
  assert.match(viaEnv.stdout, /hookd\.conf/);
});

e2e('--log-format json: one line per delivery outcome and per API error, at the default level', async (t) => {
  let n = 0;
  const rec = await startReceiver(t, () => (n++ === 0 ? { status: 500 } : { status: 200 }));
  const h = await startHookd(t, { args: ['--log-format', 'json'], token: null }); // its token line too
  await api(h).req('POST', '/app', { name: 'logs', uid: 'logs' });
  const ep = (await api(h).req('POST', '/app/logs/endpoint', { url: rec.url })).json;
  const msg = (await api(h).req('POST', '/app/logs/msg', { eventType: 'a.b', payload: {} })).json;
  await until(() => rec.requests.length === 2, { what: 'a failure, then a success' });
  assert.equal((await api(h).req('GET', '/app/logs/endpoint/ep_nope')).status, 404);
  const lines = () => h.logs().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  await until(() => lines().filter((l) => l.msg === 'delivery').length === 2 &&
    lines().some((l) => l.msg === 'api error'), { what: 'the log lines' });
  for (const l of h.logs().split('\n').filter((x) => x.trim() !== ''))
    assert.doesNotThrow(() => JSON.parse(l), `every line is JSON: ${l}`);
  assert.ok(lines().some((l) => l.level === 'notice' && /generated an API token/.test(l.msg)), 'the token line');
  const d = lines().filter((l) => l.msg === 'delivery');
  assert.deepEqual(d.map((l) => [l.outcome, l.status, l.attempt]), [['retry', 500, 1], ['success', 200, 2]]);
  for (const l of d) {
    assert.equal(l.level, 'info');
    assert.equal(l.endpoint, ep.id);
    assert.equal(l.message, msg.id);
    assert.match(l.app, /^app_/);
    assert.equal(typeof l.duration_ms, 'number');
    assert.match(l.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  }
  const e = lines().find((l) => l.msg === 'api error');
  assert.deepEqual([e.method, e.path, e.status, e.code], ['GET', '/api/v1/app/logs/endpoint/ep_nope', 404, 'not_found']);
});

e2e('text logs: the same lines as key=value pairs; a network error names itself', async (t) => {
  const h = await startHookd(t);
  await api(h).req('POST', '/app', { name: 'text', uid: 'text' });
  await api(h).req('POST', '/app/text/endpoint', { url: `http://127.0.0.1:${await freePort()}/closed` });
  await api(h).req('POST', '/app/text/msg', { eventType: 'a.b', payload: {} });
  await until(() => /info delivery app=app_\S+ endpoint=ep_\S+ message=msg_\S+ outcome=retry status=0 duration_ms=\d+ attempt=1 error="[^"]*(refused|connect)/i.test(h.logs()),
    { what: `a delivery line:\n${h.logs()}` });
  await api(h).req('GET', '/app/nope');
  await until(() => /info api error method=GET path=\/api\/v1\/app\/nope status=404 code=not_found detail=/.test(h.logs()),
    { what: 'an api error line' });

  // a flood of bad requests: at most 100 lines a second, then a count of those left out
  const t0 = performance.now();
  await pool(Array.from({ length: 400 }, (_, i) => i), 50, () => api(h, { token: 'wrong-token' }).req('GET', '/app'));
  const seconds = Math.ceil((performance.now() - t0) / 1000) + 1; // the windows the flood touched
  const flood = () => h.logs().split('\n').filter((l) => l.includes('status=401')).length;
  assert.ok(flood() <= 100 * seconds, `capped: ${flood()} lines for 400 errors in ${seconds} windows`);
  if (flood() === 400) return; // too slow a machine to reach the cap
  await new Promise((r) => setTimeout(r, 1100)); // the next second's first error says how many were dropped
  await api(h).req('GET', '/app/nope-again');
  // the first line of a later second says how many were left out (the flood's tail may have been that line)
  await until(() => /path=\/api\/v1\/app\/nope-again /.test(h.logs()), { what: 'the next error line' });
  assert.match(h.logs(), /status=\d+ .*suppressed_before=[1-9]\d*/, 'the count of the lines left out');
});

e2e('GET /api/v1/health/ready: 200 without a token once the store answers', async (t) => {
  const h = await startHookd(t);
  const r = await api(h, { token: null }).req('GET', '/api/v1/health/ready', undefined, { authorization: null });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { status: 'ready', store: 'ok', migrations: 'done' });
  const post = await api(h).req('POST', '/api/v1/health/ready');
  assert.equal(post.status, 405);
});

e2e('GET /api/v1/health/ready: 503 while PostgreSQL is down, 200 again once it is back', async (t) => {
  const pg = await pgOwnCluster(t);
  const h = await startHookd(t, { db: pg.url });
  const ready = () => api(h).req('GET', '/api/v1/health/ready', undefined, { authorization: null });
  assert.equal((await ready()).status, 200);
  await pgsh('ctl', pg.dir, 'stop', '-m', 'fast');
  await until(async () => (await ready()).status === 503, { what: '503 with the database down' });
  const down = await ready();
  assert.equal(down.json.code, 'not_ready');
  assert.equal((await api(h).req('GET', '/api/v1/health', undefined, { authorization: null })).status, 204,
    'the liveness check still answers');
  await pgsh('ctl', pg.dir, 'start', '-w', '-l', path.join(pg.dir, 'log'));
  await until(async () => (await ready()).status === 200, { what: '200 once it is back', timeout: 30000 });
}, { skip: !PG && 'needs PostgreSQL (scripts/pg.sh run)' });

e2e('traceparent: accepted on ingest, sent with every delivery (retries too); a malformed one is dropped', async (t) => {
  let n = 0;
  const rec = await startReceiver(t, () => (n++ === 0 ? { status: 500 } : { status: 200 }));
  const h = await startHookd(t);
  await api(h).req('POST', '/app', { name: 'trace', uid: 'trace' });
  await api(h).req('POST', '/app/trace/endpoint', { url: rec.url });
  const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const m = await api(h).req('POST', '/app/trace/msg', { eventType: 'a.b', payload: { x: 1 } }, { traceparent: tp });
  assert.equal(m.status, 202);
  await until(() => rec.requests.length === 2, { what: 'a failure and its retry' });
  assert.deepEqual(rec.requests.map((r) => r.headers.traceparent), [tp, tp]);
  // a restart reads it back from the store: a resend carries it too
  await h.stop();
  await h.restart();
  const ep = (await api(h).req('GET', '/app/trace/endpoint')).json.data[0];
  assert.equal((await api(h).req('POST', `/app/trace/msg/${m.json.id}/endpoint/${ep.id}/resend`)).status, 202);
  await until(() => rec.requests.length === 3, { what: 'the resend' });
  assert.equal(rec.requests[2].headers.traceparent, tp);

  for (const bad of ['01-xyz', '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
    'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x']) {
    const before = rec.requests.length;
    assert.equal((await api(h).req('POST', '/app/trace/msg', { eventType: 'a.b', payload: {} }, { traceparent: bad })).status, 202);
    await until(() => rec.requests.length === before + 1, { what: 'the delivery' });
    assert.equal(rec.requests.at(-1).headers.traceparent, undefined, `${bad} is not sent on`);
  }
});
