import type pg from "pg";
import type { CallsTableMapping } from "../config/config.js";
import { quoteQualifiedIdentifier } from "../config/fields/identifiers.js";
import { errorMessage } from "../error-message.js";
import { detectShape, fallbackShape, type IsoShape, parseIsoShape } from "../time/iso-text.js";
import { epochTime, type RawTime, textTime } from "../time/raw-time.js";
import { explainSchemaError, pgCode, SchemaMismatchError } from "./errors.js";
import {
  CHECK_TIME_ZONE_SQL,
  COLUMN_TYPES_SQL,
  type ColumnTypes,
  NAIVE_TIMESTAMP,
  rawTimeKind,
  sampleTimeValuesSql,
  TIME_COLUMN_TYPES_SQL,
} from "./sql.js";

/** How `format_type` spells timestamptz. */
const ZONED_TIMESTAMP = "timestamp with time zone";

export interface TimeColumns {
  /** The start column's base type, as `format_type` spells it. */
  startedAt: string;
  /** The end column's base type: passed to `buildEndStatements` as `ColumnTypes.endedAt`. */
  endedAt: string;
  /** The extra, last parameter of the statements that read the start column: [CALLS_TIME_ZONE] if naive, else []. */
  startedZone: string[];
  /** The extra parameter ($10) of the batched end: [CALLS_TIME_ZONE] if the end column is naive, else []. */
  endedZone: string[];
  /** A text or epoch start column, read raw and converted by the daemon; null for a timestamp. */
  started: RawTime | null;
  /** A text or epoch end column, written in its rows' own format; null for a timestamp. */
  ended: RawTime | null;
  /** A text column's format was not read from its rows (none yet): worth reading again later. */
  provisional: boolean;
}

/**
 * Reads the start and end columns' types. A `timestamp without time zone` column says nothing of the zone its
 * wall times are in: read as the process's or the session's zone, a 20 h-old call in a UTC column looks 25.5 h
 * old under TZ=Asia/Kolkata. Such a column needs CALLS_TIME_ZONE (which PostgreSQL must know), else this
 * throws SchemaMismatchError, one line naming the column and the setting. So does a text column whose rows
 * hold wall times without an offset, and an epoch column without CALLS_EPOCH_UNIT.
 */
export async function readTimeColumns(pool: pg.Pool, m: CallsTableMapping): Promise<TimeColumns> {
  const typeOf = await readTypes(pool, m, TIME_COLUMN_TYPES_SQL, [m.startedAt, m.endedAt]);
  const startedAt = typeOf(m.startedAt, "CALLS_COL_STARTED_AT");
  const endedAt = typeOf(m.endedAt, "CALLS_COL_ENDED_AT");
  // Both columns' problems in one message: doctor and migrate name each, and a fix of one should not reveal the other.
  const problems: string[] = [];
  const unitless: string[] = [];
  for (const [type, setting, column] of [
    [startedAt, "CALLS_COL_STARTED_AT", m.startedAt],
    [endedAt, "CALLS_COL_ENDED_AT", m.endedAt],
  ] as const) {
    const kind = rawTimeKind(type);
    if (kind === "epoch" && m.epochUnit === undefined)
      unitless.push(`${setting} (${m.table}.${column}) is ${type}`);
    // The daemon reads and writes instants: any other type would fail only at the first --apply.
    if (kind === null && type !== NAIVE_TIMESTAMP && type !== ZONED_TIMESTAMP) {
      problems.push(
        `${setting} (${m.table}.${column}) is ${type}, not a timestamp: map the column that holds the call's ${setting === "CALLS_COL_ENDED_AT" ? "end" : "start"} as timestamptz (or timestamp with CALLS_TIME_ZONE, ISO 8601 text, or an integer, bigint or numeric epoch with CALLS_EPOCH_UNIT)`,
      );
    }
  }
  if (unitless.length > 0)
    problems.unshift(
      `${unitless.join(" and ")}: set CALLS_EPOCH_UNIT to seconds or milliseconds (what it counts since the Unix epoch)`,
    );
  if (problems.length > 0) throw new SchemaMismatchError(problems.join("; "));
  const zone = m.timeZone;
  const samples = await readSamples(pool, m, rawTimeKind(startedAt), rawTimeKind(endedAt));
  const naive = [
    ...(startedAt === NAIVE_TIMESTAMP || samples.startedNaive !== undefined
      ? [`CALLS_COL_STARTED_AT (${m.table}.${m.startedAt})`]
      : []),
    ...(endedAt === NAIVE_TIMESTAMP || samples.endedNaive !== undefined
      ? [`CALLS_COL_ENDED_AT (${m.table}.${m.endedAt})`]
      : []),
  ];
  if (naive.length > 0 && zone === undefined) {
    const example = samples.startedNaive ?? samples.endedNaive;
    throw new SchemaMismatchError(
      `${naive.join(" and ")}: ${example === undefined ? NAIVE_TIMESTAMP : `text such as ${JSON.stringify(example)}`} holds no time zone; set CALLS_TIME_ZONE to the IANA zone ` +
        "the app writes its wall times in (e.g. UTC), or make the column timestamptz",
    );
  }
  if (naive.length > 0 && zone !== undefined) await checkZoneKnown(pool, zone);
  const raw = (type: string, shape: IsoShape | null): RawTime | null => {
    const kind = rawTimeKind(type);
    if (kind === "epoch") return epochTime(m.epochUnit ?? "seconds");
    if (kind === "text") return textTime(shape ?? fallbackShape(zone), zone);
    return null;
  };
  return {
    startedAt,
    endedAt,
    startedZone: startedAt === NAIVE_TIMESTAMP && zone !== undefined ? [zone] : [],
    endedZone: endedAt === NAIVE_TIMESTAMP && zone !== undefined ? [zone] : [],
    started: raw(startedAt, samples.started),
    ended: raw(endedAt, samples.ended ?? samples.started),
    provisional:
      (rawTimeKind(startedAt) === "text" && samples.started === null) ||
      (rawTimeKind(endedAt) === "text" && samples.ended === null && samples.started === null),
  };
}

