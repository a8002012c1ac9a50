// pg_figures_nodes.test.mjs: on several nodes the circuit breaker lives on the node that owns the endpoint: the
// figures of the owner say so (breaker.thisNode), the other node answers state null; the rest is the same.
import assert from 'node:assert/strict';
import { PG, api, e2e, eventually, startHookd, startReceiver } from './lib/harness.mjs';

e2e('pg figures: the owning node has the breaker, the other answers state null', async (t) => {
  const rcv = await startReceiver(t);
  const h1 = await startHookd(t);
  const h2 = await startHookd(t, { db: h1.db, token: h1.token });
  const app = (await api(h1).req('POST', '/app', { name: 'nodes' })).json;
  const ep = (await api(h1).req('POST', `/app/${app.id}/endpoint`, { url: rcv.url })).json;
  // node 2 may have started after the endpoint's change was announced: wait until it has the endpoint
  await eventually(async () => {
    assert.equal((await api(h2).req('GET', `/app/${app.id}/endpoint/${ep.id}`)).status, 200);
  }, { what: 'the endpoint on node 2' });
  await api(h2).req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: {} });
  await rcv.waitForCount(1);
  const both = await eventually(async () => {
    const f = await Promise.all([h1, h2].map(async (h) => (await api(h).req('GET', `/app/${app.id}/endpoint/${ep.id}/figures`)).json));
    assert.deepEqual(f.map((x) => x.breaker.thisNode).sort(), [false, true], JSON.stringify(f.map((x) => x.breaker)));
    assert.ok(f.every((x) => x.hour.attempts === 1));
    return f;
  }, { what: 'one owner' });
  const [owner, other] = both[0].breaker.thisNode ? both : [both[1], both[0]];
  assert.equal(owner.breaker.state, 'closed');
  assert.equal(other.breaker.state, null);
  assert.equal(other.disabled, false);
}, { skip: !PG && 'PostgreSQL only (HOOKD_TEST_PG)' });
