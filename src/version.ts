import fs from 'node:fs';

/**
 * package.json's version, read from beside src/ or dist/ (or two levels up, from dist/bundle/);
 * a plain read: no CommonJS loader at start-up.
 */
export const VERSION: string = (
  JSON.parse(fs.readFileSync(packageJson(), 'utf8')) as { version: string }
).version;

function packageJson(): URL {
  const near = new URL('../package.json', import.meta.url);
  return fs.existsSync(near) ? near : new URL('../../package.json', import.meta.url);
}
