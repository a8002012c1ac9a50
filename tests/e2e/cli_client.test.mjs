// The API client subcommands (hookd endpoints, messages, attempts, resend, recover, sources) against a real hookd and
// real receivers: tables for people, --json for scripts, and exit codes 1 (API error), 2 (usage), 3 (no server).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { HOOKD_BIN, api, e2e, eventually, freePort, runHookd, startHookd, startReceiver } from './lib/harness.mjs';

/** Run the client against h with --server and --token; rejects nothing, resolves {code, stdout, stderr}. */
function cli(h, args, opts) {
  return runHookd([...args, '--server', h.url, '--token', h.token], opts);
}

/** Like cli() but the result must be exit 0; returns stdout. */
async function ok(h, args) {
  const r = await cli(h, args);
  assert.equal(r.code, 0, `hookd ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
  return r.stdout;
}

/** Exit 0 with --json: the parsed document (exactly one on stdout). */
async function okJson(h, args) {
  const out = await ok(h, [...args, '--json']);
  return JSON.parse(out);
}

/** stderr without sanitizer noise is one line. */
function oneLine(stderr) {
  const lines = stderr.trim().split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${stderr}`);
  return lines[0];
}

/** Table rows (after the header) as arrays of cells. */
function rows(stdout) {
  const lines = stdout.trim().split('\n');
  assert.match(lines[0], /^ID\s/, `a header first:\n${stdout}`);
  return lines.slice(1).filter((l) => l !== '').map((l) => l.trim().split(/\s{2,}/));
}

