/**
 * A reader for the INI dialect of Python's configparser as Trac configures it
 * (trac/config.py UnicodeConfigParser): `=` or `:` delimiters, option names case-folded,
 * section names case-sensitive, full-line comments with `#` or `;`, continuation lines
 * indented deeper than the option, blank lines kept inside values and trimmed at their end,
 * no interpolation. The npm INI parsers follow PHP/Windows rules (no `:` delimiter, no
 * continuation lines), so they read trac.ini files wrongly.
 */
export type IniSections = Map<string, Map<string, string>>;

export interface IniParseResult {
  sections: IniSections;
  /** Lines that configparser would reject, with their 1-based numbers. */
  errors: { line: number; text: string; reason: string }[];
}

export function parseIni(text: string): IniParseResult {
  const sections: IniSections = new Map();
  const errors: IniParseResult['errors'] = [];
  let current: Map<string, string> | null = null;
  // The option being read: its key, indentation and value; `more` holds its continuation lines
  // (most options have none, so no array is made for them).
  let key: string | null = null;
  let keyIndent = 0;
  let value = '';
  let more: string[] | null = null;

  const finishOption = () => {
    if (key === null || !current) return;
    if (more) {
      while (more.length > 0 && more[more.length - 1] === '') more.pop();
      if (more.length > 0) value += `\n${more.join('\n')}`;
    }
    current.set(key, value);
    key = null;
    more = null;
  };

  // Called for every line of every trac.ini of a parent directory (100,000 environments are
  // ~25 million lines): one trim per line, the indentation found from it, regular expressions
  // only where a line can be a header or an option.
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index] as string;
    const stripped = raw.trim();
    if (stripped === '') {
      if (key !== null) (more ??= []).push('');
      continue;
    }
    const first = stripped.charCodeAt(0);
    if (first === 0x23 /* # */ || first === 0x3b /* ; */) continue;
    // Everything before the first character trim() kept is whitespace, so that character's
    // first occurrence is where the text starts.
    const indent = raw.charCodeAt(0) === first ? 0 : raw.indexOf(stripped.charAt(0));
    if (key !== null && indent > keyIndent) {
      (more ??= []).push(stripped);
      continue;
    }
    finishOption();
    if (indent === 0 && first === 0x5b /* [ */) {
      const header = /^\[([^\]]+)\]/.exec(stripped);
      if (header) {
        const name = header[1] ?? '';
        current = sections.get(name) ?? new Map<string, string>();
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
    key = stripped.slice(0, delimiter).trim().toLowerCase();
    keyIndent = indent;
    value = stripped.slice(delimiter + 1).trim();
  }
  finishOption();
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

/** Trac's list options: comma-separated, items stripped, empty items dropped. */
export function iniList(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(/[,\n]/)
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Layer `over` on top of `base`, option by option (for [inherit] file). */
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
