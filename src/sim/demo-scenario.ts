import { createHash } from "node:crypto";
import type { SeedCall } from "../dev/seed.js";
import type { SimRealtimeSession } from "./openai-sim.js";
import type { SimTwilioCall } from "./twilio-sim.js";

export const DEMO_ACCOUNT_SID = `AC${"d".repeat(32)}`;
export const DEMO_AUTH_TOKEN = "demo-auth-token-not-a-secret";
export const DEMO_OPENAI_KEY = "sk-demo-key-not-a-secret";

/** What a correct reconciler must do with each seeded row: the demo prints it, the tests assert it. */
export type Expectation =
  | "keep"
  | "end_twilio"
  | "end_age_bound"
  | "unverified"
  | "not_listed"
  /** Realtime session gone: unverified after one pass, ended (source openai) by a second pass an interval later. */
  | "end_openai_second_pass";

export interface ScenarioCall {
  row: SeedCall;
  twilio: SimTwilioCall | null;
  /** The realtime session behind the row's rtc_ id, when the OpenAI simulator should know it. */
  realtime?: SimRealtimeSession;
  expect: Expectation;
  /** For ends: the exact status and end time the row must get. */
  expectedStatus?: string;
  expectedEndedAt?: Date;
  kind: string;
}

export function fakeCallSid(name: string): string {
  return `CA${createHash("sha256").update(name).digest("hex").slice(0, 32)}`;
}

function fakeRealtimeId(name: string): string {
  return `rtc_u1_${createHash("sha256").update(name).digest("hex").slice(0, 32)}`;
}

/** Whole seconds: Twilio's timestamps have second precision, so ours must too for exact comparisons. */
function secondsAgo(now: Date, s: number): Date {
  return new Date(Math.floor(now.getTime() / 1000) * 1000 - s * 1000);
}

/**
 * The mixed population of the incident that started this project: long-dead calls still marked active next
 * to real long calls, calls that never connected, SIDs Twilio does not know, and rows no provider can judge.
 */
