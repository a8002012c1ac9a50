// Bad input gets the documented error (status and JSON shape), and never hurts the server.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { api, e2e, rawHttp, startHookd, startReceiver, verifyDelivery } from './lib/harness.mjs';

/** Assert a Svix error body {code, detail} with detail a string. */
function assertError(r, status, code) {
  assert.equal(r.status, status, `want ${status}, got ${r.status}: ${r.text.slice(0, 300)}`);
  assert.match(r.headers.get('content-type') ?? '', /application\/json/, 'error bodies are JSON');
  assert.ok(r.json && typeof r.json === 'object', `JSON body: ${r.text.slice(0, 300)}`);
  assert.equal(typeof r.json.code, 'string', `code in ${r.text.slice(0, 300)}`);
  assert.equal(typeof r.json.detail, 'string', `detail in ${r.text.slice(0, 300)}`);
  if (code) assert.equal(r.json.code, code);
}

/** Assert a 422 whose detail array has an entry whose loc names field. */
function assert422(r, field) {
  assert.equal(r.status, 422, `want 422 for ${field}, got ${r.status} (${r.url}): ${r.text.slice(0, 300)}`);
  assert.ok(Array.isArray(r.json?.detail), `detail is an array: ${r.text.slice(0, 300)}`);
  for (const d of r.json.detail) {
    assert.ok(Array.isArray(d.loc), `loc is an array: ${JSON.stringify(d)}`);
    assert.equal(typeof d.msg, 'string', `msg: ${JSON.stringify(d)}`);
    assert.equal(typeof d.type, 'string', `type: ${JSON.stringify(d)}`);
  }
  assert.ok(r.json.detail.some((d) => d.loc.includes(field)), `some loc names ${field}: ${r.text.slice(0, 300)}`);
}

async function healthyAfter(h) {
  const { req } = api(h);
  const health = await req('GET', '/health');
  assert.equal(health.status, 204);
  const app = await req('POST', '/app', { name: 'still fine' });
  assert.equal(app.status, 201, app.text);
  assert.equal(await h.stop(), 0);
}

/** POST a big body with node:http: the server may answer before reading it all, and that is fine. */
function postBig(h, p, body, { chunked = false } = {}) {
  return new Promise((resolve, reject) => {
    const headers = { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' };
    if (!chunked) headers['content-length'] = body.length; // else node sends transfer-encoding: chunked
    const req = http.request(`${h.url}/api/v1${p}`, { method: 'POST', headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, text, json, headers: new Headers(res.headers) });
      });
      res.on('error', reject);
    });
    req.on('error', (err) => { if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err); });
    if (!chunked) return req.end(body);
    for (let off = 0; off < body.length; off += 64 * 1024) req.write(body.subarray(off, off + 64 * 1024));
    req.end();
  });
}

e2e('badinput: malformed JSON is a 400 with {code, detail}', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  assertError(await req('POST', '/app', '{"name": '), 400);
  assertError(await req('POST', '/app', 'not json at all'), 400);
  assertError(await req('POST', '/app', '{"name": "a"} trailing'), 400);
  const app = await req('POST', '/app', { name: 'a' });
  assertError(await req('POST', `/app/${app.json.id}/msg`, '{"eventType": "x", "payload": {'), 400);
  assertError(await req('POST', `/app/${app.json.id}/endpoint`, '\u0000\u0001'), 400);
  await healthyAfter(h);
});

e2e('badinput: wrong types and missing fields are 422 naming the field', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  assert422(await req('POST', '/app', { name: 5 }), 'name');
  assert422(await req('POST', '/app', {}), 'name');
  const app = (await req('POST', '/app', { name: 'ok' })).json;
  const msg = `/app/${app.id}/msg`;
  assert422(await req('POST', msg, { eventType: 3, payload: {} }), 'eventType');
  assert422(await req('POST', msg, { eventType: 'a.b', payload: 'str' }), 'payload');
  assert422(await req('POST', msg, { eventType: 'a.b', payload: [1, 2] }), 'payload');
  assert422(await req('POST', msg, { payload: {} }), 'eventType');
  assert422(await req('POST', msg, { eventType: 'a.b' }), 'payload');
  assert422(await req('POST', msg, { eventType: 'a.b', payload: {}, channels: 'eu' }), 'channels');
  const ep = `/app/${app.id}/endpoint`;
  assert422(await req('POST', ep, {}), 'url');
  assert422(await req('POST', ep, { url: 5 }), 'url');
  assert422(await req('POST', ep, { url: 'http://127.0.0.1:9/x', disabled: 'yes' }), 'disabled');
  assert422(await req('POST', ep, { url: 'http://127.0.0.1:9/x', eventTypes: 'a.b' }), 'eventTypes');
  // None of these created anything.
  const msgs = await req('GET', msg);
  assert.equal(msgs.json.data.length, 0);
  const eps = await req('GET', ep);
  assert.equal(eps.json.data.length, 0);
  await healthyAfter(h);
});

