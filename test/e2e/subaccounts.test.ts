import { afterEach, describe, expect, it } from "vitest";
import type { SeedCall } from "../../src/dev/seed.js";
import type { SimTwilioCall } from "../../src/sim/twilio-sim.js";
import { ACCOUNT_SID, activeRow, type Matrix, sid, startMatrix, whole } from "../helpers/matrix.js";

const START = whole(Date.now() - 2 * 3600_000);
const endOf = (i: number) => whole(START.getTime() + (60 + i) * 1000);
const SUBACCOUNTS = ["a", "b", "c"].map((c) => `AC${c.repeat(32)}`);
/** The parent's credentials cannot reach it: not one of its subaccounts. */
const STRANGER = `AC${"d".repeat(32)}`;
const LIMIT = 20;

interface Population {
  rows: SeedCall[];
  calls: SimTwilioCall[];
  live: string[];
  zombies: { id: string; endedAt: Date }[];
}

/**
 * The shape: three subaccounts of 120 calls and 20 calls of the parent; 41 zombies. Half the parent's
 * rows leave the account column empty, half name the parent (older rows, and rows from a webhook's AccountSid).
 */
function population(): Population {
  const p: Population = { rows: [], calls: [], live: [], zombies: [] };
  const accounts: [string | null, number, number][] = [
    [SUBACCOUNTS[0] as string, 120, 12],
    [SUBACCOUNTS[1] as string, 120, 12],
    [SUBACCOUNTS[2] as string, 120, 12],
    [null, 20, 5],
  ];
  let n = 0;
  for (const [account, size, zombies] of accounts) {
    for (let i = 0; i < size; i++) {
      const id = `${account?.slice(2, 3) ?? "parent"}-${i}`;
      const zombie = i < zombies;
      const endedAt = endOf(n++);
      p.rows.push(
        activeRow(id, START, { sid: sid(id), account: account ?? (i % 2 === 0 ? null : ACCOUNT_SID) }),
      );
      p.calls.push({
        sid: sid(id),
        ...(account !== null ? { accountSid: account } : {}),
        status: zombie ? "completed" : "in-progress",
        startTime: START,
        endTime: zombie ? endedAt : null,
        duration: zombie ? String((endedAt.getTime() - START.getTime()) / 1000) : null,
      });
      if (zombie) p.zombies.push({ id, endedAt });
      else p.live.push(id);
    }
  }
  return p;
}

const ENV = {
  CALLS_COL_TWILIO_ACCOUNT: "twilio_account_sid",
  TWILIO_MAX_RPS: String(LIMIT),
  TWILIO_CONCURRENCY: "8",
  PROVIDER_TIMEOUT_MS: "5000",
};

/** The population in the table and at the simulator, every account limited to LIMIT. */
async function startWithPopulation(p: Population, strategy: string): Promise<Matrix> {
  const m = await startMatrix(
    p.rows,
    { ...ENV, TWILIO_STRATEGY: strategy },
    { twilioMaxRps: LIMIT, twilioSubaccounts: SUBACCOUNTS },
  );
  for (const c of p.calls) m.twilio.upsertCall(c);
  return m;
}

async function expectOnlyTheZombiesEnded(m: Matrix, p: Population): Promise<void> {
  const rows = await m.rows([...p.live, ...p.zombies.map((z) => z.id)]);
  for (const id of p.live) expect(rows.get(id)).toMatchObject({ status: "active", endedAt: null });
  for (const z of p.zombies)
    expect(rows.get(z.id)).toMatchObject({ status: "completed", endedAt: z.endedAt });
  expect((await m.actions()).length).toBe(p.zombies.length);
}

