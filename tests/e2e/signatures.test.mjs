// Signature interop: for each scheme, the provider's own library (or node crypto where the provider ships
// none we can reasonably install) signs and `hookd verify` accepts it and rejects a tampered body; `hookd sign`
// signs and the library accepts it. Also the CLI's contract: exit codes, one-line errors, the body cap,
// raw bytes, `hookd secret new`.
//
// Libraries: standardwebhooks and svix (Standard Webhooks v1), stripe (Stripe and Stripe-like headers),
// @octokit/webhooks-methods (GitHub), @shopify/shopify-api (Shopify), @hookflo/tern (split headers), node
// crypto (Ed25519 v1a, Slack, generic HMAC, GitHub's legacy sha1, Twilio). @slack/bolt is left out: it pulls in an
// HTTP framework and an HTTP client to check one HMAC that node crypto checks in three lines.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import Stripe from 'stripe';
import { sign as octokitSign, verify as octokitVerify } from '@octokit/webhooks-methods';
import { WebhookVerificationService } from '@hookflo/tern';
import '@shopify/shopify-api/adapters/node';
import { ApiVersion, shopifyApi } from '@shopify/shopify-api';
import { getHmac } from '@shopify/shopify-api/test-helpers';
import { api, e2e, freePort, HOOKD_BIN, startHookd } from './lib/harness.mjs';

const BODY = '{"type":"invoice.paid","data":{"who":"J\u00fcrgen \u{1F389}","amount":4200}}';
const now = () => Math.floor(Date.now() / 1000);
const stripe = new Stripe('sk_test_hookd_e2e');

