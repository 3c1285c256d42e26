import { positiveInt, positiveNumber } from "../fields/env-fields.js";
import { numberSetting } from "../fields/number-setting.js";
import { inGroup } from "./setting.js";

/**
 * Requests per second over the breaker's window below which it never opens: 60 requests in the default 30 s,
 * so 20 rows failing all 3 attempts at the head of a listing cannot open it, while an outage answering at the
 * default rate (up to 10 requests a second) opens it within seconds.
 */
export const DEFAULT_BREAKER_MIN_THROUGHPUT = 2;

export const REQUEST_SETTINGS = inGroup("requests", {
  PROVIDER_TIMEOUT_MS: { about: "per provider request", field: positiveInt(10_000, "milliseconds") },
  PROVIDER_MAX_ATTEMPTS: {
    about: "failed attempts per request (5xx, timeout, network), the first included; 429s do not count",
    field: numberSetting({ whole: true, min: 1, max: 10, example: 3 }).default(3),
  },
  BREAKER_FAILURE_RATE: {
    about:
      "each provider's (and Twilio account's) circuit breaker opens above this share of failed requests over the window",
    field: numberSetting({ above: 0, below: 1, example: 0.5 }).default(0.5),
  },
  BREAKER_WINDOW_SECONDS: {
    about: "the window the breaker's failure rate is measured over",
    field: positiveNumber(30, "seconds"),
  },
  BREAKER_MIN_THROUGHPUT: {
    about: "requests per second over the window below which the breaker never opens",
    shown: `\`${DEFAULT_BREAKER_MIN_THROUGHPUT}\``,
    field: numberSetting({ above: 0, unit: "requests per second", example: 2 }).optional(),
  },
  BREAKER_HALF_OPEN_SECONDS: {
    about: "how long the breaker stays open before one trial request",
    field: positiveNumber(30, "seconds"),
  },
});
