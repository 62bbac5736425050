import { execa } from 'execa';
import fs from 'fs-extra';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { sleep } from './ownedServer.js';

/**
 * A fleet test bed, built and torn down by the test: web hosts, each in its own network
 * namespace on a bridge the bed makes (10.233.<n>.0/24, an address range that exists only
 * there), each with its own mount namespace (its own /etc/apache2, /var/lib/apache2,
 * /var/log/apache2 and /srv over per-host directories, its own /run and /tmp), running its own sshd and
 * Apache; a further namespace runs PostgreSQL. The environments sit in one directory every host
 * sees at the same path, as shared storage would. Ansible reaches the hosts over SSH with a key
 * the bed makes. Nothing here talks to any address but the bed's own.
 */
export interface FleetBed {
  root: string;
  /** Where the environments live, the same path on every host. */
  shared: string;
  subnet: string;
  hosts: BedHost[];
  db: { address: string; port: number; sql(statement: string, database?: string): Promise<string> };
  /** A YAML inventory for ansible-playbook: group trac_web, the bed's SSH key, no sudo, no PyPI. */
  inventory: string;
  /** Environment for ansible-playbook runs against the bed (its temp and control dirs). */
  ansibleEnv: Record<string, string>;
  /** Run a command inside a host (its network and mount namespaces). */
  exec(host: BedHost, command: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  teardown(): Promise<void>;
}

export interface BedHost {
  name: string;
  address: string;
  netns: string;
  /** The per-host directories bound over /etc/apache2 and friends, as seen from the root namespace. */
  dirs: { etcApache: string; srv: string; log: string };
  sshdPid: number;
}

const PG_BIN = process.env.TRAC_DEPLOY_PG_BIN ?? '/usr/lib/postgresql/15/bin';
export const WHEELS = process.env.TRAC_DEPLOY_WHEELS ?? '/opt/trac-deploy/wheels';

async function run(file: string, args: string[], options: { reject?: boolean } = {}) {
  const result = await execa(file, args, { reject: false, stdin: 'ignore', all: true });
  if (options.reject !== false && result.exitCode !== 0) throw new Error(`${file} ${args.join(' ')}: exit ${result.exitCode}: ${result.all}`);
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** A /24 in 10.233.0.0/16 that no interface or route of this machine uses yet. */
async function freeSubnet(): Promise<number> {
  const routes = (await run('ip', ['-4', 'route', 'show', 'table', 'all'])).stdout + (await run('ip', ['-4', 'addr'])).stdout;
  for (let tries = 0; tries < 50; tries++) {
    const n = 100 + Math.floor(Math.random() * 150);
    if (!routes.includes(`10.233.${n}.`)) return n;
  }
  throw new Error('no free 10.233.x.0/24 for the fleet bed');
}

export async function startFleetBed(options: { hosts?: number } = {}): Promise<FleetBed> {
  const count = options.hosts ?? 3;
  const tag = randomBytes(3).toString('hex');
  const n = await freeSubnet();
  const subnet = `10.233.${n}`;
  const bridge = `tdb${tag}`;
  // Under /var/tmp: each host gets a /tmp of its own (a tmpfs), as separate machines have.
  const root = await fs.mkdtemp(path.join('/var/tmp', 'trac-deploy-fleet-bed-'));
  await fs.chmod(root, 0o755);
  const netnses: string[] = [];
  const hosts: BedHost[] = [];
  let torn = false;

  const teardown = async () => {
    if (torn) return;
    torn = true;
    // Every process in the bed's namespaces is ours: sshd, Apache, PostgreSQL, their children.
    for (const signal of ['TERM', 'KILL']) {
      for (const ns of netnses) {
        const pids = (await run('ip', ['netns', 'pids', ns], { reject: false })).stdout.split(/\s+/).filter(Boolean);
        if (pids.length) await run('kill', [`-${signal}`, ...pids], { reject: false });
      }
      if (signal === 'TERM') await waitEmpty(netnses, 15_000);
    }
    for (const ns of netnses) await run('ip', ['netns', 'del', ns], { reject: false });
    await run('ip', ['link', 'del', bridge], { reject: false });
    // The mounts lived in the hosts' private mount namespaces, gone with their processes.
    await fs.remove(root);
  };
  const onExit = () => {
    // Last resort when the test process dies without afterAll: synchronous clean-up.
    if (torn) return;
    for (const ns of netnses) {
      try {
        const pids = String(execFileSync('ip', ['netns', 'pids', ns])).split(/\s+/).filter(Boolean);
        if (pids.length) execFileSync('kill', ['-KILL', ...pids]);
        execFileSync('ip', ['netns', 'del', ns]);
      } catch {
        /* already gone */
      }
    }
    try {
      execFileSync('ip', ['link', 'del', bridge]);
    } catch {
      /* already gone */
    }
    fs.removeSync(root);
  };
  process.once('exit', onExit);

  try {
    await run('ip', ['link', 'add', bridge, 'type', 'bridge']);
    await run('ip', ['addr', 'add', `${subnet}.1/24`, 'dev', bridge]);
    await run('ip', ['link', 'set', bridge, 'up']);

    const addNamespace = async (suffix: string, address: string) => {
      const ns = `tdf${tag}-${suffix}`;
      await run('ip', ['netns', 'add', ns]);
      netnses.push(ns);
      const outer = `v${tag}${suffix}`.slice(0, 15);
      const inner = `i${tag}${suffix}`.slice(0, 15);
      await run('ip', ['link', 'add', outer, 'type', 'veth', 'peer', 'name', inner]);
      await run('ip', ['link', 'set', inner, 'netns', ns]);
      await run('ip', ['link', 'set', outer, 'master', bridge]);
      await run('ip', ['link', 'set', outer, 'up']);
      await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      await run('ip', ['-n', ns, 'addr', 'add', `${address}/24`, 'dev', inner]);
      await run('ip', ['-n', ns, 'link', 'set', inner, 'up']);
      return ns;
    };

    // SSH: one client key for the test, a host key per host.
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'trac-deploy fleet bed', '-f', path.join(root, 'id_ed25519')]);
    await fs.copy(path.join(root, 'id_ed25519.pub'), path.join(root, 'authorized_keys'));
    const shared = path.join(root, 'shared');
    await fs.mkdirp(shared);
    await fs.chmod(shared, 0o755);

    // PostgreSQL in its own namespace.
    const dbAddress = `${subnet}.5`;
    const dbNs = await addNamespace('db', dbAddress);
    const pgRoot = path.join(root, 'pg');
    await fs.mkdirp(path.join(pgRoot, 'sock'));
    await run('chown', ['-R', 'postgres:postgres', pgRoot]);
    await run('runuser', ['-u', 'postgres', '--', path.join(PG_BIN, 'initdb'), '-D', path.join(pgRoot, 'data'), '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8']);
    await fs.appendFile(path.join(pgRoot, 'data', 'pg_hba.conf'), `host all all ${subnet}.0/24 scram-sha-256\n`);
    const pg = execa('ip', ['netns', 'exec', dbNs, 'runuser', '-u', 'postgres', '--', path.join(PG_BIN, 'postgres'), '-D', path.join(pgRoot, 'data'),
      '-c', `listen_addresses=${dbAddress}`, '-c', 'port=5432', '-c', `unix_socket_directories=${path.join(pgRoot, 'sock')}`, '-c', 'max_connections=100', '-c', 'fsync=off'],
      { reject: false, stdin: 'ignore', stdout: 'ignore', stderr: 'ignore', detached: false });
    void pg;
    const sql = async (statement: string, database = 'postgres') =>
      (await run('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', path.join(pgRoot, 'sock'), '-p', '5432', '-U', 'postgres', '-d', database, '-c', statement])).stdout.trim();
    await waitFor(async () => (await run(path.join(PG_BIN, 'pg_isready'), ['-q', '-h', path.join(pgRoot, 'sock'), '-p', '5432'], { reject: false })).exitCode === 0, 60_000, 'PostgreSQL');

