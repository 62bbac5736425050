import { execa } from 'execa';
import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { ansibleProgram } from '../../src/fleet/ansibleTools.js';
import { runCli } from '../helpers/cli.js';
import { VENV } from '../helpers/paths.js';
import { tempDir } from '../helpers/tempDir.js';
import { initEnv } from '../helpers/tracEnv.js';

describe('fleet project against Ansible itself', () => {
  test('passes ansible-lint --profile production and ansible-playbook --syntax-check', async () => {
    const root = await tempDir();
    // Lint needs no database; one host may keep SQLite.
    const env = await initEnv(path.join(root, 'env'), 'Lint & <Check>');
    // A Subversion repository: the role gains its reachability check (linted too).
    await fs.appendFile(path.join(env, 'conf', 'trac.ini'), '\n[repositories]\n.dir = /srv/svn/main\n.type = svn\n');
    const inventory = path.join(root, 'hosts.ini');
    await fs.writeFile(inventory, '[trac_web]\nweb1 ansible_host=10.233.251.2\n');
    const out = path.join(root, 'project');
    const result = await runCli(['fleet', env, '--inventory', inventory, '--out', out, '--python-home', VENV, '--auth', 'basic', '--auth-user-file', inventory]);
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    const vars = await fs.readFile(path.join(out, 'roles/trac_deploy/vars/main.yml'), 'utf8');
    expect(vars).toContain('login challenge');
    expect(vars).toContain('"/srv/svn/main"');
    expect(vars).toContain('"python3-subversion"');
    expect(await fs.readFile(path.join(out, 'roles/trac_deploy/tasks/main.yml'), 'utf8')).toContain('Require every Subversion repository to be reachable');

    const lint = await execa(ansibleProgram('ansible-lint'), ['--offline', '--profile', 'production', '--nocolor'], { cwd: out, reject: false, stdin: 'ignore' });
    expect(`${lint.stdout}\n${lint.stderr}`).toMatch(/Profile 'production' was required, and it passed/);
    expect(lint.exitCode).toBe(0);

    const syntax = await execa(ansibleProgram('ansible-playbook'), ['-i', inventory, 'site.yml', '--syntax-check'], {
      cwd: out,
      reject: false,
      stdin: 'ignore',
      env: { ANSIBLE_CONFIG: path.join(out, 'ansible.cfg') },
    });
    expect(syntax.stderr).toBe('');
    expect(syntax.exitCode).toBe(0);

    // Run again: nothing changes, the archive (named by its content) is kept.
    const again = await runCli(['fleet', env, '--inventory', inventory, '--out', out, '--python-home', VENV, '--auth', 'basic', '--auth-user-file', inventory, '--check']);
    expect(again.code).toBe(0);
  }, 300_000);
});
