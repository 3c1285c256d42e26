import { z } from "zod";
import { inGroup } from "./setting.js";

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export const LOGGING_SETTINGS = inGroup("logging", {
  LOG_LEVEL: {
    about: `pino level (${LOG_LEVELS.map((l) => `\`${l}\``).join(", ")}); JSON lines on stderr, secrets redacted. \`info\`: a summary a pass, each call at \`debug\`. Unset, one-shot commands log warnings only. A one-shot command says that Twilio is not configured in one plain \`call-reconciler: warning:\` line, not JSON`,
    field: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` }).default("info"),
  },
  RECONCILER_IGNORE_VARS: {
    about:
      "comma list of variables that look like settings (see below) but belong to another program sharing the environment",
    field: z.string().optional(),
  },
});
