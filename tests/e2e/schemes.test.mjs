// schemes.test.mjs: per-endpoint signature schemes and secret rotation, verified by the real libraries.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { verify as octokitVerify } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { api, e2e, startHookd, startReceiver } from './lib/harness.mjs';

const stripe = new Stripe('sk_test_hookd');

async function endpointWith(t, h, fields) {
  const rcv = await startReceiver(t);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'schemes' })).json;
  const created = await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url, ...fields });
  assert.equal(created.status, 201, created.text);
  const secret = (await req('GET', `/app/${app.id}/endpoint/${created.json.id}/secret`)).json;
  const send = async (payload) => {
    const m = await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload });
    assert.equal(m.status, 202);
    return m.json;
  };
  return { rcv, req, app, ep: created.json, secret, send };
}

e2e('schemes: stripe, stripe-like with another header, github and ed25519 deliveries verify', async (t) => {
  const h = await startHookd(t);
  // Stripe
  const s = await endpointWith(t, h, { signatureScheme: 'stripe', secret: 'whsec_stripe_test_secret_123' });
  assert.equal(s.ep.signatureScheme, 'stripe');
  await s.send({ id: 'evt_1', object: 'event' });
  await s.rcv.waitForCount(1, 5000);
  let rec = s.rcv.requests[0];
  const event = stripe.webhooks.constructEvent(rec.body, rec.headers['stripe-signature'], 'whsec_stripe_test_secret_123');
  assert.equal(event.id, 'evt_1');
  assert.ok(rec.headers['webhook-id'].startsWith('msg_'), 'the message id rides along for deduplication');
  assert.throws(() => stripe.webhooks.constructEvent(rec.body, rec.headers['stripe-signature'], 'whsec_wrong'));

  // Stripe-like under another header name
  const fc = await endpointWith(t, h, { signatureScheme: 'stripe', signatureOptions: { header: 'X-FC-Signature' },
    secret: 'fc-secret-for-hookd' });
  await fc.send({ k: 'v' });
  await fc.rcv.waitForCount(1, 5000);
  rec = fc.rcv.requests[0];
  assert.equal(rec.headers['stripe-signature'], undefined);
  assert.ok(stripe.webhooks.signature.verifyHeader(rec.body.toString(), rec.headers['x-fc-signature'], 'fc-secret-for-hookd'));

  // GitHub: a generated secret, verified by @octokit/webhooks-methods
  const gh = await endpointWith(t, h, { signatureScheme: 'github' });
  assert.ok(gh.secret.key.length >= 32);
  await gh.send({ action: 'opened', emoji: '🚀' });
  await gh.rcv.waitForCount(1, 5000);
  rec = gh.rcv.requests[0];
  assert.ok(await octokitVerify(gh.secret.key, rec.body.toString('utf8'), rec.headers['x-hub-signature-256']));

  // Ed25519 (Standard Webhooks v1a): the public key from the secret call verifies with node crypto
  const ed = await endpointWith(t, h, { signatureScheme: 'ed25519' });
  assert.match(ed.secret.key, /^whsk_/);
  assert.match(ed.secret.publicKey, /^whpk_/);
  await ed.send({ signed: 'with ed25519' });
  await ed.rcv.waitForCount(1, 5000);
  rec = ed.rcv.requests[0];
  const pub = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519',
    x: Buffer.from(ed.secret.publicKey.slice(5), 'base64').toString('base64url') }, format: 'jwk' });
  const [ver, sig] = rec.headers['webhook-signature'].split(',');
  assert.equal(ver, 'v1a');
  const signed = Buffer.concat([Buffer.from(`${rec.headers['webhook-id']}.${rec.headers['webhook-timestamp']}.`), rec.body]);
  assert.ok(crypto.verify(null, signed, pub, Buffer.from(sig, 'base64')), 'ed25519 signature verifies');
  assert.equal(await h.stop(), 0);
});

e2e('schemes: rotation signs with old and new during the grace period, then only with the new', async (t) => {
  const h = await startHookd(t);
  const e = await endpointWith(t, h, {});
  const oldKey = e.secret.key;
  const rot = await e.req('POST', `/app/${e.app.id}/endpoint/${e.ep.id}/secret/rotate`, { gracePeriod: 2 });
  assert.equal(rot.status, 204, rot.text);
  const newKey = (await e.req('GET', `/app/${e.app.id}/endpoint/${e.ep.id}/secret`)).json.key;
  assert.notEqual(newKey, oldKey);
  const rotatedAt = Date.now();
  await e.send({ during: true });
  await e.rcv.waitForCount(1, 5000);
  let rec = e.rcv.requests[0];
  assert.equal(rec.headers['webhook-signature'].split(' ').length, 2, 'two signatures during the grace period');
  new Webhook(oldKey).verify(rec.body, rec.headers);
  new Webhook(newKey).verify(rec.body, rec.headers);

  await new Promise((r) => setTimeout(r, Math.max(0, rotatedAt + 2300 - Date.now())));
  await e.send({ after: true });
  await e.rcv.waitForCount(2, 5000);
  rec = e.rcv.requests[1];
  assert.equal(rec.headers['webhook-signature'].split(' ').length, 1);
  new Webhook(newKey).verify(rec.body, rec.headers);
  assert.throws(() => new Webhook(oldKey).verify(rec.body, rec.headers), 'the old secret no longer verifies');

  // rotate to a given key; Stripe-style endpoints carry one v1= per valid secret
  const s = await endpointWith(t, h, { signatureScheme: 'stripe', secret: 'old-stripe-secret' });
  await s.req('POST', `/app/${s.app.id}/endpoint/${s.ep.id}/secret/rotate`, { key: 'new-stripe-secret' });
  await s.send({ x: 1 });
  await s.rcv.waitForCount(1, 5000);
  rec = s.rcv.requests[0];
  for (const k of ['old-stripe-secret', 'new-stripe-secret'])
    stripe.webhooks.constructEvent(rec.body, rec.headers['stripe-signature'], k);
  assert.equal(await h.stop(), 0);
});

e2e('schemes: bad schemes, options and secrets are 422', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'bad' })).json;
  const post = (body) => req('POST', `/app/${app.id}/endpoint`, { url: 'http://127.0.0.1:9/x', ...body });
  for (const body of [
    { signatureScheme: 'rot13' },
    { signatureScheme: 'stripe', secret: '' },
    { signatureScheme: 'ed25519', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
    { signatureOptions: { colour: 'blue' } },
    { signatureScheme: 'github', signatureOptions: { hash: 'md5' } },
  ]) {
    const r = await post(body);
    assert.equal(r.status, 422, `${JSON.stringify(body)} -> ${r.status} ${r.text}`);
  }
  const ep = (await post({})).json;
  const bad = await req('POST', `/app/${app.id}/endpoint/${ep.id}/secret/rotate`, { gracePeriod: 8 * 86400 });
  assert.equal(bad.status, 422);
  assert.equal(await h.stop(), 0);
});