/** Run hookd with args and a body on stdin: {code, stdout, stderr}. */
function hookd(args, input = '') {
  return new Promise((resolve, reject) => {
    const proc = spawn(HOOKD_BIN, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    const timer = setTimeout(() => proc.kill('SIGKILL'), 30000);
    proc.stdout.on('data', (c) => { stdout += c; });
    proc.stderr.on('data', (c) => { stderr += c; });
    proc.stdin.on('error', () => { /* hookd may exit before reading all of a too-large body */ });
    proc.once('error', reject);
    proc.once('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    proc.stdin.end(input);
  });
}

/** `hookd sign` output -> {lowercased name: value}, in order. */
async function hookdSign(args, body) {
  const r = await hookd(['sign', ...args], body);
  assert.equal(r.code, 0, `hookd sign ${args.join(' ')}: ${r.stderr}`);
  const headers = {};
  for (const line of r.stdout.trimEnd().split('\n')) {
    const m = /^([^:]+): (.*)$/.exec(line);
    assert.ok(m, `a "Name: value" line: '${line}'`);
    headers[m[1].toLowerCase()] = m[2];
  }
  return headers;
}

/** `hookd verify` with headers {name: value}: {code, stdout, stderr}. */
function hookdVerify(args, headers, body) {
  const h = Object.entries(headers).flatMap(([k, v]) => ['--header', `${k}: ${v}`]);
  return hookd(['verify', ...args, ...h], body);
}

/** hookd accepts (exit 0, "ok") the body and rejects (exit 1, "signature mismatch") a tampered one. */
async function assertHookdAccepts(args, headers, body, tampered = body + ' ') {
  const ok = await hookdVerify(args, headers, body);
  assert.equal(ok.code, 0, `hookd verify ${args.join(' ')} should accept:\n${ok.stderr}`);
  assert.equal(ok.stdout.trim(), 'ok');
  const bad = await hookdVerify(args, headers, tampered);
  assert.equal(bad.code, 1, `hookd verify should reject a tampered body: ${bad.stdout}${bad.stderr}`);
  assert.match(bad.stderr, /signature mismatch/);
}

function hmac(hash, key, data, enc = 'hex') {
  return crypto.createHmac(hash, key).update(data).digest(enc);
}

async function newSecret(scheme) {
  const r = await hookd(['secret', 'new', '--scheme', scheme]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split('\n');
}

// ---- Standard Webhooks v1 ----------------------------------------------------------------------------------

e2e('signatures: standard v1, the documented vector both ways', async () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', body = '{"test": 2432232314}';
  const h = await hookdSign(['--secret', secret, '--id', 'msg_p5jXN8AQM9LWM0D4loKWxJek', '--timestamp', '1614265330'], body);
  assert.equal(h['webhook-signature'], 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  const r = await hookdVerify(['--secret', secret, '--now', '1614265330'], h, body);
  assert.equal(r.code, 0, r.stderr);
  const late = await hookdVerify(['--secret', secret, '--now', '1614265631'], h, body);
  assert.equal(late.code, 1);
  assert.match(late.stderr, /too old/);
  const early = await hookdVerify(['--secret', secret, '--now', '1614265029'], h, body);
  assert.equal(early.code, 1);
  assert.match(early.stderr, /future/);
});

e2e('signatures: standard v1, standardwebhooks and svix sign, hookd verifies', async () => {
  const [secret] = await newSecret('standard');
  const id = 'msg_e2e_standard', ts = new Date();
  const sig = new Webhook(secret).sign(id, ts, BODY);
  const headers = { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(ts / 1000)), 'webhook-signature': sig };
  await assertHookdAccepts(['--secret', secret], headers, BODY);
  const svixSig = new SvixWebhook(secret).sign(id, ts, BODY);
  await assertHookdAccepts(['--scheme', 'svix', '--secret', secret],
    { 'svix-id': id, 'svix-timestamp': headers['webhook-timestamp'], 'svix-signature': svixSig }, BODY);
});

e2e('signatures: standard v1, hookd signs, standardwebhooks and svix verify', async () => {
  const [secret] = await newSecret('standard');
  const h = await hookdSign(['--secret', secret], BODY);
  assert.match(h['webhook-id'], /^msg_/);
  assert.deepEqual(new Webhook(secret).verify(BODY, h), JSON.parse(BODY));
  assert.deepEqual(new SvixWebhook(secret).verify(BODY, h), JSON.parse(BODY));
  assert.throws(() => new Webhook(secret).verify(BODY + ' ', h));
  const s = await hookdSign(['--scheme', 'svix', '--secret', secret, '--id', 'msg_svix'], BODY);
  assert.deepEqual(Object.keys(s), ['svix-id', 'svix-timestamp', 'svix-signature']);
  assert.deepEqual(new SvixWebhook(secret).verify(BODY, s), JSON.parse(BODY));
});

e2e('signatures: standard v1, rotation: two secrets sign, either one verifies', async () => {
  const [oldSecret] = await newSecret('standard');
  const [newSecretText] = await newSecret('standard');
  const h = await hookdSign(['--secret', newSecretText, '--secret', oldSecret], BODY);
  assert.equal(h['webhook-signature'].split(' ').length, 2, 'one signature per secret');
  new Webhook(oldSecret).verify(BODY, h);
  new Webhook(newSecretText).verify(BODY, h);
  for (const signer of [oldSecret, newSecretText]) {
    const id = `msg_rot_${signer.length}`, ts = new Date();
    const headers = { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(ts / 1000)),
      'webhook-signature': new Webhook(signer).sign(id, ts, BODY) };
    await assertHookdAccepts(['--secret', newSecretText, '--secret', oldSecret], headers, BODY);
  }
});

// ---- Standard Webhooks v1a (Ed25519) ---------------------------------------------------------------------

/** A node KeyObject from a whsk_ secret key (its first 32 bytes are the seed). */
function ed25519Private(whsk) {
  const seed = Buffer.from(whsk.slice(5), 'base64').subarray(0, 32);
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  return crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

function ed25519Public(whpk) {
  const der = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(whpk.slice(5), 'base64')]);
  return crypto.createPublicKey({ key: der, format: 'der', type: 'spki' });
}

