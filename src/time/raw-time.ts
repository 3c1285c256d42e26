/**
 * A start or end column the daemon reads as text and converts itself: ISO 8601 text, or an integer count of
 * seconds or milliseconds since the Unix epoch. Its values are compared raw in SQL (the cutoff and the end
 * are written in the column's own format), so its index serves the listing; the instants are read here.
 */
import { formatIso, type IsoShape, parseIsoInstant, parseIsoShape } from "./iso-text.js";

export type EpochUnit = "seconds" | "milliseconds";

export interface RawTime {
  kind: "text" | "epoch";
  /** The instant a raw value names; an Invalid Date when it names none (the row is then never ended). */
  parse(raw: string | null): Date;
  /** `at` as the column holds it: the value an end writes, and the cutoff the listing compares with. */
  format(at: Date): string;
  /** Whether `raw` is what an end at `at` wrote, in `raw`'s own format (for revert's guard). */
  wrote(raw: string, at: Date): boolean;
}

export function textTime(shape: IsoShape, zone: string | undefined): RawTime {
  return {
    kind: "text",
    parse: (raw) => parseIsoInstant(raw, zone),
    format: (at) => formatIso(at, shape, zone),
    wrote: (raw, at) => {
      const own = parseIsoShape(raw)?.shape;
      if (own === undefined || (own.offset.kind === "none" && zone === undefined)) return false;
      return formatIso(at, own, zone) === raw;
    },
  };
}

export function epochTime(unit: EpochUnit): RawTime {
  const per = unit === "seconds" ? 1000 : 1;
  const format = (at: Date) => String(Math.floor(at.getTime() / per));
  return {
    kind: "epoch",
    parse: (raw) => {
      // Number("") is 0: a blank value is no time, not the epoch.
      const n = raw === null || raw.trim() === "" ? Number.NaN : Number(raw);
      return new Date(Number.isFinite(n) ? n * per : Number.NaN);
    },
    format,
    wrote: (raw, at) => raw.trim() !== "" && Number(raw) === Number(format(at)),
  };
}
