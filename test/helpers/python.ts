import { execa } from 'execa';
import { SYSTEM_PYTHON } from './paths.js';

/** Compile a file with the Python mod_wsgi embeds; returns the error text, or '' when it compiles. */
export async function pythonCompileError(file: string, python = SYSTEM_PYTHON): Promise<string> {
  const program = 'import sys\nsrc = open(sys.argv[1], "rb").read()\ncompile(src, sys.argv[1], "exec")\n';
  const result = await execa(python, ['-c', program, file], { reject: false, stdin: 'ignore' });
  return result.exitCode === 0 ? '' : String(result.stderr);
}
