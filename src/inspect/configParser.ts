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
  let option: { key: string; indent: number; lines: string[] } | null = null;

  const finishOption = () => {
    if (!option || !current) return;
    while (option.lines.length > 1 && option.lines[option.lines.length - 1] === '') option.lines.pop();
    current.set(option.key, option.lines.join('\n'));
    option = null;
  };

  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  lines.forEach((raw, index) => {
    const stripped = raw.trim();
    const indent = raw.length - raw.trimStart().length;
    if (stripped.startsWith('#') || stripped.startsWith(';')) return;
    if (stripped === '') {
      if (option) option.lines.push('');
      return;
    }
    if (option && indent > option.indent) {
      option.lines.push(stripped);
      return;
    }
    finishOption();
    const header = /^\[([^\]]+)\]/.exec(stripped);
    if (header && indent === 0) {
      const name = header[1] ?? '';
      current = sections.get(name) ?? new Map<string, string>();
      sections.set(name, current);
      return;
    }
    if (!current) {
      errors.push({ line: index + 1, text: raw, reason: 'option before the first [section]' });
      return;
    }
    const delimiter = stripped.search(/[=:]/);
    if (delimiter <= 0) {
      errors.push({ line: index + 1, text: raw, reason: 'expected "name = value"' });
      return;
    }
    const key = stripped.slice(0, delimiter).trim().toLowerCase();
    const value = stripped.slice(delimiter + 1).trim();
    option = { key, indent, lines: [value] };
  });
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
