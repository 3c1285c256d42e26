/** Field parsers of the environment schema in config.ts: defaults, coercions and the checks they share. */
import { z } from "zod";
import { REALTIME_SURFACES, type RealtimeSurface } from "../../model/index.js";
import { quoteIdentifier } from "./identifiers.js";
import { numberSetting } from "./number-setting.js";
import { urlSetting } from "./url-setting.js";

export const positiveInt = (fallback: number, unit?: string) =>
  numberSetting({ whole: true, above: 0, example: fallback, ...(unit ? { unit } : {}) }).default(fallback);
export const positiveNumber = (fallback: number, unit?: string) =>
  numberSetting({ above: 0, example: fallback, ...(unit ? { unit } : {}) }).default(fallback);
export const booleanFlag = z
  .enum(["true", "false", "1", "0", "yes", "no"], { error: "must be true or false (or 1/0, yes/no)" })
  .default("false")
  .transform((v) => v === "true" || v === "1" || v === "yes");
export const httpUrl = (fallback: string, secretVariable: string) =>
  urlSetting(secretVariable)
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

/**
 * Why a table or column name is refused. Names are used exactly as written and always double-quoted by the
 * daemon, so an operator who quotes a mixed-case name themselves (`"PhoneCalls"`) is told to drop the quotes.
 */
export function identifierProblem(value: string, what: string): string {
  const base = `must be ${what} (letters, digits, _ and $; at most 63 characters each)`;
  const unquoted = value.replaceAll('"', "");
  const hint =
    value.includes('"') && unquoted !== ""
      ? `; names are used exactly as written (case-sensitive) and quoted by call-reconciler, so write ${unquoted} without quotes`
      : "; names are used exactly as written (case-sensitive)";
  return base + hint;
}

const identifierCheck = (value: string | undefined, ctx: z.RefinementCtx) => {
  if (value === undefined || quotable(quoteIdentifier)(value)) return;
  ctx.addIssue({ code: "custom", message: identifierProblem(value, "a plain SQL identifier") });
};

export const identifier = (fallback: string) => z.string().default(fallback).superRefine(identifierCheck);
/** A column the table may not have: unset, the default name; set empty (`VAR=`), no such column (null). */
export const optionalColumn = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v) => (v.trim() === "" ? null : v))
    .superRefine((v, ctx) => identifierCheck(v ?? undefined, ctx));
/** Unset or blank: none (an optional column, a cap that is off by default). */
export const optionalIdentifier = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()))
  .superRefine(identifierCheck);
export const optionalPositiveInt = (unit: string, example: number) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === "" ? undefined : Number(v)))
    .refine((v) => v === undefined || (Number.isInteger(v) && v > 0), {
      error: `must be a whole number of ${unit} above 0, e.g. ${example} (or unset for none)`,
    });
export const optionalSecret = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

export const openaiProbeSetting = z
  .enum(["after-cap", "early", "off"], { error: "must be after-cap, early or off" })
  .default("after-cap");

/** A comma-separated list of OpenAI's runtime surfaces, each once, at least one. */
export const realtimeSurfaces = z
  .string()
  .default("live,realtime")
  .transform((v, ctx) => {
    const names = v
      .split(",")
      .map((n) => n.trim())
      .filter((n) => n !== "");
    const bad = names.filter((n) => !(REALTIME_SURFACES as readonly string[]).includes(n));
    if (names.length === 0 || bad.length > 0 || new Set(names).size !== names.length) {
      ctx.addIssue({
        code: "custom",
        message: `must list live and/or realtime, comma-separated, each once${bad.length > 0 ? ` (not ${bad.join(", ")})` : ""}`,
      });
      return z.NEVER;
    }
    return names as RealtimeSurface[];
  });
