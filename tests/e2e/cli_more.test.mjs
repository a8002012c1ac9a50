// The CLI a person expects: hookd apps, event-types, test / send-example; --help on every subcommand; status
// names; relative and short times; attempt tables with the error and the next attempt; columns by display width;
// a 401 that says where the token was looked for. The real binary against a real hookd and receivers.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { HOOKD_BIN, api, e2e, eventually as retry, runHookd, startHookd, startReceiver } from './lib/harness.mjs';

/** Wait until cond() is truthy (the harness's eventually retries on a throw). */
function until(cond, opts) {
  return retry(async () => assert.ok(await cond(), opts?.what), opts);
}

function cli(h, args, opts) {
  return runHookd([...args, '--server', h.url, '--token', h.token], opts);
}

async function ok(h, args) {
  const r = await cli(h, args);
  assert.equal(r.code, 0, `hookd ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
  return r.stdout;
}

/** Run hookd in a directory with only the environment given (no HOOKD_* from ours). */
function runIn(args, { cwd, env = {} } = {}) {
  return new Promise((resolve) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HOOKD_')));
    const proc = spawn(HOOKD_BIN, args, { cwd, env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    proc.stdout.on('data', (c) => { stdout += c; });
    proc.stderr.on('data', (c) => { stderr += c; });
    proc.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The display width of a string as a terminal shows it: wide CJK and emoji 2, combining marks 0. */
function displayWidth(s) {
  let w = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0);
    if (/\p{Mn}/u.test(ch)) continue;
    w += (cp >= 0x1100 && /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u.test(ch)) ||
      /\p{Extended_Pictographic}/u.test(ch) ? 2 : 1;
  }
  return w;
}

const SUBCOMMANDS = ['serve', 'rekey', 'sign', 'verify', 'secret', 'apps', 'event-types', 'test', 'send-example',
  'endpoints', 'messages', 'attempts', 'resend', 'recover', 'sources', 'version', 'help'];

e2e('cli: the main help lists apps, event-types, test and sources; --help works on every subcommand', async () => {
  const main = await runHookd(['--help']);
  assert.equal(main.code, 0);
  for (const c of ['apps', 'event-types', 'test', 'sources', 'endpoints', 'messages', 'attempts'])
    assert.match(main.stdout, new RegExp(`^  ${c}\\s`, 'm'), `${c} in the main help`);
  assert.match(main.stdout, /send-example/);
  for (const c of SUBCOMMANDS) {
    for (const flag of ['--help', '-h']) {
      const r = await runHookd([c, flag]);
      assert.equal(r.code, 0, `hookd ${c} ${flag}: ${r.stderr}`);
      assert.match(r.stdout, /hookd /, `hookd ${c} ${flag} prints a usage`);
    }
  }
  const verb = await runHookd(['apps', 'list', '--help']);
  assert.equal(verb.code, 0);
  assert.match(verb.stdout, /hookd apps list/);
});

e2e('cli: apps, event-types and test (send-example) from a shell', async (t) => {
  const h = await startHookd(t);
  const rec = await startReceiver(t, () => ({ status: 200 }));
  const created = JSON.parse(await ok(h, ['apps', 'create', '--name', 'Acme', '--uid', 'acme', '--json']));
  assert.equal(created.uid, 'acme');
  const list = await ok(h, ['apps', 'list']);
  assert.match(list, /^ID\s+UID\s+NAME\s+CREATED/);
  assert.match(list, /acme\s+Acme/);
  assert.match(await ok(h, ['apps', 'get', 'acme']), /^name\s+Acme$/m);

  await ok(h, ['event-types', 'create', 'order.created', '--description', 'An order was placed']);
  assert.match(await ok(h, ['event-types', 'list']), /order\.created\s+An order was placed\s+false/);
  assert.match(await ok(h, ['event-types', 'get', 'order.created']), /^description\s+An order was placed$/m);

  await ok(h, ['endpoints', 'create', '--app', 'acme', '--url', rec.url, '--uid', 'local']);
  const sent = JSON.parse(await ok(h, ['test', '--app', 'acme', 'local', '--json']));
  assert.equal(sent.eventType, 'webhook.test');
  const again = JSON.parse(await ok(h, ['send-example', '--app', 'acme', 'local', '--event-type', 'order.created',
    '--json']));
  assert.equal(again.eventType, 'order.created');
  await until(() => rec.requests.length >= 2, { what: 'both examples delivered' });

  assert.match(await ok(h, ['apps', 'delete', 'acme']), /^deleted acme$/m);
  const gone = await cli(h, ['apps', 'get', 'acme']);
  assert.equal(gone.code, 1);

  const usage = await cli(h, ['apps', 'create']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--name is required/);
});

e2e('cli: --status by name, relative and short --since, attempts with their error and next attempt', async (t) => {
  const h = await startHookd(t, { env: { HOOKD_RETRY_SCHEDULE: '1h' } });
  const rec = await startReceiver(t, () => ({ status: 503, body: 'down for maintenance\nsecond line' }));
  await api(h).req('POST', '/app', { name: 'shop', uid: 'shop' });
  await ok(h, ['endpoints', 'create', '--app', 'shop', '--url', rec.url, '--uid', 'down']);
  const msg = JSON.parse(await ok(h, ['messages', 'send', '--app', 'shop', '--event-type', 'order.created',
    '--data', '{"n":1}', '--json']));
  await until(async () => (await api(h).req('GET', `/app/shop/attempt/msg/${msg.id}`)).json.data.length === 1,
    { what: 'one failed attempt' });

  const byName = await ok(h, ['attempts', 'list', '--app', 'shop', '--endpoint', 'down', '--status', 'fail']);
  const byNumber = await ok(h, ['attempts', 'list', '--app', 'shop', '--endpoint', 'down', '--status', '2']);
  assert.equal(byName, byNumber);
  const lines = byName.trim().split('\n');
  assert.match(lines[0], /STATUS\s+CODE\s+DURATION\s+TIMESTAMP\s+NEXT ATTEMPT\s+ERROR$/);
  assert.equal(lines.length, 2, byName);
  assert.match(lines[1], /fail\s+503\s+\d+ms\s+\S+Z\s+\d{4}-\d\d-\d\dT\S+Z\s+down for maintenance$/);
  const next = lines[1].match(/Z\s+(\d{4}-\d\d-\d\dT\S+Z)\s+down/)[1];
  assert.ok(Date.parse(next) > Date.now() + 30 * 60 * 1000, `the next attempt in about an hour: ${next}`);
  assert.match(await ok(h, ['attempts', 'list', '--app', 'shop', '--msg', msg.id, '--status', 'FAILED']),
    /down for maintenance/);
  const none = await ok(h, ['attempts', 'list', '--app', 'shop', '--msg', msg.id, '--status', 'success']);
  assert.equal(none.trim().split('\n').length, 1, 'no successful attempt');
  const bad = await cli(h, ['attempts', 'list', '--app', 'shop', '--msg', msg.id, '--status', 'broken']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /expected success \(0\), pending \(1\), fail \(2\)/);

  const since = async (s) => (await ok(h, ['messages', 'list', '--app', 'shop', '--since', s])).includes(msg.id);
  assert.ok(await since('1h'));
  assert.ok(await since('90s'));
  const today = new Date().toISOString().slice(0, 10);
  assert.ok(await since(today));
  const tomorrow = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
  assert.equal(await since(tomorrow), false);
  const wrong = await cli(h, ['messages', 'list', '--app', 'shop', '--since', 'yesterday']);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /or an age like 90s, 30m, 1h, 2d, 1w/);
  // recover takes the same forms
  const task = JSON.parse(await ok(h, ['recover', '--app', 'shop', '--endpoint', 'down', '--since', '2h', '--json']));
  assert.match(task.id, /^qtask_/);
});

e2e('cli: columns line up by display width (CJK, emoji, combining marks), not bytes', async (t) => {
  const h = await startHookd(t);
  const names = ['Acme 株式会社', 'Café 🎉 party', 'Cafe\u0301 plain', 'ascii only'];
  for (const [i, name] of names.entries())
    assert.equal((await api(h).req('POST', '/app', { name, uid: `u${i}` })).status, 201);
  const out = await ok(h, ['apps', 'list']);
  const lines = out.trim().split('\n');
  // the CREATED column starts at the same display column on every line
  const starts = lines.map((l) => {
    const m = l.match(/^(.*?)(CREATED|\d{4}-\d\d-\d\dT)/u);
    return displayWidth(m[1]);
  });
  assert.equal(new Set(starts).size, 1, `aligned by display width:\n${out}\n${starts}`);
});

e2e('cli: a 401 says where the token was looked for', async (t) => {
  const h = await startHookd(t);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hookd-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const none = await runIn(['apps', 'list', '--server', h.url], { cwd: dir });
  assert.equal(none.code, 1);
  assert.equal(none.stderr.trim().split('\n').length, 1, 'one line');
  assert.match(none.stderr, /^hookd: 401 authentication_failed: .* \(no token sent: looked for --token, \$HOOKD_TOKEN and \.\/data\/token\)$/m);
  const flag = await runIn(['apps', 'list', '--server', h.url, '--token', 'wrong-token']);
  assert.match(flag.stderr, /the token from --token was refused/);
  const env = await runIn(['apps', 'list', '--server', h.url], { cwd: dir, env: { HOOKD_TOKEN: 'wrong-token' } });
  assert.match(env.stderr, /the token from \$HOOKD_TOKEN was refused/);
  await mkdir(path.join(dir, 'data'));
  await writeFile(path.join(dir, 'data', 'token'), 'wrong-token\n');
  const file = await runIn(['apps', 'list', '--server', h.url], { cwd: dir });
  assert.match(file.stderr, /the token from \.\/data\/token was refused/);
  await writeFile(path.join(dir, 'data', 'token'), `${h.token}\n`);
  const good = await runIn(['apps', 'list', '--server', h.url], { cwd: dir });
  assert.equal(good.code, 0, good.stderr);
});

e2e('cli: the man page and the completion scripts come from the command and settings tables', async () => {
  const man = await runHookd(['help', '--man']);
  assert.equal(man.code, 0, man.stderr);
  assert.match(man.stdout, /^\.TH HOOKD 1 /);
  const serveHelp = (await runHookd(['serve', '--help'])).stdout;
  const settings = [...serveHelp.matchAll(/^ {2}--([a-z-]+) /gm)].map((m) => m[1]).filter((s) => s !== 'check');
  assert.ok(settings.length > 30 && settings.includes('log-format') && settings.includes('config'));
  for (const s of settings) assert.ok(man.stdout.includes(`.B \\-\\-${s.replaceAll('-', '\\-')} `), `--${s} in hookd.1`);
  for (const c of ['apps', 'event-types', 'test', 'sources', 'attempts']) assert.match(man.stdout, new RegExp(`^\\.B ${c}$`, 'm'));

  const bash = await runHookd(['help', '--completion', 'bash']);
  assert.equal(bash.code, 0);
  const complete = (words) => new Promise((resolve) => {
    const script = `${bash.stdout}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _hookd; echo "\${COMPREPLY[*]}"`;
    const p = spawn('bash', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (c) => { out += c; });
    p.once('close', () => resolve(out.trim().split(/\s+/)));
  });
  assert.ok((await complete(['hookd', 'ev'])).includes('event-types'));
  assert.deepEqual(await complete(['hookd', 'apps', '']), ['list', 'get', 'create', 'delete']);
  assert.deepEqual(await complete(['hookd', 'attempts', 'list', '--st']), ['--status']);
  assert.deepEqual(await complete(['hookd', 'serve', '--log-f']), ['--log-format']);
  assert.ok((await complete(['hookd', 'serve', '--ch'])).includes('--check'));
  const zsh = await runHookd(['help', '--completion', 'zsh']);
  assert.match(zsh.stdout, /^#compdef hookd/);
  assert.match(zsh.stdout, /apps\) verbs=\(list get create delete \) opts=\(--server /);
  assert.match(zsh.stdout, /case \$words\[2\] in/);
  assert.doesNotMatch(zsh.stdout, /local -a [^\n]*\bwords\b/, "zsh's words array is not shadowed");
});

e2e('make install puts the man page, the completions and the OpenAPI document under PREFIX', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hookd-install-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const root = path.resolve(import.meta.dirname, '../..');
  // a dry run (make -n) with a build directory of its own: nothing is built or written in the tree
  const out = await new Promise((resolve) => {
    const p = spawn('make', ['-n', '-C', root, 'install', `DESTDIR=${dir}`, 'PREFIX=/usr/local', `BUILD=${dir}/b`, 'UI=0'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let s = '';
    p.stdout.on('data', (c) => { s += c; });
    p.stderr.on('data', (c) => { s += c; });
    p.once('close', (code) => resolve({ code, s }));
  });
  assert.equal(out.code, 0, out.s);
  const d = `${dir}/usr/local`;
  assert.ok(out.s.includes(`install -m 644 docs/openapi.json ${d}/share/hookd/`), out.s);
  assert.ok(out.s.includes(`${d}/share/man/man1/`));
  assert.ok(out.s.includes(`${d}/share/zsh/site-functions ${d}/share/hookd`), 'the directory made'); // in install -d
});
