// svix_parity.test.mjs: Svix operations hookd added for parity (precheck, operational webhook endpoints, health
// ping, featureFlags, app list filters) through the official SDK, and errors that name what is missing.
import assert from 'node:assert/strict';
import { api, e2e, eventually as retry, startHookd, startReceiver, svixClient, verifyDelivery } from './lib/harness.mjs';

e2e('parity: msg precheck says whether an enabled endpoint takes the type and channels', async (t) => {
  const h = await startHookd(t);
  const svix = svixClient(h);
  const app = await svix.application.create({ name: 'pre', uid: 'pre' });
  assert.deepEqual(await svix.message.precheck('pre', { eventType: 'user.created' }), { active: false });
  const ep = await svix.endpoint.create('pre', { url: 'http://127.0.0.1:9/x', filterTypes: ['user.created'],
    channels: ['eu'] });
  assert.equal((await svix.message.precheck('pre', { eventType: 'user.created', channels: ['eu'] })).active, true);
  assert.equal((await svix.message.precheck(app.id, { eventType: 'user.created', channels: ['us'] })).active, false);
  assert.equal((await svix.message.precheck('pre', { eventType: 'user.deleted', channels: ['eu'] })).active, false);
  await svix.endpoint.patch('pre', ep.id, { disabled: true });
  assert.equal((await svix.message.precheck('pre', { eventType: 'user.created', channels: ['eu'] })).active, false);
  // nothing was written
  assert.equal((await svix.message.list('pre')).data.length, 0);
  const { req } = api(h);
  const bad = await req('POST', '/app/pre/msg/precheck/active', {});
  assert.equal(bad.status, 422);
  assert.equal(bad.json.detail[0].loc[1], 'eventType');
});

e2e('parity: operational webhook endpoints through the API: CRUD, secret, headers, filtered, signed', async (t) => {
  const ops = await startReceiver(t);
  const h = await startHookd(t);
  const svix = svixClient(h);
  const owe = svix.operationalWebhookEndpoint;
  assert.deepEqual((await owe.list()).data, []);
  const ep = await owe.create({ url: ops.url, description: 'ops', filterTypes: ['endpoint.created'],
    metadata: { team: 'infra' } });
  assert.match(ep.id, /^ep_/);
  assert.equal(ep.url, ops.url);
  assert.deepEqual(ep.filterTypes, ['endpoint.created']);
  assert.equal((await owe.get(ep.id)).description, 'ops');
  assert.equal((await owe.list()).data.length, 1);
  const { key } = await owe.getSecret(ep.id);
  assert.match(key, /^whsec_/);
  await owe.updateHeaders(ep.id, { headers: { 'x-team': 'infra' } });
  assert.equal((await owe.getHeaders(ep.id)).headers['x-team'], 'infra');

  // an endpoint event reaches it, signed with its secret; a type it does not take does not
  await svix.application.create({ name: 'a', uid: 'a' });
  const e1 = await svix.endpoint.create('a', { url: 'http://127.0.0.1:9/x', uid: 'one' });
  await svix.endpoint.delete('a', e1.id); // endpoint.deleted: filtered out
  const e2 = await svix.endpoint.create('a', { url: 'http://127.0.0.1:9/y', uid: 'two' });
  await ops.waitForCount(2, 10000, 'two endpoint.created');
  const evs = ops.requests.map((r) => { verifyDelivery(key, r); return JSON.parse(r.body); });
  assert.deepEqual(evs.map((e) => e.type), ['endpoint.created', 'endpoint.created']);
  assert.deepEqual(evs.map((e) => e.data.endpointId), [e1.id, e2.id]);
  assert.equal(ops.requests[0].headers['x-team'], 'infra');

  const upd = await owe.update(ep.id, { url: ops.url, description: 'ops2', filterTypes: ['endpoint.deleted'] });
  assert.equal(upd.description, 'ops2');
  await owe.rotateSecret(ep.id, {});
  assert.notEqual((await owe.getSecret(ep.id)).key, key);
  await owe.delete(ep.id);
  assert.deepEqual((await owe.list()).data, []);
  // the internal app stays out of the app list
  assert.deepEqual((await svix.application.list()).data.map((a) => a.uid), ['a']);
  const { req } = api(h);
  const miss = await req('GET', `/operational-webhook/endpoint/${ep.id}`);
  assert.equal(miss.status, 404);
  assert.match(miss.json.detail, new RegExp(`endpoint ${ep.id} not found`));
});

