import fs from 'node:fs';
import path from 'node:path';
import type { GenerateOptions } from '../plan/options.js';

/**
 * Answers that name a file Apache will read: checked at their question, so a wrong path is
 * asked again with the reason instead of failing after every other question.
 */
export const FILE_ANSWERS: Partial<Record<keyof GenerateOptions, { flag: string; what: string; make: string; optional: boolean }>> = {
  authUserFile: { flag: '--auth-user-file', what: 'the htpasswd or htdigest file', make: 'htpasswd -c FILE USER (basic) or htdigest -c FILE REALM USER (digest)', optional: false },
  authGroupFile: { flag: '--auth-group-file', what: 'the group file', make: 'a text file of lines "group: user1 user2"', optional: false },
  authKeytab: { flag: '--auth-keytab', what: 'the keytab', make: 'ktutil, or ask your KDC administrator for the HTTP/ service key', optional: true },
  authLdapBindPasswordFile: { flag: '--auth-ldap-bind-password-file', what: 'the file holding the bind password', make: 'printf %s PASSWORD > FILE; chmod 600 FILE', optional: true },
};

/**
 * Why a file answer cannot be used, or null: it must exist, be a regular file (after links,
 * as Apache opens it) and be readable. Bounded: one stat and one access check, no read.
 */
export function fileAnswerProblem(key: keyof GenerateOptions, value: string): string | null {
  const spec = FILE_ANSWERS[key];
  if (!spec) return null;
  if (value.trim() === '') return spec.optional ? null : `${spec.flag}: give the path of ${spec.what} (make one with ${spec.make})`;
  const file = path.resolve(value);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return `${spec.flag} ${file}: no such file; give the path of ${spec.what} (make one with ${spec.make})`;
  }
  if (!stat.isFile()) return `${spec.flag} ${file} is not a regular file; give the path of ${spec.what}`;
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch {
    return `${spec.flag} ${file} cannot be read (permission denied); fix its permissions or give another file`;
  }
  return null;
}
