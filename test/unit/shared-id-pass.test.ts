import { describe, expect, it } from "vitest";
import { reportJson, reportTable } from "../../src/cli/report.js";
import type {
  ActiveCall,
  ProviderProbes,
  RealtimeObservation,
  TwilioEvidence,
} from "../../src/model/index.js";
import { type PassDeps, passOutcome, runPass } from "../../src/reconcile/pass.js";
import { RowBackoff } from "../../src/reconcile/row-backoff.js";
import { MemoryCallStore } from "../helpers/memory-store.js";
import { testPassDeps } from "../helpers/pass-deps.js";

const NOW = new Date("2026-12-01T12:00:00Z");
const MIN = 60_000;
const SID = `CA${"ab".repeat(16)}`;
const RTC = "rtc_u1_9c6574da8b8a41a18da9308f4ad974ce";
const ODD = "legacy-000042";

/** A row of a table whose one `call_id` column is also both providers' id column. */
const row = (id: string, minutesAgo: number): ActiveCall => ({
  id,
  twilioSid: id,
  openaiId: id,
  twilioAccount: null,
  status: "active",
  startedAt: new Date(NOW.getTime() - minutesAgo * MIN),
});

const endedAt = new Date(NOW.getTime() - 80 * MIN);
const completed: TwilioEvidence = {
  kind: "ended",
  status: "completed",
  endedAt,
  endTimeSource: "end_time",
  raw: { start_time: null, end_time: endedAt.toUTCString(), duration: null, date_updated: null },
};

function world(providers: { twilio: boolean; openai: boolean }) {
  const asked = { twilio: [] as string[], openai: [] as string[], hangups: [] as string[] };
  const probes: ProviderProbes = {
    twilio: providers.twilio
      ? {
          fetchCall: async (sid) => {
            asked.twilio.push(sid);
            return completed;
          },
          listCallsPage: async () => ({ kind: "page", calls: [], nextPageUri: null }),
        }
      : null,
    openai: providers.openai
      ? {
          probeSession: async (id): Promise<RealtimeObservation> => {
            asked.openai.push(id);
            return { kind: "gone" };
          },
        }
      : null,
    hangupRealtime: async (id) => {
      asked.hangups.push(id);
      return { kind: "hung_up" };
    },
  };
  const store = new MemoryCallStore();
  store.sharedIdColumn = true;
  store.add(row(SID, 90), row(RTC, 90), row(ODD, 90));
  let now = NOW;
  store.clock = () => now;
  const failures: string[] = [];
  const backoff = new RowBackoff(30_000, 120_000);
  const deps: PassDeps = testPassDeps(store, probes, {
    pageSize: 10,
    backoff,
    record: { rowCheckFailed: (reason) => failures.push(reason) },
  });
  let n = 0;
  return {
    store,
    asked,
    failures,
    backoff,
    later: (ms: number) => {
      now = new Date(now.getTime() + ms);
    },
    pass: () => runPass(deps, { runId: `run-${++n}`, dryRun: false }),
  };
}

