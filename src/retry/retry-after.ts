/**
 * A server's Retry-After in milliseconds from `now`: delta-seconds or an HTTP date. Fractional seconds are
 * not in RFC 9110 but are accepted (rounded up) because OpenAI's SDK reads them too. Undefined when the
 * value is absent or unreadable, so that the caller's own backoff decides; a date in the past is 0.
 */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
  if (typeof value !== "string") return undefined;
  const v = value.trim();
  if (v === "") return undefined;
  if (DECIMAL.test(v)) return capped(Math.ceil(Number(v) * 1000));
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : capped(Math.max(0, at - now));
}

/**
 * The longest wait a provider's answer can impose: one default interval (60 s). A pass goes on with its other
 * rows meanwhile and the next pass asks again, so a longer wait only stalls the daemon; an answer asking for
 * days (a hostile or broken proxy) would also overflow Node's timers (2^31 − 1 ms).
 */
export const MAX_RETRY_AFTER_MS = 60_000;

const capped = (ms: number): number | undefined =>
  Number.isFinite(ms) ? Math.min(ms, MAX_RETRY_AFTER_MS) : undefined;

type HeaderValue = string | string[] | null | undefined;

/**
 * As OpenAI's SDK reads a refusal: its own `retry-after-ms` (milliseconds) wins, else `retry-after`. Only
 * OpenAI sends `retry-after-ms`; other callers read `retry-after` alone with `parseRetryAfter`.
 */
export function retryAfterFromHeaders(
  headers: Readonly<Record<string, HeaderValue>>,
  now = Date.now(),
): number | undefined {
  const ms = first(headers["retry-after-ms"])?.trim();
  if (ms && DECIMAL.test(ms)) return capped(Math.ceil(Number(ms)));
  return parseRetryAfter(first(headers["retry-after"]), now);
}

const DECIMAL = /^\d+(\.\d+)?$/;

function first(value: HeaderValue): string | undefined {
  return (Array.isArray(value) ? value[0] : value) ?? undefined;
}
