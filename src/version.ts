import fs from 'node:fs';

/** package.json's version, read from beside src/ or dist/ (a plain read: no CommonJS loader at start-up). */
export const VERSION: string = (
  JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
