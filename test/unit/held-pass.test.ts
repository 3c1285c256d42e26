import { describe, expect, it } from "vitest";
import type { ActiveCall } from "../../src/model/index.js";
import { type PassDeps, passOutcome, runPass } from "../../src/reconcile/pass.js";
import { RowBackoff } from "../../src/reconcile/row-backoff.js";
import { MemoryCallStore } from "../helpers/memory-store.js";
import { testPassDeps } from "../helpers/pass-deps.js";
import { completedAt, tableProbes } from "../helpers/table-probes.js";

// runPass with fake providers and the in-memory store (as in run-pass.test.ts), for held calls.
const NOW = new Date("2026-11-29T12:00:00Z");
const HOUR = 3_600_000;
const sid = (n: number) => `CA${n.toString(16).padStart(32, "0")}`;
const call = (n: number, opts: Partial<ActiveCall> = {}): ActiveCall => ({
  id: `call-${n}`,
  twilioSid: sid(n),
  twilioAccount: null,
  openaiId: null,
  status: "active",
  startedAt: new Date(NOW.getTime() - HOUR + n * 1000),
  ...opts,
});
const END = new Date(NOW.getTime() - HOUR / 2);
const COMPLETED = completedAt(END);

/** Twilio: the zombies (1, 4) are completed, 2 is unknown (404), 3 is live; every SID asked is logged. */
function world() {
  const { probes, asked } = tableProbes({
    [sid(1)]: COMPLETED,
    [sid(2)]: { kind: "not_found" },
    [sid(3)]: { kind: "live", status: "in-progress" },
    [sid(4)]: COMPLETED,
  });
  // 2 is older than the age bound: unheld, its 404 would let the age bound end it.
  const store = new MemoryCallStore().add(
    call(1),
    call(2, { startedAt: new Date(NOW.getTime() - 25 * HOUR) }),
    call(3),
    call(4),
  );
  store.clock = () => NOW;
  const failed: string[] = [];
  const deps: PassDeps = testPassDeps(store, probes, {
    backoff: new RowBackoff(),
    record: { rowCheckFailed: (reason) => failed.push(reason) },
  });
  return { store, deps, asked, failed };
}

describe("runPass and held calls", () => {
  it("never asks about nor ends a held call, not even past the age bound; reports it unverified: held", async () => {
    const { store, deps, asked, failed } = world();
    store.held.add("call-1").add("call-2");

    const r = await runPass(deps, { runId: "run-1", dryRun: false });
    expect(asked.sort()).toEqual([sid(3), sid(4)]);
    expect(r).toMatchObject({ checked: 4, live: 1, ended: 1, unverified: { held: 2 }, providerErrors: 0 });
    expect(r.zombies).toEqual({ twilio: 1, openai: 0, age_bound: 0 });
    expect(store.statusOf("call-1")).toEqual({ status: "active", endedAt: null });
    expect(store.statusOf("call-2")).toEqual({ status: "active", endedAt: null });
    expect(store.statusOf("call-4")).toEqual({ status: "completed", endedAt: END });
    // Held is an expected answer: the pass is not partial, and no row backs off for it.
    expect(passOutcome(r)).toBe("success");
    expect(failed).toEqual([]);
    const held = r.findings.filter((f) => f.verdict.action === "unverified");
    expect(held.map((f) => f.call.id).sort()).toEqual(["call-1", "call-2"]);
    for (const f of held) {
      expect(f.verdict).toMatchObject({ action: "unverified", reason: "held" });
      expect(f.evidence).toEqual({
        twilio: { kind: "skipped", why: "held" },
        openai: { kind: "skipped", why: "held" },
      });
      expect(f.outcome).toBe("unverified");
    }
    // Each page's own read said which of its rows are held: no query of its own for them.
    expect(store.heldQueries).toEqual([]);
  });

  it("rows kept for the end of the pass (backing off, due again) are asked about their hold again then", async () => {
    const { store, deps, asked } = world();
    const backoff = new RowBackoff(1, 1);
    // call-4 failed on an earlier pass and is due again: it waits for the end of this pass.
    backoff.failed("call-4", new Date(NOW.getTime() - 60_000));
    deps.backoff = backoff;
    // Held right after its page was read (not held then): its hold is read afresh when its turn comes.
    store.onPage = (page) => {
      if (page.rows.some((r) => r.id === "call-4")) store.held.add("call-4");
    };
    const r = await runPass(deps, { runId: "run-1", dryRun: false });
    expect(asked).not.toContain(sid(4));
    expect(r.unverified).toMatchObject({ held: 1 });
    expect(store.statusOf("call-4")).toEqual({ status: "active", endedAt: null });
    expect(store.heldQueries).toEqual([["call-4"]]);
  });

  it("a dry run reports the same; once released, the next pass judges the call again", async () => {
    const { store, deps, asked } = world();
    store.held.add("call-1").add("call-2");
    const dry = await runPass(deps, { runId: "run-1", dryRun: true });
    expect(dry.unverified).toEqual({ held: 2 });
    expect(dry.zombies.twilio).toBe(1);
    expect(asked.sort()).toEqual([sid(3), sid(4)]);

    store.held.delete("call-1");
    store.held.delete("call-2");
    const applied = await runPass(deps, { runId: "run-2", dryRun: false });
    expect(applied.unverified).toEqual({});
    expect(applied.zombies).toEqual({ twilio: 2, openai: 0, age_bound: 1 });
    expect(store.statusOf("call-1")).toEqual({ status: "completed", endedAt: END });
    expect(store.statusOf("call-2")?.status).toBe("timeout");
  });
});