describe("Twilio subaccounts (real Postgres, the simulator limiting each account)", () => {
  let m: Matrix | undefined;
  afterEach(async () => {
    await m?.close();
    m = undefined;
  });

  it("asks each call under its subaccount with the parent's credentials, each account at its own limit", async () => {
    const p = population();
    m = await startWithPopulation(p, "per-call");
    const r = await m.pass();
    expect(r).toMatchObject({ ended: 41, live: 339 });
    await expectOnlyTheZombiesEnded(m, p);
    const stats = m.twilio.stats;
    expect(stats.rateLimited).toBe(0);
    for (const account of SUBACCOUNTS)
      expect(stats.byAccount[account]).toMatchObject({ fetches: 120, rateLimited: 0 });
    expect(stats.byAccount[ACCOUNT_SID]).toMatchObject({ fetches: 20, rateLimited: 0 });
    for (const a of Object.values(stats.byAccount))
      expect(a.maxRequestsInOneSecond).toBeLessThanOrEqual(LIMIT);
    // The accounts were asked side by side: together, more than one account's limit in some second.
    expect(stats.maxRequestsInOneSecond).toBeGreaterThan(LIMIT);
  });

  it("lists each account's live calls on its own (list-diff) and fetches only the rest", async () => {
    const p = population();
    m = await startWithPopulation(p, "list-diff");
    const r = await m.pass();
    expect(r).toMatchObject({ twilioStrategy: "list-diff", ended: 41, live: 339, listRequests: 12 });
    await expectOnlyTheZombiesEnded(m, p);
    const stats = m.twilio.stats;
    expect(stats.rateLimited).toBe(0);
    // One page per live status (queued, ringing, in-progress) per account, and a fetch per zombie: the parent
    // is listed once, whether its rows name it or not.
    for (const account of SUBACCOUNTS)
      expect(stats.byAccount[account]).toMatchObject({ lists: 3, fetches: 12 });
    expect(stats.byAccount[ACCOUNT_SID]).toMatchObject({ lists: 3, fetches: 5 });
  });

  it("never puts a malformed account in a URL, and a foreign account's 404 ends nothing", async () => {
    const bad = "AC' OR 1=1 --/../Messages";
    const rows = [
      activeRow("bad-account", START, { sid: sid("bad-account"), account: bad }),
      activeRow("foreign", START, { sid: sid("foreign"), account: STRANGER }),
      activeRow("blank", START, { sid: sid("blank"), account: "" }),
    ];
    m = await startMatrix(rows, { ...ENV, TWILIO_STRATEGY: "list-diff" }, { twilioSubaccounts: SUBACCOUNTS });
    for (const [id, accountSid] of [
      ["bad-account", SUBACCOUNTS[0]],
      ["foreign", STRANGER],
      ["blank", ACCOUNT_SID],
    ] as const)
      m.twilio.upsertCall({
        sid: sid(id),
        accountSid,
        status: "completed",
        startTime: START,
        endTime: endOf(1),
        duration: "61",
      });
    const r = await m.pass();
    // The blank account column is the configured account: that zombie ends; the other two are not touched.
    expect(r.ended).toBe(1);
    const stored = await m.rows(["bad-account", "foreign", "blank"]);
    expect(stored.get("bad-account")).toMatchObject({ status: "active", endedAt: null });
    expect(stored.get("foreign")).toMatchObject({ status: "active", endedAt: null });
    expect(stored.get("blank")).toMatchObject({ status: "completed", endedAt: endOf(1) });
    expect(Object.keys(m.twilio.stats.byAccount).sort()).toEqual([ACCOUNT_SID, STRANGER].sort());
    const finding = r.findings.find((f) => f.call.id === "bad-account");
    expect(finding?.verdict).toMatchObject({ action: "unverified" });
    expect(JSON.stringify(finding?.evidence)).toContain("is not a Twilio Account SID");
  });
});

describe("where each account's listing is cut (PgCallStore.activeStartShares, real Postgres)", () => {
  let m: Matrix | undefined;
  afterEach(async () => {
    await m?.close();
    m = undefined;
  });

  it("counts each account's active rows with a SID and cuts their start times into equal shares", async () => {
    const at = (i: number) => new Date(START.getTime() + i * 1000);
    const rows = [
      ...Array.from({ length: 40 }, (_, i) =>
        activeRow(`a-${i}`, at(i), { sid: sid(`a-${i}`), account: SUBACCOUNTS[0] }),
      ),
      ...Array.from({ length: 8 }, (_, i) => activeRow(`p-${i}`, at(100 + i), { sid: sid(`p-${i}`) })),
      activeRow("blank", at(200), { sid: sid("blank"), account: "" }),
      activeRow("no-sid", at(300), { account: SUBACCOUNTS[0] }),
    ];
    m = await startMatrix(rows, { CALLS_COL_TWILIO_ACCOUNT: "twilio_account_sid" });
    const shares = await m.deps.store.activeStartShares?.(4);
    expect(shares?.get(SUBACCOUNTS[0] as string)).toEqual({ rows: 40, cuts: [at(9), at(19), at(29)] });
    // NULL and blank are both the configured account.
    expect(shares?.get(null)).toEqual({ rows: 9, cuts: [at(102), at(104), at(106)] });
    expect(shares?.size).toBe(2);
  });
});
