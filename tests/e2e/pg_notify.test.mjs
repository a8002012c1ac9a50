// pg_notify.test.mjs: on PostgreSQL, every batch that makes deliveries pending for endpoints another node owns
// tells the other nodes when it commits (NOTIFY hookd_<schema>, "<node>\n<entry>..." with "p <endpoint> <due>
// K1-K2,K3,..." per endpoint: its delivery keys), and a write that does not commit tells nobody. The endpoints' owners take their new deliveries from these (docs/scaling.md).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { PG, api, e2e, eventually, nodeOf, pgSql, startHookd, startReceiver } from './lib/harness.mjs';

const PSQL = process.env.HOOKD_TEST_PG_BIN ? path.join(process.env.HOOKD_TEST_PG_BIN, 'psql') : 'psql';

/** A psql session LISTENing on channel; .poll() makes it print what arrived; .text holds its output. */
function listener(t, url, channel) {
  const p = spawn(PSQL, ['-X', '-q', '-A', '-t', '-d', url], { stdio: ['pipe', 'pipe', 'pipe'] });
  const l = { text: '', poll: () => p.stdin.write('SELECT 1;\n') };
  p.stdout.on('data', (d) => { l.text += d; });
  p.stdin.write(`LISTEN ${channel};\n`);
  t.after(() => { p.stdin.end(); p.kill(); });
  return l;
}

/** The deliveries named by the notifications in psql's output ("p <endpoint> <due> K1-K2,K3" lines), as
 *  "key|endpoint" in key order. */
function notedKeys(text) {
  const keys = [];
  for (const m of text.matchAll(/payload "([^"]*)"/g))
    for (const line of m[1].split('\n').slice(1)) {
      const r = line.match(/^p (\S+) (\d+) ([\d,-]+)$/);
      if (!r) continue;
      for (const run of r[3].split(',')) {
        const [lo, hi] = run.split('-').map(Number);
        for (let k = lo; k <= (hi || lo); k++) keys.push([k, r[1]]);
      }
    }
  return keys.sort((a, b) => a[0] - b[0]).map(([k, ep]) => `${k}|${ep}`);
}

e2e('pg notify: committed deliveries are announced with their keys, a refused write announces nothing', async (t) => {
  // Two nodes, two endpoints each: node A announces the deliveries for node B's endpoints, not those for its own
  // (it schedules its own commits from memory), nothing for a 409.
  const env = { HOOKD_RETRY_SCHEDULE: '1h' };
  const h = await startHookd(t, { env });
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'notify' })).json;
  for (let i = 0; i < 4; i++) await req('POST', `/app/${app.id}/endpoint`, { url: 'http://127.0.0.1:9/' });
  const h2 = await startHookd(t, { db: h.db, token: h.token, env });
  const a = await nodeOf(h), b = await nodeOf(h2);
  assert.ok(a && b && a !== b, `two node ids: ${a}, ${b}`);
  await eventually(async () => {
    const out = (await pgSql('SELECT node_id, count(*) FROM leases GROUP BY node_id ORDER BY node_id', h.db)).trim();
    assert.deepEqual(Object.fromEntries(out.split('\n').map((l) => l.split('|')).map(([n, c]) => [n, Number(c)])),
      { [a]: 2, [b]: 2 });
  }, { what: 'two leases each' });
  const l = listener(t, h.db, 'hookd_public');
  // eventually() retries while its function throws
  const polled = async (cond, what) => eventually(async () => {
    l.poll();
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(cond(), `${what}: psql printed ${l.text}`);
  }, { what });
  await polled(() => l.text.includes('1'), 'psql listening');

  const ids = [];
  for (let i = 0; i < 4; i++) {
    const r = await req('POST', `/app/${app.id}/msg`, { eventType: 'n.test', eventId: `ev-${i}`, payload: { i } });
    assert.equal(r.status, 202, r.text);
    ids.push(r.json.id);
  }
  const dup = await req('POST', `/app/${app.id}/msg`, { eventType: 'n.test', eventId: 'ev-0', payload: {} });
  assert.equal(dup.status, 409, dup.text);

  const all = (await pgSql('SELECT id FROM deliveries ORDER BY id', h.db)).trim().split('\n').map(Number);
  assert.equal(all.length, 16, 'four deliveries for each of four messages');
  const want = (await pgSql(`SELECT d.id, d.endpoint_id FROM deliveries d JOIN leases l ON l.endpoint_id = d.endpoint_id
    WHERE l.node_id = '${b}' ORDER BY d.id`, h.db)).trim().split('\n');
  assert.equal(want.length, 8, 'eight of them for node B\'s endpoints');
  await polled(() => notedKeys(l.text).length >= 8, 'notifications of 8 deliveries');
  // a stray notification of the refused duplicate would be in by the next two polls
  const ones = () => l.text.split('\n').filter((x) => x === '1').length;
  const before = ones();
  await polled(() => ones() >= before + 2, 'two more polls');
  assert.deepEqual(notedKeys(l.text), want, 'each of node B\'s keys exactly once with its endpoint; none of node A\'s, nothing for the 409');
  assert.ok(l.text.includes(`payload "${a}\n`), `each notification starts with the sending node's id: ${l.text}`);
}, { skip: !PG && 'PostgreSQL only (HOOKD_TEST_PG)' });

e2e('pg notify: the owner sends what a note names at once, in either form ("p" and an older build\'s "d")', async (t) => {
  // Deliveries that only a note tells the owner of: copies of a sent one, inserted by hand, announced by hand as
  // another node would. The owners' safety scan runs every 30 s: arriving within 5 s, they came by the note.
  const rcv = await startReceiver(t, () => 200);
  const h = await startHookd(t);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'notes' })).json;
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: `${rcv.url}/e` })).json;
  await eventually(async () => assert.equal((await pgSql(`SELECT count(*) FROM leases WHERE endpoint_id = '${ep.id}'`, h.db)).trim(), '1'),
    { what: 'the endpoint leased' });
  const r = await req('POST', `/app/${app.id}/msg`, { eventType: 'n.test', payload: { n: 1 } });
  assert.equal(r.status, 202, r.text);
  await rcv.waitFor((rs) => rs.length >= 1, 10000, 'the message');
  const copy = async () => Number((await pgSql(`INSERT INTO deliveries (msg_id, app_id, endpoint_id, status, next_ms, updated_ms)
    SELECT msg_id, app_id, endpoint_id, 1, 0, 0 FROM deliveries WHERE endpoint_id = '${ep.id}' LIMIT 1 RETURNING id`, h.db)).trim());
  const note = (body) => pgSql(`SELECT pg_notify('hookd_public', 'node_elsewhere' || chr(10) || '${body}')`, h.db);
  const k1 = await copy();
  await note(`p ${ep.id} 0 ${k1}`);
  await rcv.waitFor((rs) => rs.length >= 2, 5000, 'the delivery a "p" note named');
  const k2 = await copy(), k3 = await copy();
  await note(`d ${k2}-${k3}`);
  await rcv.waitFor((rs) => rs.length >= 4, 5000, 'the deliveries a "d" note named');
  assert.ok(rcv.requests.every((x) => x.headers['webhook-id'] === r.json.id), 'copies of the one message');
  await eventually(async () => assert.equal((await pgSql(`SELECT count(*) FROM deliveries WHERE status = 1`, h.db)).trim(), '0'),
    { what: 'nothing left pending' });
}, { skip: !PG && 'PostgreSQL only (HOOKD_TEST_PG)' });