export function buildDemoScenario(now: Date): ScenarioCall[] {
  const calls: ScenarioCall[] = [];
  let n = 0;
  const add = (kind: string, make: (name: string, sid: string) => Omit<ScenarioCall, "kind">) => {
    n++;
    const name = `call-${String(n).padStart(3, "0")}`;
    calls.push({ kind, ...make(name, fakeCallSid(name)) });
  };
  const active = (
    id: string,
    sid: string | null,
    startedAt: Date,
    openaiId: string | null = null,
  ): SeedCall => ({
    id,
    twilioSid: sid,
    openaiId,
    status: "active",
    startedAt,
    endedAt: null,
  });

  // Live calls, some far older than the one-hour cron that people write as a stopgap would allow.
  const liveAges = [300, 600, 900, 1800, 2400, 3600, 5400, 7200, 10_800, 14_400, 400, 700, 1200, 1500];
  for (const age of liveAges) {
    add("live (in-progress)", (id, sid) => {
      const start = secondsAgo(now, age);
      return {
        row: active(id, sid, start, fakeRealtimeId(id)),
        twilio: { sid, status: "in-progress", startTime: start, endTime: null, duration: null },
        realtime: { callId: fakeRealtimeId(id), live: true },
        expect: "keep",
      };
    });
  }
  for (const status of ["ringing", "queued"]) {
    add(`live (${status})`, (id, sid) => {
      const start = secondsAgo(now, 180);
      return {
        row: active(id, sid, start),
        twilio: { sid, status, startTime: null, endTime: null, duration: null, dateCreated: start },
        expect: "keep",
      };
    });
  }
  // Completed calls whose webhook was lost: 60,000+ s "active" in the incident.
  for (let i = 0; i < 18; i++) {
    add("zombie (completed)", (id, sid) => {
      const start = secondsAgo(now, 3600 + i * 3500);
      const talk = 45 + i * 37;
      const end = new Date(start.getTime() + talk * 1000);
      return {
        row: active(id, sid, start, i % 3 === 0 ? fakeRealtimeId(id) : null),
        // The agent's realtime session outlived the phone leg: billed until someone hangs it up.
        ...(i % 3 === 0 ? { realtime: { callId: fakeRealtimeId(id), live: true } } : {}),
        twilio: { sid, status: "completed", startTime: start, endTime: end, duration: String(talk) },
        expect: "end_twilio",
        expectedStatus: "completed",
        expectedEndedAt: end,
      };
    });
  }
  // end_time key missing: the SDK would have said "now"; start_time + duration is the truth.
  for (let i = 0; i < 3; i++) {
    add("zombie (completed, end_time missing)", (id, sid) => {
      const start = secondsAgo(now, 7200 + i * 600);
      const talk = 120 + i;
      return {
        row: active(id, sid, start),
        twilio: {
          sid,
          status: "completed",
          startTime: start,
          endTime: null,
          duration: String(talk),
          dateUpdated: secondsAgo(now, 60),
          omitKeys: ["end_time"],
        },
        expect: "end_twilio",
        expectedStatus: "completed",
        expectedEndedAt: new Date(start.getTime() + talk * 1000),
      };
    });
  }
  // Never connected: no end_time, no duration; date_updated is when Twilio gave up.
  for (const status of ["busy", "busy", "no-answer", "no-answer", "canceled", "failed"]) {
    add(`zombie (${status})`, (id, sid) => {
      const start = secondsAgo(now, 5000);
      const gaveUp = new Date(start.getTime() + 25_000);
      return {
        row: active(id, sid, start),
        twilio: {
          sid,
          status,
          startTime: null,
          endTime: null,
          duration: null,
          dateCreated: start,
          dateUpdated: gaveUp,
        },
        expect: "end_twilio",
        expectedStatus: status,
        expectedEndedAt: gaveUp,
      };
    });
  }
  // Unknown to Twilio (another subaccount, or SIP trunking): a 404 proves nothing.
  for (let i = 0; i < 2; i++) {
    add("unverified (404)", (id, sid) => ({
      row: active(id, sid, secondsAgo(now, 9000)),
      twilio: null,
      expect: "unverified",
    }));
  }
  add("unverified (Twilio 500)", (id, sid) => {
    const start = secondsAgo(now, 4000);
    return {
      row: active(id, sid, start),
      twilio: {
        sid,
        status: "completed",
        startTime: start,
        endTime: secondsAgo(now, 3900),
        duration: "100",
        fault: { kind: "http", status: 500 },
      },
      expect: "unverified",
    };
  });
  add("unverified (unknown status)", (id, sid) => {
    const start = secondsAgo(now, 4000);
    return {
      row: active(id, sid, start),
      twilio: { sid, status: "paused-by-carrier", startTime: start, endTime: null, duration: null },
      expect: "unverified",
    };
  });
  // Realtime-only rows (no Twilio SID). One younger than OpenAI's 60-minute session cap may be live: it is not
  // connected to at all. Past the cap, the sideband tells live from gone; a one-shot audit sees an absence only
  // once, and one sighting is not enough to end a call: the daemon confirms it next pass.
  add("realtime only, within the session cap (not probed)", (id) => ({
    row: active(id, null, secondsAgo(now, 2000), fakeRealtimeId(id)),
    twilio: null,
    realtime: { callId: fakeRealtimeId(id), live: true },
    expect: "unverified",
  }));
  add("realtime gone (ended on a 2nd sighting)", (id) => ({
    row: active(id, null, secondsAgo(now, 3 * 3600 + 100), fakeRealtimeId(id)),
    twilio: null,
    expect: "end_openai_second_pass",
  }));
  add("zombie (older than 24 h, no provider)", (id) => {
    const start = secondsAgo(now, 30 * 3600);
    return {
      row: active(id, null, start),
      twilio: null,
      expect: "end_age_bound",
      expectedStatus: "timeout",
      expectedEndedAt: new Date(start.getTime() + 86_400_000),
    };
  });
  // Too young to judge: its webhook may still arrive.
  add("too young", (id, sid) => {
    const start = secondsAgo(now, 30);
    return {
      row: active(id, sid, start),
      twilio: { sid, status: "completed", startTime: start, endTime: secondsAgo(now, 20), duration: "10" },
      expect: "not_listed",
    };
  });
  // Already ended properly by its webhook: never listed, never touched.
  add("ended by webhook", (id, sid) => {
    const start = secondsAgo(now, 8000);
    const end = secondsAgo(now, 7000);
    return {
      row: { id, twilioSid: sid, openaiId: null, status: "completed", startedAt: start, endedAt: end },
      twilio: { sid, status: "completed", startTime: start, endTime: end, duration: "1000" },
      expect: "not_listed",
    };
  });
  return calls;
}
