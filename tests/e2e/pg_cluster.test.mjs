// pg_cluster.test.mjs: several hookd nodes on one PostgreSQL (docs/scaling.md). Endpoints are shared out by
// leases; a message accepted by any node reaches every endpoint exactly once, whichever node owns it; a node
// that stops hands its endpoints over at once, one killed with -9 loses them within the lease time; registry
// changes made on one node apply on the others.
import assert from 'node:assert/strict';
import { PG, api, e2e, eventually, fetchMetrics, nodeOf, pgSql, pool, startHookd, startReceiver } from './lib/harness.mjs';

const skip = !PG && 'PostgreSQL only (HOOKD_TEST_PG)';

/** Leases per node: {node_id: count}. */
async function leases(db) {
  const out = (await pgSql('SELECT node_id, count(*) FROM leases GROUP BY node_id ORDER BY node_id', db)).trim();
  return Object.fromEntries(out ? out.split('\n').map((l) => { const [n, c] = l.split('|'); return [n, Number(c)]; }) : []);
}

/** Per endpoint path, how many times each webhook-id arrived. */
function arrivals(rcv) {
  const by = new Map();
  for (const r of rcv.requests) {
    const k = `${r.url} ${r.headers['webhook-id']}`;
    by.set(k, (by.get(k) ?? 0) + 1);
  }
  return by;
}

async function cluster(t, n, { endpoints = 6, env = {} } = {}) {
  const rcv = await startReceiver(t);
  const h1 = await startHookd(t, { env });
  const { req } = api(h1);
  const app = (await req('POST', '/app', { name: 'cluster' })).json;
  const eps = [];
  for (let i = 0; i < endpoints; i++)
    eps.push((await req('POST', `/app/${app.id}/endpoint`, { url: `${rcv.url}?ep=${i}` })).json);
  const nodes = [h1];
  for (let i = 1; i < n; i++) nodes.push(await startHookd(t, { db: h1.db, token: h1.token, env }));
  return { rcv, nodes, app, eps, db: h1.db };
}

/** Post count messages round-robin over the nodes; their ids. */
async function post(nodes, app, count, tag) {
  const ids = [];
  for (let i = 0; i < count; i++) {
    const r = await api(nodes[i % nodes.length]).req('POST', `/app/${app.id}/msg`,
      { eventType: 'c.test', payload: { tag, i } });
    assert.equal(r.status, 202, r.text);
    ids.push(r.json.id);
  }
  return ids;
}

async function allOnce(rcv, eps, ids, what) {
  await rcv.waitFor(() => arrivals(rcv).size >= eps.length * ids.length &&
    ids.every((id) => eps.every((_, i) => arrivals(rcv).has(`/hook?ep=${i} ${id}`))), 30000, what);
  const dups = [...arrivals(rcv)].filter(([k, c]) => c > 1 && ids.some((id) => k.endsWith(id)));
  assert.deepEqual(dups, [], `${what}: each delivery once`);
}

e2e('pg cluster: two nodes share the endpoints evenly; a message on either node reaches every endpoint once', async (t) => {
  const { rcv, nodes, app, eps, db } = await cluster(t, 2);
  const a = await nodeOf(nodes[0]), b = await nodeOf(nodes[1]);
  await eventually(async () => assert.deepEqual(await leases(db), { [a]: 3, [b]: 3 }), { what: 'three leases each' });
  const ids = await post(nodes, app, 40, 'even');
  await allOnce(rcv, eps, ids, '40 messages x 6 endpoints');
}, { skip });

e2e('pg cluster: a node that stops hands its endpoints over at once, and a new node takes its share', async (t) => {
  const { rcv, nodes, app, eps, db } = await cluster(t, 2);
  const a = await nodeOf(nodes[0]), b = await nodeOf(nodes[1]);
  await eventually(async () => assert.deepEqual(await leases(db), { [a]: 3, [b]: 3 }), { what: 'three leases each' });
  assert.equal(await nodes[1].stop(), 0);
  const t0 = performance.now();
  await eventually(async () => assert.deepEqual(await leases(db), { [a]: 6 }), { what: 'node 1 holds all six' });
  const took = performance.now() - t0;
  assert.ok(took < 5000, `taken over in ${Math.round(took)} ms, well within the 10 s lease`);
  const ids = await post([nodes[0]], app, 10, 'after-stop');
  await allOnce(rcv, eps, ids, 'after the stop');
  const c = await startHookd(t, { db, token: nodes[0].token });
  const cid = await nodeOf(c);
  await eventually(async () => assert.deepEqual(await leases(db), { [a]: 3, [cid]: 3 }), { what: 'rebalanced to 3+3' });
  const more = await post([nodes[0], c], app, 10, 'after-join');
  await allOnce(rcv, eps, more, 'after the join');
}, { skip });