    for (let i = 1; i <= count; i++) {
      const name = `web${i}`;
      const address = `${subnet}.${10 + i}`;
      const ns = await addNamespace(`h${i}`, address);
      const dir = path.join(root, name);
      const dirs = { etcApache: path.join(dir, 'etc-apache2'), varLib: path.join(dir, 'var-lib-apache2'), srv: path.join(dir, 'srv'), log: path.join(dir, 'log-apache2') };
      await fs.mkdirp(dir);
      await run('cp', ['-a', '/etc/apache2', dirs.etcApache]);
      await run('cp', ['-a', '/var/lib/apache2', dirs.varLib]);
      // Only Debian's own sites and confs: nothing another test left in the real /etc/apache2.
      await fs.mkdirp(dirs.srv);
      await fs.mkdirp(dirs.log);
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'ssh_host_ed25519_key')]);
      const sshdConfig = path.join(dir, 'sshd_config');
      await fs.writeFile(
        sshdConfig,
        [
          `ListenAddress ${address}`,
          'Port 22',
          `HostKey ${path.join(dir, 'ssh_host_ed25519_key')}`,
          `PidFile ${path.join(dir, 'sshd.pid')}`,
          `AuthorizedKeysFile ${path.join(root, 'authorized_keys')}`,
          'PermitRootLogin prohibit-password',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'UsePAM no',
          'StrictModes no',
          'Subsystem sftp /usr/lib/openssh/sftp-server',
          '',
        ].join('\n'),
      );
      // Its own view of the filesystem, then sshd in the foreground as the namespace's anchor.
      const script = [
        'set -e',
        'mount -t tmpfs -o mode=755 tmpfs /run',
        'mkdir -p /run/sshd /run/apache2 /run/lock',
        'mount -t tmpfs -o mode=1777 tmpfs /tmp',
        `mount --bind ${q(dirs.etcApache)} /etc/apache2`,
        `mount --bind ${q(dirs.varLib)} /var/lib/apache2`,
        `mount --bind ${q(dirs.log)} /var/log/apache2`,
        `mount --bind ${q(dirs.srv)} /srv`,
        `exec /usr/sbin/sshd -D -e -f ${q(sshdConfig)}`,
      ].join('\n');
      const child = execa('ip', ['netns', 'exec', ns, 'unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', script], {
        reject: false,
        stdin: 'ignore',
        stdout: 'ignore',
        stderr: 'ignore',
      });
      const host: BedHost = { name, address, netns: ns, dirs, sshdPid: 0 };
      await waitFor(() => bashTcp(ns, address), 30_000, `sshd on ${name}`);
      host.sshdPid = child.pid ?? 0;
      hosts.push(host);
    }

    const bedExec = async (host: BedHost, command: string[]) => run('nsenter', ['-t', String(await anchorPid(host)), '-m', '-n', '--', ...command], { reject: false });
    // Each host's Apache, as its init would start it: Debian's default site, nothing of Trac's.
    for (const host of hosts) {
      const started = await bedExec(host, ['apache2ctl', 'start']);
      if (started.exitCode !== 0) throw new Error(`Apache on ${host.name}: ${started.stdout}${started.stderr}`);
    }
    for (const host of hosts) await waitFor(async () => (await curl(`http://${host.address}/`)).status > 0, 30_000, `Apache on ${host.name}`);

    const inventory = path.join(root, 'inventory.yml');
    await fs.writeFile(inventory, inventoryYaml(hosts, root));
    const ansibleEnv = {
      ANSIBLE_LOCAL_TEMP: path.join(root, 'ansible-local'),
      ANSIBLE_SSH_CONTROL_PATH_DIR: path.join(root, 'cp'),
      ANSIBLE_HOST_KEY_CHECKING: 'False',
      ANSIBLE_NOCOLOR: '1',
    };
    return {
      root,
      shared,
      subnet,
      hosts,
      db: { address: dbAddress, port: 5432, sql },
      inventory,
      ansibleEnv,
      exec: bedExec,
      teardown: async () => {
        process.removeListener('exit', onExit);
        await teardown();
      },
    };
  } catch (error) {
    process.removeListener('exit', onExit);
    await teardown();
    throw error;
  }
}

