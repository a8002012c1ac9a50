// eventtypes.test.mjs: the event type registry (Svix shapes), endpoint validation against it, and
// send-example taking the type's schema example.
import assert from 'node:assert/strict';
import { api, e2e, startHookd, startReceiver, svixClient } from './lib/harness.mjs';

const KEYS = ['archived', 'createdAt', 'deprecated', 'description', 'featureFlag', 'featureFlags', 'groupName', 'name', 'schemas',
  'updatedAt'];

e2e('event types: create, get, update, patch, archive, unarchive, expunge', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  const schemas = { 1: { type: 'object', examples: [{ id: 'inv_1' }] } };
  const res = await req('POST', '/event-type', { name: 'invoice.paid', description: 'Paid', schemas, groupName: 'invoice' });
  assert.equal(res.status, 201, res.text);
  assert.deepEqual(Object.keys(res.json).sort(), KEYS);
  assert.equal(res.json.name, 'invoice.paid');
  assert.equal(res.json.archived, false);
  assert.equal(res.json.deprecated, false);
  assert.equal(res.json.featureFlag, null);
  assert.equal(res.json.groupName, 'invoice');
  assert.deepEqual(res.json.schemas, schemas);
  assert.equal((await req('POST', '/event-type', { name: 'invoice.paid', description: 'again' })).status, 409);
  assert.equal((await req('POST', '/event-type', { name: 'bad name', description: '' })).status, 422);
  assert.equal((await req('POST', '/event-type', { name: 'no.description' })).status, 422);
  assert.equal((await req('POST', '/event-type', { name: 'x', description: '', schemas: [1] })).status, 422);

  const got = await req('GET', '/event-type/invoice.paid');
  assert.equal(got.status, 200);
  assert.deepEqual(got.json, res.json);
  assert.equal((await req('GET', '/event-type/nope')).status, 404);

  // PUT upserts: 201 for a new name, 200 (replacing every field) for an existing one
  const put = await req('PUT', '/event-type/invoice.voided', { description: 'Voided', deprecated: true });
  assert.equal(put.status, 201, put.text);
  assert.equal(put.json.deprecated, true);
  const put2 = await req('PUT', '/event-type/invoice.paid', { description: 'Paid v2' });
  assert.equal(put2.status, 200);
  assert.equal(put2.json.schemas, null, 'PUT replaces: no schemas given');
  assert.equal(put2.json.groupName, null);
  assert.equal(put2.json.createdAt, res.json.createdAt);
  // PATCH keeps what it does not name
  const patch = await req('PATCH', '/event-type/invoice.paid', { featureFlag: 'beta' });
  assert.equal(patch.status, 200);
  assert.equal(patch.json.description, 'Paid v2');
  assert.equal(patch.json.featureFlag, 'beta');
  assert.equal((await req('PATCH', '/event-type/nope', { description: 'x' })).status, 404);

  // DELETE archives; POST of an archived name brings it back
  assert.equal((await req('DELETE', '/event-type/invoice.voided')).status, 204);
  assert.equal((await req('GET', '/event-type/invoice.voided')).json.archived, true);
  const back = await req('POST', '/event-type', { name: 'invoice.voided', description: 'Back' });
  assert.equal(back.status, 201, back.text);
  assert.equal(back.json.archived, false);
  // ?expunge=true deletes for good
  assert.equal((await req('DELETE', '/event-type/invoice.voided?expunge=true')).status, 204);
  assert.equal((await req('GET', '/event-type/invoice.voided')).status, 404);
  assert.equal((await req('DELETE', '/event-type/invoice.voided')).status, 404);

  // the registry survives a restart
  assert.equal(await h.stop(), 0);
  await h.restart();
  const after = await req('GET', '/event-type/invoice.paid');
  assert.equal(after.status, 200);
  assert.deepEqual(after.json, patch.json);
  assert.equal(await h.stop(), 0);
});

e2e('event types: list pages by name, hides archived ones and schemas unless asked', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  const svix = svixClient(h);
  const names = ['a.one', 'b.two', 'c.three', 'd.four', 'e.five'];
  for (const name of names.slice().reverse())
    await svix.eventType.create({ name, description: name, schemas: { 1: { examples: [{ n: name }] } } });
  await req('DELETE', '/event-type/c.three');

  const seen = [];
  let iterator;
  for (;;) {
    const page = await svix.eventType.list({ limit: 2, iterator });
    seen.push(...page.data.map((e) => e.name));
    for (const e of page.data) assert.equal(e.schemas, null, 'with_content defaults to false');
    if (page.done) break;
    iterator = page.iterator;
  }
  assert.deepEqual(seen, ['a.one', 'b.two', 'd.four', 'e.five']);

  const all = await req('GET', '/event-type?include_archived=true&with_content=true');
  assert.deepEqual(all.json.data.map((e) => e.name), names);
  assert.deepEqual(all.json.data[0].schemas, { 1: { examples: [{ n: 'a.one' }] } });
  assert.equal(all.json.data[2].archived, true);
  const desc = await req('GET', '/event-type?order=descending&limit=1');
  assert.equal(desc.json.data[0].name, 'e.five');
  const prev = await req('GET', `/event-type?iterator=${encodeURIComponent(desc.json.iterator)}&order=descending&limit=1`);
  assert.equal(prev.json.data[0].name, 'd.four');
  // a long name pages as well as a short one
  const long = 'x'.repeat(200);
  await req('POST', '/event-type', { name: long, description: '' });
  const after = await req('GET', `/event-type?iterator=e.five`);
  assert.equal(after.status, 200, after.text);
  assert.deepEqual(after.json.data.map((e) => e.name), [long]);
  assert.equal((await req('GET', '/event-type?include_archived=maybe')).status, 422);
  assert.equal(await h.stop(), 0);
});