e2e('pg cluster: messages flowing while a node joins are each delivered once', async (t) => {
  const { rcv, nodes, app, eps, db } = await cluster(t, 1);
  const a = await nodeOf(nodes[0]);
  await eventually(async () => assert.deepEqual(await leases(db), { [a]: 6 }), { what: 'one node holds all' });
  let stop = false;
  const ids = [];
  const flow = (async () => {
    for (let i = 0; !stop; i++) ids.push(...await post([nodes[0]], app, 1, `flow-${i}`));
  })();
  const b = await startHookd(t, { db, token: nodes[0].token });
  const bid = await nodeOf(b);
  await eventually(async () => assert.deepEqual(await leases(db), { [a]: 3, [bid]: 3 }), { what: 'rebalanced' });
  stop = true;
  await flow;
  assert.ok(ids.length > 5, `${ids.length} messages during the hand-over`);
  await allOnce(rcv, eps, ids, 'messages during the hand-over');
}, { skip });

e2e('pg cluster: after kill -9 the live node takes the endpoints over within the lease time and sends what was pending', async (t) => {
  const env = { HOOKD_LEASE_TIME: '2s' };
  const { rcv, nodes, app, eps, db } = await cluster(t, 2, { env });
  const a = await nodeOf(nodes[0]), b = await nodeOf(nodes[1]);
  await eventually(async () => assert.deepEqual(await leases(db), { [a]: 3, [b]: 3 }), { what: 'three leases each' });
  const first = await post(nodes, app, 10, 'before-kill');
  await allOnce(rcv, eps, first, 'before the kill');
  await nodes[1].kill9();
  const t0 = performance.now();
  const ids = await post([nodes[0]], app, 10, 'after-kill'); // half of them for the dead node's endpoints
  await allOnce(rcv, eps, ids, 'after the kill');
  const took = performance.now() - t0;
  assert.ok(took < 2000 + 3000, `the dead node's endpoints served again after ${Math.round(took)} ms (lease 2 s)`);
  assert.deepEqual(await leases(db), { [a]: 6 });
}, { skip });

e2e('pg cluster: an endpoint created, edited and deleted on one node is used accordingly by the other', async (t) => {
  const { rcv, nodes, app, db } = await cluster(t, 2, { endpoints: 0 });
  const [n1, n2] = nodes.map((h) => api(h).req);
  const ep = (await n1('POST', `/app/${app.id}/endpoint`, { url: `${rcv.url}?v=1` })).json;
  // node 2 knows it at once: its API reads it and its fan-out uses it
  await eventually(async () => assert.equal((await n2('GET', `/app/${app.id}/endpoint/${ep.id}`)).status, 200),
    { timeout: 1000, what: 'the endpoint on node 2 within 1 s' });
  const m1 = (await n2('POST', `/app/${app.id}/msg`, { eventType: 'c.test', payload: { v: 1 } })).json;
  await rcv.waitFor((r) => r.some((x) => x.headers['webhook-id'] === m1.id && x.url === '/hook?v=1'), 10000, 'v1');
  // an edit on node 2 is what node 1 (or whichever owns it) sends to
  assert.equal((await n2('PATCH', `/app/${app.id}/endpoint/${ep.id}`, { url: `${rcv.url}?v=2` })).status, 200);
  await eventually(async () => assert.equal((await n1('GET', `/app/${app.id}/endpoint/${ep.id}`)).json.url,
    `${rcv.url}?v=2`), { timeout: 1000, what: 'the edit on node 1 within 1 s' });
  const m2 = (await n1('POST', `/app/${app.id}/msg`, { eventType: 'c.test', payload: { v: 2 } })).json;
  await rcv.waitFor((r) => r.some((x) => x.headers['webhook-id'] === m2.id && x.url === '/hook?v=2'), 10000, 'v2');
  assert.equal((await n1('DELETE', `/app/${app.id}/endpoint/${ep.id}`)).status, 204);
  await eventually(async () => assert.equal((await n2('GET', `/app/${app.id}/endpoint/${ep.id}`)).status, 404),
    { timeout: 1000, what: 'the delete on node 2 within 1 s' });
  const m3 = (await n2('POST', `/app/${app.id}/msg`, { eventType: 'c.test', payload: { v: 3 } }));
  assert.equal(m3.status, 202, m3.text);
  assert.equal((await pgSql(`SELECT count(*) FROM deliveries d JOIN messages m ON m.id = d.msg_id WHERE m.id = '${m3.json.id}'`, db)).trim(), '0',
    'no delivery to the deleted endpoint');
}, { skip });