/** Run hookd with stdin and a working directory (runHookd has neither). */
function runWith(args, { input = '', cwd, env = {} } = {}) {
  return new Promise((resolve) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HOOKD_')));
    const proc = spawn(HOOKD_BIN, args, { cwd, env: { ...clean, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    proc.stdout.on('data', (c) => { stdout += c; });
    proc.stderr.on('data', (c) => { stderr += c; });
    const timer = setTimeout(() => proc.kill('SIGKILL'), 15000);
    proc.once('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    proc.stdin.end(input);
  });
}

async function newApp(h, uid) {
  const r = await api(h).req('POST', '/app', { name: uid, uid });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

e2e('cli client: endpoints create, list, get, disable, enable, delete', async (t) => {
  const h = await startHookd(t);
  await newApp(h, 'acme');

  const created = await okJson(h, ['endpoints', 'create', '--app', 'acme', '--url', 'http://127.0.0.1:9/a',
    '--event-type', 'invoice.paid', '--event-type', 'order.*', '--channel', 'eu', '--uid', 'ep-a',
    '--description', 'first']);
  assert.match(created.id, /^ep_/);
  assert.deepEqual(created.eventTypes, ['invoice.paid', 'order.*']);
  assert.deepEqual(created.channels, ['eu']);
  assert.equal(created.uid, 'ep-a');
  assert.equal(created.description, 'first');

  // without --json: "field  value" lines
  const second = await ok(h, ['endpoints', 'create', '--app', 'acme', '--url', 'http://127.0.0.1:9/b']);
  assert.match(second, /^url\s+http:\/\/127\.0\.0\.1:9\/b$/m);
  const secondId = second.match(/^id\s+(ep_\S+)$/m)[1];

  const table = rows(await ok(h, ['endpoints', 'list', '--app', 'acme']));
  assert.equal(table.length, 2);
  assert.deepEqual(table[0], [created.id, 'ep-a', 'http://127.0.0.1:9/a', 'false', 'invoice.paid,order.*']);
  assert.deepEqual(table[1], [secondId, '-', 'http://127.0.0.1:9/b', 'false', '-']);

  const got = await okJson(h, ['endpoints', 'get', '--app', 'acme', 'ep-a']);
  assert.equal(got.id, created.id);

  assert.equal((await okJson(h, ['endpoints', 'disable', '--app', 'acme', 'ep-a'])).disabled, true);
  assert.equal((await api(h).req('GET', '/app/acme/endpoint/ep-a')).json.disabled, true);
  assert.equal(rows(await ok(h, ['endpoints', 'list', '--app', 'acme']))[0][3], 'true');
  assert.equal((await okJson(h, ['endpoints', 'enable', '--app', 'acme', created.id])).disabled, false);

  const list = await okJson(h, ['endpoints', 'list', '--app', 'acme']);
  assert.equal(list.done, true);
  assert.deepEqual(list.data.map((e) => e.id), [created.id, secondId]);

  assert.match(await ok(h, ['endpoints', 'delete', '--app', 'acme', 'ep-a']), /deleted ep-a/);
  assert.equal((await api(h).req('GET', '/app/acme/endpoint/ep-a')).status, 404);
  assert.deepEqual(await okJson(h, ['endpoints', 'delete', '--app', 'acme', secondId]), {});
  assert.deepEqual((await okJson(h, ['endpoints', 'list', '--app', 'acme'])).data, []);

  // a validation error: exit 1 and the field on one line
  const bad = await cli(h, ['endpoints', 'create', '--app', 'acme', '--url', 'not-a-url']);
  assert.equal(bad.code, 1);
  assert.match(oneLine(bad.stderr), /^hookd: 422 validation_error: url: /);
  assert.equal(bad.stdout, '');
  assert.equal(await h.stop(), 0);
});

e2e('cli client: messages send, list, get; attempts against a real receiver; resend', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t);
  await newApp(h, 'shop');
  const ep = await okJson(h, ['endpoints', 'create', '--app', 'shop', '--url', rcv.url, '--uid', 'rcv']);

  const m1 = await okJson(h, ['messages', 'send', '--app', 'shop', '--event-type', 'invoice.paid',
    '--data', '{"id":"inv_1","amount":420}']);
  assert.match(m1.id, /^msg_/);
  assert.deepEqual(m1.payload, { id: 'inv_1', amount: 420 });

  // the payload on stdin, kept byte for byte
  const payload = '{"id": "ord_1",  "total": 1.50}';
  const r2 = await runWith(['messages', 'send', '--app', 'shop', '--event-type', 'order.created',
    '--event-id', 'evt-ord-1', '--server', h.url, '--token', h.token, '--json'], { input: payload });
  assert.equal(r2.code, 0, r2.stderr);
  const m2 = JSON.parse(r2.stdout);
  assert.equal(m2.eventId, 'evt-ord-1');

  const got = await rcv.waitForCount(2);
  const bodies = got.map((r) => r.body.toString());
  assert.ok(bodies.includes(payload), `the stdin payload delivered as sent: ${JSON.stringify(bodies)}`);

  const table = rows(await ok(h, ['messages', 'list', '--app', 'shop']));
  assert.deepEqual(table.map((r) => r[0]), [m2.id, m1.id], 'newest first');
  assert.deepEqual(table[0].slice(1, 3), ['order.created', 'evt-ord-1']);
  assert.equal(table[1][2], '-');
  const only = await okJson(h, ['messages', 'list', '--app', 'shop', '--event-type', 'invoice.paid']);
  assert.deepEqual(only.data.map((m) => m.id), [m1.id]);
  assert.deepEqual(only.data[0].payload, { id: 'inv_1', amount: 420 }, '--json keeps payloads');
  const one = await okJson(h, ['messages', 'get', '--app', 'shop', 'evt-ord-1']);
  assert.equal(one.id, m2.id);
  assert.match(await ok(h, ['messages', 'get', '--app', 'shop', m1.id]), /^payload\s+\{"id":"inv_1","amount":420\}$/m);

  // attempts: by endpoint and by message, as a table and as JSON
  const byEp = await eventually(async () => {
    const a = await okJson(h, ['attempts', 'list', '--app', 'shop', '--endpoint', 'rcv']);
    assert.equal(a.data.length, 2);
    return a;
  }, { what: 'two attempts' });
  assert.ok(byEp.data.every((a) => a.status === 0 && a.responseStatusCode === 200 && a.endpointId === ep.id));
  const att = rows(await ok(h, ['attempts', 'list', '--app', 'shop', '--msg', m1.id]));
  assert.equal(att.length, 1);
  assert.equal(att[0][1], m1.id);
  assert.equal(att[0][2], ep.id);
  assert.equal(att[0][3], 'success');
  assert.equal(att[0][4], '200');
  assert.match(att[0][5], /^\d+ms$/);
  assert.deepEqual((await okJson(h, ['attempts', 'list', '--app', 'shop', '--endpoint', 'rcv', '--status', '2'])).data, []);

  // resend: one more delivery of the same message (same webhook-id)
  assert.match(await ok(h, ['resend', '--app', 'shop', '--msg', m1.id, '--endpoint', 'rcv']), /resending/);
  const all = await rcv.waitForCount(3);
  assert.equal(all[2].headers['webhook-id'], m1.id);
  await eventually(async () => {
    const a = await okJson(h, ['attempts', 'list', '--app', 'shop', '--msg', m1.id]);
    assert.equal(a.data.length, 2);
  }, { what: 'the resend recorded' });
  assert.equal(await h.stop(), 0);
});

e2e('cli client: lists follow the iterator up to --limit', async (t) => {
  const h = await startHookd(t);
  await newApp(h, 'many');
  const { req } = api(h);
  const n = 260; // more than one page of 250
  for (let i = 0; i < n; i += 20)
    await Promise.all(Array.from({ length: Math.min(20, n - i) }, (_, k) =>
      req('POST', '/app/many/msg', { eventType: 't', payload: { i: i + k } }).then((r) => assert.equal(r.status, 202))));

  const all = await okJson(h, ['messages', 'list', '--app', 'many', '--limit', '1000']);
  assert.equal(all.data.length, n);
  assert.equal(new Set(all.data.map((m) => m.id)).size, n, 'no message twice');
  assert.equal(all.done, true);
  const some = await okJson(h, ['messages', 'list', '--app', 'many', '--limit', '255']);
  assert.equal(some.data.length, 255);
  assert.equal(some.done, false);
  assert.deepEqual(some.data.map((m) => m.id), all.data.slice(0, 255).map((m) => m.id));
  assert.equal(rows(await ok(h, ['messages', 'list', '--app', 'many'])).length, 50, 'default --limit 50');
  assert.equal(await h.stop(), 0);
});

e2e('cli client: exit codes: API error 1, usage 2, server down 3', async (t) => {
  const h = await startHookd(t);
  await newApp(h, 'acme');

  const unknown = await cli(h, ['endpoints', 'list', '--app', 'no-such-app']);
  assert.equal(unknown.code, 1);
  assert.equal(oneLine(unknown.stderr), 'hookd: 404 not_found: app no-such-app not found');
  const noEp = await cli(h, ['messages', 'get', '--app', 'acme', 'msg_nope', '--json']);
  assert.equal(noEp.code, 1);
  assert.equal(noEp.stdout, '');
  const badToken = await runHookd(['endpoints', 'list', '--app', 'acme', '--server', h.url, '--token', 'wrong-token']);
  assert.equal(badToken.code, 1);
  assert.match(oneLine(badToken.stderr), /^hookd: 401 authentication_failed/);

  for (const args of [
    ['endpoints', 'list', '--app', 'acme', '--no-such-flag', 'x'],
    ['endpoints', 'list'], // no --app
    ['endpoints', 'frobnicate', '--app', 'acme'],
    ['endpoints'],
    ['endpoints', 'get', '--app', 'acme'], // no endpoint
    ['endpoints', 'create', '--app', 'acme'], // no --url
    ['messages', 'list', '--app', 'acme', '--limit', '0'],
    ['messages', 'send', '--app', 'acme', '--event-type', 't', '--data', '{not json'],
    ['messages', 'send', '--app', 'acme', '--data', '{}'], // no --event-type
    ['attempts', 'list', '--app', 'acme'], // neither --endpoint nor --msg
    ['attempts', 'list', '--app', 'acme', '--endpoint', 'e', '--status', '9'],
    ['resend', '--app', 'acme', '--msg', 'm'],
    ['recover', '--app', 'acme', '--endpoint', 'e', '--since', 'yesterday'],
    ['endpoints', 'list', '--app', 'acme', '--json=yes'],
  ]) {
    const r = await cli(h, args);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
    assert.match(oneLine(r.stderr), /^hookd /, args.join(' '));
  }
  const badServer = await runHookd(['endpoints', 'list', '--app', 'acme', '--server', 'ftp://x']);
  assert.equal(badServer.code, 2);

  const port = await freePort(); // nothing listens there
  const down = await runHookd(['endpoints', 'list', '--app', 'acme', '--server', `http://127.0.0.1:${port}`,
    '--token', h.token]);
  assert.equal(down.code, 3);
  assert.equal(oneLine(down.stderr), `hookd: cannot reach http://127.0.0.1:${port}: Connection refused`);
  assert.equal(await h.stop(), 0);
});

e2e('cli client: --server and --token default to HOOKD_SERVER, HOOKD_TOKEN, then ./data/token', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hookd-cli-client-'));
  const h = await startHookd(t, { token: null, dataDir: path.join(dir, 'data') });
  t.after(() => rm(dir, { recursive: true, force: true })); // after hookd stops
  await newApp(h, 'acme');

  const env = await runHookd(['endpoints', 'list', '--app', 'acme'], { env: { HOOKD_SERVER: h.url, HOOKD_TOKEN: h.token } });
  assert.equal(env.code, 0, env.stderr);
  const file = await runWith(['endpoints', 'list', '--app', 'acme', '--json'], { cwd: dir, env: { HOOKD_SERVER: h.url } });
  assert.equal(file.code, 0, `the token from ./data/token: ${file.stderr}`);
  assert.deepEqual(JSON.parse(file.stdout).data, []);
  const none = await runWith(['endpoints', 'list', '--app', 'acme'], { cwd: os.tmpdir(), env: { HOOKD_SERVER: h.url } });
  assert.equal(none.code, 1);
  assert.match(oneLine(none.stderr), /401/);
  assert.equal(await h.stop(), 0);
});

e2e('cli client: recover --wait sends the failed messages again (or prints the server\'s 404)', async (t) => {
  const h = await startHookd(t);
  let failing = true;
  const rcv = await startReceiver(t, () => (failing ? 503 : 200));
  await newApp(h, 'acme');
  await okJson(h, ['endpoints', 'create', '--app', 'acme', '--url', rcv.url, '--uid', 'ep']);
  const since = new Date(Date.now() - 60000).toISOString();
  const m1 = await okJson(h, ['messages', 'send', '--app', 'acme', '--event-type', 't', '--data', '{"n":1}']);
  const m2 = await okJson(h, ['messages', 'send', '--app', 'acme', '--event-type', 't', '--data', '{"n":2}']);
  // every attempt of the schedule (TEST_ENV: 1 + 3 retries) fails
  await rcv.waitForCount(8, 20000, 'both messages exhausted');
  await eventually(async () => {
    const a = await okJson(h, ['attempts', 'list', '--app', 'acme', '--endpoint', 'ep', '--status', '2']);
    assert.equal(a.data.length, 8);
  }, { what: 'eight failed attempts recorded' });

  failing = false;
  const r = await cli(h, ['recover', '--app', 'acme', '--endpoint', 'ep', '--since', since, '--wait', '--json']);
  if (r.code === 1 && /^hookd: 404 /.test(r.stderr)) { // a server without the route: its error, on one line
    oneLine(r.stderr);
    t.diagnostic('recover: the server has no recover route');
  } else {
    assert.equal(r.code, 0, r.stderr);
    const task = JSON.parse(r.stdout);
    assert.match(task.id, /^qtask_/);
    assert.equal(task.status, 'finished');
    assert.match(r.stderr, /hookd recover: qtask_\S+ finished/);
    const got = await rcv.waitForCount(10, 20000, 'the two messages again');
    assert.deepEqual(new Set(got.slice(8).map((q) => q.headers['webhook-id'])), new Set([m1.id, m2.id]));
  }
  assert.equal(await h.stop(), 0);
});

e2e('cli client: recover --wait polls the background task until it finishes', async (t) => {
  // A stand-in for the API: the task runs for three polls, then finishes; and a second one that fails.
  let polls = 0, since = null;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const send = (status, obj) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(obj)); };
      if (req.headers.authorization !== 'Bearer tok-fake-0123456789') return send(401, { code: 'authentication_failed', detail: 'no' });
      if (req.method === 'POST' && /^\/api\/v1\/app\/acme\/endpoint\/(ep|bad)\/recover$/.test(req.url)) {
        since = JSON.parse(body).since;
        const id = req.url.includes('/bad/') ? 'qtask_bad' : 'qtask_1';
        return send(202, { id, status: 'running', task: 'endpoint.recover' });
      }
      if (req.url === '/api/v1/background-task/qtask_1') {
        polls++;
        return send(200, { id: 'qtask_1', status: polls < 3 ? 'running' : 'finished', task: 'endpoint.recover',
          data: { processed: polls * 10 } });
      }
      if (req.url === '/api/v1/background-task/qtask_bad')
        return send(200, { id: 'qtask_bad', status: 'failed', task: 'endpoint.recover', data: {} });
      send(404, { code: 'not_found', detail: 'Entity not found' });
    });
  });
  await new Promise((res) => server.listen(0, '127.0.0.1', res));
  t.after(() => new Promise((res) => { server.closeAllConnections(); server.close(res); }));
  const url = `http://127.0.0.1:${server.address().port}`;
  const fake = { url, token: 'tok-fake-0123456789' };

  const r = await cli(fake, ['recover', '--app', 'acme', '--endpoint', 'ep', '--since', '2026-11-01T00:00:00Z', '--wait', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(since, '2026-11-01T00:00:00Z');
  assert.equal(polls, 3);
  const task = JSON.parse(r.stdout);
  assert.equal(task.status, 'finished');
  assert.equal(task.data.processed, 30);
  assert.match(r.stderr, /qtask_1 running, 10 processed/);
  assert.match(r.stderr, /qtask_1 finished, 30 processed/);

  const nowait = await cli(fake, ['recover', '--app', 'acme', '--endpoint', 'ep', '--since', '2026-11-01T00:00:00Z']);
  assert.equal(nowait.code, 0, nowait.stderr);
  assert.match(nowait.stdout, /^id\s+qtask_1$/m);

  const failed = await cli(fake, ['recover', '--app', 'acme', '--endpoint', 'bad', '--since', '2026-11-01T00:00:00Z', '--wait']);
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /background task qtask_bad failed/);
});

