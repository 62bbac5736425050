import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listJournals, type Journal } from '../../src/apply/journal.js';
import { prepareStateDir } from '../../src/apply/stateDir.js';
import { resolveTarget, type ApacheTarget } from '../../src/apply/target.js';
import { tempDir } from '../helpers/tempDir.js';

/** A Debian-like tree as apply resolves it (so the test follows ApacheTarget's shape). */
async function targetIn(root: string, stateDir: string): Promise<ApacheTarget> {
  for (const d of ['conf-available', 'conf-enabled']) await fs.mkdirp(path.join(root, d));
  return resolveTarget({ apacheRoot: root, stateDir });
}

async function plant(stateDir: string, journal: Partial<Journal> & { id: string }): Promise<void> {
  const full: Journal = { kind: 'apply', status: 'in-progress', pid: 1, started: '', source: '', reloaded: false, entries: [], ...journal };
  await fs.outputFile(path.join(stateDir, 'transactions', journal.id, 'journal.json'), JSON.stringify(full));
}

describe('the state directory is trusted only when no one else can write it', () => {
  it('makes a missing one 0700, refuses one writable by its group or others, owned by another user, or a link', async () => {
    const dir = await tempDir();
    const state = path.join(dir, 'state');
    await prepareStateDir(state);
    expect((await fs.stat(state)).mode & 0o777).toBe(0o700);
    await fs.chmod(state, 0o770);
    await expect(prepareStateDir(state)).rejects.toThrow(/cannot be trusted: .* is writable by its group \(mode 770\)/);
    await fs.chmod(state, 0o757);
    await expect(prepareStateDir(state)).rejects.toThrow(/writable by everyone/);
    await fs.chmod(state, 0o755);
    await fs.chown(state, 33, 33);
    await expect(prepareStateDir(state)).rejects.toThrow(/owned by uid 33/);
    await fs.chown(state, 0, 0);
    await prepareStateDir(state);
    // a directory above it that others can write (not sticky) lets them swap the state dir
    const open = path.join(dir, 'open');
    await fs.mkdirp(path.join(open, 'state'));
    await fs.chmod(path.join(open, 'state'), 0o700);
    await fs.chmod(open, 0o777);
    await expect(prepareStateDir(path.join(open, 'state'))).rejects.toThrow(/cannot be trusted: .*open is writable by everyone/);
    await fs.symlink(state, path.join(dir, 'linked'));
    await expect(prepareStateDir(path.join(dir, 'linked'))).rejects.toThrow(/is a symbolic link/);
  });
});

describe('journals name only the Apache tree and their own backups', () => {
  it('refuses a planted journal that names a path elsewhere or a backup outside its directory', async () => {
    const dir = await tempDir();
    const state = path.join(dir, 'state');
    const target = await targetIn(path.join(dir, 'apache2'), state);
    await plant(state, { id: '20260101-000000000Z-1', entries: [{ path: '/root/.ssh/authorized_keys', before: { type: 'absent' }, after: { type: 'absent' } }] });
    await expect(listJournals(target)).rejects.toThrow(/names "\/root\/.ssh\/authorized_keys", outside .*conf-available/);
    await fs.remove(path.join(state, 'transactions'));
    await plant(state, {
      id: '20260101-000000000Z-2',
      entries: [{ path: path.join(target.installDir, 'x.conf'), before: { type: 'file', backup: '/etc/shadow', mode: 0o644 }, after: { type: 'absent' } }],
    });
    await expect(listJournals(target)).rejects.toThrow(/names the backup "\/etc\/shadow", outside its own directory/);
    await fs.remove(path.join(state, 'transactions'));
    await plant(state, { id: '20260101-000000000Z-3', entries: [{ path: path.join(target.installDir, '..', '..', 'etc', 'x.conf'), before: { type: 'absent' }, after: { type: 'absent' } }] });
    await expect(listJournals(target)).rejects.toThrow(/outside/);
    await fs.remove(path.join(state, 'transactions'));
    const ok = path.join(state, 'transactions', '20260101-000000000Z-4');
    await plant(state, { id: '20260101-000000000Z-4', entries: [{ path: path.join(target.enabledDir ?? '', 'x.conf'), before: { type: 'file', backup: path.join(ok, 'before-0'), mode: 0o644 }, after: { type: 'absent' } }] });
    expect((await listJournals(target)).map((j) => j.id)).toEqual(['20260101-000000000Z-4']);
  });
});
