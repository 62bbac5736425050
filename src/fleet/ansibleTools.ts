import fs from 'node:fs';
import path from 'node:path';

/** Where setup.sh installs the pinned Ansible and ansible-lint: their own virtualenv. */
export const DEFAULT_ANSIBLE_BIN = '/opt/trac-deploy/ansible/bin';

/**
 * The path of one of Ansible's programs (ansible-playbook, ansible-inventory, ansible-lint):
 * $TRAC_DEPLOY_ANSIBLE_BIN, else setup.sh's virtualenv, else the name for PATH to find.
 */
export function ansibleProgram(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.TRAC_DEPLOY_ANSIBLE_BIN ?? DEFAULT_ANSIBLE_BIN;
  const candidate = path.join(dir, name);
  return fs.existsSync(candidate) ? candidate : name;
}
