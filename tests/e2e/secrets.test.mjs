// secrets.test.mjs: secrets encrypted at rest (docs/security.md). Endpoint secrets, custom header values and
// source secrets never reach the database files in the clear; after a restart deliveries are still signed (checked
// with standardwebhooks) and the API still returns the secret; a wrong key fails start-up with a one-line error
// naming the key id; rotation with --secret-key-previous, then `hookd rekey`, then the new key alone.
// On PostgreSQL (HOOKD_TEST_PG) the tables are read with psql instead of scanning the data dir's files.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sign as octokitSign } from '@octokit/webhooks-methods';
import { api, e2e, freePort, PG, pgSql, runHookd, startHookd, startReceiver, verifyDelivery } from './lib/harness.mjs';

const newKey = () => crypto.randomBytes(32).toString('base64');
const keyId = (b64) => crypto.createHash('sha256').update(Buffer.from(b64, 'base64')).digest('hex').slice(0, 8);

/** An app, an endpoint with a known secret and an Authorization header, a source with a known secret. */
async function populate(h, rcv) {
  const { req } = api(h);
  const marker = `marker-${crypto.randomBytes(12).toString('hex')}`;
  const raw = crypto.randomBytes(32);
  const secret = `whsec_${raw.toString('base64')}`;
  const srcSecret = `ghsrc-${crypto.randomBytes(12).toString('hex')}`;
  const destToken = `dest-${crypto.randomBytes(12).toString('hex')}`;
  assert.equal((await req('POST', '/app', { name: 'Acme', uid: 'acme' })).status, 201);
  const ep = await req('POST', '/app/acme/endpoint',
    { url: rcv.url, secret, headers: { Authorization: `Bearer ${marker}` } });
  assert.equal(ep.status, 201, ep.text);
  const src = await req('POST', '/source', { name: 'gh', uid: 'gh', scheme: 'github', secrets: [srcSecret],
    destinations: [{ url: `${rcv.url}/in`, headers: { 'X-Dest-Token': destToken } }] });
  assert.equal(src.status, 201, src.text);
  return { marker, raw, secret, srcSecret, destToken, epId: ep.json.id };
}

/** Send one message and check its delivery: signed with secret, carrying the Authorization header. */
async function sendAndVerify(h, rcv, s, n) {
  const { req } = api(h);
  const before = rcv.requests.filter((r) => r.url === '/hook').length;
  const r = await req('POST', '/app/acme/msg', { eventType: 'invoice.paid', payload: { n } });
  assert.equal(r.status, 202, r.text);
  const got = await rcv.waitFor((rs) => rs.filter((x) => x.url === '/hook').length > before, 15000, `message ${n}`);
  const rec = got.filter((x) => x.url === '/hook').at(-1);
  assert.deepEqual(verifyDelivery(s.secret, rec), { n });
  assert.equal(rec.headers.authorization, `Bearer ${s.marker}`);
}

/** Post a GitHub-signed request to the source: verified with its stored secret, forwarded with the header. */
async function inboundWorks(h, rcv, s, id) {
  const body = JSON.stringify({ zen: 'ok', id });
  const res = await fetch(`${h.url}/in/gh`, { method: 'POST', body, headers: { 'content-type': 'application/json',
    'x-hub-signature-256': await octokitSign(s.srcSecret, body), 'x-github-delivery': id, 'x-github-event': 'ping' } });
  assert.ok(res.status < 300, `inbound answered ${res.status}: ${await res.text()}`);
  const got = await rcv.waitFor((rs) => rs.some((x) => x.url === '/hook/in' && x.body.toString() === body), 15000,
    `forward of ${id}`);
  assert.equal(got.find((x) => x.body.toString() === body).headers['x-dest-token'], s.destToken);
}

/** What must never be stored in the clear. */
function needles(s) {
  return [s.secret, s.secret.slice(6), s.raw.toString('hex'), s.marker, s.srcSecret, s.destToken]
    .map((x) => Buffer.from(x)).concat([s.raw]);
}

async function assertNothingInClear(h, s) {
  if (PG) {
    const dump = await pgSql('SELECT e::text FROM endpoints e UNION ALL SELECT s::text FROM sources s' +
      ' UNION ALL SELECT a::text FROM attempts a', h.db);
    for (const n of needles(s)) assert.ok(!dump.includes(n.toString()), `the tables hold ${n.toString().slice(0, 20)}...`);
    const stored = await pgSql("SELECT secret FROM endpoints WHERE secret IS NOT NULL", h.db);
    for (const line of stored.trim().split('\n')) assert.match(line, /^enc:v1:[0-9a-f]{8}:/);
    return;
  }
  const files = readdirSync(h.dataDir);
  assert.ok(files.includes('hookd.db'), files.join(' '));
  for (const f of files) {
    const bytes = readFileSync(path.join(h.dataDir, f));
    for (const n of needles(s))
      assert.equal(bytes.indexOf(n), -1, `${f} holds a secret in the clear (${n.toString('hex').slice(0, 16)}...)`);
  }
}

