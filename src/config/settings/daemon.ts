import { z } from "zod";
import { optionalSecret, positiveNumber } from "../fields/env-fields.js";
import { numberSetting } from "../fields/number-setting.js";
import { inGroup } from "./setting.js";

export const DAEMON_SETTINGS = inGroup("daemon", {
  METRICS_HOST: {
    about: "the address the HTTP endpoints (`/metrics`, `/healthz`, `/readyz`, `/zombies`) listen on",
    field: z
      .string()
      .min(1, { error: "must be a host name or address to listen on, e.g. 0.0.0.0" })
      .default("0.0.0.0"),
  },
  METRICS_PORT: {
    about: "the port of the HTTP endpoints",
    field: numberSetting({ whole: true, min: 0, max: 65_535, example: 9464 }).default(9464),
  },
  ZOMBIES_TOKEN: {
    about:
      "`/zombies` is off (404) without it; set, `/zombies` answers only `Authorization: Bearer <token>` (compared in constant time; 401 otherwise). At least 32 characters (`openssl rand -hex 32`). Never logged",
    field: optionalSecret.refine((v) => v === undefined || v.length >= 32, {
      error: "must be at least 32 characters; generate one with: openssl rand -hex 32",
    }),
  },
  RECONCILE_TOKEN: {
    about:
      "`POST /reconcile` (an on-demand pass on the leader) is off (404) without it; set, it answers only `Authorization: Bearer <token>` (constant time; 401 otherwise). At least 32 characters (`openssl rand -hex 32`). Never logged",
    field: optionalSecret.refine((v) => v === undefined || v.length >= 32, {
      error: "must be at least 32 characters; generate one with: openssl rand -hex 32",
    }),
  },
  LEADER_LEASE_SECONDS: {
    about: "how long a leader's lease lasts without renewal; longer than one interval",
    shown: "2.5 × `RECONCILE_INTERVAL_SECONDS`",
    field: numberSetting({ above: 0, unit: "seconds", example: 150 }).optional(),
  },
  SHUTDOWN_TIMEOUT_SECONDS: {
    about: "bound on a graceful stop: after it the process exits anyway (an end in flight rolls back)",
    field: positiveNumber(10, "seconds"),
  },
});