e2e('badinput: a 2 MiB body is a 413 with a JSON body; just under the cap is fine', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'big' })).json;
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url })).json;
  const big = Buffer.from(JSON.stringify({ eventType: 'big', payload: { data: 'x'.repeat(2 * 1024 * 1024) } }));
  assertError(await postBig(h, `/app/${app.id}/msg`, big), 413, 'payload_too_large');
  assertError(await postBig(h, '/app', big), 413, 'payload_too_large');
  assertError(await postBig(h, `/app/${app.id}/msg`, big, { chunked: true }), 413, 'payload_too_large');
  assert.equal((await req('GET', `/app/${app.id}/msg`)).json.data.length, 0, 'nothing was stored');

  const payload = { data: 'y'.repeat(900 * 1024), text: 'caf\u00e9 \u{1F600}' };
  const ok = await req('POST', `/app/${app.id}/msg`, { eventType: 'big', payload });
  assert.equal(ok.status, 202, ok.text.slice(0, 300));
  const got = await req('GET', `/app/${app.id}/msg/${ok.json.id}`);
  assert.deepEqual(got.json.payload, payload);
  // The big message is delivered whole and signed over the exact bytes.
  const [rec] = await rcv.waitForCount(1, 15000, 'the 900 KiB delivery');
  const { key } = (await req('GET', `/app/${app.id}/endpoint/${ep.id}/secret`)).json;
  assert.deepEqual(verifyDelivery(key, rec), payload);
  await healthyAfter(h);
});

e2e('badinput: a bad endpoint secret is a 422 when created, never a short key later', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'sec' })).json;
  const ep = `/app/${app.id}/endpoint`;
  const url = 'http://127.0.0.1:9/x';
  for (const secret of ['whsec_short', 'not base64!!', 'whsec_not base64 at all with spaces in it!!!!', '',
    `whsec_${Buffer.alloc(16, 1).toString('base64')}`, `whsec_${'A'.repeat(101)}`]) {
    assert422(await req('POST', ep, { url, secret }), 'secret');
  }
  assert.equal((await req('GET', ep)).json.data.length, 0, 'no endpoint was created');

  const good = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
  const created = await req('POST', ep, { url, secret: good });
  assert.equal(created.status, 201, created.text);
  const s = await req('GET', `${ep}/${created.json.id}/secret`);
  assert.equal(s.json.key, good);
  await healthyAfter(h);
});

e2e('badinput: unknown ids are 404 not_found', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  const missing = 'app_2X0000000000000000000000000';
  assertError(await req('GET', `/app/${missing}`), 404, 'not_found');
  assertError(await req('GET', '/app/no-such-uid'), 404, 'not_found');
  assertError(await req('POST', `/app/${missing}/msg`, { eventType: 'a', payload: {} }), 404, 'not_found');
  assertError(await req('POST', `/app/${missing}/endpoint`, { url: 'http://127.0.0.1:9/' }), 404, 'not_found');
  assertError(await req('DELETE', `/app/${missing}`), 404, 'not_found');
  const app = (await req('POST', '/app', { name: 'x' })).json;
  assertError(await req('GET', `/app/${app.id}/endpoint/ep_2X0000000000000000000000000`), 404, 'not_found');
  assertError(await req('GET', `/app/${app.id}/msg/msg_2X0000000000000000000000000`), 404, 'not_found');
  await healthyAfter(h);
});

