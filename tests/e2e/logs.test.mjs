// logs.test.mjs: message and attempt list filters (event types, channel, tag, time, status, status class).
import assert from 'node:assert/strict';
import { api, e2e, eventually, startHookd, startReceiver } from './lib/harness.mjs';

e2e('logs: message list filters', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'logs' })).json;
  const send = async (eventType, extra = {}) =>
    (await req('POST', `/app/${app.id}/msg`, { eventType, payload: {}, ...extra })).json;
  const a = await send('order.created', { channels: ['eu'], tags: ['vip'] });
  const b = await send('order.paid', { channels: ['us'] });
  const mid = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 20));
  const c = await send('user.created', { tags: ['vip'] });
  const ids = async (q) => {
    const r = await req('GET', `/app/${app.id}/msg?${q}`);
    assert.equal(r.status, 200, r.text);
    return r.json.data.map((m) => m.id);
  };
  assert.deepEqual(await ids(''), [c.id, b.id, a.id]);
  assert.deepEqual(await ids('event_types=order.created&event_types=user.created'), [c.id, a.id]);
  assert.deepEqual(await ids('event_types=order.paid,user.created'), [c.id, b.id]);
  assert.deepEqual(await ids('channel=eu'), [a.id]);
  assert.deepEqual(await ids('tag=vip'), [c.id, a.id]);
  assert.deepEqual(await ids(`after=${encodeURIComponent(mid)}`), [c.id]);
  assert.deepEqual(await ids(`before=${encodeURIComponent(mid)}`), [b.id, a.id]);
  assert.deepEqual(await ids('channel=eu&tag=vip&event_types=order.created'), [a.id]);
  assert.deepEqual(await ids('with_content=false&limit=1'), [c.id]);
  assert.equal((await req('GET', `/app/${app.id}/msg?before=yesterday`)).status, 422);
  assert.equal(await h.stop(), 0);
});

e2e('logs: attempt list filters by status, status code class, event type and content', async (t) => {
  const h = await startHookd(t, { env: { HOOKD_RETRY_SCHEDULE: '50ms' } });
  const rcv = await startReceiver(t, (rec) => (JSON.parse(rec.body).ok ? { status: 200, body: 'fine' } : 404));
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'logs2' })).json;
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url })).json;
  await req('POST', `/app/${app.id}/msg`, { eventType: 'good.one', payload: { ok: true } });
  const bad = (await req('POST', `/app/${app.id}/msg`, { eventType: 'bad.one', payload: { ok: false } })).json;
  await eventually(async () => {
    const r = await req('GET', `/app/${app.id}/attempt/endpoint/${ep.id}`);
    assert.equal(r.json.data.length, 3); // 1 success + 2 failures (one retry)
  }, { what: 'three attempts' });
  const list = async (q) => (await req('GET', `/app/${app.id}/attempt/endpoint/${ep.id}?${q}`)).json.data;
  assert.equal((await list('status=0')).length, 1);
  assert.equal((await list('status=2')).length, 2);
  assert.equal((await list('status_code_class=400')).length, 2);
  assert.equal((await list('status_code_class=200')).length, 1);
  assert.equal((await list('status_code_class=500')).length, 0);
  const badOnes = await list('event_types=bad.one');
  assert.equal(badOnes.length, 2);
  assert.ok(badOnes.every((x) => x.msgId === bad.id));
  assert.equal((await list('status=0'))[0].response, 'fine');
  assert.equal((await list('status=0&with_content=false'))[0].response, '');
  assert.equal((await req('GET', `/app/${app.id}/attempt/endpoint/${ep.id}?status=9`)).status, 422);
  assert.equal((await req('GET', `/app/${app.id}/attempt/endpoint/${ep.id}?status_code_class=250`)).status, 422);
  const byMsg = (await req('GET', `/app/${app.id}/attempt/msg/${bad.id}?status_code_class=400`)).json.data;
  assert.equal(byMsg.length, 2);
  assert.equal(await h.stop(), 0);
});

e2e('logs: attempted messages of an endpoint, with their state there, paged', async (t) => {
  const h = await startHookd(t, { env: { HOOKD_RETRY_SCHEDULE: '50ms' } });
  const rcv = await startReceiver(t, (rec) => (JSON.parse(rec.body).bad ? 500 : 200));
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'logs3' })).json;
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url, eventTypes: ['a.b'] })).json;
  const ids = [];
  for (let i = 0; i < 4; i++)
    ids.push((await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: { i, bad: i === 1 } })).json.id);
  await req('POST', `/app/${app.id}/msg`, { eventType: 'other', payload: {} }); // not sent to this endpoint
  const list = await eventually(async () => {
    const r = await req('GET', `/app/${app.id}/endpoint/${ep.id}/msg`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.data.filter((m) => m.statusText === 'fail').length, 1);
    assert.equal(r.json.data.filter((m) => m.statusText === 'success').length, 3);
    return r.json;
  }, { what: 'three delivered and one failed' });
  assert.deepEqual(list.data.map((m) => m.id), [...ids].reverse(), 'newest first, only what the endpoint got');
  assert.equal(list.data.find((m) => m.id === ids[1]).status, 2);
  assert.deepEqual(list.data.find((m) => m.id === ids[2]).payload, { i: 2, bad: false });
  const p1 = (await req('GET', `/app/${app.id}/endpoint/${ep.id}/msg?limit=3&with_content=false`)).json;
  assert.equal(p1.data.length, 3);
  assert.equal(p1.done, false);
  assert.deepEqual(p1.data[0].payload, {});
  const p2 = (await req('GET', `/app/${app.id}/endpoint/${ep.id}/msg?limit=3&iterator=${p1.iterator}`)).json;
  assert.deepEqual(p2.data.map((m) => m.id), [ids[0]]);
  assert.equal(p2.done, true);
  assert.equal(await h.stop(), 0);
});
