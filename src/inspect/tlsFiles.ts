import fs from 'node:fs/promises';
import path from 'node:path';
import { reasonOf, usageError } from '../errors.js';

/** What was checked about the certificate and key, for the plan's notes. Nothing of the key itself. */
export interface TlsCheck {
  /** Sentences for the notes: what was checked, and what could not be. */
  notes: string[];
}

/** Groups that may read private keys: root's own and Debian's ssl-cert (/etc/ssl/private is 0710 root:ssl-cert). */
const KEY_GROUPS = new Set([0]);
const SSL_CERT_GROUP = 'ssl-cert';

/**
 * The certificate, chain and key of --tls-*: each a readable regular file (certbot's live/
 * symlinks followed: they point into its archive/), the key not readable by other users, not
 * encrypted, and belonging to the certificate. openssl compares the public keys; the private
 * key is read only by openssl, and nothing of it reaches any output. A key this user cannot
 * read is not refused (Apache reads it as root): the match is then reported as not checked.
 */
export async function checkTlsFiles(files: { cert: string; key: string; chain: string | null }, serverName: string): Promise<TlsCheck> {
  const notes: string[] = [];
  const certPem = await pemOf('--tls-cert', files.cert, 'x509');
  if (files.chain) await pemOf('--tls-chain', files.chain, 'x509');
  await refuseExposedKey(files.key);
  const expired = await openssl(['x509', '-in', files.cert, '-noout', '-checkend', '0']);
  if (expired.exitCode !== 0) notes.push(`--tls-cert ${files.cert} has expired: browsers will refuse the site until it is renewed`);
  const host = await openssl(['x509', '-in', files.cert, '-noout', '-checkhost', serverName]);
  if (!/does match/.test(host.stdout)) notes.push(`--tls-cert ${files.cert} does not name ${serverName}: browsers will warn; get a certificate for it (certbot certonly -d ${serverName})`);
  const keyPub = await openssl(['pkey', '-in', files.key, '-pubout', '-passin', 'pass:']);
  if (keyPub.exitCode !== 0) {
    const readable = await fs.access(files.key, fs.constants.R_OK).then(() => true, () => false);
    if (!readable) {
      notes.push(`--tls-key: not checked that it belongs to the certificate: this user cannot read ${files.key} (Apache reads it as root); run generate as root to check`);
      return { notes };
    }
    throw usageError(
      `--tls-key ${files.key} is not a private key openssl can read without a passphrase`,
      'Apache would stop at every start to ask for a passphrase. Give the unencrypted key (certbot: /etc/letsencrypt/live/NAME/privkey.pem),',
      `or decrypt it into a file only root can read: openssl pkey -in ENCRYPTED -out ${files.key}.plain && chmod 600 ${files.key}.plain`,
    );
  }
  if (keyPub.stdout.trim() !== certPem.trim()) {
    throw usageError(
      `--tls-key ${files.key} does not belong to --tls-cert ${files.cert} (their public keys differ)`,
      'Give the key the certificate was issued for: with certbot, fullchain.pem and privkey.pem from the same /etc/letsencrypt/live/NAME/ directory.',
    );
  }
  notes.push(`--tls-key belongs to --tls-cert (openssl compared their public keys); the key stays where it is and the configuration only names it`);
  return { notes };
}

/** A regular file (after symlinks) that openssl reads as a certificate; its public key as PEM. */
async function pemOf(flag: string, file: string, kind: 'x509'): Promise<string> {
  await regularFile(flag, file);
  const result = await openssl([kind, '-in', file, '-noout', '-pubkey']);
  if (result.exitCode !== 0) throw usageError(`${flag} ${file} is not a PEM certificate openssl can read`, 'Give the PEM file (certbot: /etc/letsencrypt/live/NAME/fullchain.pem, chain.pem).');
  return result.stdout;
}

async function regularFile(flag: string, file: string): Promise<void> {
  const stat = await fs.stat(file).catch((error: unknown) => {
    throw usageError(`${flag} ${file}: ${reasonOf(error)}`);
  });
  if (!stat.isFile()) throw usageError(`${flag} ${file} is not a regular file`);
}

/**
 * A key other users can read is refused: world-readable (mode o+r) with every directory above
 * it open to them, or group-readable by a group other than root and ssl-cert. certbot's
 * archive/ is 0700, so its older 0644 keys are not exposed.
 */
async function refuseExposedKey(key: string): Promise<void> {
  await regularFile('--tls-key', key);
  const real = await fs.realpath(key);
  const stat = await fs.stat(real);
  const mode = stat.mode & 0o777;
  const dirs = ancestors(real);
  const dirStats = await Promise.all(dirs.map((d) => fs.stat(d)));
  const fix = `chmod 600 ${key} (or chown root:${SSL_CERT_GROUP} and chmod 640), then run generate again`;
  if (mode & 0o004 && dirStats.every((d) => d.mode & 0o001)) {
    throw usageError(`--tls-key ${key} can be read by every user on this machine (mode ${mode.toString(8).padStart(4, '0')}); refusing to configure a key that is no longer private`, fix, 'Consider the key compromised if others had access: get a new certificate with a new key.');
  }
  if (mode & 0o040 && !KEY_GROUPS.has(stat.gid) && !(await isSslCertGroup(stat.gid)) && dirStats.every((d) => d.mode & 0o011)) {
    throw usageError(`--tls-key ${key} can be read by group ${stat.gid} (mode ${mode.toString(8).padStart(4, '0')}); refusing to configure a key that others can read`, fix);
  }
}

function ancestors(file: string): string[] {
  const out: string[] = [];
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    out.push(dir);
    if (dir === path.dirname(dir)) return out;
  }
}

async function isSslCertGroup(gid: number): Promise<boolean> {
  const groups = await fs.readFile('/etc/group', 'utf8').catch(() => '');
  return groups.split('\n').some((line) => {
    const [name, , id] = line.split(':');
    return name === SSL_CERT_GROUP && Number(id) === gid;
  });
}

/** openssl with no input and its output kept (only public material is ever asked for). */
async function openssl(args: string[]): Promise<{ exitCode: number; stdout: string }> {
  // Loaded when used: execa costs start-up time on every run that never calls it.
  const { execa } = await import('execa');
  const result = await execa('openssl', args, { reject: false, stdin: 'ignore', timeout: 20000 });
  if (result.failed && result.exitCode === undefined) throw usageError(`openssl could not be run (${result.shortMessage}); install it (Debian: apt-get install openssl)`);
  return { exitCode: result.exitCode ?? 1, stdout: String(result.stdout) };
}