e2e('cli client: sources list, get, requests, replay one and a window', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t);
  const { req } = api(h);
  const src = (await req('POST', '/source', { name: 'open', uid: 'open-src', scheme: 'none',
    destinations: [{ url: rcv.url }] })).json;
  const list = rows(await ok(h, ['sources', 'list']));
  assert.deepEqual(list.map((r) => r.slice(0, 4)), [[src.id, 'open-src', 'open', 'none']]);
  assert.equal((await okJson(h, ['sources', 'get', 'open-src'])).id, src.id);
  for (const body of ['{"n":1}', '{"n":2}']) {
    const res = await fetch(`${h.url}/in/open-src`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 200);
  }
  await rcv.waitForCount(2, 5000);
  const reqs = await eventually(async () => {
    const r = rows(await ok(h, ['sources', 'requests', 'open-src']));
    assert.deepEqual(r.map((x) => x[4]), ['success', 'success']);
    return r;
  });
  assert.equal(reqs[0][2], 'ok');
  // one request again
  const one = await okJson(h, ['sources', 'replay', src.id, '--request', reqs[0][0]]);
  assert.equal(one.destinations, 1);
  await rcv.waitForCount(3, 5000);
  // every request since a time, followed to its end
  const since = new Date(Date.now() - 60000).toISOString();
  const done = await cli(h, ['sources', 'replay', 'open-src', '--since', since, '--wait']);
  assert.equal(done.code, 0, done.stderr);
  assert.match(done.stderr, /hookd sources replay: qtask_\S+ finished, 2 processed/);
  await rcv.waitForCount(5, 5000);
  // usage and API errors
  let r = await cli(h, ['sources', 'replay', 'open-src']);
  assert.equal(r.code, 2);
  assert.match(oneLine(r.stderr), /--request REQ .* or --since TIME/);
  r = await cli(h, ['sources', 'replay', 'open-src', '--request', 'inr_x', '--since', since]);
  assert.equal(r.code, 2);
  r = await cli(h, ['sources', 'requests']);
  assert.equal(r.code, 2);
  r = await cli(h, ['sources', 'get', 'nope']);
  assert.equal(r.code, 1);
  assert.match(oneLine(r.stderr), /not_found/);
  r = await cli(h, ['sources', 'list', '--app', 'x']);
  assert.equal(r.code, 2, 'sources take no --app');
});
