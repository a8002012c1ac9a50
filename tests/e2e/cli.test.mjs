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

// --help everywhere: every command's help on stdout, exit 0, the same through all three spellings.
const COMMANDS = {
  serve: 'hookd serve', sign: 'hookd sign', verify: 'hookd verify', secret: 'hookd secret new',
  endpoints: 'hookd endpoints', messages: 'hookd messages', attempts: 'hookd attempts', resend: 'hookd resend',
  recover: 'hookd recover', sources: 'hookd sources', version: 'hookd version', help: 'hookd help',
};

e2e('cli: hookd CMD --help, hookd CMD -h and hookd help CMD print the command\'s help and exit 0', async () => {
  for (const [cmd, usage] of Object.entries(COMMANDS)) {
    const forms = cmd === 'help' ? [['help', '--help'], ['help', '-h'], ['help', 'help']]
      : [[cmd, '--help'], [cmd, '-h'], ['help', cmd]];
    const outs = [];
    for (const args of forms) {
      const r = await runHookd(args);
      assert.equal(r.code, 0, `hookd ${args.join(' ')}: ${r.stderr}`);
      assert.ok(!r.timedOut, `hookd ${args.join(' ')} exits at once`);
      assert.ok(r.stdout.includes(usage), `hookd ${args.join(' ')} shows '${usage}':\n${r.stdout}`);
      outs.push(r.stdout);
    }
    assert.equal(outs[1], outs[0], `${cmd}: -h is --help`);
    assert.equal(outs[2], outs[0], `${cmd}: help CMD is CMD --help`);
  }
});

e2e('cli: --help wins anywhere among the arguments, before any work', async () => {
  const a = await runHookd(['endpoints', 'list', '--app', 'x', '--server', 'http://127.0.0.1:9', '--help']);
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout, /hookd endpoints list/);
  const b = await runHookd(['sign', '--scheme', 'nope', '-h']);
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stdout, /--secret-file/);
  const c = await runHookd(['secret', 'new', '--help']);
  assert.equal(c.code, 0, c.stderr);
});

e2e('cli: hookd help and hookd --help list every command; hookd alone prints it on stderr and exits 2', async () => {
  const a = await runHookd(['help']);
  const b = await runHookd(['--help']);
  const c = await runHookd(['-h']);
  assert.equal(a.code, 0);
  assert.equal(b.stdout, a.stdout);
  assert.equal(c.stdout, a.stdout);
  for (const cmd of Object.keys(COMMANDS)) assert.match(a.stdout, new RegExp(`^  ${cmd} `, 'm'), cmd);
  const none = await runHookd([]);
  assert.equal(none.code, 2);
  assert.equal(none.stdout, '');
  assert.equal(none.stderr, a.stdout);
});

e2e('cli: an unknown command or help topic is one line on stderr and exit 2', async () => {
  for (const args of [['no-such-command'], ['help', 'no-such-command'], ['no-such-command', '--help']]) {
    const r = await runHookd(args);
    assert.equal(r.code, 2, `hookd ${args.join(' ')}`);
    assert.equal(r.stdout, '');
    assert.match(oneLine(r.stderr), /unknown command 'no-such-command'/);
  }
});

/** The README's settings table (between its markers). */
async function readmeSettings() {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const m = readme.match(/<!-- settings:begin -->\n([\s\S]*?)<!-- settings:end -->/);
  assert.ok(m, 'README.md has the settings markers');
  return m[1];
}

e2e('cli: serve --help lists every setting of the README, and exits without serving', async () => {
  const r = await runHookd(['serve', '--help', '--listen', '127.0.0.1:1']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!r.timedOut);
  const table = await readmeSettings();
  const flags = [...table.matchAll(/^\| `(--[a-z-]+) ([^`]+)`/gm)].map((m) => [m[1], m[2]]);
  assert.ok(flags.length > 20, `flags in the README: ${flags.length}`);
  for (const [flag, arg] of flags) assert.ok(r.stdout.includes(`  ${flag} ${arg} `), `serve --help lists ${flag} ${arg}`);
  assert.ok(!r.stdout.includes('--help-markdown'), 'the docs flag is not advertised');
});

e2e('cli: serve --help-markdown is the README\'s settings table', async () => {
  const r = await runHookd(['serve', '--help-markdown']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, await readmeSettings());
});

e2e('cli: serve settings: flags win over the environment; bad values name the flag, and the variable', async (t) => {
  const dir = await tmpDir(t);
  const bad = await runHookd(['serve', '--data', dir, '--max-inflight', '0'], { env: TOKEN_ENV });
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(oneLine(bad.stderr), /invalid value for --max-inflight: '0'/);
  const env = await runHookd(['serve', '--data', dir], { env: { ...TOKEN_ENV, HOOKD_LOG_LEVEL: 'loud' } });
  assert.notEqual(env.code, 0);
  assert.match(oneLine(env.stderr), /invalid value for --log-level: 'loud' \(from HOOKD_LOG_LEVEL\)/);
  const novalue = await runHookd(['serve', '--listen'], { env: TOKEN_ENV });
  assert.notEqual(novalue.code, 0);
  assert.match(oneLine(novalue.stderr), /option --listen needs a value/);

  // HOOKD_LISTEN names an address in use; the flag's free one wins and the server starts.
  const blocker = net.createServer();
  await new Promise((res) => blocker.listen(0, '127.0.0.1', res));
  t.after(() => new Promise((res) => blocker.close(res)));
  const h = await startHookd(t, { env: { HOOKD_LISTEN: `127.0.0.1:${blocker.address().port}` } });
  const { req } = api(h);
  assert.equal((await req('GET', '/app')).status, 200);
  assert.equal(await h.stop(), 0);
});
