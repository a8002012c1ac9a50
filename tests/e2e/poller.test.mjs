// poller.test.mjs: poller sinks (endpoints with a poll: URL; api_poll.c) read with the svix SDK's MessagePoller:
// filters, committed consumer cursors (at least once), seek, two nodes on one PostgreSQL seeing one cursor; and
// `hookd listen` end to end (signed forwards, its lines, SIGINT, a restart that continues from its cursor).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Webhook } from 'standardwebhooks';
import { HOOKD_BIN, PG, api, e2e, eventually, startHookd, startReceiver, svixClient } from './lib/harness.mjs';

async function post(req, app, eventType, payload, extra = {}) {
  const r = await req('POST', `/app/${app}/msg`, { eventType, payload, ...extra });
  assert.equal(r.status, 202, r.text);
  return r.json.id;
}

e2e('poller sink: poll with filters, consumers commit by iterator, seek, no HTTP deliveries', async (t) => {
  const rcv = await startReceiver(t);
  const h = await startHookd(t);
  const { req } = api(h);
  const svix = svixClient(h);
  const app = await svix.application.create({ name: 'poll' });
  const sink = await svix.endpoint.create(app.id, { url: 'poll:', uid: 'sink1' });
  const narrow = await svix.endpoint.create(app.id, { url: 'poll:narrow', filterTypes: ['a.*'], channels: ['ch1'] });
  const http = await svix.endpoint.create(app.id, { url: rcv.url });
  const ids = [];
  ids.push(await post(req, app.id, 'a.one', { n: 0 }, { channels: ['ch1'] }));
  ids.push(await post(req, app.id, 'b.two', { n: 1 }));
  ids.push(await post(req, app.id, 'a.one', { n: 2 }));
  ids.push(await post(req, app.id, 'a.three', { n: 3 }, { channels: ['ch1', 'ch2'] }));

  const poller = svix.message.poller;
  const all = await eventually(async () => {
    const p = await poller.poll(app.id, 'sink1');
    assert.equal(p.data.length, 4);
    return p;
  }, { what: 'four messages pollable' });
  assert.deepEqual(all.data.map((m) => m.id), ids);
  assert.equal(all.data[0].eventType, 'a.one');
  assert.deepEqual(all.data[0].payload, { n: 0 });
  assert.deepEqual(all.data[0].channels, ['ch1']);
  assert.ok(all.data[0].timestamp instanceof Date);
  assert.equal(all.iterator, ids[3]);
  assert.equal(all.done, true);
  // the iterator continues; nothing new yet
  const more = await poller.poll(app.id, sink.id, { iterator: all.iterator });
  assert.deepEqual(more.data, []);
  assert.equal(more.iterator, all.iterator);
  // query filters
  assert.deepEqual((await poller.poll(app.id, sink.id, { eventType: 'a.one' })).data.map((m) => m.id), [ids[0], ids[2]]);
  assert.deepEqual((await poller.poll(app.id, sink.id, { channel: 'ch2' })).data.map((m) => m.id), [ids[3]]);
  assert.deepEqual((await poller.poll(app.id, sink.id, { after: new Date(Date.now() + 60000) })).data, []);
  // limit and paging
  const p1 = await poller.poll(app.id, sink.id, { limit: 3 });
  assert.deepEqual(p1.data.map((m) => m.id), ids.slice(0, 3));
  assert.equal(p1.done, false);
  // the sink's own filters (event types and channels)
  assert.deepEqual((await poller.poll(app.id, narrow.id)).data.map((m) => m.id), [ids[0], ids[3]]);

  // a consumer: reads from its committed cursor until it comes back with the iterator
  const c1 = await poller.consumerPoll(app.id, sink.id, 'worker-1', { limit: 2 });
  assert.deepEqual(c1.data.map((m) => m.id), ids.slice(0, 2));
  const again = await poller.consumerPoll(app.id, sink.id, 'worker-1', { limit: 2 });
  assert.deepEqual(again.data.map((m) => m.id), ids.slice(0, 2), 'not acknowledged: read again (at least once)');
  const c2 = await poller.consumerPoll(app.id, sink.id, 'worker-1', { limit: 2, iterator: c1.iterator });
  assert.deepEqual(c2.data.map((m) => m.id), ids.slice(2, 4));
  // it stops mid-batch having handled one message: it commits that message's id, and re-reads the rest
  await poller.consumerPoll(app.id, sink.id, 'worker-1', { limit: 1, iterator: c2.data[0].id });
  const rest = await poller.consumerPoll(app.id, sink.id, 'worker-1');
  assert.deepEqual(rest.data.map((m) => m.id), [ids[3]]);
  // another consumer has its own cursor
  assert.equal((await poller.consumerPoll(app.id, sink.id, 'worker-2')).data.length, 4);
  // seek to a time: back to the start, or past everything
  const seek = await poller.consumerSeek(app.id, sink.id, 'worker-1', { after: new Date(Date.now() + 3600e3) });
  assert.match(seek.iterator, /^msg_/);
  assert.deepEqual((await poller.consumerPoll(app.id, sink.id, 'worker-1')).data, []);
  await poller.consumerSeek(app.id, sink.id, 'worker-1', { after: new Date(0) });
  assert.equal((await poller.consumerPoll(app.id, sink.id, 'worker-1')).data.length, 4);

  // an app-scoped token (the portal's) reads and moves its app's consumers
  const { token } = await svix.authentication.appPortalAccess(app.id, {});
  const scoped = api(h, { token }).req;
  let r = await scoped('GET', `/app/${app.id}/poller/${sink.id}/consumer/portal?limit=1`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.data.length, 1);
  const other = await svix.application.create({ name: 'other' });
  r = await scoped('GET', `/app/${other.id}/poller/x`);
  assert.ok(r.status === 403 || r.status === 404, r.text);

  // errors
  r = await req('GET', `/app/${app.id}/poller/${http.id}`);
  assert.equal(r.status, 404, r.text);
  assert.match(r.json.detail, /poller sink/);
  r = await req('GET', `/app/${app.id}/poller/${sink.id}?limit=0`);
  assert.equal(r.status, 422, r.text);
  r = await req('GET', `/app/${app.id}/poller/${sink.id}?iterator=nope`);
  assert.equal(r.status, 422, r.text);
  r = await req('GET', `/app/${app.id}/poller/${sink.id}/consumer/bad%20id`);
  assert.equal(r.status, 422, r.text);
  r = await req('POST', `/app/${app.id}/poller/${sink.id}/consumer/w/seek`, {});
  assert.equal(r.status, 422, r.text);
  r = await req('POST', `/app/${app.id}/endpoint`, { url: 'poll: space' });
  assert.equal(r.status, 422, r.text);

  // the http endpoint got its four; the sinks got no delivery at all
  await rcv.waitForCount(4);
  for (const ep of [sink, narrow])
    assert.deepEqual((await req('GET', `/app/${app.id}/attempt/endpoint/${ep.id}`)).json.data, []);
  r = await req('POST', `/app/${app.id}/msg/${ids[0]}/endpoint/${sink.id}/resend`);
  assert.equal(r.status, 422, r.text);
  for (const op of ['recover', 'replay-missing']) {
    r = await req('POST', `/app/${app.id}/endpoint/${sink.id}/${op}`, { since: new Date(0).toISOString() });
    assert.equal(r.status, 422, `${op}: ${r.text}`);
  }
});

