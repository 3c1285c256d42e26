import type { Config } from "../src/config/config.js";
import type { Strategy } from "./protocol.js";

export type StrategyWiring =
  | { ok: true; deps: { twilioStrategy?: { mode: Strategy; listDiffThreshold: number } } }
  | { ok: false; reason: string };

/**
 * What to hand the pass for `strategy`, from a config loaded with TWILIO_STRATEGY set. Refuses, with the
 * reason, when this build cannot run that strategy (a config without the setting only ever asks per call),
 * rather than silently benchmarking per-call under another name.
 */
export function strategyWiring(config: Config, strategy: Strategy): StrategyWiring {
  const c = config as Config & { twilioStrategy?: unknown; twilioListDiffThreshold?: unknown };
  if (c.twilioStrategy === undefined) {
    return strategy === "per-call"
      ? { ok: true, deps: {} }
      : {
          ok: false,
          reason: `${strategy} is not implemented in this build: loadConfig() does not read TWILIO_STRATEGY (no config.twilioStrategy), so every pass asks per call`,
        };
  }
  if (c.twilioStrategy !== strategy) {
    return { ok: false, reason: `TWILIO_STRATEGY=${strategy} was read as ${String(c.twilioStrategy)}` };
  }
  const threshold = typeof c.twilioListDiffThreshold === "number" ? c.twilioListDiffThreshold : 0;
  return { ok: true, deps: { twilioStrategy: { mode: strategy, listDiffThreshold: threshold } } };
}
