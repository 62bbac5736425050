/**
 * Reading back what generate wrote into an Apache snippet (for smoke and apply, and for
 * snippets without a manifest): the inverse of the quoting in src/escape/apache.ts.
 */

/** The inverse of apacheArg's quoting inside the quotes: \" is ". */
export function unquoteApache(inner: string): string {
  return inner.replace(/\\"/g, '"');
}

function unquote(value: string): string {
  return value.startsWith('"') ? unquoteApache(value.slice(1, -1)) : value;
}

const ARG = String.raw`("(?:[^"\\]|\\.)*"|\S+)`;

/** The first argument of what follows a directive's name, quoted or not. */
export function firstArgument(rest: string): string | null {
  const match = new RegExp(String.raw`^[ \t]*${ARG}`).exec(rest);
  return match?.[1] ? unquote(match[1]) : null;
}

/** The first WSGIScriptAlias of a snippet: URL and script, quoted or not. */
export function parseScriptAlias(text: string): { urlPrefix: string; script: string } | null {
  const match = new RegExp(String.raw`^[ \t]*WSGIScriptAlias[ \t]+${ARG}[ \t]+${ARG}`, 'im').exec(text);
  if (!match?.[1] || !match[2]) return null;
  return { urlPrefix: unquote(match[1]), script: unquote(match[2]) };
}

/** python-home= of a WSGIDaemonProcess line, quoted or not. */
export function parsePythonHome(text: string): string | null {
  const match = /^[ \t]*WSGIDaemonProcess[ \t].*?\bpython-home=("(?:[^"\\]|\\.)*"|\S+)/im.exec(text);
  return match?.[1] ? unquote(match[1]) : null;
}