e2e('badinput: no or wrong token is a 401 authentication_failed', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  assertError(await req('GET', '/app', undefined, { authorization: null }), 401, 'authentication_failed');
  assertError(await req('GET', '/app', undefined, { authorization: 'Bearer wrong-token' }), 401, 'authentication_failed');
  assertError(await req('GET', '/app', undefined, { authorization: `Bearer ${h.token}x` }), 401, 'authentication_failed');
  assertError(await req('GET', '/app', undefined, { authorization: h.token }), 401, 'authentication_failed');
  assertError(await req('POST', '/app', { name: 'x' }, { authorization: null }), 401, 'authentication_failed');
  assert.equal((await req('GET', '/app')).json.data.length, 0, 'the unauthenticated POST created nothing');
  await healthyAfter(h);
});

e2e('badinput: limit above 250 is 422; unknown routes are 404 JSON', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  const r = await req('GET', '/app?limit=251');
  assert.equal(r.status, 422, r.text);
  assert.ok(Array.isArray(r.json?.detail), r.text);
  assert.ok(r.json.detail.some((d) => d.loc.includes('limit')), r.text);
  assert.equal((await req('GET', '/app?limit=250')).status, 200);
  assert.equal((await req('GET', '/app?limit=abc')).status, 422);

  assertError(await req('GET', '/nope'), 404);
  assertError(await req('POST', '/nope/deeper', { a: 1 }), 404);
  assertError(await req('GET', '/api/v2/app'), 404);
  await healthyAfter(h);
});

e2e('badinput: a NUL byte (%00) anywhere in the URL is a 400 bad_request, never routed', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'nul', uid: 'nul' })).json;
  // %00 used to end the decoded path early: /app/%00 answered the app list, /app/nul%00x the app nul
  for (const p of ['/app/%00', '/app/nul%00x', `/app/${app.id}/msg/%00`, '/app?limit=%00', '/app?iterator=%00',
    '/app/%00/endpoint', '/%00', '/health%00'])
    assertError(await req('GET', p), 400, 'bad_request');
  assertError(await req('POST', '/app%00', { name: 'x' }), 400, 'bad_request');
  assertError(await req('POST', '/in/%00', '{}'), 400, 'bad_request');
  // the byte itself, not percent-encoded, ends the URI libmicrohttpd hands over: refused the same
  const auth = `Host: x\r\nAuthorization: Bearer ${h.token}\r\n`;
  for (const line of ['GET /api/v1/app\0/nul', 'GET /api/v1/app/nul\0/endpoint', 'GET /api/v1/app?limit=5\0x']) {
    const r = await rawHttp(h, `${line} HTTP/1.1\r\n${auth}Connection: close\r\n\r\n`);
    assert.equal(r.status, 400, `${JSON.stringify(line)}: ${r.text.slice(0, 200)}`);
    assert.match(r.text, /\{"code":"bad_request"/);
  }
  assert.equal((await req('GET', '/app/nul')).status, 200);
  assert.equal((await req('GET', '/app')).json.data.length, 1, 'nothing was created');
  await healthyAfter(h);
});

e2e('badinput: empty path segments and encoded slashes are not routed (404 JSON)', async (t) => {
  const h = await startHookd(t);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'b', uid: 'b' })).json;
  assert.equal((await req('GET', '/app/b')).status, 200);
  // split on '/' dropping empty segments used to make these /app/b and /app/b/endpoint
  for (const p of ['/api/v1//app//b', '/api/v1/app//b', '/api/v1//app/b', '/api/v1/app/b/', '/api/v1/app/b//endpoint',
    '/api/v1/app/', '/api/v1//app'])
    assertError(await req('GET', p), 404, 'not_found');
  assertError(await req('POST', '/api/v1//app', { name: 'x' }), 404, 'not_found');
  assertError(await req('DELETE', '/api/v1/app//b'), 404, 'not_found');
  // an encoded '/' stays inside its segment: an app named "b/endpoint", which no uid can be
  assertError(await req('GET', '/app/b%2Fendpoint'), 404, 'not_found');
  assertError(await req('GET', '/app%2Fb'), 404, 'not_found');
  // other escapes still decode: %62 is b
  assert.equal((await req('GET', '/app/%62')).json?.id, app.id);
  assert.equal((await req('GET', '/app')).json.data.length, 1);
  await healthyAfter(h);
});

