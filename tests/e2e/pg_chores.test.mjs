// pg_chores.test.mjs: on PostgreSQL a chore (retention purge, idempotency expiry) runs on one node at a time: its
// batch takes a transaction-level advisory lock named by the schema and the chore, and a node that finds it held
// skips the round. Here psql holds the retention lock: nothing is purged until it lets go.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { PG, api, e2e, eventually, startHookd } from './lib/harness.mjs';

const PSQL = process.env.HOOKD_TEST_PG_BIN ? path.join(process.env.HOOKD_TEST_PG_BIN, 'psql') : 'psql';

e2e('pg chores: a held chore lock makes the retention purge skip its rounds until it is free', async (t) => {
  const h = await startHookd(t, { env: { HOOKD_RETENTION: '1s', HOOKD_CHORE_INTERVAL: '100ms' } });
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'chores' })).json;
  const psql = spawn(PSQL, ['-X', '-q', '-A', '-t', '-d', h.db], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => { psql.stdin.end(); psql.kill(); });
  let out = '';
  psql.stdout.on('data', (d) => { out += d; });
  psql.stdin.write("SELECT 'held', pg_advisory_lock(hashtextextended('hookd-chore:public:retention', 0));\n");
  await eventually(async () => assert.match(out, /held/), { what: 'psql holding the lock' });

  const m = (await req('POST', `/app/${app.id}/msg`, { eventType: 'c.t', payload: { keep: 1 } })).json;
  await new Promise((r) => setTimeout(r, 2500)); // 1 s of retention, then some 15 chore rounds skipped
  const still = (await req('GET', `/app/${app.id}/msg/${m.id}`)).json;
  assert.deepEqual(still.payload, { keep: 1 }, 'not purged while another holds the chore');

  psql.stdin.write("SELECT 'free', pg_advisory_unlock(hashtextextended('hookd-chore:public:retention', 0));\n");
  await eventually(async () => assert.match(out, /free\|t/), { what: 'psql letting go' });
  await eventually(async () => {
    const g = (await req('GET', `/app/${app.id}/msg/${m.id}`)).json;
    assert.deepEqual(g.payload, {});
  }, { what: 'purged once the lock is free' });
  assert.equal(await h.stop(), 0);
}, { skip: !PG && 'PostgreSQL only (HOOKD_TEST_PG)' });