e2e('signatures: ed25519 v1a, node crypto signs, hookd verifies with the public key alone', async () => {
  const [sk, pk] = await newSecret('ed25519');
  assert.match(sk, /^whsk_[A-Za-z0-9+/]{86}==$/);
  assert.match(pk, /^whpk_[A-Za-z0-9+/]{43}=$/);
  // The public key hookd printed is the one node derives from the seed.
  const derived = crypto.createPublicKey(ed25519Private(sk)).export({ format: 'der', type: 'spki' }).subarray(12);
  assert.equal(`whpk_${derived.toString('base64')}`, pk);
  const id = 'msg_e2e_ed25519', ts = String(now());
  const sig = crypto.sign(null, Buffer.from(`${id}.${ts}.${BODY}`), ed25519Private(sk)).toString('base64');
  const headers = { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': `v1a,${sig}` };
  await assertHookdAccepts(['--scheme', 'ed25519', '--secret', pk], headers, BODY);
});

e2e('signatures: ed25519 v1a, hookd signs, node crypto verifies', async () => {
  const [sk, pk] = await newSecret('ed25519');
  const h = await hookdSign(['--scheme', 'ed25519', '--secret', sk], BODY);
  const [version, sig] = h['webhook-signature'].split(',');
  assert.equal(version, 'v1a');
  const msg = Buffer.from(`${h['webhook-id']}.${h['webhook-timestamp']}.${BODY}`);
  assert.ok(crypto.verify(null, msg, ed25519Public(pk), Buffer.from(sig, 'base64')), 'node crypto accepts it');
  assert.ok(!crypto.verify(null, Buffer.concat([msg, Buffer.from(' ')]), ed25519Public(pk), Buffer.from(sig, 'base64')));
  // A public key cannot sign: a usage error, not a crash.
  const r = await hookd(['sign', '--scheme', 'ed25519', '--secret', pk], BODY);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /whsk_/);
});

// ---- Stripe and Stripe-like --------------------------------------------------------------------------------

e2e('signatures: stripe, generateTestHeaderString signs, hookd verifies', async () => {
  const secret = 'whsec_' + crypto.randomBytes(24).toString('base64');
  const header = stripe.webhooks.generateTestHeaderString({ payload: BODY, secret, timestamp: now() });
  await assertHookdAccepts(['--scheme', 'stripe', '--secret', secret], { 'Stripe-Signature': header }, BODY);
  const old = stripe.webhooks.generateTestHeaderString({ payload: BODY, secret, timestamp: now() - 400 });
  const r = await hookdVerify(['--scheme', 'stripe', '--secret', secret], { 'Stripe-Signature': old }, BODY);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /too old/);
  const wider = await hookdVerify(['--scheme', 'stripe', '--secret', secret, '--max-age', '600'], { 'Stripe-Signature': old }, BODY);
  assert.equal(wider.code, 0, wider.stderr);
});

e2e('signatures: stripe, hookd signs, constructEvent accepts', async () => {
  const secret = 'whsec_' + crypto.randomBytes(24).toString('base64');
  const h = await hookdSign(['--scheme', 'stripe', '--secret', secret], BODY);
  assert.match(h['stripe-signature'], /^t=\d+,v1=[0-9a-f]{64}$/);
  const event = stripe.webhooks.constructEvent(Buffer.from(BODY), h['stripe-signature'], secret);
  assert.equal(event.type, 'invoice.paid');
  assert.throws(() => stripe.webhooks.constructEvent(BODY + ' ', h['stripe-signature'], secret), /signature/i);
  // Rotation: one v1= per secret; constructEvent with either secret.
  const other = 'whsec_' + crypto.randomBytes(24).toString('base64');
  const both = await hookdSign(['--scheme', 'stripe', '--secret', secret, '--secret', other], BODY);
  stripe.webhooks.constructEvent(BODY, both['stripe-signature'], secret);
  stripe.webhooks.constructEvent(BODY, both['stripe-signature'], other);
});

e2e('signatures: stripe-like X-FC-Signature both ways', async () => {
  const secret = 'fc_' + crypto.randomBytes(16).toString('hex');
  const args = ['--scheme', 'stripe', '--header-name', 'X-FC-Signature', '--secret', secret];
  const header = stripe.webhooks.generateTestHeaderString({ payload: BODY, secret });
  await assertHookdAccepts(args, { 'X-FC-Signature': header }, BODY);
  const missing = await hookdVerify(args, { 'Stripe-Signature': header }, BODY);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /missing header/);
  const h = await hookdSign(args, BODY);
  assert.deepEqual(Object.keys(h), ['x-fc-signature']);
  assert.equal(stripe.webhooks.signature.verifyHeader(BODY, h['x-fc-signature'], secret), true);
});

// ---- split headers ---------------------------------------------------------------------------------------

const ternConfig = (secret) => ({
  platform: 'custom', secret,
  signatureConfig: { algorithm: 'hmac-sha256', headerName: 'x-webhook-signature', headerFormat: 'prefixed',
    prefix: 'v1=', timestampHeader: 'x-webhook-timestamp', timestampFormat: 'unix', payloadFormat: 'timestamped' },
});

