/** A fault the Twilio simulator injects into requests (one call's, or every request), and its countdown. */
export type SimFault =
  /** `times`: fail only the first N requests, then answer normally; undefined = always. */
  | { kind: "http"; status: number; retryAfterSeconds?: number; times?: number }
  /** Answers 200 with a truncated, invalid JSON body. */
  | { kind: "malformed"; times?: number }
  /** Waits, then answers normally. */
  | { kind: "delay"; ms: number; times?: number }
  /** Sends the headers at once, then the body one byte every `everyMs`: a socket that never goes idle. */
  | { kind: "drip"; everyMs: number; times?: number };

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
