import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/config.js";

function outcome(env: Record<string, string>): string {
  try {
    loadConfig(env);
    return "ok";
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
}

// An active status the daemon may write would make every end it writes look live again (and an end status
// among the active ones has the age bound rewrite finished rows).
describe("ACTIVE_STATUSES against the statuses the daemon writes", () => {
  it.each<[string, Record<string, string>, string | RegExp]>([
    ["the default", {}, "ok"],
    ["an app's own live statuses", { ACTIVE_STATUSES: "in_progress,ringing" }, "ok"],
    [
      "an unmapped end status (completed)",
      { ACTIVE_STATUSES: "in_progress,ringing,completed" },
      /^ACTIVE_STATUSES includes "completed", which the daemon writes when it ends a call: remove it from ACTIVE_STATUSES$/,
    ],
    [
      "an unmapped end status (busy)",
      { ACTIVE_STATUSES: "active,busy" },
      /^ACTIVE_STATUSES includes "busy", which the daemon writes when it ends a call: remove it/,
    ],
    [
      "the age bound's own status (timeout)",
      { ACTIVE_STATUSES: "active,timeout" },
      /^ACTIVE_STATUSES includes "timeout", which the daemon writes/,
    ],
    [
      "an end status mapped to an active one",
      { ACTIVE_STATUSES: "in_progress,timed_out", STATUS_MAP: "timeout:timed_out" },
      /^STATUS_MAP maps "timeout" to "timed_out", one of ACTIVE_STATUSES/,
    ],
    [
      "an end status mapped away is no longer written",
      { ACTIVE_STATUSES: "active,completed", STATUS_MAP: "completed:done" },
      "ok",
    ],
    [
      "two end statuses mapped to one value outside the active ones",
      { ACTIVE_STATUSES: "in_progress", STATUS_MAP: "timeout:timed_out,canceled:timed_out" },
      "ok",
    ],
  ])("%s", (_name, env, expected) => {
    const got = outcome(env);
    if (typeof expected === "string") expect(got).toBe(expected);
    else expect(got).toMatch(expected);
  });
});
