/**
 * JSON.stringify(value, null, 2), in pieces: the top-level object's members one by one, and
 * each element of its arrays on its own (inspect --json of 100,000 environments is ~100 MB of
 * text, which then never has to exist as one string). Joined, the pieces are exactly what
 * JSON.stringify gives; every piece ends with a newline except the last.
 */
export function* jsonPieces(value: unknown): Generator<string> {
  if (!isPlainObject(value)) {
    yield JSON.stringify(value, null, 2) ?? 'null';
    return;
  }
  const members = Object.entries(value).filter(([, v]) => serializable(v));
  if (members.length === 0) {
    yield '{}';
    return;
  }
  yield '{\n';
  for (const [index, [key, member]] of members.entries()) {
    const comma = index < members.length - 1 ? ',' : '';
    const head = `  ${JSON.stringify(key)}: `;
    if (Array.isArray(member) && member.length > 0) {
      yield `${head}[\n`;
      for (let i = 0; i < member.length; i++) {
        const element = serializable(member[i]) ? member[i] : null;
        yield `    ${indent(JSON.stringify(element, null, 2), '    ')}${i < member.length - 1 ? ',' : ''}\n`;
      }
      yield `  ]${comma}\n`;
    } else {
      yield `${head}${indent(JSON.stringify(member, null, 2), '  ')}${comma}\n`;
    }
  }
  yield '}';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}

/** What JSON.stringify keeps as an object member (it drops undefined, functions and symbols). */
function serializable(value: unknown): boolean {
  return value !== undefined && typeof value !== 'function' && typeof value !== 'symbol';
}

function indent(text: string, prefix: string): string {
  return text.includes('\n') ? text.replace(/\n/g, `\n${prefix}`) : text;
}