e2e('badinput: an iterator that is not one of the list\'s own ids is a 422 on every list', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'it' })).json;
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url })).json;
  const msg = (await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: {} })).json;
  const [rec] = await rcv.waitForCount(1, 10000, 'the delivery');
  assert.ok(rec);
  await req('POST', '/event-type', { name: 'a.b', description: 'x' });
  const src = (await req('POST', '/source', { name: 's', scheme: 'none', destinations: [{ url: rcv.url }] })).json;
  const lists = {
    '/app': app.id,
    [`/app/${app.id}/endpoint`]: ep.id,
    [`/app/${app.id}/msg`]: msg.id,
    [`/app/${app.id}/attempt/endpoint/${ep.id}`]: null,
    [`/app/${app.id}/attempt/msg/${msg.id}`]: null,
    [`/app/${app.id}/endpoint/${ep.id}/msg`]: msg.id,
    [`/app/${app.id}/msg/${msg.id}/endpoint`]: ep.id,
    '/event-type': 'a.b',
    '/source': src.id,
    [`/source/${src.id}/request`]: null,
    '/background-task': null,
  };
  const wrongKind = 'src_2X0000000000000000000000000'; // a well-formed id, of another kind
  for (const [p, good] of Object.entries(lists)) {
    const sep = p.includes('?') ? '&' : '?';
    // event types page by name, so a name is an iterator there, but no list takes what no name can be
    const bads = p === '/event-type' ? ['-', 'x'.repeat(300), ' ', 'a b', 'a/b', 'caf\u00e9']
      : ['garbage', '-', '--', '-garbage', 'app_short', 'x'.repeat(300), ' ', 'a b'];
    for (const bad of bads)
      assert422(await req('GET', `${p}${sep}iterator=${encodeURIComponent(bad)}`), 'iterator');
    if (p !== '/source' && p !== '/event-type')
      assert422(await req('GET', `${p}${sep}iterator=${wrongKind}`), 'iterator');
    if (good !== null) {
      for (const it of [good, `-${good}`]) {
        const r = await req('GET', `${p}${sep}iterator=${encodeURIComponent(it)}`);
        assert.equal(r.status, 200, `${p} iterator=${it}: ${r.text.slice(0, 200)}`);
      }
    }
    assert.equal((await req('GET', `${p}${sep}iterator=`)).status, 200, `${p}: an empty iterator is none`);
  }
  // the iterators a list hands out are taken back
  const page = (await req('GET', `/app/${app.id}/msg?limit=1`)).json;
  assert.equal((await req('GET', `/app/${app.id}/msg?iterator=${page.iterator}`)).status, 200);
  assert.equal((await req('GET', `/app/${app.id}/msg?iterator=${page.prevIterator}`)).status, 200);
  // other malformed query values are 422 too
  for (const q of ['limit=abc', 'limit=', 'limit=0', 'limit=1.5', 'order=up', 'with_content=maybe',
    'before=yesterday', 'after=2026-13-01T00:00:00Z', 'event_types=a%20b', 'event_types=ok,b%21ad'])
    assert.equal((await req('GET', `/app/${app.id}/msg?${q}`)).status, 422, q);
  for (const q of ['status=9', 'status=x', 'status_code_class=250', 'status_code_class=abc'])
    assert.equal((await req('GET', `/app/${app.id}/attempt/endpoint/${ep.id}?${q}`)).status, 422, q);
  assert.equal((await req('GET', '/background-task?status=lost')).status, 422);
  assert.equal((await req('GET', `/app/${app.id}/msg?event_types=a.b,c.d&event_types=e`)).status, 200);
  await healthyAfter(h);
});

/** Send headers with Expect: 100-continue; resolves {interim: the first bytes before any body was sent, final}. */
function expectContinue(h, head, body) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port: h.port });
    let got = '', interim = null, sent = false;
    const timer = setTimeout(() => { s.destroy(); resolve({ interim: interim ?? got, final: got }); }, 5000);
    s.on('connect', () => s.write(head));
    s.on('data', (c) => {
      got += c.toString('latin1');
      if (interim === null) interim = got;
      if (!sent && /^HTTP\/1\.1 100 Continue\r\n\r\n/.test(got)) {
        sent = true;
        s.write(body);
      }
    });
    s.on('error', (err) => { if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') reject(err); });
    s.on('close', () => { clearTimeout(timer); resolve({ interim: interim ?? got, final: got }); });
  });
}

