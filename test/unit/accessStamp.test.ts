import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fingerprint } from '../../src/python/answerCache.js';

/**
 * The stamp of a path that matters only for who may write it (answerCache.ts accessStamp), on
 * real files of this machine's filesystem: a log file Trac appends to keeps its stamp; whatever
 * changes who may write it (inode, mode, owner, an ACL) changes it.
 */
const hasSetfacl = spawnSync('setfacl', ['--version'], { stdio: 'ignore' }).status === 0;
const isRoot = process.getuid?.() === 0;

let dir: string;
let log: string;
const stamp = () => fingerprint([], [], [log]);
const append = (text = 'INFO environment startup\n') => fs.appendFile(log, text);
/**
 * Past the clock tick of the last write: a change within the same tick would get the same
 * ctime as the write (kernels without fine-grained timestamps stamp both from a coarse clock).
 */
const nextTick = () => new Promise((resolve) => setTimeout(resolve, 30));
/** A change of the inode's metadata alone (ctime), as setfacl makes: owner set to what it is. */
const touchMetadata = async () => {
  await nextTick();
  const { uid, gid } = await fs.stat(log);
  await fs.chown(log, uid, gid);
};

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-access-stamp-'));
  log = path.join(dir, 'trac.log');
  await fs.writeFile(log, 'first line\n');
  await fs.chmod(log, 0o664);
  // Trac has written to it since its mode was set: the state a live log is in.
  await append();
});

afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe("a log file's access stamp", () => {
  it('stays the same while lines are appended (and when it is truncated in place, as copytruncate does)', async () => {
    const before = await stamp();
    for (let i = 0; i < 5; i++) await append();
    expect(await stamp()).toBe(before);
    await fs.truncate(log, 0);
    expect(await stamp()).toBe(before);
  });

  it('changes with its mode, also when a write follows', async () => {
    const before = await stamp();
    await fs.chmod(log, 0o644);
    expect(await stamp()).not.toBe(before);
    await append();
    expect(await stamp()).not.toBe(before);
  });

  it.runIf(isRoot)('changes with its owner or group, also when a write follows', async () => {
    const before = await stamp();
    await fs.chown(log, 4242, 4242);
    await append();
    expect(await stamp()).not.toBe(before);
  });

  it('changes when the file is replaced by another (logrotate: a new inode), also with the same mode and contents', async () => {
    const before = await stamp();
    const { mode } = await fs.stat(log);
    const next = path.join(dir, 'trac.log.new');
    await fs.writeFile(next, await fs.readFile(log));
    await fs.chmod(next, mode & 0o7777);
    await fs.rename(next, log);
    expect(await stamp()).not.toBe(before);
  });

  it.runIf(hasSetfacl)('changes when it gets an ACL (setfacl: mode, owner and size unchanged)', async () => {
    const before = await stamp();
    const was = await fs.stat(log);
    // Writing taken from one user: the mask stays rw- (the group's), so the mode does not move.
    await nextTick();
    const acl = spawnSync('setfacl', ['-m', 'u:nobody:r', log], { encoding: 'utf8' });
    expect(acl.status, acl.stderr).toBe(0);
    const now = await fs.stat(log);
    expect([now.mode, now.uid, now.gid, now.size, now.ino, now.blocks]).toEqual([was.mode, was.uid, was.gid, was.size, was.ino, was.blocks]);
    expect(await stamp()).not.toBe(before);
  });

  it('changes on a metadata change while its content time is set apart (touch -d), and also then', async () => {
    await fs.utimes(log, new Date(), new Date(Date.now() + 3_600_000));
    const before = await stamp();
    await touchMetadata();
    expect(await stamp()).not.toBe(before);
  });

  it('cannot tell an ACL change followed by a write from a write alone: the caller tests the access again (preflightCache.ts logStillWritable)', async () => {
    // The residual, stated: after the write the file's ctime is its mtime again, and nothing
    // else stat shows had moved.
    const before = await stamp();
    await touchMetadata();
    expect(await stamp()).not.toBe(before);
    await append();
    expect(await stamp()).toBe(before);
  });

  it('is "missing" for a log not made yet, and changes when it is made', async () => {
    await fs.rm(log);
    const before = await stamp();
    await fs.writeFile(log, '');
    expect(await stamp()).not.toBe(before);
  });
});

describe("a directory's access stamp", () => {
  const dirStamp = () => fingerprint([], [], [dir]);
  /** A change of the directory's metadata alone (ctime), as setfacl makes: owner set to what it is. */
  const touchDirMetadata = async () => {
    await nextTick();
    const { uid, gid } = await fs.stat(dir);
    await fs.chown(dir, uid, gid);
  };

  it('changes when an entry is made in it (its ctime counts, written or not)', async () => {
    const before = await dirStamp();
    await fs.writeFile(path.join(dir, 'trac.log.1'), '');
    expect(await dirStamp()).not.toBe(before);
  });

  it('changes with its mode, also when a new entry follows', async () => {
    const before = await dirStamp();
    await fs.chmod(dir, 0o750);
    expect(await dirStamp()).not.toBe(before);
    await fs.writeFile(path.join(dir, 'after'), '');
    expect(await dirStamp()).not.toBe(before);
  });

  it('changes on a change of its metadata alone, also when a new entry follows (its ctime is then its mtime again)', async () => {
    const before = await dirStamp();
    await touchDirMetadata();
    expect(await dirStamp()).not.toBe(before);
    await fs.writeFile(path.join(dir, 'after'), '');
    expect(await dirStamp()).not.toBe(before);
  });

  it.runIf(hasSetfacl)('changes when it gets an ACL (setfacl: mode and owner unchanged), also when a new entry follows', async () => {
    await fs.chmod(dir, 0o755);
    await fs.writeFile(path.join(dir, 'settled'), '');
    const before = await dirStamp();
    const was = await fs.stat(dir);
    await nextTick();
    const acl = spawnSync('setfacl', ['-m', 'u:nobody:r-x', dir], { encoding: 'utf8' });
    expect(acl.status, acl.stderr).toBe(0);
    const now = await fs.stat(dir);
    expect([now.mode, now.uid, now.gid, now.ino]).toEqual([was.mode, was.uid, was.gid, was.ino]);
    expect(await dirStamp()).not.toBe(before);
    await fs.mkdir(path.join(dir, 'r2'));
    expect(await dirStamp()).not.toBe(before);
  });

  it('of a world-writable sticky directory stays the same on a new entry or a metadata change (/tmp: mode and owner only)', async () => {
    await fs.chmod(dir, 0o1777);
    const before = await dirStamp();
    await touchDirMetadata();
    await fs.writeFile(path.join(dir, 'anyone'), '');
    expect(await dirStamp()).toBe(before);
    await fs.chmod(dir, 0o1775);
    expect(await dirStamp()).not.toBe(before);
  });
});
