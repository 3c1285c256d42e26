/**
 * The mapped calls table as the file declares it: that it is there, that every mapped column is, and how its
 * time and duration columns are read and written. SQLite types a column by its declared type's affinity, so a
 * column's kind follows from that declaration and, for a time column, from the values its rows hold.
 */

import { columnSettings } from "../config/column-settings.js";
import type { CallsTableMapping } from "../config/config-types.js";
import { quoteIdentifier } from "../config/fields/identifiers.js";
import { closestName } from "../config/known-variables.js";
import { SchemaMismatchError } from "../model/index.js";
import { detectShape, fallbackShape, parseIsoShape } from "../time/iso-text.js";
import { epochTime, type RawTime, textTime } from "../time/raw-time.js";
import type { Connection } from "./file.js";
import { COLUMNS_SQL, sampleValuesSql, TABLE_NAMES_SQL, TABLE_SQL } from "./sql/calls-table.js";
import { sqliteTableName } from "./table-name.js";

export interface CallsTableShape {
  /** The table as the file spells it (SQLite matches names case-insensitively). */
  name: string;
  /** `"main"."calls"`: ready for SQL text. */
  quoted: string;
  started: RawTime;
  ended: RawTime;
  /** CALLS_COL_DURATION: whether it takes whole seconds; null when the setting is unset. */
  durationWhole: boolean | null;
  /** A text column's format was not read from its rows (none yet): worth reading again later. */
  provisional: boolean;
}

/** SQLite's type affinity of a declared column type (https://sqlite.org/datatype3.html, 3.1). */
export type Affinity = "integer" | "text" | "blob" | "real" | "numeric";

export function affinityOf(declared: string): Affinity {
  const t = declared.toUpperCase();
  if (t.includes("INT")) return "integer";
  if (/CHAR|CLOB|TEXT/.test(t)) return "text";
  if (t.includes("BLOB") || t.trim() === "") return "blob";
  if (/REAL|FLOA|DOUB/.test(t)) return "real";
  return "numeric";
}

/** The table CALLS_TABLE names, as the file spells it; SchemaMismatchError (one line) when it is not there. */
export function resolveCallsTable(db: Connection, m: CallsTableMapping): string {
  const bare = sqliteTableName(m).name;
  const found = db.prepare(TABLE_SQL).get(bare) as { name: string; type: string } | undefined;
  if (found?.type === "table") return found.name;
  if (found !== undefined)
    throw new SchemaMismatchError(
      `CALLS_TABLE: ${m.table} is a view in this file, not a table: name the table the app writes its calls to`,
    );
  const tables = (db.prepare(TABLE_NAMES_SQL).all() as Array<{ name: string }>).map((r) => r.name);
  const guess = closestName(bare, tables);
  throw new SchemaMismatchError(
    `CALLS_TABLE: table ${m.table} does not exist in the SQLite file; ${
      guess !== undefined
        ? `did you mean CALLS_TABLE=${guess}?`
        : tables.length > 0
          ? `its tables are ${tables.slice(0, 20).join(", ")}`
          : "check DATABASE_URL names the app's file, or run `call-reconciler migrate --with-calls-table`"
    }`,
  );
}

/** Reads the table's shape (see CallsTableShape); throws SchemaMismatchError, one line naming each setting at fault. */
export function readCallsTable(db: Connection, m: CallsTableMapping): CallsTableShape {
  const name = resolveCallsTable(db, m);
  const quoted = `"main".${quoteIdentifier(name)}`;
  const columns = db.prepare(COLUMNS_SQL).all(name) as Array<{ name: string; type: string | null }>;
  const declared = new Map(columns.map((c) => [c.name.toLowerCase(), c.type ?? ""]));
  const names = columns.map((c) => c.name);
  const missing = columnSettings(m)
    .filter(([, column]) => !declared.has(column.toLowerCase()))
    .map(([variable, column]) => {
      const guess = closestName(column, names);
      return `${variable}: table ${m.table} has no column "${column}"; ${
        guess !== undefined ? `did you mean ${variable}=${guess}?` : `its columns are ${names.join(", ")}`
      }`;
    });
  if (missing.length > 0) throw new SchemaMismatchError(missing.join("; "));
  const typeOf = (column: string) => declared.get(column.toLowerCase()) ?? "";
  const sample = (column: string) =>
    db.prepare(sampleValuesSql(quoted, column)).all() as Array<{ v: string; t: string }>;
  const time = readTimeColumns(m, typeOf, sample);
  return { name, quoted, ...time, durationWhole: durationWhole(m, typeOf) };
}

type TimeKind = { kind: "text"; values: string[] } | { kind: "epoch" } | { kind: "refused"; problem: string };