e2e('poller sink on PostgreSQL: two nodes see one consumer cursor', async (t) => {
  const h1 = await startHookd(t);
  const { req } = api(h1);
  const app = (await req('POST', '/app', { name: 'poll2' })).json;
  const sink = (await req('POST', `/app/${app.id}/endpoint`, { url: 'poll:' })).json;
  const h2 = await startHookd(t, { db: h1.db, token: h1.token });
  const ids = [];
  for (let i = 0; i < 4; i++) ids.push(await post(api(i % 2 ? h2 : h1).req, app.id, 'x.y', { i }));
  const p1 = svixClient(h1).message.poller, p2 = svixClient(h2).message.poller;
  await eventually(async () => {
    assert.equal((await p2.poll(app.id, sink.id)).data.length, 4);
  }, { what: 'the sink (made on node 1) pollable on node 2' });
  const a = await p1.consumerPoll(app.id, sink.id, 'c', { limit: 2 });
  assert.deepEqual(a.data.map((m) => m.id), ids.slice(0, 2));
  const b = await p2.consumerPoll(app.id, sink.id, 'c', { limit: 2, iterator: a.iterator });
  assert.deepEqual(b.data.map((m) => m.id), ids.slice(2));
  const c = await p1.consumerPoll(app.id, sink.id, 'c', { limit: 2 });
  assert.deepEqual(c.data.map((m) => m.id), ids.slice(2), 'node 1 reads from the cursor node 2 committed');
}, { skip: !PG && 'PostgreSQL only (HOOKD_TEST_PG)' });

