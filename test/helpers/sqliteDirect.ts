import { readTracTablesWithSqlite } from '../../src/inspect/sqliteFacts.js';
import { confirmSchema, readTracTables, type DirectRead } from '../../src/inspect/sqliteFile/tracTables.js';

/**
 * The SQLite file reader as readSqliteFacts uses it: a schema SQLite has not yet accepted is
 * shown to SQLite first (which must then accept it), and the file read again.
 */
export async function readDirectly(file: string): Promise<DirectRead> {
  const direct = readTracTables(file);
  if (!('unconfirmedSchema' in direct) || direct.unconfirmedSchema === undefined) return direct;
  await readTracTablesWithSqlite(file);
  confirmSchema(direct.unconfirmedSchema);
  return readTracTables(file);
}