interface Samples {
  started: IsoShape | null;
  ended: IsoShape | null;
  /** A sampled value without an offset, if any. */
  startedNaive?: string;
  endedNaive?: string;
}

/** The shapes a text start and end column's rows use (an end column with none yet takes the start's). */
async function readSamples(
  pool: pg.Pool,
  m: CallsTableMapping,
  startedKind: "text" | "epoch" | null,
  endedKind: "text" | "epoch" | null,
): Promise<Samples> {
  const read = async (column: "startedAt" | "endedAt") => {
    const { rows } = await pool.query<{ v: string }>(sampleTimeValuesSql(m, column));
    const values = rows.map((r) => r.v);
    return { shape: detectShape(values), naive: values.find(isNaiveIso) };
  };
  const started = startedKind === "text" ? await read("startedAt") : null;
  const ended = endedKind === "text" ? await read("endedAt") : null;
  return {
    started: started?.shape ?? null,
    ended: ended?.shape ?? null,
    ...(started?.naive !== undefined ? { startedNaive: started.naive } : {}),
    ...(ended?.naive !== undefined ? { endedNaive: ended.naive } : {}),
  };
}

/** The column's rows write wall times: an ISO value without an offset. */
function isNaiveIso(v: string): boolean {
  return parseIsoShape(v)?.shape.offset.kind === "none";
}

/** The id and status column types the batched end casts to (COLUMN_TYPES_SQL), without `endedAt`. */
export async function readEndColumnTypes(pool: pg.Pool, m: CallsTableMapping): Promise<ColumnTypes> {
  const typeOf = await readTypes(pool, m, COLUMN_TYPES_SQL, [m.id, m.status]);
  return { id: typeOf(m.id, "CALLS_COL_ID"), status: typeOf(m.status, "CALLS_COL_STATUS") };
}

/** Runs a column-types query ($1 table, $2 names); returns a lookup that names the setting of a missing column. */
export async function readTypes(pool: pg.Pool, m: CallsTableMapping, sql: string, names: string[]) {
  let rows: { name: string; type: string }[];
  try {
    ({ rows } = await pool.query<{ name: string; type: string }>(sql, [
      quoteQualifiedIdentifier(m.table),
      names,
    ]));
  } catch (err) {
    throw explainSchemaError(err, m);
  }
  return (column: string, setting: string): string => {
    const row = rows.find((r) => r.name === column);
    if (row === undefined)
      throw new SchemaMismatchError(`${setting}: table ${m.table} has no column ${column}`);
    return row.type;
  };
}

async function checkZoneKnown(pool: pg.Pool, zone: string): Promise<void> {
  try {
    await pool.query(CHECK_TIME_ZONE_SQL, [zone]);
  } catch (err) {
    if (pgCode(err) !== "22023") throw err;
    throw new SchemaMismatchError(
      `CALLS_TIME_ZONE: PostgreSQL does not know the time zone ${zone} (${errorMessage(err)})`,
    );
  }
}

/** `load`'s promise, kept for the caller's life once it resolves; dropped if it rejects (asked again next time). */
export function cachedUntilFailure<T>(load: () => Promise<T>): () => Promise<T> {
  let cached: Promise<T> | undefined;
  return () => {
    if (cached === undefined) {
      const pending = load();
      cached = pending;
      pending.catch(() => {
        if (cached === pending) cached = undefined;
      });
    }
    return cached;
  };
}

/**
 * As cachedUntilFailure, but a provisional answer (see TimeColumns.provisional) is kept only for `ms`: a
 * text column read while it had no rows gets its rows' format once they come.
 */
export function cachedUntilSettled(
  load: () => Promise<TimeColumns>,
  ms = 60_000,
): () => Promise<TimeColumns> {
  let cached: Promise<TimeColumns> | undefined;
  let until = Number.POSITIVE_INFINITY;
  return () => {
    if (cached === undefined || Date.now() >= until) {
      const pending = load();
      cached = pending;
      until = Number.POSITIVE_INFINITY;
      pending.then(
        (t) => {
          if (cached === pending && t.provisional) until = Date.now() + ms;
        },
        () => {
          if (cached === pending) cached = undefined;
        },
      );
    }
    return cached;
  };
}
