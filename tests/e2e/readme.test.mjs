// The README's tour works as pasted: its shell blocks (the five-minute tour and the command line), run by bash
// in order against a started hookd, with only the addresses changed (hookd's and the receiver's ports).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOOKD_BIN, e2e, eventually, startHookd, startReceiver } from './lib/harness.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The ```sh blocks between two headings of the README. */
export function shellBlocks(text, from, to) {
  const part = text.slice(text.indexOf(from), text.indexOf(to));
  return [...part.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
}

function bash(script, cwd, server) {
  return new Promise((resolve) => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HOOKD_')));
    env.HOOKD_SERVER = server; // the CLI's default, http://127.0.0.1:8071, moved with hookd's port
    const p = spawn('bash', ['-e', '-o', 'pipefail', '-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (c) => { stdout += c; });
    p.stderr.on('data', (c) => { stderr += c; });
    p.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

e2e('README: the tour and the command-line examples run as pasted', async (t) => {
  const readme = await readFile(path.join(root, 'README.md'), 'utf8');
  const blocks = shellBlocks(readme, '## A five-minute tour', '### Signing and verifying');
  assert.ok(blocks.length >= 3, 'the tour has its blocks');
  for (const b of blocks) {
    assert.doesNotMatch(b, /<[a-z_]+>/, `no placeholder that breaks a shell:\n${b}`);
    assert.doesNotMatch(b, /\bsed\b/, `no sed picking ids:\n${b}`);
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hookd-readme-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(path.join(dir, 'build'));
  await symlink(HOOKD_BIN, path.join(dir, 'build', 'hookd'));
  const rec = await startReceiver(t, () => ({ status: 200, body: 'ok' }));
  const h = await startHookd(t, { dataDir: path.join(dir, 'data'), token: null }); // it writes data/token
  const recAddr = new URL(rec.url).host;
  // the receiver block is a server that runs until Ctrl-C: startReceiver stands in for it
  const script = blocks.filter((b) => !b.includes('listen(9000)')).join('\n')
    .replaceAll('127.0.0.1:8071', `127.0.0.1:${h.port}`).replaceAll('127.0.0.1:9000', recAddr);
  const r = await bash(script, dir, h.url);
  assert.equal(r.code, 0, `the tour failed:\n${r.stderr}\n${r.stdout}`);
  assert.doesNotMatch(r.stdout, /"code":"/, `no API error in the answers:\n${r.stdout}`);
  assert.match(r.stdout, /"key":"whsec_/, 'the endpoint secret');
  // the attempts query runs a moment after the message's 202, maybe before its attempt is recorded: as a
  // reader would, run it again (with the tour's first lines, which set HOOKD and auth) until the attempt is there
  if (!/"responseStatusCode":200/.test(r.stdout)) {
    const lines = script.split('\n');
    const again = [...lines.slice(lines.findIndex((l) => l.startsWith('export HOOKD=')), lines.findIndex((l) => l.startsWith('auth=')) + 1),
      lines.find((l) => l.includes('/attempt/endpoint/'))].join('\n');
    await eventually(async () => assert.match((await bash(again, dir, h.url)).stdout, /"responseStatusCode":200/, 'the attempts'));
  }
  await eventually(() => assert.ok(rec.requests.some((q) => JSON.parse(q.body).id === 'inv_1')));
  assert.ok(rec.requests.some((q) => JSON.parse(q.body).id === 'inv_2'), 'the CLI message');
  assert.ok(rec.requests.some((q) => JSON.parse(q.body).type === 'webhook.test'), 'hookd test');
});
