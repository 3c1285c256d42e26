/**
 * ISO 8601 start and end times held in a text column: a strict shape, so that rows written in one format
 * compare as text in time order (see docs/operations.md, time columns as text or numbers), parsed and written in the daemon, never cast in SQL
 * (one bad row would abort the statement that reads it).
 */
import { instantOf, wallOf } from "./zone-offset.js";

/** How a value spells its offset: none (a wall time), `Z`, or a number of minutes as `±HH:MM`, `±HHMM` or `±HH`. */
export type OffsetStyle =
  | { kind: "none" }
  | { kind: "Z" }
  | { kind: "numeric"; minutes: number; style: "colon" | "compact" | "hour" };

export interface IsoShape {
  /** Between the date and the time. */
  separator: "T" | " ";
  /** Fraction digits after the seconds; 0: no fraction (nor seconds, when `seconds` is false). */
  fraction: number;
  seconds: boolean;
  offset: OffsetStyle;
}

export interface ParsedIso {
  shape: IsoShape;
  /** The date and time as written, read as if UTC (ms). */
  wallMs: number;
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})([T ])(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** The value's fields and shape, or null unless it is a valid date and time of the strict shape. */
export function parseIsoShape(text: string): ParsedIso | null {
  const m = ISO.exec(text);
  if (m === null) return null;
  const [, y, mo, d, sep, h, mi, s, frac, off] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const offset = offsetOf(off);
  if (offset === null) return null;
  const ms = frac === undefined ? 0 : Number(frac.padEnd(3, "0").slice(0, 3));
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  return {
    shape: {
      separator: sep === "T" ? "T" : " ",
      fraction: frac?.length ?? 0,
      seconds: s !== undefined,
      offset,
    },
    wallMs: date.getTime(),
  };
}

function offsetOf(off: string | undefined): OffsetStyle | null {
  if (off === undefined) return { kind: "none" };
  if (off === "Z") return { kind: "Z" };
  const sign = off.startsWith("-") ? -1 : 1;
  const digits = off.slice(1).replace(":", "");
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  if (hours > 23 || minutes > 59) return null;
  const style = off.length === 3 ? "hour" : off.includes(":") ? "colon" : "compact";
  return { kind: "numeric", minutes: sign * (hours * 60 + minutes), style };
}

/**
 * The instant a value names: its own offset, else its wall time in `zone` (CALLS_TIME_ZONE). An Invalid Date
 * when it does not parse, or is a wall time and no zone is set: such a row is never ended (invalid_time).
 */
export function parseIsoInstant(text: string | null, zone: string | undefined): Date {
  const parsed = text === null ? null : parseIsoShape(text);
  if (parsed === null) return new Date(Number.NaN);
  const { offset } = parsed.shape;
  if (offset.kind === "Z") return new Date(parsed.wallMs);
  if (offset.kind === "numeric") return new Date(parsed.wallMs - offset.minutes * 60_000);
  return zone === undefined ? new Date(Number.NaN) : new Date(instantOf(zone, parsed.wallMs));
}

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** `at` written in `shape`: a wall time in `zone` when the shape has no offset (then `zone` is required). */
export function formatIso(at: Date, shape: IsoShape, zone: string | undefined): string {
  const { offset } = shape;
  let wallMs: number;
  if (offset.kind === "none") {
    if (zone === undefined) throw new Error("a wall time needs CALLS_TIME_ZONE");
    wallMs = wallOf(zone, at.getTime());
  } else {
    wallMs = at.getTime() + (offset.kind === "numeric" ? offset.minutes * 60_000 : 0);
  }
  const w = new Date(wallMs);
  const date = `${pad(w.getUTCFullYear(), 4)}-${pad(w.getUTCMonth() + 1, 2)}-${pad(w.getUTCDate(), 2)}`;
  let time = `${pad(w.getUTCHours(), 2)}:${pad(w.getUTCMinutes(), 2)}`;
  if (shape.seconds || shape.fraction > 0) time += `:${pad(w.getUTCSeconds(), 2)}`;
  if (shape.fraction > 0)
    time += `.${pad(w.getUTCMilliseconds(), 3).padEnd(shape.fraction, "0").slice(0, shape.fraction)}`;
  return `${date}${shape.separator}${time}${offsetText(offset)}`;
}

function offsetText(offset: OffsetStyle): string {
  if (offset.kind === "none") return "";
  if (offset.kind === "Z") return "Z";
  const abs = Math.abs(offset.minutes);
  const hh = `${offset.minutes < 0 ? "-" : "+"}${pad(Math.floor(abs / 60), 2)}`;
  const mm = pad(abs % 60, 2);
  return offset.style === "hour" ? hh : offset.style === "colon" ? `${hh}:${mm}` : `${hh}${mm}`;
}

/**
 * What an empty column is written in: Python's `isoformat()` of a naive UTC time with microseconds (the common
 * writer), as a wall time in CALLS_TIME_ZONE; without that setting, with `+00:00`, so that no value the daemon
 * writes ever depends on a zone it was not told.
 */
export function fallbackShape(zone: string | undefined): IsoShape {
  return {
    separator: "T",
    fraction: 6,
    seconds: true,
    offset: zone === undefined ? { kind: "numeric", minutes: 0, style: "colon" } : { kind: "none" },
  };
}

/**
 * The shape the column's rows use, from a sample of its values: the separator and the offset most of them
 * use, and the longest fraction among those (Python's `isoformat()` leaves the fraction out when the
 * microsecond is 0, so a shorter one is not the writer's format). Null when no value parses.
 */
export function detectShape(samples: readonly string[]): IsoShape | null {
  const shapes = samples.flatMap((v) => parseIsoShape(v)?.shape ?? []);
  if (shapes.length === 0) return null;
  const separator = mostUsed(shapes.map((s) => s.separator)) as "T" | " ";
  const offsetKey = mostUsed(shapes.map((s) => JSON.stringify(s.offset)));
  const fraction = Math.max(...shapes.map((s) => s.fraction));
  return {
    separator,
    fraction,
    seconds: fraction > 0 || shapes.some((s) => s.seconds),
    offset: JSON.parse(offsetKey) as OffsetStyle,
  };
}

/** The value seen most often; the first seen of those tied. */
function mostUsed(values: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best = values[0] as string;
  for (const [v, n] of counts) if (n > (counts.get(best) ?? 0)) best = v;
  return best;
}
