import path from 'node:path';
import type { GivenOptions } from '../wizard/questions.js';

/**
 * generate --check needs --tls-cert and --tls-key to exist and to belong together; a runner has
 * neither, and the real key must never leave the server. Where both are missing, the pipeline
 * makes a throwaway self-signed pair for --server-name at the same paths (the key readable by
 * root only, valid two days), and a chain file from it when --tls-chain is given: what generate
 * checks and smoke serves, and nothing that could stand for the site anywhere else.
 */
export function standInTlsFiles(given: GivenOptions): string[][] {
  if (!given.tlsCert || !given.tlsKey || !given.serverName) return [];
  const make = [
    'if [ ! -e "$1" ] && [ ! -e "$2" ]; then',
    'mkdir -p "$(dirname "$1")" "$(dirname "$2")" &&',
    '(umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$3" -addext "subjectAltName=DNS:$3" -keyout "$2" -out "$1" 2>/dev/null);',
    'fi;',
    'if [ -n "$4" ] && [ ! -e "$4" ]; then mkdir -p "$(dirname "$4")" && cp "$1" "$4"; fi',
  ].join(' ');
  return [['sh', '-c', make, 'sh', path.resolve(given.tlsCert), path.resolve(given.tlsKey), given.serverName, given.tlsChain ? path.resolve(given.tlsChain) : '']];
}
