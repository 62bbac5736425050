import fs from 'fs-extra';
import path from 'node:path';
import { parsePythonHome, parseScriptAlias } from '../apache/readConf.js';
import { usageError } from '../errors.js';
import { reasonOf } from '../errors.js';

/**
 * What `generate` wrote into a directory, read back for `apply`: the Apache snippets to
 * install and, from the snippet and the script, the paths the Apache user must reach.
 */
export interface DeployedSite {
  dir: string;
  /** Apache snippets (<name>.conf), by base name. */
  confFiles: { name: string; path: string; content: string }[];
  mode: 'daemon' | 'embedded';
  pythonHome: string | null;
  /** Scripts named by WSGIScriptAlias. */
  scripts: string[];
  envPath: string | null;
  parentDir: string | null;
  eggCache: string | null;
}

export async function readDeployedSite(input: string): Promise<DeployedSite> {
  const dir = path.resolve(input);
  let entries: string[];
  try {
    const stat = await fs.stat(dir);
    if (!stat.isDirectory()) throw usageError(`${dir} is not a directory; give the --out directory of trac-deploy generate`);
    entries = (await fs.readdir(dir)).sort();
  } catch (error) {
    if (error instanceof Error && error.name === 'UserError') throw error;
    throw usageError(`${dir}: ${reasonOf(error)}; give the --out directory of trac-deploy generate`);
  }
  const confFiles = [];
  for (const entry of entries.filter((e) => e.endsWith('.conf'))) {
    const file = path.join(dir, entry);
    const stat = await fs.lstat(file);
    if (!stat.isFile()) throw usageError(`${file} is not a regular file; trac-deploy installs only files it wrote`);
    const content = await fs.readFile(file, 'utf8').catch((error) => {
      throw usageError(`${file}: ${reasonOf(error)}`);
    });
    confFiles.push({ name: entry, path: file, content });
  }
  if (confFiles.length === 0) throw usageError(`${dir} holds no .conf file; run trac-deploy generate --out ${dir} first`);
  const allConf = confFiles.map((c) => c.content).join('\n');
  const scripts = confFiles.flatMap((c) => parseScriptAlias(c.content)?.script ?? []);
  let envPath: string | null = null;
  let parentDir: string | null = null;
  let eggCache: string | null = null;
  for (const script of scripts) {
    const text = await fs.readFile(script, 'utf8').catch(() => '');
    envPath ??= pyAssignment(text, 'TRAC_ENV');
    parentDir ??= pyAssignment(text, 'TRAC_ENV_PARENT_DIR');
    const egg = /os\.environ\.setdefault\('PYTHON_EGG_CACHE', (u'(?:[^'\\]|\\.)*')\)/.exec(text);
    if (egg?.[1]) eggCache ??= parsePyStr(egg[1]);
  }
  return {
    dir,
    confFiles,
    mode: /^\s*WSGIDaemonProcess\s/m.test(allConf) ? 'daemon' : 'embedded',
    pythonHome: confFiles.map((c) => parsePythonHome(c.content)).find((h) => h !== null) ?? null,
    scripts,
    envPath,
    parentDir,
    eggCache,
  };
}

function pyAssignment(text: string, name: string): string | null {
  const match = new RegExp(`^${name} = (u'(?:[^'\\\\]|\\\\.)*')$`, 'm').exec(text);
  return match?.[1] ? parsePyStr(match[1]) : null;
}

/** The inverse of pyStr: a u'...' literal with \\ \' \n \r \t \xHH \uHHHH \UHHHHHHHH escapes. */
export function parsePyStr(literal: string): string {
  if (!literal.startsWith("u'") || !literal.endsWith("'") || literal.length < 3) throw new Error(`not a u'' literal: ${literal}`);
  const body = literal.slice(2, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const next = body[++i];
    const simple: Record<string, string> = { '\\': '\\', "'": "'", n: '\n', r: '\r', t: '\t' };
    if (next !== undefined && next in simple) {
      out += simple[next];
      continue;
    }
    const width = next === 'x' ? 2 : next === 'u' ? 4 : next === 'U' ? 8 : 0;
    if (width === 0) throw new Error(`unknown escape \\${next ?? ''}`);
    out += String.fromCodePoint(Number.parseInt(body.slice(i + 1, i + 1 + width), 16));
    i += width;
  }
  return out;
}
