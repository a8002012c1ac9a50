// pg_faults.test.mjs: hookd on a PostgreSQL that goes away and comes back. Runs in the PostgreSQL pass of the suite
// (HOOKD_TEST_PG set, under scripts/pg.sh), on a cluster of its own so that stopping it disturbs no other test.
// While the database is down, ingest answers 503 store_unavailable, never a 2xx; an attempt that finished
// meanwhile is kept and recorded once it is back (not sent again); afterwards everything works as before and
// nothing accepted was lost.
import assert from 'node:assert/strict';
import path from 'node:path';
import { PG, api, e2e, eventually, startHookd, pgOwnCluster, pgsh, startReceiver } from './lib/harness.mjs';



const post = (h, appId, payload) =>
  api(h).req('POST', `/app/${appId}/msg`, { eventType: 'fault.test', payload });

e2e('pg faults: database down is 503 store_unavailable, a finished attempt is kept, all resumes after', async (t) => {
  const pg = await pgOwnCluster(t);
  let slowRelease = null;
  const slowGot = new Promise((res) => { slowRelease = res; });
  let answerSlow = null;
  const answered = new Promise((res) => { answerSlow = res; });
  const rcv = await startReceiver(t, async (rec) => {
    if (JSON.parse(rec.body).kind === 'slow') {
      slowRelease();
      await answered; // in flight until the database is down
    }
    return 200;
  });
  const h = await startHookd(t, { db: pg.url, env: { HOOKD_RETRY_SCHEDULE: '200ms,200ms,200ms,200ms,200ms' } });
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'faults' })).json;
  await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url });

  const accepted = [];
  for (let i = 0; i < 5; i++) {
    const r = await post(h, app.id, { kind: 'before', i });
    assert.equal(r.status, 202, r.text);
    accepted.push(r.json.id);
  }
  await rcv.waitForCount(5, 15000, 'the first five');
  const slow = await post(h, app.id, { kind: 'slow' });
  assert.equal(slow.status, 202);
  accepted.push(slow.json.id);
  await slowGot; // its attempt is in flight

  await pgsh('ctl', pg.dir, 'stop', '-m', 'fast');
  answerSlow(); // the attempt ends while its outcome cannot be written
  for (let i = 0; i < 3; i++) {
    const t0 = Date.now();
    const r = await post(h, app.id, { kind: 'during', i });
    assert.equal(r.status, 503, `while the database is down: ${r.status} ${r.text}`);
    assert.equal(r.json.code, 'store_unavailable');
    assert.ok(Date.now() - t0 < 10000, 'answered promptly');
  }

  await pgsh('ctl', pg.dir, 'start', '-w', '-l', path.join(pg.dir, 'log'));
  const after = await eventually(async () => {
    const r = await post(h, app.id, { kind: 'after', i: 0 });
    assert.equal(r.status, 202, r.text);
    return r;
  }, { timeout: 20000, interval: 200, what: 'ingest after the database came back' });
  accepted.push(after.json.id);
  for (let i = 1; i < 5; i++) {
    const r = await post(h, app.id, { kind: 'after', i });
    assert.equal(r.status, 202, r.text);
    accepted.push(r.json.id);
  }

  // every accepted message arrives; the slow one was answered once and its kept outcome is recorded: success,
  // with one attempt, and it is not sent again
  await rcv.waitFor((rs) => accepted.every((id) => rs.some((x) => x.headers['webhook-id'] === id)), 20000,
    'every accepted message');
  await eventually(async () => {
    const r = await req('GET', `/app/${app.id}/attempt/msg/${slow.json.id}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.data.length, 1, `attempts of the slow message: ${r.text}`);
    assert.equal(r.json.data[0].status, 0, 'recorded as a success');
  }, { timeout: 15000, interval: 200, what: 'the kept outcome recorded' });
  await new Promise((r) => setTimeout(r, 1500)); // a resend would come within the retry schedule
  const slowCopies = rcv.requests.filter((x) => x.headers['webhook-id'] === slow.json.id).length;
  assert.equal(slowCopies, 1, 'the slow message was not sent again');
  assert.ok(!rcv.requests.some((x) => JSON.parse(x.body).kind === 'during'), 'nothing refused was delivered');
  assert.equal(await h.stop(), 0);
}, { skip: !PG && 'runs in the PostgreSQL pass (HOOKD_TEST_PG)' });

e2e('pg: a password in the database URL never reaches the logs', async (t) => {
  const { pgSql, pgUrl } = await import('./lib/harness.mjs');
  const name = `hookd_e2e_pw_${process.pid}`;
  await pgSql(`CREATE DATABASE ${name}`);
  t.after(() => pgSql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {}));
  const u = new URL(pgUrl(name));
  u.password = 'n0t-in-the-logs';
  const h = await startHookd(t, { db: u.toString() });
  assert.equal((await api(h).req('POST', '/app', { name: 'pw' })).status, 201);
  assert.equal(await h.stop(), 0);
  const logs = h.runs.map((r) => r.text).join('\n'); // what hookd printed (not the harness's command line)
  assert.match(logs, /database postgres:\/\/hookd:\*+@/, 'the URL is logged, masked');
  assert.ok(!logs.includes('n0t-in-the-logs'), `the password is not: ${logs}`);
}, { skip: !PG && 'runs in the PostgreSQL pass (HOOKD_TEST_PG)' });