function readTimeColumns(
  m: CallsTableMapping,
  typeOf: (column: string) => string,
  sample: (column: string) => Array<{ v: string; t: string }>,
): Pick<CallsTableShape, "started" | "ended" | "provisional"> {
  const columns = [
    ["CALLS_COL_STARTED_AT", m.startedAt],
    ["CALLS_COL_ENDED_AT", m.endedAt],
  ] as const;
  const kinds = columns.map(([setting, column]) => timeKind(m, setting, column, typeOf(column), sample));
  const problems = kinds.flatMap((k) => (k.kind === "refused" ? [k.problem] : []));
  const unitless = columns.filter((_, i) => kinds[i]?.kind === "epoch" && m.epochUnit === undefined);
  if (unitless.length > 0)
    problems.unshift(
      `${unitless.map(([s, c]) => `${s} (${m.table}.${c}) is ${typeOf(c)}`).join(" and ")}: set CALLS_EPOCH_UNIT to seconds or milliseconds (what it counts since the Unix epoch)`,
    );
  if (problems.length > 0) throw new SchemaMismatchError(problems.join("; "));
  const zone = m.timeZone;
  const naive = columns.flatMap(([setting, column], i) => {
    const k = kinds[i];
    const example =
      k?.kind === "text" ? k.values.find((v) => parseIsoShape(v)?.shape.offset.kind === "none") : undefined;
    return example === undefined ? [] : [{ label: `${setting} (${m.table}.${column})`, example }];
  });
  if (naive.length > 0 && zone === undefined) {
    throw new SchemaMismatchError(
      `${naive.map((n) => n.label).join(" and ")}: text such as ${JSON.stringify(naive[0]?.example)} holds no time zone; set CALLS_TIME_ZONE to the IANA zone the app writes its wall times in (e.g. UTC)`,
    );
  }
  const [startedKind, endedKind] = kinds as [TimeKind, TimeKind];
  const startedShape = startedKind.kind === "text" ? detectShape(startedKind.values) : null;
  const endedShape = endedKind.kind === "text" ? detectShape(endedKind.values) : null;
  const raw = (k: TimeKind, shape: ReturnType<typeof detectShape>): RawTime =>
    k.kind === "epoch" ? epochTime(m.epochUnit ?? "seconds") : textTime(shape ?? fallbackShape(zone), zone);
  return {
    started: raw(startedKind, startedShape),
    ended: raw(endedKind, endedShape ?? startedShape),
    provisional:
      (startedKind.kind === "text" && startedShape === null) ||
      (endedKind.kind === "text" && endedShape === null && startedShape === null),
  };
}

/**
 * TEXT affinity: ISO 8601 text. INTEGER and REAL: an epoch count. NUMERIC (DATETIME, TIMESTAMP, NUMERIC, …) holds
 * what the app writes: text (Python's sqlite3 writes `datetime` there as ISO text) or a number; judged by the
 * values' storage class, and with no values by the declared name. No declared type or BLOB: refused.
 */
function timeKind(
  m: CallsTableMapping,
  setting: string,
  column: string,
  declared: string,
  sample: (column: string) => Array<{ v: string; t: string }>,
): TimeKind {
  const affinity = affinityOf(declared);
  if (affinity === "integer" || affinity === "real") return { kind: "epoch" };
  if (affinity === "blob") {
    return {
      kind: "refused",
      problem: `${setting} (${m.table}.${column}) is declared ${declared === "" ? "without a type" : declared}: map a column declared TEXT (ISO 8601 times) or INTEGER (epoch times, with CALLS_EPOCH_UNIT)`,
    };
  }
  const rows = sample(column);
  if (affinity === "text") return { kind: "text", values: rows.map((r) => r.v) };
  const text = rows.filter((r) => r.t === "text");
  if (rows.length === 0 ? /DATE|TIME/i.test(declared) : text.length * 2 >= rows.length)
    return { kind: "text", values: text.map((r) => r.v) };
  return { kind: "epoch" };
}

/**
 * CALLS_COL_DURATION: INTEGER affinity takes whole seconds; REAL, NUMERIC or no declared type a number to the
 * millisecond. A TEXT or BLOB column is refused at start-up rather than at the first end.
 */
function durationWhole(m: CallsTableMapping, typeOf: (column: string) => string): boolean | null {
  if (m.duration === undefined) return null;
  const declared = typeOf(m.duration);
  const affinity = affinityOf(declared);
  if (affinity === "integer") return true;
  if (affinity === "real" || affinity === "numeric" || declared.trim() === "") return false;
  throw new SchemaMismatchError(
    `CALLS_COL_DURATION (${m.table}.${m.duration}) is declared ${declared}, not a number of seconds: map a REAL or INTEGER column, or unset CALLS_COL_DURATION`,
  );
}
