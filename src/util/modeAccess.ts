/**
 * What a user may do to a file or directory by its permission bits alone (owner, group, other;
 * the first class that matches decides, as the kernel does). ACLs are not seen: a file an ACL
 * opens to the user counts as closed (the careful answer for deciding what to publish); an ACL
 * that closes a file the bits open is not seen either (see README, "deploy as root").
 */
export interface Reader {
  /** The user's name, for messages. */
  name: string;
  uid: number;
  gid: number;
  /** Supplementary groups (the primary one may be among them). */
  groups: readonly number[];
}

interface Bits {
  mode: number;
  uid: number;
  gid: number;
}

function allows(stat: Bits, reader: Reader, bit: 4 | 1): boolean {
  if (reader.uid === 0) return true;
  if (stat.uid === reader.uid) return ((stat.mode >> 6) & bit) !== 0;
  if (stat.gid === reader.gid || reader.groups.includes(stat.gid)) return ((stat.mode >> 3) & bit) !== 0;
  return (stat.mode & bit) !== 0;
}

/** READER may read the file (r). */
export function mayRead(stat: Bits, reader: Reader): boolean {
  return allows(stat, reader, 4);
}

/** READER may pass through the directory (x: search). */
export function maySearch(stat: Bits, reader: Reader): boolean {
  return allows(stat, reader, 1);
}

/** "mode 700, owner uid 0, group 0": what the bits were, for a message. */
export function bitsText(stat: Bits): string {
  return `mode ${(stat.mode & 0o7777).toString(8)}, owner uid ${stat.uid}, group ${stat.gid}`;
}
