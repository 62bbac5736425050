import path from 'node:path';
import { apacheArg, apacheAuthName, apacheDirectory, apacheOption, apacheRequireExpr } from '../escape/apache.js';
import { apacheSubstitution } from '../escape/apacheRegex.js';
import { commentText } from '../escape/comment.js';
import { pyList, pyStr } from '../escape/python.js';
import { shWord, shWords } from '../escape/shell.js';
import type { RequireRule } from '../plan/types.js';

/**
 * The template helpers: small pure functions, each escaping for one target language on
 * purpose. Registered once on the private Handlebars instance in engine.ts.
 */
export const helpers = {
  /** A Python text literal. */
  py: (value: string) => pyStr(String(value)),
  pyList: (values: string[]) => pyList(values),
  /** Text for a `#` comment line in Python or Apache: printable, one line. */
  comment: (value: string) => commentText(String(value)),
  /** `# `-comment lines of at most `width` characters, each line after the first indented by `indent` spaces. */
  commentWrap: (value: string, prefix: string, width: number) => wrapComment(String(value), String(prefix), Number(width)),
  /** A double-quoted Apache argument. */
  apacheArg: (value: string) => apacheArg(String(value)),
  /** An AuthName realm: an ap_expr string in Apache 2.4, escaped so the browser sees it as given. */
  apacheAuthName: (value: string) => apacheAuthName(String(value)),
  /** A <Directory> path. */
  apacheDir: (value: string) => apacheDirectory(String(value)),
  /** A mod_wsgi key=value option. */
  apacheOption: (key: string, value: string | number) => apacheOption(String(key), String(value)),
  /** The arguments of a Require line, escaped as its provider reads them. */
  apacheRequire: (rule: RequireRule | string) => requireArgs(rule),
  /** An AliasMatch target: the directory taken literally, then the first back-reference. */
  apacheMatchTarget: (dir: string) => apacheArg(`${apacheSubstitution(String(dir))}$1`),
  /** A POSIX shell word, and a list of them joined by spaces (CI workflows). */
  sh: (value: string) => shWord(String(value)),
  shArgs: (values: string[]) => shWords(values.map(String)),
  basename: (value: string) => path.basename(String(value)),
  /** Join strings (the options hash Handlebars passes last is dropped). */
  concat: (...args: unknown[]) => args.slice(0, -1).map(String).join(''),
  join: (values: string[], separator: string) => values.map(String).join(String(separator)),
  eq: (a: unknown, b: unknown) => a === b,
  or: (...args: unknown[]) => args.slice(0, -1).some(Boolean),
  and: (...args: unknown[]) => args.slice(0, -1).every(Boolean),
} as const;

/**
 * group and ldap-group evaluate their argument as an ap_expr string (ldap-group takes the rest
 * of the line as one DN, unquoted); mod_authnz_sspi reads its arguments word by word, quoted.
 * A manifest written before the rule was data holds the line as text, already escaped: smoke
 * renders it as it is.
 */
function requireArgs(rule: RequireRule | string): string {
  if (typeof rule === 'string') return rule;
  switch (rule.kind) {
    case 'valid-user':
      return 'valid-user';
    case 'group':
      return `group ${apacheRequireExpr(rule.name, { quote: true })}`;
    case 'ldap-group':
      return `ldap-group ${apacheRequireExpr(rule.name, { quote: false })}`;
    case 'sspi-group':
      return `sspi-group ${apacheArg(rule.name)}`;
  }
}

/** Word-wrapped comment text: the first line starts with prefix, the rest with "#" and spaces to align. */
function wrapComment(text: string, prefix: string, width: number): string {
  const indent = `#${' '.repeat(Math.max(1, prefix.length - 1))}`;
  const lines: string[] = [];
  let line = prefix;
  for (const word of commentText(text).split(' ')) {
    const candidate = line.endsWith(' ') || line === prefix ? `${line}${word}` : `${line} ${word}`;
    if (candidate.length > width && line.trim() !== prefix.trim() && line !== indent) {
      lines.push(line);
      line = `${indent}${word}`;
    } else line = candidate;
  }
  lines.push(line);
  return lines.join('\n');
}
