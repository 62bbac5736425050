/**
 * A reader for the INI dialect of Python's configparser as Trac configures it
 * (trac/config.py UnicodeConfigParser): `=` or `:` delimiters, option names case-folded,
 * section names case-sensitive, full-line comments with `#` or `;`, continuation lines
 * indented deeper than the option, blank lines kept inside values and trimmed at their end,
 * no interpolation. The npm INI parsers follow PHP/Windows rules (no `:` delimiter, no
 * continuation lines), so they read trac.ini files wrongly. Where Trac's parser refuses the
 * file (strict mode's duplicate sections and options, a byte order mark, a line that is no
 * option), the line is in `errors`. Checked against Trac itself in test/unit/configParser.test.ts.
 */
export type IniSections = Map<string, Map<string, string>>;

export interface IniParseResult {
  sections: IniSections;
  /** Lines that configparser would reject, with their 1-based numbers. */
  errors: { line: number; text: string; reason: string }[];
}

/** The characters Python's str.strip() removes that JavaScript's trim() does not, and the one
 * (U+FEFF) trim() removes that Python keeps. Files without any are read with trim(). */
const ODD_SPACE = ['\ufeff', '\x85', '\x1c', '\x1d', '\x1e', '\x1f'];
/** One indexOf per character: 20-40 times faster than a regular expression's character class over a 6 KB file. */
const hasOddSpace = (text: string) => ODD_SPACE.some((c) => text.includes(c));
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');
const PY_NONSPACE = new RegExp(`[^${PY_SPACE}]`);

/** configparser's DEFAULTSECT: its options apply to every other section of the same file. */
export const DEFAULT_SECTION = 'DEFAULT';

export function parseIni(text: string): IniParseResult {
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

/** Case-sensitive section, case-insensitive option, as Trac looks them up. */
export function iniGet(sections: IniSections, section: string, key: string): string | undefined {
  return sections.get(section)?.get(key.toLowerCase());
}

/** Trac's boolean option values (trac/util/__init__.py as_bool): numbers, then words. */
export function iniBool(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  if (v !== '' && Number.isFinite(Number(v))) return Number(v) !== 0;
  if (['yes', 'true', 'enabled', 'on'].includes(v)) return true;
  if (['no', 'false', 'disabled', 'off'].includes(v)) return false;
  return undefined;
}

/**
 * Trac's list options and its [inherit] file (Configuration._get_parents): split at commas only
 * (a line break stays inside an item), items stripped, empty items dropped.
 */
export function iniList(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/**
 * Layer `over` on top of `base`, option by option: a file over the files it inherits (Trac's
 * Section.get asks the file's own parser first). Keys keep `base`'s order, then `over`'s new ones.
 */
export function mergeIni(base: IniSections, over: IniSections): IniSections {
  const merged: IniSections = new Map();
  for (const [name, options] of base) merged.set(name, new Map(options));
  for (const [name, options] of over) {
    const target = merged.get(name) ?? new Map<string, string>();
    for (const [k, v] of options) target.set(k, v);
    merged.set(name, target);
  }
  return merged;
}

/**
 * Add to `first` the options of `later` it does not have: of the files one [inherit] file names,
 * Trac's Section.get takes an option from the FIRST that has it (each with its own inherited files
 * behind it). Changes and returns `first`.
 */
export function fillIni(first: IniSections, later: IniSections): IniSections {
  for (const [name, options] of later) {
    const target = first.get(name);
    if (!target) {
      first.set(name, new Map(options));
      continue;
    }
    for (const [k, v] of options) if (!target.has(k)) target.set(k, v);
  }
  return first;
}