e2e('signatures: split headers, node crypto signs, hookd verifies', async () => {
  const [secret] = await newSecret('split');
  const ts = String(now());
  const headers = { 'X-Webhook-Timestamp': ts, 'X-Webhook-Signature': 'v1=' + hmac('sha256', secret, `${ts}.${BODY}`) };
  await assertHookdAccepts(['--scheme', 'split', '--secret', secret], headers, BODY);
});

e2e('signatures: split headers, hookd signs, @hookflo/tern verifies', async () => {
  const [secret] = await newSecret('split');
  const h = await hookdSign(['--scheme', 'split', '--secret', secret], BODY);
  const req = (body) => new Request('http://127.0.0.1/hook', { method: 'POST', body, headers: h });
  const ok = await WebhookVerificationService.verify(req(BODY), ternConfig(secret));
  assert.equal(ok.isValid, true, ok.error);
  const bad = await WebhookVerificationService.verify(req(BODY + ' '), ternConfig(secret));
  assert.equal(bad.isValid, false);
});

// ---- GitHub ------------------------------------------------------------------------------------------------

e2e('signatures: github, @octokit/webhooks-methods signs, hookd verifies', async () => {
  const secret = "It's a Secret to Everybody";
  assert.equal(await octokitSign(secret, 'Hello, World!'),
    'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17');
  await assertHookdAccepts(['--scheme', 'github', '--secret', secret],
    { 'X-Hub-Signature-256': await octokitSign(secret, BODY) }, BODY);
  // The legacy sha1 header, when it comes alone.
  await assertHookdAccepts(['--scheme', 'github', '--secret', secret],
    { 'X-Hub-Signature': 'sha1=' + hmac('sha1', secret, BODY) }, BODY);
});

e2e('signatures: github, hookd signs, @octokit/webhooks-methods verifies', async () => {
  const [secret] = await newSecret('github');
  const h = await hookdSign(['--scheme', 'github', '--secret', secret], BODY);
  assert.equal(await octokitVerify(secret, BODY, h['x-hub-signature-256']), true);
  assert.equal(await octokitVerify(secret, BODY + ' ', h['x-hub-signature-256']), false);
  assert.equal(await octokitVerify(secret + 'x', BODY, h['x-hub-signature-256']), false);
});

// ---- Shopify -----------------------------------------------------------------------------------------------

e2e('signatures: shopify, getHmac signs, hookd verifies', async () => {
  const [secret] = await newSecret('shopify');
  await assertHookdAccepts(['--scheme', 'shopify', '--secret', secret],
    { 'X-Shopify-Hmac-Sha256': getHmac(BODY, secret) }, BODY);
});

/** POST body with headers to a node server whose handler runs shopify.webhooks.validate on the real request. */
async function shopifyValidate(secret, headers, body) {
  const shopify = shopifyApi({ apiKey: 'hookd-e2e', apiSecretKey: secret, scopes: [], hostName: '127.0.0.1',
    apiVersion: ApiVersion.October24, isEmbeddedApp: false, logger: { level: 0 } });
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const result = await shopify.webhooks.validate({ rawBody, rawRequest: req, rawResponse: res });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const res = await fetch(`http://127.0.0.1:${server.address().port}/webhooks`, { method: 'POST', body, headers: {
      ...headers, 'X-Shopify-Topic': 'orders/create', 'X-Shopify-Shop-Domain': 'hookd-e2e.myshopify.com',
      'X-Shopify-API-Version': '2024-10', 'X-Shopify-Webhook-Id': 'wh_e2e', 'content-type': 'application/json' } });
    return await res.json();
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

e2e('signatures: shopify, hookd signs, shopify.webhooks.validate accepts', async () => {
  const [secret] = await newSecret('shopify');
  const h = await hookdSign(['--scheme', 'shopify', '--secret', secret], BODY);
  const ok = await shopifyValidate(secret, h, BODY);
  assert.equal(ok.valid, true, JSON.stringify(ok));
  const bad = await shopifyValidate(secret, h, BODY + ' ');
  assert.equal(bad.valid, false);
});

// ---- Slack and the generic HMAC -------------------------------------------------------------------------

e2e('signatures: slack both ways (node crypto)', async () => {
  const [secret] = await newSecret('slack');
  const ts = String(now()), form = 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&text=%F0%9F%8E%89';
  const headers = { 'X-Slack-Request-Timestamp': ts, 'X-Slack-Signature': 'v0=' + hmac('sha256', secret, `v0:${ts}:${form}`) };
  await assertHookdAccepts(['--scheme', 'slack', '--secret', secret], headers, form);
  const h = await hookdSign(['--scheme', 'slack', '--secret', secret], form);
  const want = 'v0=' + hmac('sha256', secret, `v0:${h['x-slack-request-timestamp']}:${form}`);
  assert.ok(crypto.timingSafeEqual(Buffer.from(h['x-slack-signature']), Buffer.from(want)));
  const old = String(now() - 301);
  const stale = await hookdVerify(['--scheme', 'slack', '--secret', secret], {
    'X-Slack-Request-Timestamp': old, 'X-Slack-Signature': 'v0=' + hmac('sha256', secret, `v0:${old}:${form}`) }, form);
  assert.equal(stale.code, 1);
  assert.match(stale.stderr, /too old/);
});

e2e('signatures: generic hmac sha512 base64 both ways, over bytes that are not UTF-8', async () => {
  const secret = 'hmac-' + crypto.randomBytes(8).toString('hex');
  const body = Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x0a, 0xf0, 0x9f, 0x8e, 0x89, 0x80]);
  const args = ['--scheme', 'hmac', '--hash', 'sha512', '--encoding', 'base64', '--prefix', 'sha512=',
    '--header-name', 'X-Razor-Signature', '--secret', secret];
  await assertHookdAccepts(args, { 'X-Razor-Signature': 'sha512=' + hmac('sha512', secret, body, 'base64') }, body,
    Buffer.concat([body, Buffer.from([0])]));
  const h = await hookdSign(args, body);
  assert.equal(h['x-razor-signature'], 'sha512=' + hmac('sha512', secret, body, 'base64'));
});