e2e('parity: --operational-url keeps working beside API-made operational endpoints', async (t) => {
  const ops = await startReceiver(t);
  const more = await startReceiver(t);
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const h = await startHookd(t, { env: { HOOKD_OPERATIONAL_URL: ops.url, HOOKD_OPERATIONAL_SECRET: secret } });
  const svix = svixClient(h);
  const list = (await svix.operationalWebhookEndpoint.list()).data;
  assert.equal(list.length, 1);
  assert.equal(list[0].url, ops.url);
  await svix.operationalWebhookEndpoint.create({ url: more.url });
  await svix.application.create({ name: 'b', uid: 'b' });
  await svix.endpoint.create('b', { url: 'http://127.0.0.1:9/x' });
  await ops.waitForCount(1, 10000, 'endpoint.created to the URL');
  await more.waitForCount(1, 10000, 'endpoint.created to the API endpoint');
  verifyDelivery(secret, ops.requests[0]);
  assert.equal(JSON.parse(ops.requests[0].body).type, 'endpoint.created');
});

e2e('parity: health ping, featureFlags, app list filters', async (t) => {
  const h = await startHookd(t);
  for (const m of ['GET', 'HEAD']) {
    const r = await fetch(`${h.url}/api/v1/health/ping`, { method: m });
    assert.equal(r.status, 204, m);
  }
  const svix = svixClient(h);
  const et = await svix.eventType.create({ name: 'beta.thing', description: 'd', featureFlags: ['beta'] });
  assert.deepEqual(et.featureFlags, ['beta']);
  assert.equal(et.featureFlag, 'beta');
  const plain = await svix.eventType.create({ name: 'plain.thing', description: 'd' });
  assert.equal(plain.featureFlags ?? null, null);
  const { req } = api(h);
  const two = await req('POST', '/event-type', { name: 'x.y', description: 'd', featureFlags: ['a', 'b'] });
  assert.equal(two.status, 422);

  await svix.application.create({ name: 'none', uid: 'none' });
  await svix.application.create({ name: 'live', uid: 'live' });
  await svix.endpoint.create('live', { url: 'http://127.0.0.1:9/x' });
  await svix.application.create({ name: 'off', uid: 'off' });
  await svix.endpoint.create('off', { url: 'http://127.0.0.1:9/x', disabled: true });
  const uids = async (q) => (await req('GET', `/app?${q}`)).json.data.map((a) => a.uid).sort();
  assert.deepEqual(await uids(''), ['live', 'none', 'off']);
  assert.deepEqual(await uids('exclude_apps_with_no_endpoints=true'), ['live', 'off']);
  assert.deepEqual(await uids('exclude_apps_with_disabled_endpoints=true'), ['live', 'none']);
  assert.deepEqual(await uids('exclude_apps_with_no_endpoints=true&exclude_apps_with_disabled_endpoints=true'),
    ['live']);
  // a full page even when apps are left out
  const page = await req('GET', '/app?exclude_apps_with_no_endpoints=true&limit=1');
  assert.equal(page.json.data.length, 1);
  assert.equal(page.json.done, false);
});

