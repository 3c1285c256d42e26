/**
 * What the simulators say about one active row of a real table (`call-reconciler simulate`): live, ended or
 * unknown, drawn from a hash of the row's id, so two runs over the same rows agree and a rerun can be compared.
 */
import { createHash } from "node:crypto";
import type { ActiveCall } from "../model/index.js";
import type { SimRealtimeSession } from "./openai-sim.js";
import type { SimTwilioCall } from "./twilio-sim.js";

export const MIRROR_KINDS = ["live", "ended", "unknown"] as const;
export type MirrorKind = (typeof MIRROR_KINDS)[number];

/** The share of rows given each kind; they sum to 1. */
export type MirrorShares = Record<MirrorKind, number>;

export interface MirroredCall {
  kind: MirrorKind;
  /** What the Twilio simulator holds for the row's SID; null: it answers 404, as for a SID it never saw. */
  twilio: SimTwilioCall | null;
  /** The live realtime session; null: OpenAI refuses the id, as it refuses an ended or unknown one. */
  realtime: SimRealtimeSession | null;
}

/** Shortest and longest talk time of an ended call: phone calls, not the hours a row may have been stuck. */
const MIN_TALK_SECONDS = 15;
const MAX_TALK_SECONDS = 30 * 60;

/** Two independent uniform draws in [0, 1) from the row's id: its kind, and its talk time when ended. */
function draws(id: string): [number, number] {
  const digest = createHash("sha256").update(id, "utf8").digest();
  return [digest.readUInt32BE(0) / 2 ** 32, digest.readUInt32BE(4) / 2 ** 32];
}

export function kindOf(id: string, shares: MirrorShares): MirrorKind {
  const [u] = draws(id);
  if (u < shares.live) return "live";
  return u < shares.live + shares.ended ? "ended" : "unknown";
}

/**
 * The providers' view of one row at `now`. Twilio's times are whole seconds and its start_time is never
 * before the row's (Twilio starts timing once the app's row exists), so an end is never before started_at;
 * an ended call talked between 15 s and 30 min, and never past `now`. A live row's realtime session is gone
 * once the row is older than OpenAI's session cap.
 */
export function mirrorCall(
  call: ActiveCall,
  shares: MirrorShares,
  now: Date,
  openaiMaxSessionSeconds: number,
): MirroredCall {
  const kind = kindOf(call.id, shares);
  const [, talkDraw] = draws(call.id);
  const start = new Date(Math.ceil(call.startedAt.getTime() / 1000) * 1000);
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const elapsed = Math.max(0, nowSeconds - start.getTime() / 1000);
  const longest = Math.min(elapsed, MAX_TALK_SECONDS);
  const talk =
    longest <= MIN_TALK_SECONDS
      ? longest
      : MIN_TALK_SECONDS + Math.floor(talkDraw * (longest - MIN_TALK_SECONDS + 1));
  const account = call.twilioAccount === null ? {} : { accountSid: call.twilioAccount };
  const sid = call.twilioSid;
  const twilio: SimTwilioCall | null =
    sid === null || kind === "unknown"
      ? null
      : kind === "live"
        ? { sid, ...account, status: "in-progress", startTime: start, endTime: null, duration: null }
        : {
            sid,
            ...account,
            status: "completed",
            startTime: start,
            endTime: new Date(start.getTime() + talk * 1000),
            duration: String(talk),
          };
  // OpenAI ends every session at its cap: a session live past it would be one no real account can show.
  const withinCap = now.getTime() - call.startedAt.getTime() < openaiMaxSessionSeconds * 1000;
  const realtime =
    call.openaiId !== null && kind === "live" && withinCap ? { callId: call.openaiId, live: true } : null;
  return { kind, twilio, realtime };
}
