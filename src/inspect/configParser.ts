import { keepBlock, knownBlock, type IniBlock } from './iniBlocks.js';

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
  // The option being read: its key, indentation and value, and where its line is (for an error
  // about it); `more` holds its continuation lines (most options have none, so no array is made).
  let key: string | null = null;
  let keyIndent = 0;
  let keyLine = 0;
  let keyStart = 0;
  let keyEnd = 0;
  let value = '';
  let more: string[] | null = null;
  // What this file has defined, for configparser's strict mode (Trac's): a section or an option
  // of a section defined twice is DuplicateSectionError / DuplicateOptionError. [DEFAULT] may
  // repeat, its options may not.
  // An option is checked as it is stored in the section being filled: no second map of 25
  // million keys for a parent directory, and no extra lookup per option.
  const sectionLines = new Map<string, number>();
  let headers = 0;
  // The block being read after a header, to be kept (iniBlocks.ts): where its text is, the
  // header's line, what the file had before it, and its options as they end.
  let block: { from: number; to: number; line: number; errors: number; headers: number; position: number; options: IniBlock['options'] } | null = null;
  let blockPosition = 0;

  const finishOption = () => {
    if (key === null || !current) return;
    if (more) {
      while (more.length > 0 && more[more.length - 1] === '') more.pop();
      if (more.length > 0) value += `\n${more.join('\n')}`;
    }
    storeOption(key, value, keyLine, keyStart, keyEnd);
    block?.options.push({ key, value, line: keyLine - block.line, start: keyStart - block.from, end: keyEnd - block.from });
    key = null;
    more = null;
  };

  /** Stores an option that ends, its line (for an error) at `start`..`end` in the text. */
  const storeOption = (name: string, optionValue: string, line: number, start: number, end: number) => {
    const size = current!.size;
    current!.set(name, optionValue);
    // A set that does not grow the section replaced an option this file already gave it.
    if (current!.size === size) {
      errors.push({ line: line + 1, text: text.slice(start, end), reason: `option "${name}" of [${currentName}] is defined again (DuplicateOptionError)` });
    }
  };

  /** The block being read ends here: kept when nothing in it depended on more than its text. */
  const endBlock = () => {
    if (block === null) return;
    if (errors.length === block.errors && headers === block.headers) {
      const body = text.slice(block.from, block.to);
      let lines = 0;
      for (let at = body.indexOf('\n'); at !== -1; at = body.indexOf('\n', at + 1)) lines++;
      keepBlock(body, { options: block.options, lines }, block.position);
    }
    block = null;
  };

  // Python reads the file as UTF-8, not UTF-8-SIG: a byte order mark is text before the first
  // header (MissingSectionHeaderError). Reported, then the rest is read without it so the other
  // findings still say something.
  if (text.charCodeAt(0) === 0xfeff) {
    errors.push({ line: 1, text: '', reason: 'the file starts with a UTF-8 byte order mark (BOM), which Python reads as text before the first [section] (MissingSectionHeaderError); save it as UTF-8 without BOM' });
    text = text.slice(1);
  }
  const odd = hasOddSpace(text);
  const strip = (part: string) => (odd ? part.replace(PY_STRIP, '') : part.trim());
  // Called for every line of every trac.ini of a parent directory (100,000 environments are
  // ~25 million lines): the text is read in place, line by line as split at \r\n, \r or \n,
  // without an array of lines. A line that starts with a printable ASCII character (nearly
  // all: options, headers, comments) is read from the text by position: a comment is skipped
  // unread, an option's name and value are its only strings. Any other line (indented, or
  // starting with another character) is trimmed whole, its indentation found from that.
  const length = text.length;
  // The next line end and delimiters at or after `start`, each found once.
  let nextLf = text.indexOf('\n');
  let nextCr = text.indexOf('\r');
  let nextEquals = text.indexOf('=');
  let nextColon = text.indexOf(':');
  // Blocks are found by "\n[": only in a file without carriage returns, and read alike only
  // where both languages strip the same characters.
  const byBlock = nextCr === -1 && !odd;
  // A block taken as kept: the lines the loop passes over, up to where it goes on.
  let skipLines = 0;
  let skipTo = -1;
  for (let index = 0, start = 0; ; index++) {
    if (nextLf !== -1 && nextLf < start) nextLf = text.indexOf('\n', start);
    if (nextCr !== -1 && nextCr < start) nextCr = text.indexOf('\r', start);
    const end = nextLf === -1 ? (nextCr === -1 ? length : nextCr) : nextCr === -1 || nextLf < nextCr ? nextLf : nextCr;
    readLine(index, start, end);
    if (skipTo !== -1) {
      index += skipLines;
      if (skipTo >= length) break;
      start = skipTo + 1;
      skipTo = -1;
      continue;
    }
    if (end === length) break;
    start = end + (text.charCodeAt(end) === 0x0d && text.charCodeAt(end + 1) === 0x0a ? 2 : 1);
  }

  function readLine(index: number, start: number, end: number): void {
    if (start === end) {
      if (key !== null) (more ??= []).push('');
      return;
    }
    const first = text.charCodeAt(start);
    if (first === 0x23 /* # */ || first === 0x3b /* ; */) return;
    if (!(first > 0x20 && first < 0x7f)) {
      readOtherLine(index, start, end);
      return;
    }
    // Not indented: it ends any value.
    finishOption();
    if (first === 0x5b /* [ */) {
      endBlock();
      if (readHeader(index, start, end, strip(text.slice(start, end)))) {
        if (byBlock && end < length) readBlock(index, end);
        return;
      }
    }
    // The delimiter is the first "=" or ":" of the line.
    if (nextEquals !== -1 && nextEquals < start) nextEquals = text.indexOf('=', start);
    if (nextColon !== -1 && nextColon < start) nextColon = text.indexOf(':', start);
    const equals = nextEquals !== -1 && nextEquals < end ? nextEquals : end;
    const delimiter = nextColon !== -1 && nextColon < equals ? nextColon : equals;
    readOption(index, start, end, delimiter === end ? -1 : delimiter - start, 0, start);
  }

  /** A line that starts with a space, a tab or any character other than printable ASCII. */
  function readOtherLine(index: number, start: number, end: number): void {
    const raw = text.slice(start, end);
    const stripped = strip(raw);
    if (stripped === '') {
      if (key !== null) (more ??= []).push('');
      return;
    }
    const first = stripped.charCodeAt(0);
    if (first === 0x23 /* # */ || first === 0x3b /* ; */) return;
    // Everything before the first character trim() kept is whitespace, so that character's
    // first occurrence is where the text starts.
    const indent = raw.charCodeAt(0) === first ? 0 : odd ? raw.search(PY_NONSPACE) : raw.indexOf(stripped.charAt(0));
    if (key !== null && indent > keyIndent) {
      (more ??= []).push(stripped);
      return;
    }
    finishOption();
    if (first === 0x5b /* [ */ && readHeader(index, start, end, stripped)) return;
    // The stripped line begins at `indent` in the line: its delimiter's offset, in the line.
    const delimiter = stripped.search(/[=:]/);
    readOption(index, start, end, delimiter, indent, start + indent);
  }

  /**
   * The lines after the header at line `index` (ending at `end`), up to the next line that
   * starts with "[": taken from a block kept (the loop then passes over them), or read and kept.
   */
  function readBlock(index: number, end: number): void {
    const next = text.indexOf('\n[', end);
    const to = next === -1 ? length : next;
    const position = blockPosition++;
    const known = knownBlock(text.slice(end, to), position);
    if (known === undefined) {
      block = { from: end, to, line: index, errors: errors.length, headers, position, options: [] };
      return;
    }
    for (const option of known.options) storeOption(option.key, option.value, index + option.line, end + option.start, end + option.end);
    skipLines = known.lines;
    skipTo = to;
  }

  /**
   * configparser matches headers on the stripped line: an indented "[trac]" that does not
   * continue a value is a header too. `.+` is greedy: "[a] b]" names the section "a] b".
   */
  function readHeader(index: number, start: number, end: number, stripped: string): boolean {
    const name = sectionName(stripped);
    if (name === null) return false;
    headers++;
    if (name !== DEFAULT_SECTION) {
      const before = sectionLines.get(name);
      if (before !== undefined) {
        errors.push({ line: index + 1, text: text.slice(start, end), reason: `section [${name}] is defined again (first at line ${before}; DuplicateSectionError)` });
      } else sectionLines.set(name, index + 1);
    }
    current = sections.get(name) ?? new Map<string, string>();
    currentName = name;
    sections.set(name, current);
    return true;
  }

  /**
   * An option line: `delimiter` is where its first "=" or ":" is in the stripped line (-1 for
   * none), which starts at `from` in the text, `indent` characters into the line.
   */
  function readOption(index: number, start: number, end: number, delimiter: number, indent: number, from: number): void {
    if (!current) {
      errors.push({ line: index + 1, text: text.slice(start, end), reason: 'option before the first [section]' });
      return;
    }
    if (delimiter <= 0) {
      errors.push({ line: index + 1, text: text.slice(start, end), reason: 'expected "name = value"' });
      return;
    }
    // Spaces and tabs next to the delimiter (whitespace to Python and JavaScript alike) are
    // passed over before taking the name and the value, which are then stripped as before.
    const at = from + delimiter;
    let nameEnd = at;
    while (nameEnd > from && isSpaceOrTab(text.charCodeAt(nameEnd - 1))) nameEnd--;
    let valueStart = at + 1;
    while (valueStart < end && isSpaceOrTab(text.charCodeAt(valueStart))) valueStart++;
    key = strip(text.slice(from, nameEnd)).toLowerCase();
    keyLine = index;
    keyStart = start;
    keyEnd = end;
    keyIndent = indent;
    value = strip(text.slice(valueStart, end));
  }

  finishOption();
  endBlock();
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

/**
 * The section a stripped line starting with "[" names, as /^\[(.+)\]/ finds it (null for none):
 * up to its last "]" (`.+` is greedy), unless a line separator (U+2028, U+2029), which `.`
 * does not cross, comes before: then the expression itself decides.
 */
function sectionName(stripped: string): string | null {
  const close = stripped.lastIndexOf(']');
  if (close < 2) return null;
  const name = stripped.slice(1, close);
  if (name.includes('\u2028') || name.includes('\u2029')) return /^\[(.+)\]/.exec(stripped)?.[1] ?? null;
  return name;
}

function isSpaceOrTab(code: number): boolean {
  return code === 0x20 || code === 0x09;
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
