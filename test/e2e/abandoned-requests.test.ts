import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { activeRow, type Matrix, sid, startMatrix, whole } from "../helpers/matrix.js";
import { until } from "../helpers/wait.js";

const START = whole(Date.now() - 2 * 3600_000);
const END = whole(START.getTime() + 90_000);

/** `live` in-progress calls and `zombies` completed ones, seeded in the table and the simulator alike. */
async function seeded(live: number, zombies: number, env: Record<string, string>): Promise<Matrix> {
  const ids = [
    ...Array.from({ length: live }, (_, i) => `live-${i}`),
    ...Array.from({ length: zombies }, (_, i) => `zombie-${i}`),
  ];
  const m = await startMatrix(
    ids.map((id) => activeRow(id, START, { sid: sid(id) })),
    env,
  );
  for (const id of ids) {
    const over = id.startsWith("zombie");
    m.twilio.upsertCall({
      sid: sid(id),
      status: over ? "completed" : "in-progress",
      startTime: START,
      endTime: over ? END : null,
      duration: over ? "90" : null,
    });
  }
  return m;
}

describe("Twilio requests given up are aborted (real Postgres, the simulator)", () => {
  let m: Matrix | undefined;
  afterEach(async () => {
    await m?.close();
    m = undefined;
  });

  it("an answer dripping past the timeout has its connection closed; the other rows are reconciled", async () => {
    m = await seeded(3, 2, {
      TWILIO_STRATEGY: "per-call",
      PROVIDER_TIMEOUT_MS: "300",
      PROVIDER_MAX_ATTEMPTS: "2",
    });
    // About 1 KB at a byte every 100 ms: the answer would take minutes, the socket never goes idle.
    m.twilio.setFault(sid("live-0"), { kind: "drip", everyMs: 100 });
    const r = await m.pass();
    expect(r.unverified).toEqual({ timeout: 1 });
    expect(r.ended).toBe(2);
    expect(r.live).toBe(2);
    const rows = await m.rows(["zombie-0", "zombie-1", "live-0"]);
    expect(rows.get("zombie-0")).toMatchObject({ status: "completed", endedAt: END });
    expect(rows.get("live-0")).toMatchObject({ status: "active", endedAt: null });
    // Both attempts at the dripping call were given up at their timeout, and their connections closed.
    const twilio = m.twilio;
    await until("the dripping answers' connections closed", () => twilio.openResponses === 0, 2_000);
    expect(twilio.stats.abandoned).toBe(2);
  });

  it("a pass stopped at its deadline leaves no listing behind: no further page is asked, none stays open", async () => {
    m = await seeded(300, 3, { TWILIO_STRATEGY: "list-diff", PROVIDER_TIMEOUT_MS: "10000" });
    // Every answer drips: the first list page (300 calls) would take hours.
    m.twilio.setAccountFault({ kind: "drip", everyMs: 20 });
    const r = await m.pass({ signal: AbortSignal.timeout(800) });
    expect(r.aborted).toBe(true);
    expect(r.ended).toBe(0);
    const twilio = m.twilio;
    await until("the listing's connections closed", () => twilio.openResponses === 0, 2_000);
    const asked = twilio.stats.requests;
    expect(twilio.stats.abandoned).toBe(asked);
    // A sleep: a page asked after the deadline would come within the next page's turn; nothing may come.
    await sleep(500);
    expect(twilio.stats.requests).toBe(asked);
    expect(twilio.openResponses).toBe(0);
  });
});
