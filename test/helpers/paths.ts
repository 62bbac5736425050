import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURES = path.join(ROOT, 'fixtures');
export const CLI = path.join(ROOT, 'bin', 'trac-deploy.js');
/**
 * The Trac 1.6 virtualenv scripts/setup.sh makes from /usr/bin/python3. It lives outside the
 * checkout so that the Apache user can always reach it, wherever the checkout is.
 */
export const VENV = process.env.TRAC_DEPLOY_VENV ?? '/opt/trac-deploy/venv';
export const TRAC_ADMIN = path.join(VENV, 'bin', 'trac-admin');
/** The interpreter Debian's mod_wsgi embeds. */
export const SYSTEM_PYTHON = '/usr/bin/python3';