e2e('badinput: Expect: 100-continue with a body over the cap is a 413 at once, never 100 Continue', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t);
  const { req } = api(h);
  const auth = `Host: x\r\nAuthorization: Bearer ${h.token}\r\nContent-Type: application/json\r\n`;
  const t0 = performance.now();
  const big = await expectContinue(h, `POST /api/v1/app HTTP/1.1\r\n${auth}Content-Length: 5000000\r\n` +
    'Expect: 100-continue\r\n\r\n', '');
  assert.doesNotMatch(big.final, /100 Continue/);
  assert.match(big.interim, /^HTTP\/1\.1 413 /, big.interim.slice(0, 200));
  assert.ok(performance.now() - t0 < 1000, 'answered at once, not after a timeout');
  assert.match(big.final, /\r\nContent-Type: application\/json\r\n/);
  assert.equal(JSON.parse(big.final.slice(big.final.indexOf('\r\n\r\n') + 4)).code, 'payload_too_large');
  // an inbound source's own cap (maxBody) counts the same way
  const src = (await req('POST', '/source', { name: 's', uid: 'capped', scheme: 'none', maxBody: 2048,
    destinations: [{ url: rcv.url }] })).json;
  assert.ok(src.id);
  const inb = await expectContinue(h, 'POST /in/capped HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
    'Content-Length: 4096\r\nExpect: 100-continue\r\n\r\n', '');
  assert.match(inb.interim, /^HTTP\/1\.1 413 /, inb.interim.slice(0, 200));
  // within the cap: 100 Continue, then the body, then the answer
  const body = JSON.stringify({ name: 'continued' });
  const ok = await expectContinue(h, `POST /api/v1/app HTTP/1.1\r\n${auth}Content-Length: ${body.length}\r\n` +
    'Expect: 100-continue\r\nConnection: close\r\n\r\n', body);
  assert.match(ok.final, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 201 /, ok.final.slice(0, 200));
  // no Expect, but a length far past what hookd would read and drop for its 413 (16 x --max-body): 413 at once too
  const huge = await rawHttp(h, `POST /api/v1/app HTTP/1.1\r\n${auth}Content-Length: 100000000000\r\n\r\n{`);
  assert.equal(huge.status, 413, huge.text.slice(0, 200));
  assert.match(huge.text, /\{"code":"payload_too_large"/);
  assert.ok(huge.ms < 1000);
  assert.deepEqual((await req('GET', '/app')).json.data.map((a) => a.name), ['continued']);
  await healthyAfter(h);
});

// libmicrohttpd answers these itself, before hookd sees the request, with its own short HTML bodies (it has no
// hook for them): docs/api.md and docs/security.md list them, and this is what they say.
e2e('badinput: requests libmicrohttpd refuses get the documented status codes', async (t) => {
  const h = await startHookd(t);
  const cases = [
    ['no space in the request line', 'GARBAGE\r\n\r\n', 0],
    ['no HTTP version', 'GET /api/v1/health\r\n\r\n', 400],
    ['a malformed version', 'GET /api/v1/health HTTP/1.x\r\nHost: x\r\n\r\n', 400],
    ['an unsupported version', 'GET /api/v1/health HTTP/2.0\r\nHost: x\r\n\r\n', 505],
    ['a header line without a colon', 'GET /api/v1/health HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n', 400],
    ['a malformed Content-Length', 'POST /api/v1/app HTTP/1.1\r\nHost: x\r\nContent-Length: 12a\r\n\r\n', 400],
    ['malformed chunks', 'POST /api/v1/app HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
    ['a 20 KiB URI', `GET /api/v1/${'a'.repeat(20000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 414],
    ['20 KiB of headers', `GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`, 431],
    ['a Content-Length past 64 bits', `POST /api/v1/app HTTP/1.1\r\nHost: x\r\nContent-Length: ${'9'.repeat(25)}\r\n\r\n`, 413],
    ['a chunk size past 64 bits', `POST /api/v1/app HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${'f'.repeat(20)}\r\n`, 413],
  ];
  for (const [what, bytes, status] of cases) {
    const r = await rawHttp(h, bytes, { timeoutMs: 3000 });
    assert.equal(r.status, status, `${what}: ${r.text.slice(0, 200)}`);
    assert.ok(r.closed, `${what}: the connection is closed after the answer`);
  }
  await healthyAfter(h);
});
