/**
 * Nudges as NOTIFY payloads: JSON, cut into as many payloads as needed to stay under NOTIFY's limit, and read
 * back without trusting a payload: anyone who may connect can NOTIFY on the channel.
 */
import type { CallNudge } from "../model/index.js";

/** NOTIFY refuses a payload of 8000 bytes or more (in the server's encoding; ours are ASCII). */
export const NOTIFY_PAYLOAD_LIMIT = 8000;

const VERSION = 1;
const HEAD = `{"v":${VERSION},"nudges":[`;
const TAIL = "]}";

interface WireNudge {
  eventId: string;
  callSid: string;
  accountSid: string | null;
  callStatus: string;
  eventAt: string;
  appResponseCode: number | null;
}

/**
 * The payloads carrying `nudges`, in order, each under NOTIFY_PAYLOAD_LIMIT bytes; `unrelayable`: the nudges
 * no payload can carry (one alone is too large, or its time is invalid).
 */
export function encodeNudges(nudges: readonly CallNudge[]): {
  payloads: string[];
  unrelayable: CallNudge[];
} {
  const payloads: string[] = [];
  const unrelayable: CallNudge[] = [];
  let items: string[] = [];
  let size = HEAD.length + TAIL.length;
  for (const n of nudges) {
    const item = Number.isNaN(n.eventAt.getTime()) ? null : asciiJson(wireOf(n));
    if (item === null || HEAD.length + item.length + TAIL.length >= NOTIFY_PAYLOAD_LIMIT) {
      unrelayable.push(n);
      continue;
    }
    const grown = size + item.length + (items.length === 0 ? 0 : 1);
    if (grown >= NOTIFY_PAYLOAD_LIMIT) {
      payloads.push(HEAD + items.join(",") + TAIL);
      items = [];
      size = HEAD.length + TAIL.length;
    }
    size += item.length + (items.length === 0 ? 0 : 1);
    items.push(item);
  }
  if (items.length > 0) payloads.push(HEAD + items.join(",") + TAIL);
  return { payloads, unrelayable };
}

/** A payload not written by encodeNudges (or by another release's): ignored by the listener. */
export class MalformedNudgesError extends Error {
  override name = "MalformedNudgesError";
}

/** The nudges of one payload; MalformedNudgesError unless every part of it is what encodeNudges writes. */
export function decodeNudges(payload: string): CallNudge[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    throw new MalformedNudgesError(`a nudge payload that is not JSON (${payload.length} bytes)`);
  }
  if (!isRecord(parsed) || parsed.v !== VERSION || !Array.isArray(parsed.nudges))
    throw new MalformedNudgesError(`a nudge payload of an unknown form (${payload.length} bytes)`);
  return parsed.nudges.map((item, i) => {
    const nudge = nudgeOf(item);
    if (nudge === null) throw new MalformedNudgesError(`nudge ${i} of a payload is malformed`);
    return nudge;
  });
}

function wireOf(n: CallNudge): WireNudge {
  return {
    eventId: n.eventId,
    callSid: n.callSid,
    accountSid: n.accountSid,
    callStatus: n.callStatus,
    eventAt: n.eventAt.toISOString(),
    appResponseCode: n.appResponseCode,
  };
}

function nudgeOf(item: unknown): CallNudge | null {
  if (!isRecord(item)) return null;
  const { eventId, callSid, accountSid, callStatus, eventAt, appResponseCode } = item;
  if (typeof eventId !== "string" || typeof callSid !== "string" || typeof callStatus !== "string")
    return null;
  if (accountSid !== null && typeof accountSid !== "string") return null;
  if (appResponseCode !== null && !Number.isSafeInteger(appResponseCode)) return null;
  if (typeof eventAt !== "string") return null;
  const at = new Date(eventAt);
  if (Number.isNaN(at.getTime())) return null;
  return {
    eventId,
    callSid,
    accountSid,
    callStatus,
    eventAt: at,
    appResponseCode: appResponseCode as number | null,
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * JSON with every non-ASCII character escaped: its length is its size in bytes in any server encoding, and
 * a character the server's encoding lacks cannot make NOTIFY fail.
 */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
