/**
 * Numeric settings whose every failure (not a number, not whole, out of range) says the form expected, with
 * an example: "must be a whole number of seconds above 0, e.g. 60", never zod's "expected number, received NaN".
 */
import { z } from "zod";

export interface NumberForm {
  /** An integer is required. */
  whole?: boolean;
  /** What the number counts: "seconds", "milliseconds", "requests per second". */
  unit?: string;
  /** Inclusive bounds. */
  min?: number;
  max?: number;
  /** Exclusive bounds. */
  above?: number;
  below?: number;
  /** A valid value to show: the default where there is one. */
  example: number;
}

export function numberForm(f: NumberForm): string {
  const kind = `${f.whole ? "a whole number" : "a number"}${f.unit ? ` of ${f.unit}` : ""}`;
  let bounds = "";
  if (f.min !== undefined && f.max !== undefined) bounds = ` from ${f.min} to ${f.max}`;
  else if (f.above !== undefined && f.below !== undefined)
    bounds = ` between ${f.above} and ${f.below} (exclusive)`;
  else if (f.above !== undefined && f.max !== undefined) bounds = ` above ${f.above} and at most ${f.max}`;
  else if (f.above !== undefined) bounds = ` above ${f.above}`;
  else if (f.min !== undefined) bounds = `, ${f.min} or more`;
  return `must be ${kind}${bounds}, e.g. ${f.example}`;
}

function fits(v: number, f: NumberForm): boolean {
  return (
    Number.isFinite(v) &&
    (!f.whole || Number.isInteger(v)) &&
    (f.min === undefined || v >= f.min) &&
    (f.max === undefined || v <= f.max) &&
    (f.above === undefined || v > f.above) &&
    (f.below === undefined || v < f.below)
  );
}

/**
 * A number read from text: blank counts as not a number (Number("") is 0, which would pass for "0"), so a
 * variable set to nothing is refused rather than read as zero.
 */
export const numberSetting = (f: NumberForm) => {
  const error = numberForm(f);
  return z
    .string({ error })
    .refine((s) => s.trim() !== "", { error, abort: true })
    .transform(Number)
    .refine((v) => fits(v, f), { error });
};
