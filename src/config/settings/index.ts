import { z } from "zod";
import { DAEMON_SETTINGS } from "./daemon.js";
import { DATABASE_SETTINGS } from "./database.js";
import { EVENTS_SETTINGS } from "./events.js";
import { LOGGING_SETTINGS } from "./logging.js";
import { MAPPING_SETTINGS } from "./mapping.js";
import { NOTIFY_SETTINGS } from "./notify.js";
import { OPENAI_SETTINGS } from "./openai.js";
import { PASS_SETTINGS } from "./pass.js";
import { REQUEST_SETTINGS } from "./requests.js";
import type { Setting } from "./setting.js";
import { TWILIO_SETTINGS } from "./twilio.js";

export { DEFAULT_BREAKER_MIN_THROUGHPUT } from "./requests.js";
export { SETTING_GROUPS, type Setting, type SettingGroup } from "./setting.js";

/** The groups' own objects, kept apart so a test can check that no name is defined in two of them. */
export const SETTING_PARTS = [
  DATABASE_SETTINGS,
  MAPPING_SETTINGS,
  TWILIO_SETTINGS,
  OPENAI_SETTINGS,
  REQUEST_SETTINGS,
  PASS_SETTINGS,
  DAEMON_SETTINGS,
  NOTIFY_SETTINGS,
  EVENTS_SETTINGS,
  LOGGING_SETTINGS,
] as const;

/** Every setting of call-reconciler, keyed by its environment variable. */
export const SETTINGS = {
  ...DATABASE_SETTINGS,
  ...MAPPING_SETTINGS,
  ...TWILIO_SETTINGS,
  ...OPENAI_SETTINGS,
  ...REQUEST_SETTINGS,
  ...PASS_SETTINGS,
  ...DAEMON_SETTINGS,
  ...NOTIFY_SETTINGS,
  ...EVENTS_SETTINGS,
  ...LOGGING_SETTINGS,
} satisfies Record<string, Setting>;

type Fields = { [K in keyof typeof SETTINGS]: (typeof SETTINGS)[K]["field"] };

/** Keyed by the environment variable names, so every validation message can name the variable to fix. */
export const envSchema = z.object(
  Object.fromEntries(Object.entries(SETTINGS).map(([name, s]) => [name, s.field])) as Fields,
);
