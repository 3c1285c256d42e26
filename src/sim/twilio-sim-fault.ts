import { setTimeout as sleep } from "node:timers/promises";
import { malformed, type Reply, rewriteCalls, twilioError } from "./twilio-sim-http.js";

/** A fault the Twilio simulator injects into requests (one call's, or every request), and its countdown. */
export type SimFault =
  /** `times`: fail only the first N requests, then answer normally; undefined = always. */
  | { kind: "http"; status: number; retryAfterSeconds?: number; times?: number }
  /** Answers 200 with a truncated, invalid JSON body. */
  | { kind: "malformed"; times?: number }
  /** Waits, then answers normally. */
  | { kind: "delay"; ms: number; times?: number }
  /** Sends the headers at once, then the body one byte every `everyMs`: a socket that never goes idle. */
  | { kind: "drip"; everyMs: number; times?: number }
  /**
   * Answers a call (a fetch, or each call of a list page) as it is but with `end_time` null and a `duration` of
   * 10^13 s: start_time + duration is no date at all.
   */
  | { kind: "huge_duration"; times?: number }
  /**
   * Answers a call with a status of `length` characters (default 3 MiB, under the client's 4 MB bound on a
   * body). On a list page, its first call only, so that the page stays under that bound too.
   */
  | { kind: "huge_status"; length?: number; times?: number };

/** The duration `huge_duration` answers: whole seconds, as Twilio writes them, 300,000 years' worth. */
export const HUGE_DURATION = "9999999999999";
export const HUGE_STATUS_LENGTH = 3 * 1024 * 1024;

export interface FaultSlot {
  fault: SimFault;
  /** undefined = never runs out. */
  remaining: number | undefined;
}

export const slotFor = (fault: SimFault): FaultSlot => ({ fault, remaining: fault.times });

/** Consumes one use of the fault; returns it when it applies to this request. */
export function takeFault(slot: FaultSlot | undefined): SimFault | undefined {
  if (!slot) return undefined;
  if (slot.remaining === undefined) return slot.fault;
  if (slot.remaining <= 0) return undefined;
  slot.remaining--;
  return slot.fault;
}

/**
 * The answer `next` would give, with the slot's fault (if it applies to this request) applied around it, so that
 * `malformed` can truncate whatever would have been sent. A delay stops when `closing` aborts.
 */
export async function applyFault(
  slot: FaultSlot | undefined,
  next: () => Promise<Reply>,
  closing: AbortSignal,
): Promise<Reply> {
  const fault = takeFault(slot);
  if (!fault) return next();
  switch (fault.kind) {
    case "http": {
      const retry = fault.retryAfterSeconds;
      return twilioError(
        fault.status,
        undefined,
        retry === undefined ? undefined : { "Retry-After": String(retry) },
      );
    }
    case "malformed":
      return malformed(await next());
    case "delay":
      await sleep(fault.ms, undefined, { signal: closing });
      return next();
    case "drip":
      return { ...(await next()), dripMs: fault.everyMs };
    case "huge_duration":
      return rewriteCalls(await next(), (call) => ({ ...call, end_time: null, duration: HUGE_DURATION }));
    case "huge_status": {
      const length = fault.length ?? HUGE_STATUS_LENGTH;
      const status = "in-progress-".repeat(Math.ceil(length / 12)).slice(0, length);
      return rewriteCalls(await next(), (call, i) => (i === 0 ? { ...call, status } : call));
    }
  }
}