/** `hookd listen` as a child; lines collects its stdout lines; stop() sends SIGINT and resolves its exit code. */
function listen(h, args) {
  const proc = spawn(HOOKD_BIN, ['listen', '--url', h.url, '--token', h.token, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { lines: [], err: '' };
  let partial = '';
  proc.stdout.on('data', (c) => {
    partial += c.toString();
    const parts = partial.split('\n');
    partial = parts.pop();
    out.lines.push(...parts);
  });
  proc.stderr.on('data', (c) => { out.err += c.toString(); });
  const exited = new Promise((resolve) => proc.once('close', (code, sig) => resolve(code ?? sig)));
  out.stop = () => { proc.kill('SIGINT'); return exited; };
  out.exited = exited;
  return out;
}

e2e('hookd listen: forwards signed, one line each, retries, stops on SIGINT and continues from its cursor', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'dev', uid: 'acme' })).json;
  let failOnce = true;
  const rcv = await startReceiver(t, (rec) => {
    const b = JSON.parse(rec.body);
    if (b.dead) return 500;
    if (b.fail && failOnce) { failOnce = false; return 503; }
    return 200;
  });
  const l1 = listen(h, ['--app', 'acme', '--forward', rcv.url, '--event-types', 'dev.*']);
  t.after(() => l1.stop());
  await eventually(() => assert.ok(l1.lines.some((l) => l.includes('Ctrl-C')), l1.err), { what: 'listen started' });
  const secret = (await req('GET', '/app/acme/endpoint/hookd-listen/secret')).json.key;
  const first = [];
  first.push(await post(req, 'acme', 'dev.a', { n: 1 }));
  await post(req, 'acme', 'other.x', { n: 'filtered out' });
  first.push(await post(req, 'acme', 'dev.b', { n: 2, fail: true }));
  first.push(await post(req, 'acme', 'dev.c', { n: 3 }));
  first.push(await post(req, 'acme', 'dev.dead', { dead: true }));
  await rcv.waitForCount(8, 20000, 'four messages, one retried, one given up on after four attempts');
  const wh = new Webhook(secret);
  for (const r of rcv.requests) wh.verify(r.body, r.headers);
  assert.deepEqual([...new Set(rcv.requests.map((r) => r.headers['webhook-id']))], first);
  await eventually(() => assert.equal(l1.lines.filter((l) => / -> 200 /.test(l)).length, 3), { what: 'three lines' });
  assert.ok(l1.lines.some((l) => l.startsWith(first[1]) && / -> 503 .*retry 1/.test(l)), l1.lines.join('\n'));
  await eventually(() => assert.ok(l1.lines.some((l) => l.startsWith(first[3]) && /-> 500 .*given up after 4 attempts/.test(l)),
    l1.lines.join('\n')), { what: 'the given-up line' });
  assert.equal(await l1.stop(), 0);
  assert.match(l1.lines.at(-1), /stopped/);

  // while it is stopped
  const later = [await post(req, 'acme', 'dev.d', { n: 4 }), await post(req, 'acme', 'dev.e', { n: 5 })];
  const l2 = listen(h, ['--app', 'acme', '--forward', rcv.url, '--event-types', 'dev.*']);
  t.after(() => l2.stop());
  await rcv.waitForCount(10, 20000, 'the two sent while stopped');
  assert.deepEqual(rcv.requests.slice(8).map((r) => r.headers['webhook-id']), later,
    'nothing forwarded again, the one given up on neither');
  await eventually(() => assert.equal(l2.lines.filter((l) => / -> 200 /.test(l)).length, 2), { what: 'two lines' });
  assert.equal(await l2.stop(), 0);
  assert.equal(rcv.requests.length, 10);
});

