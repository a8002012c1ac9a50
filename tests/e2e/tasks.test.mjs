// tasks.test.mjs: recover and replay-missing as background tasks, and /background-task.
import assert from 'node:assert/strict';
import { api, e2e, eventually, pool, startHookd, startReceiver, svixClient, webhookIds } from './lib/harness.mjs';

const TASK_KEYS = ['id', 'status', 'task', 'updatedAt'];

async function finished(req, id) {
  return eventually(async () => {
    const r = await req('GET', `/background-task/${id}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'finished');
    return r.json;
  }, { what: `task ${id} finished` });
}

e2e('tasks: recover re-sends the failed deliveries of a window and reports progress', async (t) => {
  const h = await startHookd(t, { env: { HOOKD_RETRY_SCHEDULE: '20ms' } });
  let up = false;
  const rcv = await startReceiver(t, () => (up ? 200 : 500));
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'rec' })).json;
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url })).json;
  const stats = async () => (await req('GET', `/app/${app.id}/endpoint/${ep.id}/stats`)).json;
  const early = (await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: { n: 0 } })).json;
  await eventually(async () => assert.equal((await stats()).fail, 1), { what: 'the early message failed' });
  const since = new Date().toISOString();
  const msgs = [];
  for (let n = 1; n <= 3; n++)
    msgs.push((await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: { n } })).json);
  await eventually(async () => assert.equal((await stats()).fail, 4), { what: 'every delivery failed' });
  const before = rcv.requests.length;

  up = true;
  assert.equal((await req('POST', `/app/${app.id}/endpoint/${ep.id}/recover`, {})).status, 422);
  assert.equal((await req('POST', `/app/${app.id}/endpoint/${ep.id}/recover`, { since: 'yesterday' })).status, 422);
  assert.equal((await req('POST', `/app/${app.id}/endpoint/ep_nope/recover`, { since })).status, 404);
  const res = await req('POST', `/app/${app.id}/endpoint/${ep.id}/recover`, { since });
  assert.equal(res.status, 202, res.text);
  assert.deepEqual(Object.keys(res.json).sort(), TASK_KEYS);
  assert.match(res.json.id, /^qtask_/);
  assert.equal(res.json.status, 'running');
  assert.equal(res.json.task, 'endpoint.recover');

  const task = await finished(req, res.json.id);
  assert.deepEqual(task.data, { processed: 3 });
  await rcv.waitFor((r) => r.length >= before + 3, 10000, 'the recovered deliveries');
  await eventually(async () => {
    const s = await stats();
    assert.equal(s.success, 3);
    assert.equal(s.fail, 1, 'the message before since stays failed');
  }, { what: 'the recovered deliveries succeeded' });
  const resent = webhookIds(rcv.requests.slice(before));
  assert.deepEqual([...resent].sort(), msgs.map((m) => m.id).sort());
  assert.ok(!resent.has(early.id));

  // the SDK's shapes; a second recover finds nothing left to do
  const svix = svixClient(h);
  const again = await svix.endpoint.recover(app.id, ep.id, { since: new Date(Date.parse(since) - 60000) });
  assert.equal(again.task, 'endpoint.recover');
  const got = await svix.backgroundTask.get(again.id);
  assert.ok(['running', 'finished'].includes(got.status));
  const done = await finished(req, again.id);
  assert.deepEqual(done.data, { processed: 1 }, 'only the early message was still failed');
  const list = await req('GET', '/background-task?task=endpoint.recover');
  assert.deepEqual(list.json.data.map((x) => x.id), [again.id, res.json.id], 'newest first');
  assert.equal((await req('GET', '/background-task?status=running')).json.data.length, 0);
  assert.equal((await req('GET', '/background-task?status=nope')).status, 422);
  assert.equal((await req('GET', '/background-task/qtask_nope')).status, 404);
  assert.equal(await h.stop(), 0);
});

e2e('tasks: replay-missing sends what the endpoint never got, once, in batches', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'rep' })).json;
  const since = new Date(Date.now() - 1000).toISOString();
  // 1,100 messages before the endpoint exists: more than two batches; every tenth is of another type
  const old = [];
  await pool(Array.from({ length: 1100 }, (_, i) => i), 16, async (i) => {
    const eventType = i % 10 === 0 ? 'other.thing' : 'user.created';
    const m = (await req('POST', `/app/${app.id}/msg`, { eventType, payload: { i } })).json;
    if (eventType === 'user.created') old.push(m.id);
  });
  const chan = (await req('POST', `/app/${app.id}/msg`, { eventType: 'user.created', payload: {}, channels: ['eu'] })).json;
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url, eventTypes: ['user.*'], channels: ['us'] })).json;
  // a message that fans out to the endpoint as usual: the replay must not send it again
  const live = (await req('POST', `/app/${app.id}/msg`, { eventType: 'user.created', payload: {}, channels: ['us'] })).json;
  await rcv.waitForCount(1, 5000, 'the live message');
  // without channels, the old messages do not reach an endpoint with channels: drop its channels first
  await req('PATCH', `/app/${app.id}/endpoint/${ep.id}`, { channels: null });

  const res = await req('POST', `/app/${app.id}/endpoint/${ep.id}/replay-missing`, { since });
  assert.equal(res.status, 202, res.text);
  assert.equal(res.json.task, 'endpoint.replay');
  const task = await finished(req, res.json.id);
  assert.deepEqual(task.data, { processed: old.length + 1 }, 'the user.* messages, the eu one included');
  await rcv.waitForCount(old.length + 2, 20000, 'the replayed messages');
  const ids = rcv.requests.map((r) => r.headers['webhook-id']);
  assert.equal(new Set(ids).size, ids.length, 'no message twice');
  assert.ok(ids.includes(chan.id));
  assert.equal(ids.filter((id) => id === live.id).length, 1);
  // nothing left to replay
  const again = await req('POST', `/app/${app.id}/endpoint/${ep.id}/replay-missing`, { since });
  assert.deepEqual((await finished(req, again.json.id)).data, { processed: 0 });
  // a window that ends before the messages: nothing
  const until = new Date(Date.parse(since) + 1).toISOString();
  const none = await req('POST', `/app/${app.id}/endpoint/${ep.id}/replay-missing`,
    { since: new Date(Date.parse(since) - 60000).toISOString(), until });
  assert.deepEqual((await finished(req, none.json.id)).data, { processed: 0 });
  assert.equal((await req('POST', `/app/${app.id}/endpoint/${ep.id}/replay-missing`, { since, until: since })).status, 422);
  await rcv.expectNoMore(old.length + 2, 300);
  assert.equal(await h.stop(), 0);

  // task status survives a restart
  await h.restart();
  assert.equal((await req('GET', `/background-task/${res.json.id}`)).json.status, 'finished');
  assert.equal(await h.stop(), 0);
});

/** 3,000 messages, then a replay-missing to a new endpoint: six batches, long enough to interrupt. */
async function longReplay(req, app) {
  const since = new Date(Date.now() - 1000).toISOString();
  await pool(Array.from({ length: 3000 }, (_, i) => i), 16, (i) =>
    req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: { i, pad: 'x'.repeat(2000) } }));
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: 'http://127.0.0.1:9/hook' })).json;
  const res = await req('POST', `/app/${app.id}/endpoint/${ep.id}/replay-missing`, { since });
  assert.equal(res.status, 202);
  return { ep, res };
}

e2e('tasks: a task cut short by a crash resumes at the next start from its recorded progress', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'crash' })).json;
  const { ep, res } = await longReplay(req, app);
  await h.kill9(); // six batches of 500 take far longer than this
  await h.restart();
  const task = await finished(req, res.json.id);
  assert.equal(task.status, 'finished');
  assert.deepEqual(task.data, { processed: 3000 }, 'every message once, none twice');
  assert.match(h.logs(), new RegExp(`task ${res.json.id} \\(endpoint.replay\\): resumed after \\d+ deliveries`));
  const stats = (await req('GET', `/app/${app.id}/endpoint/${ep.id}/stats`)).json;
  assert.equal(Object.values(stats).reduce((a, b) => a + b, 0), 3000, `one delivery per message: ${JSON.stringify(stats)}`);
  assert.equal(await h.stop(), 0);
});

e2e('tasks: a task whose endpoint is deleted fails', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'gone' })).json;
  const { ep, res } = await longReplay(req, app);
  assert.equal((await req('DELETE', `/app/${app.id}/endpoint/${ep.id}`)).status, 204);
  const task = await eventually(async () => {
    const r = (await req('GET', `/background-task/${res.json.id}`)).json;
    assert.notEqual(r.status, 'running');
    return r;
  }, { what: 'the task ended' });
  assert.equal(task.status, 'failed');
  assert.ok(task.data.processed < 3000, `processed ${task.data.processed}`);
  assert.equal(await h.stop(), 0);
});