e2e('event types: endpoints may only name registered types once the registry has any', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'reg' })).json;
  const url = 'http://127.0.0.1:9/hook';
  // an empty registry takes any name
  const free = await req('POST', `/app/${app.id}/endpoint`, { url, eventTypes: ['anything.goes'] });
  assert.equal(free.status, 201, free.text);

  await req('POST', '/event-type', { name: 'user.created', description: '' });
  await req('POST', '/event-type', { name: 'user.gone', description: '' });
  await req('DELETE', '/event-type/user.gone');
  const bad = await req('POST', `/app/${app.id}/endpoint`, { url, eventTypes: ['user.created', 'user.renamed'] });
  assert.equal(bad.status, 422, bad.text);
  assert.deepEqual(bad.json.detail[0].loc, ['body', 'eventTypes']);
  assert.match(bad.json.detail[0].msg, /user\.renamed/);
  assert.equal((await req('POST', `/app/${app.id}/endpoint`, { url, filterTypes: ['nope'] })).status, 422);
  assert.equal((await req('POST', `/app/${app.id}/endpoint`, { url, eventTypes: ['user.gone'] })).status, 422,
    'an archived type is not offered');
  const ok = await req('POST', `/app/${app.id}/endpoint`, { url, eventTypes: ['user.created', 'order.*', '*'] });
  assert.equal(ok.status, 201, ok.text);
  assert.equal((await req('PATCH', `/app/${app.id}/endpoint/${ok.json.id}`, { eventTypes: ['x.y'] })).status, 422);
  assert.equal((await req('PUT', `/app/${app.id}/endpoint/${ok.json.id}`, { url, eventTypes: ['x.y'] })).status, 422);
  // an edit that leaves the filter alone is not checked: the older endpoint keeps working
  const edit = await req('PATCH', `/app/${app.id}/endpoint/${free.json.id}`, { description: 'still here' });
  assert.equal(edit.status, 200, edit.text);
  assert.equal(await h.stop(), 0);
});

e2e('event types: send-example sends the type schema example', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'ex' })).json;
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url })).json;
  const example = { invoice: { id: 'inv_42', amount: 1200 } };
  await req('POST', '/event-type', { name: 'invoice.paid', description: '', schemas: { 1: { type: 'object', examples: [example, { other: 1 }] } } });
  await req('POST', '/event-type', { name: 'invoice.draft', description: '' });
  const res = await req('POST', `/app/${app.id}/endpoint/${ep.id}/send-example`, { eventType: 'invoice.paid' });
  assert.equal(res.status, 202, res.text);
  assert.deepEqual(res.json.payload, example);
  await rcv.waitForCount(1, 5000, 'the example');
  assert.deepEqual(JSON.parse(rcv.requests[0].body), example);
  // a type without an example gets the generic one
  await req('POST', `/app/${app.id}/endpoint/${ep.id}/send-example`, { eventType: 'invoice.draft' });
  await rcv.waitForCount(2, 5000, 'the generic example');
  assert.equal(JSON.parse(rcv.requests[1].body).type, 'invoice.draft');
  assert.equal(await h.stop(), 0);
});

e2e('event types: concurrent creates of one name, exactly one wins', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  for (let round = 0; round < 5; round++) {
    const name = `race.type${round}`;
    const answers = await Promise.all(Array.from({ length: 8 },
      (_, i) => req('POST', '/event-type', { name, description: `d${i}` })));
    const codes = answers.map((a) => a.status).sort();
    assert.deepEqual(codes, [201, 409, 409, 409, 409, 409, 409, 409], `round ${round}: ${codes}`);
    const winner = answers.find((a) => a.status === 201).json.description;
    assert.equal((await req('GET', `/event-type/${name}`)).json.description, winner, 'the stored type is the winner');
  }
  // an archived type is revived by a create
  await req('DELETE', '/event-type/race.type0');
  assert.equal((await req('POST', '/event-type', { name: 'race.type0', description: 'back' })).status, 201);
  assert.equal((await req('GET', '/event-type/race.type0')).json.archived, false);
});
