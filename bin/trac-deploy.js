#!/usr/bin/env node
'use strict';
// CommonJS (bin/package.json): an ES module entry would start Node's ES module loader, and its
// `import fs` builds the whole of node:fs's namespace (streams among it), ~6 ms of every run.
const fs = require('node:fs');
const path = require('node:path');

// dist/bundle/ (npm run build: one CommonJS file per command instead of ~150 modules to resolve,
// loaded with V8's code cache by codeCache.cjs) when it was made from the current dist/, else
// dist/ as tsc left it.
const dist = path.join(__dirname, '..', 'dist');
const mtime = (name) => fs.statSync(path.join(dist, name), { throwIfNoEntry: false })?.mtimeMs ?? null;
const bundled = mtime('bundle/trac-deploy.js');
const compiled = mtime('cli.js');
const loading =
  bundled !== null && (compiled === null || bundled >= compiled)
    ? Promise.resolve(require('./codeCache.cjs').requireBundle('trac-deploy.js', process.argv[2]))
    : import('../dist/cli/binMain.js');
loading
  .then(({ binMain }) => binMain(process.argv.slice(2)))
  .then((code) => {
    process.exitCode = code;
  });
