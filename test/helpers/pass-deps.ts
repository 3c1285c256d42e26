import pino from "pino";
import { loadConfig } from "../../src/config/config.js";
import type { CallStore, ProviderProbes } from "../../src/model/index.js";
import type { PassDeps } from "../../src/reconcile/pass.js";
import { passSettings } from "../../src/reconcile/pass-settings.js";
import { SessionCapCheck } from "../../src/reconcile/session-cap.js";
import { TEST_POLICY } from "./policy.js";

/** Every setting at its default, as a daemon started with none set reads them. */
const DEFAULTS = loadConfig({});

/**
 * A pass's dependencies for the unit tests: the settings' defaults, read where the daemon's wiring reads them,
 * with the tables' policy, small pages and a silent logger; `over` is what a test says otherwise.
 */
export function testPassDeps(
  store: CallStore,
  probes: ProviderProbes,
  over: Partial<PassDeps> = {},
): PassDeps {
  const logger = over.logger ?? pino({ level: "silent" });
  return {
    ...passSettings(DEFAULTS, logger),
    store,
    probes,
    policy: TEST_POLICY,
    logger,
    pageSize: 3,
    concurrency: 2,
    ...over,
  };
}

/** OPENAI_PROBE=early: realtime calls younger than the session cap are probed too. */
export function earlyProbe(): PassDeps["realtimeProbe"] {
  return { mode: "early", cap: new SessionCapCheck(pino({ level: "silent" })) };
}
