import { execa } from 'execa';
import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PYTHON_PROGRAMS_DIR } from '../../src/python/askPython.js';
import { SYSTEM_PYTHON } from '../helpers/paths.js';
import { tempDir } from '../helpers/tempDir.js';

/**
 * python/htdocs_dirs.py ends once its answer is out, without the interpreter's teardown (~50 ms
 * with Trac loaded), yet still runs what a normal exit runs for others (atexit functions: a
 * plugin's cleanup) and loses nothing of its answer through a pipe. The "Trac" here is a
 * stand-in package on PYTHONPATH whose module keeps an object with a finalizer (run only by the
 * teardown) and registers an atexit function.
 */
async function standInTrac(root: string, { refuse = false } = {}): Promise<{ pythonPath: string; env: string; marks: string }> {
  const pythonPath = path.join(root, 'lib');
  const marks = path.join(root, 'marks');
  const env = path.join(root, 'env');
  await fs.mkdirp(env);
  const mark = (what: string) => `open(${JSON.stringify(marks)}, 'a').write('${what}\\n')`;
  await fs.outputFile(path.join(pythonPath, 'trac', '__init__.py'), "__version__ = '1.6'\n");
  await fs.outputFile(
    path.join(pythonPath, 'trac', 'env.py'),
    [
      'import atexit, os',
      `atexit.register(lambda: ${mark('atexit')})`,
      'class Finalized(object):',
      // What it needs bound now (the teardown may have cleared the module's globals by then), and
      // unbuffered (a file object's buffer may be gone before it).
      `    def __del__(self, write=os.write, fd=os.open(${JSON.stringify(marks)}, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)):`,
      "        write(fd, b'teardown\\n')",
      'kept = Finalized()',
      'class Environment(object):',
      '    def __init__(self, path):',
      refuse ? "        raise IOError(13, 'Permission denied')" : '        self.path = path',
      '    def setup_log(self):',
      '        pass',
      '    def needs_upgrade(self):',
      '        return False',
      '',
    ].join('\n'),
  );
  await fs.outputFile(path.join(pythonPath, 'trac', 'web', '__init__.py'), '');
  // A long answer: more than a pipe's buffer, so a lost flush would cut it.
  const dirs = Array.from({ length: 2000 }, (_, i) => `('key${i}', '/nonexistent/${'d'.repeat(40)}${i}')`).join(', ');
  await fs.outputFile(
    path.join(pythonPath, 'trac', 'web', 'chrome.py'),
    ['class Provider(object):', '    def get_htdocs_dirs(self):', `        return [${dirs}]`, 'class Chrome(object):', '    def __init__(self, env):', '        self.template_providers = [Provider()]', ''].join('\n'),
  );
  return { pythonPath, env, marks };
}

async function ask(pythonPath: string, env: string) {
  return execa(SYSTEM_PYTHON, [path.join(PYTHON_PROGRAMS_DIR, 'htdocs_dirs.py'), env], {
    env: { PYTHONPATH: pythonPath, PYTHONDONTWRITEBYTECODE: '1' },
    reject: false,
    stdin: 'ignore',
  });
}

describe('htdocs_dirs.py ends as soon as it answered', () => {
  it('answers in full through a pipe, runs the atexit functions, and skips the teardown', async () => {
    const { pythonPath, env, marks } = await standInTrac(await tempDir());
    const result = await ask(pythonPath, env);
    expect(result.exitCode).toBe(0);
    const answer = JSON.parse(result.stdout.trim()) as { providers: { dirs: string[][] }[] };
    expect(answer.providers[0]!.dirs).toHaveLength(2000);
    expect(answer.providers[0]!.dirs[1999]![0]).toBe('key1999');
    expect((await fs.readFile(marks, 'utf8')).split('\n').filter(Boolean)).toEqual(['atexit']);
  });

  it('keeps the exit code and the refusal of an environment Trac cannot open', async () => {
    const { pythonPath, env, marks } = await standInTrac(await tempDir(), { refuse: true });
    const result = await ask(pythonPath, env);
    expect(result.exitCode).toBe(4);
    expect(JSON.parse(result.stdout.trim())).toMatchObject({ error: 'environment', code: 'trac-cannot-read' });
    expect((await fs.readFile(marks, 'utf8')).split('\n').filter(Boolean)).toEqual(['atexit']);
  });
});