e2e('parity: errors name the missing route, method or entity', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  let r = await req('POST', '/nope/x');
  assert.equal(r.status, 404);
  assert.deepEqual(r.json, { code: 'not_found', detail: 'no route POST /api/v1/nope/x' });
  r = await req('DELETE', '/app');
  assert.equal(r.status, 405);
  assert.equal(r.json.code, 'method_not_allowed');
  assert.match(r.json.detail, /GET, POST/);
  assert.equal(r.headers.get('allow'), 'GET, POST');
  r = await req('GET', '/app/acme');
  assert.deepEqual(r.json, { code: 'not_found', detail: 'app acme not found' });
  await req('POST', '/app', { name: 'acme', uid: 'acme' });
  r = await req('GET', '/app/acme/endpoint/ep_nope');
  assert.equal(r.json.detail, 'endpoint ep_nope not found in app acme');
  r = await req('GET', '/app/acme/msg/msg_nope');
  assert.equal(r.json.detail, 'message msg_nope not found in app acme');
  r = await req('GET', '/app/acme/attempt/msg/msg_nope');
  assert.equal(r.json.detail, 'message msg_nope not found in app acme');
  r = await req('GET', '/app/acme/attempt/endpoint/ep_gone');
  assert.equal(r.json.detail, 'endpoint ep_gone not found in app acme');
  r = await req('GET', '/app/nope/endpoint/ep_x/secret');
  assert.equal(r.json.detail, 'app nope not found');
  r = await req('GET', '/event-type/no.such');
  assert.equal(r.json.detail, 'event type no.such not found');
  const m = (await req('POST', '/app/acme/msg', { eventType: 'a', payload: {} })).json;
  r = await req('GET', `/app/acme/msg/${m.id}/attempt/atmpt_nope`);
  assert.equal(r.json.detail, `attempt atmpt_nope not found in app acme`);
  r = await req('GET', `/app/acme/attempt/msg/${m.id}?endpoint_id=ep_zz`);
  assert.equal(r.json.detail, 'endpoint ep_zz not found in app acme');
});

