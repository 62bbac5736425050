#!/usr/bin/env node
import fs from 'node:fs';
import { createRequire } from 'node:module';

// dist/bundle/ (npm run build: one CommonJS file per command instead of ~150 modules to resolve,
// loaded with V8's code cache by codeCache.cjs) when it was made from the current dist/, else
// dist/ as tsc left it.
const dist = new URL('../dist/', import.meta.url);
const mtime = (name) => fs.statSync(new URL(name, dist), { throwIfNoEntry: false })?.mtimeMs ?? null;
const bundled = mtime('bundle/trac-deploy.js');
const compiled = mtime('cli.js');
const { binMain } =
  bundled !== null && (compiled === null || bundled >= compiled)
    ? createRequire(import.meta.url)('./codeCache.cjs').requireBundle('trac-deploy.js')
    : await import('../dist/cli/binMain.js');
process.exitCode = await binMain(process.argv.slice(2));
