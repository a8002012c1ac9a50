// The command line: help, version, bad flags, bad data dirs, a busy port, and the generated token.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { api, e2e, freePort, runHookd, startHookd } from './lib/harness.mjs';

async function tmpDir(t) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hookd-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** stderr without sanitizer noise is one line. */
function oneLine(stderr) {
  const lines = stderr.trim().split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${stderr}`);
  return lines[0];
}

const TOKEN_ENV = { HOOKD_TOKEN: 'testtoken-cli-0123456789' };

e2e('cli: --help prints usage and exits 0', async () => {
  const r = await runHookd(['--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /usage/i, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  assert.match(r.stdout, /serve/, 'usage names the serve command');
});

e2e('cli: version prints a version', async () => {
  const r = await runHookd(['version']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\d+\.\d+(\.\d+)?/, `stdout: ${r.stdout}`);
});

e2e('cli: a bad flag exits non-zero with a one-line error', async (t) => {
  const dir = await tmpDir(t);
  const r = await runHookd(['serve', '--no-such-flag', 'x', '--data', dir, '--listen', '127.0.0.1:0'], { env: TOKEN_ENV });
  assert.notEqual(r.code, 0);
  assert.ok(!r.timedOut, 'exits at once');
  assert.match(oneLine(r.stderr), /no-such-flag/);

  const r2 = await runHookd(['serve', '--listen', 'not-an-address', '--data', dir], { env: TOKEN_ENV });
  assert.notEqual(r2.code, 0);
  assert.match(oneLine(r2.stderr), /listen|not-an-address/);

  const r3 = await runHookd(['no-such-command'], { env: TOKEN_ENV });
  assert.notEqual(r3.code, 0);
  assert.match(r3.stderr, /no-such-command/);
});

e2e('cli: an unwritable data dir exits non-zero with a clear error', async (t) => {
  const dir = await tmpDir(t);
  const file = path.join(dir, 'a-regular-file');
  await writeFile(file, 'not a directory');
  const port = await freePort();
  const r = await runHookd(['serve', '--listen', `127.0.0.1:${port}`, '--data', path.join(file, 'data')], { env: TOKEN_ENV });
  assert.notEqual(r.code, 0, `exit code; stderr: ${r.stderr}`);
  assert.ok(!r.timedOut, 'exits instead of serving');
  assert.ok(r.stderr.includes(file), `the error names the path:\n${r.stderr}`);
});

e2e('cli: a port already in use exits non-zero naming the address', async (t) => {
  const dir = await tmpDir(t);
  const blocker = net.createServer();
  await new Promise((res) => blocker.listen(0, '127.0.0.1', res));
  t.after(() => new Promise((res) => blocker.close(res)));
  const { port } = blocker.address();
  const r = await runHookd(['serve', '--listen', `127.0.0.1:${port}`, '--data', dir], { env: TOKEN_ENV });
  assert.notEqual(r.code, 0, `exit code; stderr: ${r.stderr}`);
  assert.ok(!r.timedOut, 'exits instead of serving');
  assert.ok(r.stderr.includes(`127.0.0.1:${port}`), `the error names the address:\n${r.stderr}`);
});

e2e('cli: without HOOKD_TOKEN a token is generated, stored, works, and is reused', async (t) => {
  const h = await startHookd(t, { token: null });
  const tokenFile = path.join(h.dataDir, 'token');
  const token = (await readFile(tokenFile, 'utf8')).trim();
  assert.ok(token.length >= 16, `a token of some length: '${token}'`);
  assert.equal(h.token, token);
  assert.ok(h.logs().includes(token), 'the new token is printed once');
  const mode = (await stat(tokenFile)).mode & 0o777;
  assert.equal(mode & 0o077, 0, `token file mode ${mode.toString(8)} is private to its owner`);

  const { req } = api(h);
  assert.equal((await req('POST', '/app', { name: 'tok' })).status, 201);
  assert.equal((await req('GET', '/app', undefined, { authorization: 'Bearer nope-nope-nope' })).status, 401);
  assert.equal(await h.stop(), 0);

  await h.restart();
  assert.equal((await readFile(tokenFile, 'utf8')).trim(), token, 'the token file is unchanged');
  const list = await req('GET', '/app');
  assert.equal(list.status, 200, 'the same token works after a restart');
  assert.equal(list.json.data.length, 1);
  assert.equal(await h.stop(), 0);
});