function inventoryYaml(hosts: BedHost[], root: string): string {
  const lines = ['trac_web:', '  hosts:'];
  for (const h of hosts) lines.push(`    ${h.name}:`, `      ansible_host: "${h.address}"`);
  lines.push(
    '  vars:',
    '    ansible_user: root',
    '    ansible_become: false',
    `    ansible_ssh_private_key_file: "${path.join(root, 'id_ed25519')}"`,
    "    ansible_ssh_common_args: '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR'",
    '    ansible_python_interpreter: /usr/bin/python3',
    '    ansible_remote_tmp: /srv/.ansible-tmp',
    '    trac_deploy_reload_with: apache2ctl',
    '    trac_deploy_apt_update_cache: false',
    `    trac_deploy_pip_extra_args: "--no-index --find-links=${WHEELS}"`,
    '',
  );
  return lines.join('\n');
}

/** The sshd of a host: the process whose namespaces are the host's. */
async function anchorPid(host: BedHost): Promise<number> {
  const pids = (await run('ip', ['netns', 'pids', host.netns])).stdout.split(/\s+/).filter(Boolean).map(Number);
  for (const pid of pids) {
    const comm = (await fs.readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
    if (comm === 'sshd') return pid;
  }
  throw new Error(`${host.name}: its sshd is not running`);
}

async function bashTcp(ns: string, address: string): Promise<boolean> {
  return (await run('ip', ['netns', 'exec', ns, 'bash', '-c', `exec 3<>/dev/tcp/${address}/22`], { reject: false })).exitCode === 0;
}

/** An HTTP request from the root namespace to a bed address (never anywhere else). */
export async function curl(url: string, extra: string[] = []): Promise<{ status: number; body: string; headers: string }> {
  if (!/^https?:\/\/10\.233\./.test(url)) throw new Error(`the fleet bed only talks to its own addresses, not ${url}`);
  const result = await execa('curl', ['-s', '-S', '--max-time', '60', '--noproxy', '*', '-D', '-', '-o', '-', ...extra, url], { reject: false, stdin: 'ignore' });
  const text = String(result.stdout);
  const split = text.indexOf('\r\n\r\n');
  const headers = split >= 0 ? text.slice(0, split) : '';
  const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(headers)?.[1] ?? 0);
  return { status, headers, body: split >= 0 ? text.slice(split + 4) : '' };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(200);
  }
  throw new Error(`${what} did not come up within ${timeoutMs / 1000} s`);
}

async function waitEmpty(netnses: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let any = false;
    for (const ns of netnses) if ((await run('ip', ['netns', 'pids', ns], { reject: false })).stdout.trim()) any = true;
    if (!any) return;
    await sleep(200);
  }
}

function q(text: string): string {
  return `'${text.replace(/'/g, "'\\''")}'`;
}