e2e('secrets: encrypted at rest, and still signing after a restart', async (t) => {
  const rcv = await startReceiver(t);
  const h = await startHookd(t); // the key: generated into DIR/secret.key
  const s = await populate(h, rcv);
  await sendAndVerify(h, rcv, s, 1);
  await inboundWorks(h, rcv, s, 'd-1');
  assert.equal(await h.stop(), 0);
  assert.equal(readFileSync(path.join(h.dataDir, 'secret.key'), 'utf8').trim().length, 44);
  await assertNothingInClear(h, s);

  await h.restart();
  const { req } = api(h);
  const got = await req('GET', `/app/acme/endpoint/${s.epId}/secret`);
  assert.equal(got.status, 200);
  assert.equal(got.json.key, s.secret);
  await sendAndVerify(h, rcv, s, 2);
  await inboundWorks(h, rcv, s, 'd-2');
  // a rotation writes the new secret sealed too, and the old one (kept to sign beside it) as well
  const rot = await req('POST', `/app/acme/endpoint/${s.epId}/secret/rotate`, {});
  assert.equal(rot.status, 204, rot.text);
  assert.equal(await h.stop(), 0);
  await assertNothingInClear(h, s);
});

e2e('secrets: a wrong key fails start-up; rotation with a previous key, then hookd rekey', async (t) => {
  const A = newKey(), B = newKey();
  const rcv = await startReceiver(t);
  const h = await startHookd(t, { env: { HOOKD_SECRET_KEY: A } });
  const s = await populate(h, rcv);
  assert.equal(await h.stop(), 0);
  const token = h.token;

  // B alone cannot read what A sealed: a clear one-line error naming A's key id, a non-zero exit
  const port = await freePort();
  const serve = ['serve', '--listen', `127.0.0.1:${port}`, '--data', h.dataDir];
  let r = await runHookd(serve, { env: { HOOKD_SECRET_KEY: B, HOOKD_TOKEN: token } });
  assert.notEqual(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`key id ${keyId(A)}, which this node does not have`));
  assert.equal(r.stderr.trim().split('\n').filter((l) => /key id/.test(l)).length, 1, r.stderr);
  r = await runHookd(serve, { env: { HOOKD_SECRET_KEY: 'not-a-key', HOOKD_TOKEN: token } });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /base64 of 32 bytes/);
  assert.ok(!r.stderr.includes('not-a-key'), 'the key is not echoed');

  // B with A as the previous key reads everything, and signs as before
  const h2 = await startHookd(t, { dataDir: h.dataDir, token, env: { HOOKD_SECRET_KEY: B, HOOKD_SECRET_KEY_PREVIOUS: A } });
  await sendAndVerify(h2, rcv, s, 1);
  assert.equal(await h2.stop(), 0);

  // rekey moves every value to B: then B alone starts
  const env = { HOOKD_SECRET_KEY: B, HOOKD_SECRET_KEY_PREVIOUS: A };
  r = await runHookd(['rekey', '--data', h.dataDir], { env });
  assert.equal(r.code, 0, r.stderr);
  const m = /(\d+) secrets re-encrypted with key id ([0-9a-f]{8})/.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.ok(Number(m[1]) >= 4, r.stdout); // the endpoint's secret and header, the source's secret and header...
  assert.equal(m[2], keyId(B));
  r = await runHookd(['rekey', '--data', h.dataDir], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^hookd rekey: 0 secrets/);
  r = await runHookd(['rekey', '--data', h.dataDir], { env: { HOOKD_SECRET_KEY: A } });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, new RegExp(`key id ${keyId(B)}`));

  const h3 = await startHookd(t, { dataDir: h.dataDir, token, env: { HOOKD_SECRET_KEY: B } });
  await sendAndVerify(h3, rcv, s, 2);
  await inboundWorks(h3, rcv, s, 'd-3');
  assert.equal((await api(h3).req('GET', `/app/acme/endpoint/${s.epId}/secret`)).json.key, s.secret);
  assert.equal(await h3.stop(), 0);
  await assertNothingInClear(h3, s);
});
