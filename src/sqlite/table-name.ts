import type { CallsTableMapping } from "../config/config.js";
import { quoteIdentifier } from "../config/fields/identifiers.js";
import { SchemaMismatchError } from "../model/index.js";

/**
 * CALLS_TABLE on a SQLite file: a bare name, or `main.name`. An attached database's table is refused: the
 * daemon's tables live in the file itself, and an end and its audit row must commit in one transaction.
 */
export function sqliteTableName(m: CallsTableMapping): { name: string; quoted: string } {
  const parts = m.table.split(".");
  const name = parts.at(-1) ?? m.table;
  if (parts.length > 2 || (parts.length === 2 && parts[0] !== "main")) {
    throw new SchemaMismatchError(
      `CALLS_TABLE=${m.table}: on a SQLite file the calls table is in the file itself (\`${name}\` or \`main.${name}\`), not in schema ${parts.slice(0, -1).join(".")}`,
    );
  }
  return { name, quoted: `main.${quoteIdentifier(name)}` };
}