e2e('signatures: standard v1 over raw bytes: a NUL, invalid UTF-8, CRLF', async () => {
  const [secret] = await newSecret('standard');
  const body = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0x00]);
  const h = await hookdSign(['--secret', secret, '--id', 'msg_raw'], body);
  const key = Buffer.from(secret.slice(6), 'base64');
  const want = hmac('sha256', key, Buffer.concat([Buffer.from(`msg_raw.${h['webhook-timestamp']}.`), body]), 'base64');
  assert.equal(h['webhook-signature'], `v1,${want}`);
  await assertHookdAccepts(['--secret', secret], h, body, body.subarray(0, body.length - 1));
});

// ---- Twilio: the URL is signed -------------------------------------------------------------------------------

/** Twilio's algorithm (as twilio-python's RequestValidator.compute_signature): the URL, then the form's names
 * sorted, each with its distinct values sorted, no delimiters; HMAC-SHA1 with the auth token, base64. */
function twilioSignature(token, url, form = '') {
  const values = new Map();
  for (const [k, v] of new URLSearchParams(form)) values.set(k, (values.get(k) ?? new Set()).add(v));
  let data = url;
  for (const k of [...values.keys()].sort()) for (const v of [...values.get(k)].sort()) data += k + v;
  return hmac('sha1', token, Buffer.from(data, 'utf8'), 'base64');
}

const FORM = 'application/x-www-form-urlencoded';

