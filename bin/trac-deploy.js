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
    ? new Promise((resolve) => resolve(require('./codeCache.cjs').requireBundle('trac-deploy.js', process.argv[2])))
    : import('../dist/cli/binMain.js');
loading
  .then(({ binMain }) => binMain(process.argv.slice(2)))
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error) => {
    // The CLI could not load (dist/ missing or broken): one line and exit 1, as for any
    // unexpected error (src/cli.ts report), never Node's stack trace.
    const text = String((error && error.message) || error).split('\n')[0];
    process.stderr.write(`trac-deploy: cannot start: ${text}\n`);
    if (process.env.TRAC_DEPLOY_DEBUG && error && error.stack) process.stderr.write(`${error.stack}\n`);
    else process.stderr.write('  Rebuild it (npm run build) or reinstall trac-deploy; set TRAC_DEPLOY_DEBUG=1 for details.\n');
    process.exitCode = 1;
  });
