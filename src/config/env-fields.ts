/** Field parsers of the environment schema in config.ts: defaults, coercions and the checks they share. */
import { z } from "zod";
import { quoteIdentifier } from "./identifiers.js";

export const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
export const positiveNumber = (fallback: number) => z.coerce.number().positive().finite().default(fallback);
export const booleanFlag = z
  .enum(["true", "false", "1", "0", "yes", "no"], { error: "must be true or false" })
  .default("false")
  .transform((v) => v === "true" || v === "1" || v === "yes");
export const httpUrl = (fallback: string) =>
  z
    .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
    .default(fallback)
    .transform((u) => u.replace(/\/+$/, ""));
/** True when `quote` accepts the name: the same check that guards the SQL text guards the config. */
export const quotable = (quote: (name: string) => string) => (name: string) => {
  try {
    quote(name);
    return true;
  } catch {
    return false;
  }
};
export const identifier = (fallback: string) =>
  z.string().default(fallback).refine(quotable(quoteIdentifier), {
    error: "must be a plain SQL identifier (letters, digits, _; at most 63 characters)",
  });
/** Unset or blank: none (an optional column, a cap that is off by default). */
export const optionalIdentifier = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()))
  .refine((v) => v === undefined || quotable(quoteIdentifier)(v), {
    error: "must be a plain SQL identifier (letters, digits, _; at most 63 characters)",
  });
export const optionalPositiveInt = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : Number(v)))
  .refine((v) => v === undefined || (Number.isInteger(v) && v > 0), {
    error: "must be a whole number above 0",
  });
export const optionalSecret = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));
