import { DEFAULT_SECTION, type IniParseResult, type IniSections } from '../../src/inspect/configParser.js';

/**
 * parseIni as it read trac.ini line by line (split at line ends, each line trimmed) before it
 * scanned the text in place: kept as the specification the faster reading must match, answer
 * for answer (test/unit/configParserFastPath.test.ts). Checked against Trac itself through
 * test/unit/configParser.test.ts and tracIniAsTrac.test.ts when it was the parser.
 */
const ODD_SPACE = ['\ufeff', '\x85', '\x1c', '\x1d', '\x1e', '\x1f'];
const hasOddSpace = (text: string) => ODD_SPACE.some((c) => text.includes(c));
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');
const PY_NONSPACE = new RegExp(`[^${PY_SPACE}]`);

export function lineByLineIni(text: string): IniParseResult {
  const sections: IniSections = new Map();
  const errors: IniParseResult['errors'] = [];
  let current: Map<string, string> | null = null;
  let currentName = '';
  // The option being read: its key, indentation and value; `more` holds its continuation lines
  // (most options have none, so no array is made for them).
  let key: string | null = null;
  let keyIndent = 0;
  let keyLine = 0;
  let value = '';
  let more: string[] | null = null;
  // What this file has defined, for configparser's strict mode (Trac's): a section or an option
  // of a section defined twice is DuplicateSectionError / DuplicateOptionError. [DEFAULT] may
  // repeat, its options may not.
  // An option is checked as it is stored in the section being filled: no second map of 25
  // million keys for a parent directory, and no extra lookup per option.
  const sectionLines = new Map<string, number>();

  const finishOption = () => {
    if (key === null || !current) return;
    if (more) {
      while (more.length > 0 && more[more.length - 1] === '') more.pop();
      if (more.length > 0) value += `\n${more.join('\n')}`;
    }
    const size = current.size;
    current.set(key, value);
    // A set that does not grow the section replaced an option this file already gave it.
    if (current.size === size) {
      errors.push({ line: keyLine + 1, text: lines[keyLine] as string, reason: `option "${key}" of [${currentName}] is defined again (DuplicateOptionError)` });
    }
    key = null;
    more = null;
  };

  // Python reads the file as UTF-8, not UTF-8-SIG: a byte order mark is text before the first
  // header (MissingSectionHeaderError). Reported, then the rest is read without it so the other
  // findings still say something.
  if (text.charCodeAt(0) === 0xfeff) {
    errors.push({ line: 1, text: '', reason: 'the file starts with a UTF-8 byte order mark (BOM), which Python reads as text before the first [section] (MissingSectionHeaderError); save it as UTF-8 without BOM' });
    text = text.slice(1);
  }
  const odd = hasOddSpace(text);
  // Called for every line of every trac.ini of a parent directory (100,000 environments are
  // ~25 million lines): one trim per line, the indentation found from it, regular expressions
  // only where a line can be a header or an option.
  const lines = text.split(/\r\n|\r|\n/);
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index] as string;
    const stripped = odd ? raw.replace(PY_STRIP, '') : raw.trim();
    if (stripped === '') {
      if (key !== null) (more ??= []).push('');
      continue;
    }
    const first = stripped.charCodeAt(0);
    if (first === 0x23 /* # */ || first === 0x3b /* ; */) continue;
    // Everything before the first character trim() kept is whitespace, so that character's
    // first occurrence is where the text starts.
    const indent = raw.charCodeAt(0) === first ? 0 : odd ? raw.search(PY_NONSPACE) : raw.indexOf(stripped.charAt(0));
    if (key !== null && indent > keyIndent) {
      (more ??= []).push(stripped);
      continue;
    }
    finishOption();
    // configparser matches headers on the stripped line: an indented "[trac]" that does not
    // continue a value is a header too. `.+` is greedy: "[a] b]" names the section "a] b".
    if (first === 0x5b /* [ */) {
      const header = /^\[(.+)\]/.exec(stripped);
      if (header) {
        const name = header[1] ?? '';
        if (name !== DEFAULT_SECTION) {
          const before = sectionLines.get(name);
          if (before !== undefined) {
            errors.push({ line: index + 1, text: raw, reason: `section [${name}] is defined again (first at line ${before}; DuplicateSectionError)` });
          } else sectionLines.set(name, index + 1);
        }
        current = sections.get(name) ?? new Map<string, string>();
        currentName = name;
        sections.set(name, current);
        continue;
      }
    }
    if (!current) {
      errors.push({ line: index + 1, text: raw, reason: 'option before the first [section]' });
      continue;
    }
    const delimiter = stripped.search(/[=:]/);
    if (delimiter <= 0) {
      errors.push({ line: index + 1, text: raw, reason: 'expected "name = value"' });
      continue;
    }
    key = (odd ? stripped.slice(0, delimiter).replace(PY_STRIP, '') : stripped.slice(0, delimiter).trim()).toLowerCase();
    keyLine = index;
    keyIndent = indent;
    value = odd ? stripped.slice(delimiter + 1).replace(PY_STRIP, '') : stripped.slice(delimiter + 1).trim();
  }
  finishOption();
  // A duplicate option is found when its value ends, maybe after a later line's error.
  if (errors.length > 1) errors.sort((a, b) => a.line - b.line);
  const defaults = sections.get(DEFAULT_SECTION);
  if (defaults && defaults.size > 0) {
    // ConfigParser.get/has_option/options: a section's own option, else [DEFAULT]'s, for the
    // sections this file has (not for sections only an inherited file has).
    for (const [name, options] of sections) {
      if (name === DEFAULT_SECTION) continue;
      for (const [k, v] of defaults) if (!options.has(k)) options.set(k, v);
    }
  }
  return { sections, errors };
}

