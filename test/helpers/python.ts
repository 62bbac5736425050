import { execa } from 'execa';
import fs from 'fs-extra';
import path from 'node:path';
import { SYSTEM_PYTHON } from './paths.js';

/** Compile a file with the Python mod_wsgi embeds; returns the error text, or '' when it compiles. */
export async function pythonCompileError(file: string, python = SYSTEM_PYTHON): Promise<string> {
  const program = 'import sys\nsrc = open(sys.argv[1], "rb").read()\ncompile(src, sys.argv[1], "exec")\n';
  const result = await execa(python, ['-c', program, file], { reject: false, stdin: 'ignore' });
  return result.exitCode === 0 ? '' : String(result.stderr);
}

/**
 * A virtualenv as `python3.Y -m venv DIR` leaves it for a Python 3.Y other than the one
 * mod_wsgi embeds, on a machine that has no such Python (Debian 12 ships one Python 3): made
 * by the system Python, then given the other minor version everywhere it is recorded, which
 * is all an interpreter (and smoke) can go by: pyvenv.cfg's version and executable,
 * lib/python3.Y/ and bin/python3.Y (the links then name a Python that is not installed here,
 * as they do on a machine whose python3.Y was removed). Y is the system's minor plus one.
 */
export async function otherMinorVenv(dir: string): Promise<{ venv: string; minor: string; sitePackages: string }> {
  await execa(SYSTEM_PYTHON, ['-m', 'venv', '--without-pip', dir], { stdin: 'ignore' });
  const cfgPath = path.join(dir, 'pyvenv.cfg');
  const cfg = await fs.readFile(cfgPath, 'utf8');
  const own = /^version\s*=\s*3\.(\d+)\.\d+/m.exec(cfg)?.[1];
  if (own === undefined) throw new Error(`no version = 3.X.Y in ${cfgPath}:\n${cfg}`);
  const ownMinor = `3.${own}`;
  const minor = `3.${Number(own) + 1}`;
  await fs.rename(path.join(dir, 'lib', `python${ownMinor}`), path.join(dir, 'lib', `python${minor}`));
  const bin = path.join(dir, 'bin');
  await fs.remove(path.join(bin, `python${ownMinor}`));
  await fs.remove(path.join(bin, 'python3'));
  await fs.symlink(path.join(path.dirname(SYSTEM_PYTHON), `python${minor}`), path.join(bin, 'python3'));
  await fs.symlink('python3', path.join(bin, `python${minor}`));
  await fs.writeFile(
    cfgPath,
    cfg
      .replace(/^version\s*=.*$/m, `version = ${minor}.0`)
      .replace(/^executable\s*=.*$/m, `executable = ${path.join(path.dirname(SYSTEM_PYTHON), `python${minor}`)}`)
      .replace(/^command\s*=.*$/m, `command = ${path.join(path.dirname(SYSTEM_PYTHON), `python${minor}`)} -m venv ${dir}`),
  );
  return { venv: dir, minor, sitePackages: path.join(dir, 'lib', `python${minor}`, 'site-packages') };
}