describe("one id column for both providers, in a pass", () => {
  it("asks a CA id of Twilio only, an rtc_ id of OpenAI only, and an id of neither shape of nobody", async () => {
    const w = world({ twilio: true, openai: true });
    const first = await w.pass();
    expect(w.asked.twilio).toEqual([SID]);
    expect(w.asked.openai).toEqual([RTC]);
    expect(first.zombies).toEqual({ twilio: 1, openai: 0, age_bound: 0 });
    expect(first.unverified).toEqual({ absence_unconfirmed: 1, unrecognised_id: 1 });
    // Nothing a provider did wrong: no provider error, no failed row, no backoff, the pass is not partial.
    expect(first.providerErrors).toBe(0);
    expect(w.failures).toEqual([]);
    expect(passOutcome(first)).toBe("success");
    for (const id of [SID, RTC, ODD]) expect(w.backoff.standing(id, NOW)).toBe("fresh");

    const byId = new Map(first.findings.map((f) => [f.call.id, f]));
    expect(byId.get(RTC)?.evidence).toEqual({
      twilio: { kind: "skipped", why: "other_provider" },
      openai: { kind: "gone", firstSeenGoneAt: null, lastSeenLiveAt: null },
    });
    expect(byId.get(ODD)?.evidence).toEqual({
      twilio: { kind: "skipped", why: "unrecognised_id" },
      openai: { kind: "skipped", why: "unrecognised_id" },
    });
    expect(byId.get(ODD)?.verdict).toMatchObject({ action: "unverified", reason: "unrecognised_id" });
    expect(w.store.ends[0]?.evidence).toMatchObject({ openai: { kind: "skipped", why: "other_provider" } });
    // A Twilio end's realtime session is hung up only when the row has one: a CA id is not one.
    expect(w.asked.hangups).toEqual([]);

    // audit --json and /zombies: the id under the provider it belongs to, and the evidence as it was.
    const json = reportJson(first).calls;
    expect(json.find((c) => c.callId === RTC)).toMatchObject({
      twilioCallSid: null,
      openaiCallId: RTC,
      evidence: { twilio: { kind: "skipped", why: "other_provider" } },
      reason: "absence_unconfirmed",
    });
    expect(json.find((c) => c.callId === ODD)).toMatchObject({
      twilioCallSid: null,
      openaiCallId: null,
      reason: "unrecognised_id",
      why: expect.stringContaining(`"${ODD}" is neither a Twilio Call SID`),
    });

    const table = reportTable(first);
    expect(table).toMatch(new RegExp(`${RTC}\\s+\\S+\\s+not its id\\s+gone \\(1st sighting\\)`));
    expect(table).toMatch(
      new RegExp(`${ODD}\\s+\\S+\\s+unrecognised id\\s+unrecognised id\\s+unverified: unrecognised_id`),
    );
    expect(table).not.toMatch(/bad_request|error/);

    w.later(2 * MIN);
    const second = await w.pass();
    expect(second.zombies).toEqual({ twilio: 0, openai: 1, age_bound: 0 });
    expect(w.store.statusOf(RTC)?.status).toBe("completed");
    expect(w.store.statusOf(SID)).toEqual({ status: "completed", endedAt });
    expect(w.store.statusOf(ODD)).toEqual({ status: "active", endedAt: null });
    expect(w.asked.twilio).toEqual([SID]);
    expect(w.asked.openai).toEqual([RTC, RTC]);
    expect(w.failures).toEqual([]);
    expect(passOutcome(second)).toBe("success");
  });

  it("with only OpenAI configured, a CA id is not OpenAI's to be asked: no provider, not a bad request", async () => {
    const w = world({ twilio: false, openai: true });
    const r = await w.pass();
    expect(w.asked.openai).toEqual([RTC]);
    expect(r.unverified).toEqual({ no_provider: 1, absence_unconfirmed: 1, unrecognised_id: 1 });
    const sidRow = r.findings.find((f) => f.call.id === SID);
    expect(sidRow?.evidence).toEqual({
      twilio: { kind: "skipped", why: "not_configured" },
      openai: { kind: "skipped", why: "other_provider" },
    });
    expect(w.failures).toEqual([]);
    expect(passOutcome(r)).toBe("success");
  });

  it("with only Twilio configured, an rtc_ id is not Twilio's to be asked", async () => {
    const w = world({ twilio: true, openai: false });
    const r = await w.pass();
    expect(w.asked.twilio).toEqual([SID]);
    expect(r.unverified).toEqual({ no_provider: 1, unrecognised_id: 1 });
    expect(r.findings.find((f) => f.call.id === RTC)?.evidence).toEqual({
      twilio: { kind: "skipped", why: "other_provider" },
      openai: { kind: "skipped", why: "not_configured" },
    });
    expect(w.failures).toEqual([]);
    expect(passOutcome(r)).toBe("success");
  });
});
