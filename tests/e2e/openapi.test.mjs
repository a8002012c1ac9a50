// openapi.test.mjs: GET /api/v1/openapi.json (no token) answers docs/openapi.json byte for byte; that file is what
// scripts/openapi.mjs makes; it has the structure of an OpenAPI 3.1 document (checked here without a validator
// package: the fields tools read); and every documented operation reaches a handler of hookd (never "no route"
// nor a 405). tests/unit/test_openapi.c checks the other way: every route of src/api.c's table is documented.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { api, e2e, startHookd } from './lib/harness.mjs';
import { build } from '../../scripts/openapi.mjs';

const committed = readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8');
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
// dispatched before the route table; probed on their own below
const SPECIAL = new Set(['/api/v1/health', '/api/v1/health/ping', '/api/v1/health/ready', '/api/v1/openapi.json', '/metrics', '/in/{source_id}']);

function resolve(doc, r) {
  assert.match(r, /^#\/components\//, `a local $ref: ${r}`);
  const v = r.slice(2).split('/').reduce((o, k) => o?.[k], doc);
  assert.ok(v !== undefined, `$ref ${r} resolves`);
  return v;
}

function walkRefs(doc, node, seen = new Set()) {
  if (node === null || typeof node !== 'object' || seen.has(node)) return;
  seen.add(node);
  if (typeof node.$ref === 'string') resolve(doc, node.$ref);
  for (const v of Object.values(node)) walkRefs(doc, v, seen);
}

e2e('openapi: the committed document is what scripts/openapi.mjs makes, and it is OpenAPI 3.1', async () => {
  assert.equal(committed, JSON.stringify(build(), null, 1) + '\n', 'docs/openapi.json is stale: node scripts/openapi.mjs');
  const doc = JSON.parse(committed);
  assert.match(doc.openapi, /^3\.1\.\d+$/);
  assert.equal(typeof doc.info?.title, 'string');
  assert.equal(typeof doc.info?.version, 'string');
  assert.equal(typeof doc.paths, 'object');
  const ids = new Set();
  let ops = 0;
  for (const [p, item] of Object.entries(doc.paths)) {
    assert.match(p, /^\//, `${p} starts with /`);
    const names = [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const [m, op] of Object.entries(item)) {
      assert.ok(METHODS.includes(m), `${p}: ${m} is an HTTP method`);
      ops++;
      assert.ok(op.operationId && !ids.has(op.operationId), `${m} ${p}: a unique operationId`);
      ids.add(op.operationId);
      assert.ok(op.responses && Object.keys(op.responses).length > 0, `${m} ${p} has responses`);
      for (const [s, r] of Object.entries(op.responses)) {
        assert.match(s, /^([1-5][0-9X]{2}|default)$/, `${m} ${p}: status ${s}`);
        assert.ok(r.$ref || typeof r.description === 'string', `${m} ${p} ${s}: a description`);
      }
      const declared = (op.parameters || []).filter((x) => x.in === 'path').map((x) => x.name);
      assert.deepEqual(declared.sort(), [...names].sort(), `${m} ${p}: its path parameters are declared`);
      for (const x of op.parameters || []) {
        assert.ok(['path', 'query', 'header', 'cookie'].includes(x.in), `${m} ${p}: ${x.name} in ${x.in}`);
        assert.ok(x.schema, `${m} ${p}: ${x.name} has a schema`);
      }
    }
  }
  assert.ok(ops >= 90, `${ops} operations`);
  walkRefs(doc, doc);
});

e2e('openapi: served without a token, as committed; every documented operation is routed', async (t) => {
  const h = await startHookd(t);
  const res = await fetch(`${h.url}/api/v1/openapi.json`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  assert.equal(await res.text(), committed);
  const head = await fetch(`${h.url}/api/v1/openapi.json`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  const post = await fetch(`${h.url}/api/v1/openapi.json`, { method: 'POST' });
  assert.equal(post.status, 405);

  const { req } = api(h);
  const doc = JSON.parse(committed);
  for (const [p, item] of Object.entries(doc.paths)) {
    if (SPECIAL.has(p)) continue;
    const url = p.replace(/\{[^}]+\}/g, 'nope');
    for (const m of Object.keys(item)) {
      const body = ['post', 'put', 'patch'].includes(m) ? {} : undefined;
      const r = await req(m.toUpperCase(), url, body);
      assert.ok(!(r.status === 404 && /^no route/.test(r.json?.detail ?? '')), `${m} ${p} is routed: ${r.text}`);
      assert.notEqual(r.status, 405, `${m} ${p}: ${r.text}`);
      assert.ok(r.status < 500, `${m} ${p}: ${r.status} ${r.text}`);
    }
  }
  for (const p of ['/api/v1/health', '/api/v1/health/ping']) assert.equal((await fetch(h.url + p)).status, 204);
  assert.equal((await fetch(`${h.url}/api/v1/health/ready`)).status, 200);
  assert.equal((await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${h.token}` } })).status, 200);
  assert.equal((await fetch(`${h.url}/in/nope`, { method: 'POST', body: '{}' })).status, 404);
  assert.equal(await h.stop(), 0);
});
