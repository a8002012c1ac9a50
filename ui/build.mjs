// build.mjs OUTDIR: bundle src/main.js and src/style.css (minified, names hashed) and write index.html naming them.
import * as esbuild from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.resolve(process.argv[2] ?? path.join(here, 'dist'));
mkdirSync(outdir, { recursive: true });
const r = await esbuild.build({
  entryPoints: [path.join(here, 'src/main.js'), path.join(here, 'src/style.css')],
  bundle: true, minify: true, format: 'iife', target: ['es2020'], outdir, entryNames: '[name]-[hash]',
  metafile: true, legalComments: 'none', logLevel: 'warning', absWorkingDir: here,
});
const out = {};
for (const [file, o] of Object.entries(r.metafile.outputs))
  if (o.entryPoint) out[path.extname(o.entryPoint)] = path.basename(file);
const html = readFileSync(path.join(here, 'index.html'), 'utf8')
  .replace('{{js}}', `/ui/${out['.js']}`).replace('{{css}}', `/ui/${out['.css']}`);
writeFileSync(path.join(outdir, 'index.html'), html);