e2e('parity: event types from an OpenAPI document: schemas, refs, dryRun, replaceAll', async (t) => {
  const h = await startHookd(t);
  const svix = svixClient(h);
  await svix.eventType.create({ name: 'old.type', description: 'gone soon' });
  const spec = {
    openapi: '3.1.0', info: { title: 'x', version: '1' },
    webhooks: {
      'user.created': { post: { description: 'A user was created', 'x-svix-group-name': 'user',
        requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/User' } } } } } },
      'user.deleted': { post: { summary: 'A user was deleted', deprecated: true, 'x-svix-feature-flag': 'beta' } },
    },
    components: { schemas: { User: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } } },
  };
  const dry = await svix.eventType.importOpenapi({ spec, dryRun: true });
  assert.deepEqual(dry.data.modified, []);
  assert.deepEqual(dry.data.toModify.map((e) => e.name), ['user.created', 'user.deleted']);
  await assert.rejects(svix.eventType.get('user.created'), (e) => e.code === 404);

  const out = await svix.eventType.importOpenapi({ specRaw: JSON.stringify(spec), replaceAll: true });
  assert.deepEqual(out.data.modified, ['user.created', 'user.deleted', 'old.type']);
  const uc = await svix.eventType.get('user.created');
  assert.equal(uc.description, 'A user was created');
  assert.equal(uc.groupName, 'user');
  assert.deepEqual(uc.schemas, { 1: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } });
  const ud = await svix.eventType.get('user.deleted');
  assert.equal(ud.deprecated, true);
  assert.equal(ud.featureFlag, 'beta');
  assert.equal((await svix.eventType.get('old.type')).archived, true);

  const { req } = api(h);
  const bad = await req('POST', '/event-type/import/openapi', { specRaw: 'openapi: 3.1.0' });
  assert.equal(bad.status, 422);
  const cyc = await req('POST', '/event-type/import/openapi', { spec: { webhooks: { 'a.b': { post: {
    requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/A' } } } } } } },
  components: { schemas: { A: { properties: { a: { $ref: '#/components/schemas/A' } } } } } } });
  assert.equal(cyc.status, 422);
});

e2e('parity: attempts by tag and with_msg; endpoint stats since/until', async (t) => {
  const rcv = await startReceiver(t);
  const h = await startHookd(t);
  const svix = svixClient(h);
  await svix.application.create({ name: 'q', uid: 'q' });
  const ep = await svix.endpoint.create('q', { url: rcv.url });
  const m1 = await svix.message.create('q', { eventType: 'a', payload: { n: 1 }, tags: ['red'] });
  const m2 = await svix.message.create('q', { eventType: 'a', payload: { n: 2 }, tags: ['blue'] });
  await rcv.waitForCount(2, 10000, 'two deliveries');
  const { req } = api(h);
  for (;;) { // the attempts are recorded after the answers
    if ((await req('GET', `/app/q/attempt/endpoint/${ep.id}`)).json.data.length === 2) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const at = await svix.messageAttempt.listByEndpoint('q', ep.id, { tag: 'red', withMsg: true });
  assert.deepEqual(at.data.map((a) => a.msgId), [m1.id]);
  assert.equal(at.data[0].msg.id, m1.id);
  assert.deepEqual(at.data[0].msg.payload, { n: 1 });
  const plain = (await req('GET', `/app/q/attempt/endpoint/${ep.id}`)).json.data;
  assert.equal(plain.length, 2);
  assert.equal(plain[0].msg, undefined);
  assert.deepEqual((await svix.messageAttempt.listByMsg('q', m2.id, { tag: 'red' })).data, []);
  assert.equal((await svix.messageAttempt.listByMsg('q', m2.id, { tag: 'blue' })).data.length, 1);

  const all = await svix.endpoint.getStats('q', ep.id);
  assert.equal(all.success, 2);
  const future = await svix.endpoint.getStats('q', ep.id, { since: new Date(Date.now() + 3600e3) });
  assert.equal(future.success, 0);
  const past = await svix.endpoint.getStats('q', ep.id, { until: new Date(Date.now() - 3600e3) });
  assert.equal(past.success, 0);
  const window = await svix.endpoint.getStats('q', ep.id, { since: new Date(Date.now() - 3600e3),
    until: new Date(Date.now() + 3600e3) });
  assert.equal(window.success, 2);
  assert.equal((await req('GET', `/app/q/endpoint/${ep.id}/stats?since=yesterday`)).status, 422);
});

e2e('parity: an attempt content is deleted; the attempt stays', async (t) => {
  const rcv = await startReceiver(t, () => ({ status: 200, body: 'secret answer' }));
  const h = await startHookd(t);
  const svix = svixClient(h);
  await svix.application.create({ name: 'c', uid: 'c' });
  await svix.endpoint.create('c', { url: rcv.url });
  const m = await svix.message.create('c', { eventType: 'a', payload: { n: 1 } });
  let at;
  for (;;) {
    at = (await svix.messageAttempt.listByMsg('c', m.id)).data;
    if (at.length) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(at[0].response, 'secret answer');
  await svix.messageAttempt.expungeContent('c', m.id, at[0].id);
  const after = await svix.messageAttempt.get('c', m.id, at[0].id);
  assert.equal(after.response, '');
  assert.equal(after.responseStatusCode, 200);
  const { req } = api(h);
  const miss = await req('DELETE', `/app/c/msg/${m.id}/attempt/atmpt_nope/content`);
  assert.equal(miss.status, 404);
  assert.equal(miss.json.detail, 'attempt atmpt_nope not found in app c');
});

e2e('parity: expunge-all-contents forgets every payload of the app as a background task', async (t) => {
  const h = await startHookd(t);
  const svix = svixClient(h);
  await svix.application.create({ name: 'p', uid: 'p' });
  await svix.application.create({ name: 'keep', uid: 'keep' });
  const ids = [];
  for (let i = 0; i < 5; i++) ids.push((await svix.message.create('p', { eventType: 'a', payload: { i } })).id);
  const kept = await svix.message.create('keep', { eventType: 'a', payload: { i: 9 } });
  const task = await svix.message.expungeAllContents('p');
  assert.match(task.id, /^qtask_/);
  assert.equal(task.task, 'application.purge_content');
  let got;
  for (;;) {
    got = await svix.backgroundTask.get(task.id);
    if (got.status !== 'running') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(got.status, 'finished');
  assert.equal(got.data.processed, 5);
  for (const id of ids) assert.deepEqual((await svix.message.get('p', id)).payload, {});
  assert.deepEqual((await svix.message.get('keep', kept.id)).payload, { i: 9 });
  const { req } = api(h);
  assert.equal((await req('POST', '/app/nope/msg/expunge-all-contents')).json.detail, 'app nope not found');
});

e2e('parity: bulk-replay sends the window messages the filters take again, as a task', async (t) => {
  const rcv = await startReceiver(t);
  const h = await startHookd(t);
  const svix = svixClient(h);
  await svix.application.create({ name: 'br', uid: 'br' });
  const since = new Date(Date.now() - 1000);
  // before the endpoint: never sent to it, so never replayed to it (Svix: "messages sent to the endpoint")
  await svix.message.create('br', { eventType: 'a', payload: { n: 0 } });
  const ep = await svix.endpoint.create('br', { url: rcv.url });
  const a1 = await svix.message.create('br', { eventType: 'a', payload: { n: 1 }, tags: ['x'] });
  await svix.message.create('br', { eventType: 'b', payload: { n: 2 } });
  const a3 = await svix.message.create('br', { eventType: 'a', payload: { n: 3 }, channels: ['eu'] });
  await rcv.waitForCount(3, 10000, 'the three messages sent after the endpoint');
  const wait = async (id) => {
    for (;;) {
      const got = await svix.backgroundTask.get(id);
      if (got.status !== 'running') return got;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const task = await svix.endpoint.bulkReplay('br', ep.id, { since, eventTypes: ['a'] });
  assert.equal(task.task, 'endpoint.bulk-replay');
  assert.equal((await wait(task.id)).data.processed, 2);
  await rcv.waitForCount(5, 10000, 'the two a messages again');
  const ns = (from) => rcv.requests.slice(from).map((r) => JSON.parse(r.body).n).sort();
  assert.deepEqual(ns(3), [1, 3]);
  // a tag narrows it
  const t2 = await svix.endpoint.bulkReplay('br', ep.id, { since, tag: 'x' });
  assert.equal((await wait(t2.id)).data.processed, 1);
  await rcv.waitForCount(6, 10000, 'the tagged one again');
  assert.equal(rcv.requests[5].headers['webhook-id'], a1.id);
  const t3 = await svix.endpoint.bulkReplay('br', ep.id, { since, channel: 'eu' });
  assert.equal((await wait(t3.id)).data.processed, 1);
  await rcv.waitForCount(7, 10000, 'the eu one again');
  assert.equal(rcv.requests[6].headers['webhook-id'], a3.id);
  const { req } = api(h);
  const bad = await req('POST', `/app/br/endpoint/${ep.id}/bulk-replay`, { since: since.toISOString(), status: 9 });
  assert.equal(bad.status, 422);
});

e2e('parity: bulk-replay with status and statusCodeClass resends only the messages whose delivery to the endpoint matches', async (t) => {
  // each payload says how the receiver answers it
  const rcv = await startReceiver(t, (rec) => ({ ok: 200, bad: 400, down: 503 }[JSON.parse(rec.body).k]));
  const h = await startHookd(t);
  const svix = svixClient(h);
  const { req } = api(h);
  await svix.application.create({ name: 'bs', uid: 'bs' });
  const since = new Date(Date.now() - 1000);
  const never = await svix.message.create('bs', { eventType: 'a', payload: { k: 'ok', n: 0 } }); // before the endpoint
  const ep = (await req('POST', '/app/bs/endpoint', { url: rcv.url, retrySchedule: [] })).json;
  const msgs = {};
  for (const [n, k] of [[1, 'ok'], [2, 'bad'], [3, 'down'], [4, 'ok']])
    msgs[n] = (await svix.message.create('bs', { eventType: 'a', payload: { k, n } })).id;
  // every delivery ended: two succeeded, one answered 400, one 503 (no retries)
  const settled = async (want) => retry(async () => {
    const v = (await req('GET', `/app/bs/endpoint/${ep.id}/msg?limit=50`)).json.data;
    assert.ok(v.length >= 4 && v.every((m) => m.status === 0 || m.status === 2), JSON.stringify(v));
    assert.equal(rcv.requests.length, want);
  }, { what: 'deliveries settled' });
  await settled(4);
  const wait = async (id) => retry(async () => {
    const got = await svix.backgroundTask.get(id);
    assert.notEqual(got.status, 'running');
    return got;
  }, { what: 'task ended' });
  const replay = async (body, want, ns) => {
    const before = rcv.requests.length;
    const task = await svix.endpoint.bulkReplay('bs', ep.id, { since, ...body });
    assert.equal(task.task, 'endpoint.bulk-replay');
    const got = await wait(task.id);
    assert.equal(got.status, 'finished');
    assert.equal(got.data.processed, want, JSON.stringify(body));
    await settled(before + want);
    const sent = rcv.requests.slice(before).map((r) => JSON.parse(r.body).n).sort();
    assert.deepEqual(sent, ns, JSON.stringify(body));
    return task;
  };
  await replay({ status: 2 }, 2, [2, 3]); // MessageStatus.Fail: only the failed ones
  await replay({ statusCodeClass: 500 }, 1, [3]); // only the one answered 5xx
  await replay({ statusCodeClass: 400, status: 2 }, 1, [2]);
  await replay({ status: 0 }, 2, [1, 4]); // the message never sent to it (0) matches no status
  await replay({ statusCodeClass: 200, eventTypes: ['a'] }, 2, [1, 4]);
  await replay({ statusCodeClass: 0 }, 0, []); // every attempt got an HTTP answer
  await replay({ status: null, statusCodeClass: null }, 4, [1, 2, 3, 4]); // null: no filter (but sent before)
  assert.ok(never.id);
  for (const body of [{ status: 5 }, { status: -1 }, { status: 'fail' }, { statusCodeClass: 250 },
    { statusCodeClass: 600 }, { statusCodeClass: '500' }]) {
    const bad = await req('POST', `/app/bs/endpoint/${ep.id}/bulk-replay`, { since: since.toISOString(), ...body });
    assert.equal(bad.status, 422, JSON.stringify(body));
    assert.equal(bad.json.code, 'validation_error');
    assert.equal(bad.json.detail[0].loc.at(-1), Object.keys(body)[0]);
  }
});

e2e('parity: app usage stats: a task whose data has each app\'s message destinations in the window', async (t) => {
  const rcv = await startReceiver(t);
  const h = await startHookd(t);
  const svix = svixClient(h);
  await svix.application.create({ name: 's1', uid: 's1' });
  await svix.application.create({ name: 's2', uid: 's2' });
  await svix.endpoint.create('s1', { url: rcv.url });
  await svix.endpoint.create('s1', { url: rcv.url });
  await svix.endpoint.create('s2', { url: rcv.url });
  const since = new Date(Date.now() - 1000);
  await svix.message.create('s1', { eventType: 'a', payload: {} });
  await svix.message.create('s1', { eventType: 'a', payload: {} });
  await svix.message.create('s2', { eventType: 'a', payload: {} });
  const until = new Date(Date.now() + 1000);
  const out = await svix.statistics.aggregateAppStats({ since, until, appIds: ['s1', 's2', 'nope'] });
  assert.equal(out.task, 'application.stats');
  assert.deepEqual(out.unresolvedAppIds, ['nope']);
  const task = await svix.backgroundTask.get(out.id);
  assert.equal(task.status, 'finished');
  assert.deepEqual(task.data.apps.map((a) => [a.appUid, a.messageDestinations]), [['s1', 4], ['s2', 1]]);
  const all = await svix.statistics.aggregateAppStats({ since, until });
  const got = (await svix.backgroundTask.get(all.id)).data.apps.map((a) => a.appUid).sort();
  assert.deepEqual(got, ['s1', 's2']);
  const before = await svix.statistics.aggregateAppStats({ since: new Date(0), until: since, appIds: ['s1'] });
  assert.equal((await svix.backgroundTask.get(before.id)).data.apps[0].messageDestinations, 0);
});
