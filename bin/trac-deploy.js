#!/usr/bin/env node
import fs from 'node:fs';

// dist/bundle/ (npm run build: one file per command instead of ~150 modules to resolve) when it
// was made from the current dist/, else dist/ as tsc left it.
const dist = new URL('../dist/', import.meta.url);
const mtime = (name) => fs.statSync(new URL(name, dist), { throwIfNoEntry: false })?.mtimeMs ?? null;
const bundled = mtime('bundle/trac-deploy.js');
const compiled = mtime('cli.js');
const entry = bundled !== null && (compiled === null || bundled >= compiled) ? '../dist/bundle/trac-deploy.js' : '../dist/cli/binMain.js';
const { binMain } = await import(entry);
process.exitCode = await binMain(process.argv.slice(2));