e2e('hookd listen: stopped mid-batch, it commits what it forwarded and the rest comes again', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'dev2' })).json;
  let hung = false;
  const rcv = await startReceiver(t, (rec) => {
    if (JSON.parse(rec.body).slow && !hung) { hung = true; return { hang: true }; }
    return 200;
  });
  const sink = (await req('PUT', `/app/${app.id}/endpoint/hookd-listen`, { url: 'poll:hookd-listen' })).json;
  const ids = [await post(req, app.id, 'a', { n: 1 }), await post(req, app.id, 'a', { slow: true }),
    await post(req, app.id, 'a', { n: 3 })];
  await eventually(async () => {
    assert.equal((await req('GET', `/app/${app.id}/poller/${sink.id}`)).json.data.length, 3);
  }, { what: 'one batch of three' });
  const l1 = listen(h, ['--app', app.id, '--forward', rcv.url]);
  t.after(() => l1.stop());
  await rcv.waitForCount(2, 20000, 'the first, and the second that hangs');
  assert.equal(await l1.stop(), 0);
  assert.equal(l1.lines.filter((l) => l.startsWith('msg_')).length, 1, l1.lines.join('\n'));
  const l2 = listen(h, ['--app', app.id, '--forward', rcv.url]);
  t.after(() => l2.stop());
  await rcv.waitForCount(4, 20000, 'the second again and the third').catch((err) => {
    err.message += `\nlisten: ${l2.lines.join('\n')}\n${l2.err}`;
    throw err;
  });
  assert.deepEqual(rcv.requests.map((r) => r.headers['webhook-id']), [ids[0], ids[1], ids[1], ids[2]]);
  assert.equal(await l2.stop(), 0);
  for (const l of [l1, l2]) assert.match(l.lines[0], new RegExp(`sink ${sink.id},`), 'the same sink, found by its uid');
});

e2e('hookd listen: --help, usage errors, an endpoint that is not a sink, an unknown app', async (t) => {
  const run = (args) => new Promise((resolve) => {
    const p = spawn(HOOKD_BIN, ['listen', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (c) => { out += c; });
    p.stderr.on('data', (c) => { out += c; });
    p.once('close', (code) => resolve({ code, out }));
  });
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /--forward URL/);
  assert.equal((await run(['--app', 'x'])).code, 2);
  assert.equal((await run(['--app', 'x', '--forward', 'ftp://x'])).code, 2);
  const h = await startHookd(t);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'x' })).json;
  assert.equal((await req('POST', `/app/${app.id}/endpoint`, { url: 'http://127.0.0.1:9/x', uid: 'mine' })).status, 201);
  const conn = ['--server', h.url, '--token', h.token, '--forward', 'http://127.0.0.1:9/x'];
  const taken = await run(['--app', app.id, '--uid', 'mine', ...conn]);
  assert.equal(taken.code, 1);
  assert.match(taken.out, /not a poller sink/);
  assert.equal((await req('GET', `/app/${app.id}/endpoint/mine`)).json.url, 'http://127.0.0.1:9/x', 'left as it was');
  const unknown = await run(['--app', 'nope', ...conn]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.out, /404/);
});
