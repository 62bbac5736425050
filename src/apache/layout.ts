import fs from 'node:fs';
import { usageError } from '../errors.js';

/** Where Apache httpd and its modules live on this machine, and who its children run as. */
export interface ApacheLayout {
  family: 'debian' | 'rhel';
  /** The server binary (apache2 / httpd). */
  binary: string;
  /** The control script (apache2ctl / apachectl), which sources Debian's envvars. */
  ctl: string;
  modulesDir: string;
  user: string;
  group: string;
  mimeTypes: string | null;
  /** Debian's envvars, sourced before the binary is run (as apache2ctl does). */
  envvars?: string | null;
}

const CANDIDATES: ApacheLayout[] = [
  { family: 'debian', binary: '/usr/sbin/apache2', ctl: '/usr/sbin/apache2ctl', modulesDir: '/usr/lib/apache2/modules', user: 'www-data', group: 'www-data', mimeTypes: '/etc/mime.types', envvars: '/etc/apache2/envvars' },
  { family: 'rhel', binary: '/usr/sbin/httpd', ctl: '/usr/sbin/apachectl', modulesDir: '/usr/lib64/httpd/modules', user: 'apache', group: 'apache', mimeTypes: '/etc/mime.types' },
  { family: 'rhel', binary: '/usr/sbin/httpd', ctl: '/usr/sbin/apachectl', modulesDir: '/usr/lib/httpd/modules', user: 'apache', group: 'apache', mimeTypes: '/etc/mime.types' },
];

export function findApache(): ApacheLayout {
  for (const layout of CANDIDATES) {
    if (fs.existsSync(layout.binary) && fs.existsSync(layout.modulesDir)) {
      return {
        ...layout,
        mimeTypes: layout.mimeTypes && fs.existsSync(layout.mimeTypes) ? layout.mimeTypes : null,
        envvars: layout.envvars && fs.existsSync(layout.envvars) ? layout.envvars : null,
      };
    }
  }
  throw usageError(
    'Apache httpd was not found (looked for /usr/sbin/apache2 and /usr/sbin/httpd)',
    'Debian/Ubuntu: apt-get install apache2 libapache2-mod-wsgi-py3',
    'RHEL: dnf install httpd python3-mod_wsgi',
  );
}

/** "mod_auth_basic.so" -> "auth_basic_module". */
export function moduleIdentifier(file: string): string {
  return file.replace(/^mod_/, '').replace(/\.so$/, '') + '_module';
}

export function moduleAvailable(layout: ApacheLayout, name: string): boolean {
  return fs.existsSync(`${layout.modulesDir}/mod_${name}.so`);
}