e2e('signatures: twilio, the documented example: node crypto signs, hookd verifies and signs alike', async () => {
  const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
  const body = new URLSearchParams({ CallSid: 'CA1234567890ABCDE', Caller: '+12349013030', Digits: '1234',
    From: '+12349013030', To: '+18005551212' }).toString();
  const sig = twilioSignature('12345', url, body);
  assert.equal(sig, '0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
  const args = ['--scheme', 'twilio', '--secret', '12345', '--url', url];
  const headers = { 'X-Twilio-Signature': sig, 'Content-Type': `${FORM}; charset=utf-8` };
  await assertHookdAccepts(args, headers, body, body.replace('Digits=1234', 'Digits=1235'));
  const h = await hookdSign([...args, '--content-type', FORM], body);
  assert.deepEqual(h, { 'x-twilio-signature': sig });
  // The same URL with the default port; another query; the body under another type.
  const port = await hookdVerify(['--scheme', 'twilio', '--secret', '12345', '--url',
    'https://mycompany.com:443/myapp.php?foo=1&bar=2'], headers, body);
  assert.equal(port.code, 0, port.stderr);
  const query = await hookdVerify(['--scheme', 'twilio', '--secret', '12345', '--url', url + '&x=1'], headers, body);
  assert.equal(query.code, 1);
  assert.match(query.stderr, /signature mismatch/);
  const json = await hookdVerify(args, { ...headers, 'Content-Type': 'application/json' }, body);
  assert.equal(json.code, 1);
  assert.match(json.stderr, /missing/);
});

e2e('signatures: twilio, repeated names and UTF-8 values, both ways', async () => {
  const [token] = await newSecret('twilio');
  const url = 'https://hooks.example.com/twilio/sms?tenant=acme';
  const body = 'Body=J%C3%BCrgen+%F0%9F%8E%89&MediaUrl=b&MediaUrl=a&MediaUrl=b&From=%2B15551234567';
  const sig = twilioSignature(token, url, body);
  const args = ['--scheme', 'twilio', '--secret', token, '--url', url];
  await assertHookdAccepts(args, { 'X-Twilio-Signature': sig, 'Content-Type': FORM }, body,
    body.replace('MediaUrl=a', 'MediaUrl=c'));
  const h = await hookdSign([...args, '--content-type', FORM], body);
  assert.equal(h['x-twilio-signature'], sig);
});

e2e('signatures: twilio, a JSON body is bound by the bodySHA256 in the URL', async () => {
  const [token] = await newSecret('twilio');
  const url = 'https://hooks.example.com/twilio/events?bodySHA256=' +
    crypto.createHash('sha256').update(BODY).digest('hex');
  const sig = twilioSignature(token, url);
  const args = ['--scheme', 'twilio', '--secret', token, '--url', url];
  await assertHookdAccepts(args, { 'X-Twilio-Signature': sig, 'Content-Type': 'application/json' }, BODY);
  const h = await hookdSign(args, BODY);
  assert.equal(h['x-twilio-signature'], sig);
  const forged = await hookdVerify(['--scheme', 'twilio', '--secret', 'other', '--url', url],
    { 'X-Twilio-Signature': sig }, BODY);
  assert.equal(forged.code, 1);
  const none = await hookdVerify(args, { 'Content-Type': 'application/json' }, BODY);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /missing header/);
});

// ---- the CLI's contract ------------------------------------------------------------------------------------

