/**
 * One definition per setting: its parser and what the operator is told about it. The environment schema,
 * the names the did-you-mean check knows and docs/configuration.md are all derived from these entries, so
 * a setting cannot exist in one of them and be missing from another.
 */
import { z } from "zod";

/** The sections of docs/configuration.md, in the order they are printed there. */
export const SETTING_GROUPS = [
  "database",
  "mapping",
  "twilio",
  "openai",
  "requests",
  "pass",
  "daemon",
  "notify",
  "events",
  "logging",
] as const;
export type SettingGroup = (typeof SETTING_GROUPS)[number];

export interface SettingEntry {
  /** One line of Markdown for the reference: what the setting does and what its values mean. */
  readonly about: string;
  /**
   * The default as the reference prints it (Markdown), only where the parser's own default cannot say it:
   * one computed from other settings, or required although the parser accepts unset.
   */
  readonly shown?: string;
  /** Parses the variable's text; its default, if any, is the one the reference shows. */
  readonly field: z.ZodType;
}

export interface Setting extends SettingEntry {
  readonly group: SettingGroup;
}

/** A group's settings, each tagged with the group, keeping each field's own type for the schema. */
export function inGroup<T extends Record<string, SettingEntry>>(
  group: SettingGroup,
  entries: T,
): { readonly [K in keyof T]: T[K] & { readonly group: SettingGroup } } {
  return Object.fromEntries(Object.entries(entries).map(([name, e]) => [name, { ...e, group }])) as {
    [K in keyof T]: T[K] & { group: SettingGroup };
  };
}

/**
 * A variable another library reads from the environment itself (the providers' SDKs): known, so it is not
 * refused as a typo of ours, and documented, but parsed by nothing here.
 */
export const readElsewhere = z.string().optional();