e2e('pg cluster: a task whose node is killed is taken over by a live node and finished from its recorded progress', async (t) => {
  const env = { HOOKD_LEASE_TIME: '2s' };
  const { nodes, app, db } = await cluster(t, 1, { endpoints: 0, env });
  const { req } = api(nodes[0]);
  const since = new Date(Date.now() - 1000).toISOString();
  await pool(Array.from({ length: 3000 }, (_, i) => i), 16, (i) =>
    req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: { i, pad: 'x'.repeat(2000) } }));
  const b = await startHookd(t, { db, token: nodes[0].token, env });
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: 'http://127.0.0.1:9/hook' })).json;
  const task = (await req('POST', `/app/${app.id}/endpoint/${ep.id}/replay-missing`, { since })).json;
  await nodes[0].kill9(); // six batches of 500: cut short
  const t0 = performance.now();
  const done = await eventually(async () => {
    const r = (await api(b).req('GET', `/background-task/${task.id}`)).json;
    assert.equal(r.status, 'finished', JSON.stringify(r));
    return r;
  }, { timeout: 30000, what: 'the task finished by node 2' });
  t.diagnostic(`taken over and finished ${Math.round(performance.now() - t0)} ms after the kill (lease 2 s)`);
  assert.deepEqual(done.data, { processed: 3000 }, 'every message once, none twice');
  assert.match(b.logs(), new RegExp(`task ${task.id} \\(endpoint.replay\\): resumed after \\d+ deliveries`));
  const n = (await pgSql(`SELECT count(*) FROM deliveries WHERE endpoint_id = '${ep.id}'`, db)).trim();
  assert.equal(n, '3000', 'one delivery per message');
}, { skip });

e2e('pg cluster: a registry write answered by one node is seen by the next request on another (read-your-writes)', async (t) => {
  const rcv = await startReceiver(t);
  const h1 = await startHookd(t);
  const h2 = await startHookd(t, { db: h1.db, token: h1.token });
  const [n1, n2] = [h1, h2].map((h) => api(h).req);
  // each node counts the other (a joining node says hello), so that its writes wait for the other's ack
  for (const h of [h1, h2])
    await eventually(async () => assert.match(await (await fetchMetrics(h)).text(), /^hookd_cluster_nodes 2$/m),
      { timeout: 3000, what: 'two live nodes, as each node sees it' });
  const expected = [];
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) {
    const [a, b] = i % 2 ? [n1, n2] : [n2, n1]; // writes on one node, the next request on the other
    const app = await a('POST', '/app', { name: `ryw-${i}`, uid: `ryw-${i}` });
    assert.equal(app.status, 201, app.text);
    const ep = await b('POST', `/app/ryw-${i}/endpoint`, { url: `${rcv.url}?i=${i}` });
    assert.equal(ep.status, 201, `endpoint on the other node right after the app: ${ep.text}`);
    const msg = await a('POST', `/app/ryw-${i}/msg`, { eventType: 'c.test', payload: { i } });
    assert.equal(msg.status, 202, msg.text);
    expected.push([[`/hook?i=${i}`, `/hook?i=${i}&v=2`], msg.json.id]); // sent with the URL at send time
    const patched = await b('PATCH', `/app/ryw-${i}/endpoint/${ep.json.id}`, { url: `${rcv.url}?i=${i}&v=2` });
    assert.equal(patched.status, 200, patched.text);
    const msg2 = await a('POST', `/app/ryw-${i}/msg`, { eventType: 'c.test', payload: { i, v: 2 } });
    expected.push([[`/hook?i=${i}&v=2`], msg2.json.id]); // posted after the edit was answered
  }
  t.diagnostic(`20 rounds of 5 requests alternating nodes in ${Math.round(performance.now() - t0)} ms`);
  await rcv.waitForCount(expected.length, 15000, 'every message delivered');
  const wrong = expected.filter(([urls, id]) => !rcv.requests.some((x) => urls.includes(x.url) && x.headers['webhook-id'] === id))
    .map(([urls, id]) => `${id} expected at ${urls}, sent to ${rcv.requests.find((x) => x.headers['webhook-id'] === id)?.url}`);
  assert.deepEqual(wrong, [], 'every message at the endpoint as it was when it was posted');
}, { skip });