e2e('signatures: cli usage errors exit 2 with one line', async () => {
  const cases = [
    [['verify', '--header', 'webhook-id: x'], /--secret is required/],
    [['sign', '--secret', 'whsec_!!!!'], /secret 1 is not a valid standard secret/],
    [['sign', '--scheme', 'plivo', '--secret', 'x'], /unknown scheme 'plivo'/],
    [['verify', '--scheme', 'twilio', '--secret', 'x', '--header', 'X-Twilio-Signature: x'], /--url is required/],
    [['sign', '--scheme', 'twilio', '--secret', 'x', '--url', 'https://e.com/h'], /bodySHA256/],
    [['verify', '--scheme', 'twilio', '--secret', 'x', '--url', 'https://e.com/', '--content-type', 'a/b'], /unknown option '--content-type'/],
    [['sign', '--scheme', 'github', '--prefix', 'sha1=', '--secret', 'x'], /does not apply to scheme github/],
    [['sign', '--scheme', 'split', '--header-name', 'X-T', '--timestamp-header', 'x-t', '--secret', 'x'], /repeats a header name/],
    [['sign', '--secret', 'x', '--bogus', '1'], /unknown option '--bogus'/],
    [['verify', '--scheme', 'github', '--secret', 'x', '--tolerance', '5'], /no timestamp/],
    [['verify', '--secret', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', '--header', 'no colon'], /Name: value/],
    [['sign', '--secret', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', '--timestamp', '-5'], /unix seconds/],
    [['secret', 'old'], /secret new/],
    [['sign', '--secret'], /needs a value/],
  ];
  for (const [args, re] of cases) {
    const r = await hookd(args, BODY);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    const lines = r.stderr.trim().split('\n').filter((l) => l.trim() !== '');
    assert.equal(lines.length, 1, `${args.join(' ')}: one line on stderr:\n${r.stderr}`);
    assert.match(lines[0], re);
  }
});

e2e('signatures: verify failures say why on one line and exit 1', async () => {
  const [secret] = await newSecret('standard');
  const h = await hookdSign(['--secret', secret], BODY);
  const cases = [
    [{ 'webhook-id': h['webhook-id'], 'webhook-timestamp': h['webhook-timestamp'] }, /missing header/],
    [{ ...h, 'webhook-timestamp': '12x' }, /malformed header/],
    [{ ...h, 'webhook-signature': 'v1,dawfeoifkpqwoekfpqoekf' }, /signature mismatch/],
    [{ ...h, 'webhook-timestamp': String(now() + 3600) }, /future/],
  ];
  for (const [headers, re] of cases) {
    const r = await hookdVerify(['--secret', secret], headers, BODY);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').filter((l) => l.trim() !== '').length, 1, r.stderr);
    assert.match(r.stderr, re);
  }
});

e2e('signatures: bodies are capped at 16 MiB', async () => {
  const [secret] = await newSecret('github');
  const max = Buffer.alloc(16 * 1024 * 1024, 0x61);
  const h = await hookdSign(['--scheme', 'github', '--secret', secret], max);
  assert.equal(h['x-hub-signature-256'], 'sha256=' + hmac('sha256', secret, max));
  const over = await hookd(['sign', '--scheme', 'github', '--secret', secret], Buffer.concat([max, Buffer.from('b')]));
  assert.equal(over.code, 2);
  assert.match(over.stderr, /larger than 16777216 bytes/);
  assert.equal(over.stdout, '');
});

e2e('signatures: hookd secret new makes a working secret for every scheme', async () => {
  for (const scheme of ['standard', 'svix', 'ed25519', 'stripe', 'split', 'github', 'shopify', 'slack', 'hmac']) {
    const lines = await newSecret(scheme);
    assert.equal(lines.length, scheme === 'ed25519' ? 2 : 1, `${scheme}: ${lines}`);
    const h = await hookdSign(['--scheme', scheme, '--secret', lines[0]], BODY);
    const r = await hookdVerify(['--scheme', scheme, '--secret', lines.at(-1)], h, BODY);
    assert.equal(r.code, 0, `${scheme}: ${r.stderr}`);
  }
  const a = await newSecret('standard'), b = await newSecret('standard');
  assert.notEqual(a[0], b[0]);
});

// ---- examples/receiver.c: hookd serve delivers, the C example verifies with libhookd -------------------------

/** Start examples/receiver from the build dir of HOOKD_BIN with HOOKD_SECRET; resolves when it listens. */
async function startExampleReceiver(t, secrets) {
  const bin = path.join(path.dirname(HOOKD_BIN), 'examples', 'receiver');
  assert.ok(existsSync(bin), `${bin} is built by make all`);
  const port = await freePort();
  const proc = spawn(bin, [String(port)], { env: { ...process.env, HOOKD_SECRET: secrets }, stdio: ['ignore', 'pipe', 'pipe'] });
  const rcv = { url: `http://127.0.0.1:${port}/hook`, out: '', err: '' };
  proc.stderr.on('data', (c) => { rcv.err += c; });
  const closed = new Promise((r) => proc.once('close', r));
  t.after(async () => { proc.kill('SIGTERM'); await closed; });
  await new Promise((resolve, reject) => {
    proc.stdout.on('data', (c) => { rcv.out += c; if (rcv.out.includes('listening')) resolve(); });
    closed.then(() => reject(new Error(`receiver exited: ${rcv.err}`)));
  });
  rcv.waitFor = async (re) => {
    for (let i = 0; i < 300 && !re.test(rcv.out); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(rcv.out, re);
  };
  return rcv;
}

e2e('signatures: hookd serve delivers to examples/receiver, which verifies with libhookd', async (t) => {
  const [secret] = await newSecret('standard');
  const [retired] = await newSecret('standard');
  const rcv = await startExampleReceiver(t, `${retired} ${secret}`);
  const forged = await fetch(rcv.url, { method: 'POST', body: BODY, headers: {
    'webhook-id': 'msg_forged', 'webhook-timestamp': String(now()), 'webhook-signature': 'v1,dawfeoifkpqwoekfpqoekf' } });
  assert.equal(forged.status, 401);
  assert.equal(await forged.text(), 'signature mismatch');
  const h = await startHookd(t);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'example-receiver' })).json;
  assert.equal((await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url, secret })).status, 201);
  const msg = (await req('POST', `/app/${app.id}/msg`, { eventType: 'invoice.paid', payload: JSON.parse(BODY) })).json;
  await rcv.waitFor(new RegExp(`^204 ${msg.id}$`, 'm'));
  assert.equal(await h.stop(), 0);
});
