#!/usr/bin/env node
const argv = process.argv.slice(2);
// deploy's slow part (asking the environment's Python) starts before the rest loads.
const early = argv[0] === 'deploy' ? await import('../dist/cli/earlyDeploy.js') : null;
early?.startDeployEarly(argv);
const { main } = await import('../dist/cli.js');
process.exitCode = await main(argv);
if (early) (await import('../dist/python/htdocsQuestion.js')).abandonEarly();
