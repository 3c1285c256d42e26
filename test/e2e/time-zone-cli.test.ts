import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import type { SimTwilioCall } from "../../src/sim/twilio-sim.js";
import { type ChaosWorld, chaosWorld, hoursAgo, liveCall, zombie } from "../helpers/chaos-world.js";
import { runCli } from "../helpers/cli.js";
import { sid } from "../helpers/matrix.js";

/**
 * The incident: a `timestamp without time zone` calls table holding UTC wall times, a daemon under
 * TZ=Asia/Kolkata, and a 20 h-old call read as 25.5 h old and ended by the age bound. The database's sessions
 * run in a third zone, so neither the process's TZ nor the session's TimeZone can hide a missing conversion.
 */
const SESSION_ZONE = "America/Los_Angeles";
const HOUR = 3_600_000;

/** `d` as the wall time PostgreSQL prints for a `timestamp` column holding it in a zone `offsetMinutes` ahead. */
const wall = (d: Date, offsetMinutes: number) =>
  new Date(d.getTime() + offsetMinutes * 60_000)
    .toISOString()
    .replace("T", " ")
    .replace(/\.000Z$/, "");

const failing = (id: string, at: Date): { id: string; startedAt: Date; call: SimTwilioCall } => ({
  id,
  startedAt: at,
  call: {
    sid: sid(id),
    status: "in-progress",
    startTime: at,
    endTime: null,
    duration: null,
    fault: { kind: "http", status: 500 },
  },
});

/** A naive calls table whose rows hold wall times in `zone`: one zombie, one live call, two whose check fails. */
async function naiveWorld(zone: string) {
  const z = zombie("tz-zombie", 30);
  const live = liveCall("tz-live", 10);
  const young = failing("tz-20h", hoursAgo(20));
  const old = failing("tz-26h", hoursAgo(26));
  const world = await chaosWorld([], [z.call, live.call, young.call, old.call], {
    beforeSeed: async (db) => {
      await db.pool.query(`ALTER TABLE calls ALTER started_at TYPE timestamp USING started_at AT TIME ZONE 'UTC',
        ALTER ended_at TYPE timestamp USING ended_at AT TIME ZONE 'UTC'`);
      await db.pool.query(`ALTER DATABASE ${pg.escapeIdentifier(db.name)} SET TimeZone = '${SESSION_ZONE}'`);
    },
  });
  const rows: [string, Date][] = [
    [z.row.id, z.row.startedAt],
    [live.row.id, live.row.startedAt],
    [young.id, young.startedAt],
    [old.id, old.startedAt],
  ];
  for (const [id, startedAt] of rows) {
    await world.db.pool.query(
      `INSERT INTO calls (call_id, twilio_call_sid, status, started_at)
       VALUES ($1, $2, 'active', $3::timestamptz AT TIME ZONE $4)`,
      [id, sid(id), startedAt, zone],
    );
  }
  return { world, zombie: z, young, old };
}

async function stored(world: ChaosWorld): Promise<Record<string, { status: string; ended: string | null }>> {
  const { rows } = await world.db.pool.query<{ id: string; status: string; ended: string | null }>(
    "SELECT call_id AS id, status, ended_at::text AS ended FROM calls",
  );
  return Object.fromEntries(rows.map((r) => [r.id, { status: r.status, ended: r.ended }]));
}

/** What the operator reads: the lines of stderr that are not JSON log lines. */
const said = (stderr: string) => stderr.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("{"));

describe("a timestamp without time zone calls table (CALLS_TIME_ZONE), the built CLI under TZ=Asia/Kolkata", () => {
  let world: ChaosWorld | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it("without CALLS_TIME_ZONE, audit and run exit 2 with one line naming the columns and the setting; nothing is written", async () => {
    const w = await naiveWorld("UTC");
    world = w.world;
    for (const args of [["audit", "--apply"], ["run"]]) {
      const r = await runCli(args, { ...w.world.env, TZ: "Asia/Kolkata" });
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      const lines = said(r.stderr);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^call-reconciler: CALLS_COL_STARTED_AT \(calls\.started_at\) and CALLS_COL_ENDED_AT \(calls\.ended_at\): .*set CALLS_TIME_ZONE/,
      );
    }
    expect(Object.values(await stored(w.world)).every((r) => r.status === "active" && r.ended === null)).toBe(
      true,
    );
    expect(await w.world.actions()).toEqual([]);
  });

  it("an abbreviation is refused at config load, naming CALLS_TIME_ZONE", async () => {
    const w = await naiveWorld("UTC");
    world = w.world;
    const r = await runCli(["audit"], { ...w.world.env, CALLS_TIME_ZONE: "IST", TZ: "Asia/Kolkata" });
    expect(r.code).toBe(2);
    expect(said(r.stderr)).toEqual([
      expect.stringMatching(/^call-reconciler: CALLS_TIME_ZONE must be UTC or an IANA/),
    ]);
  });

  it.each([
    // The incident: UTC wall times, the process in Kolkata.
    { zone: "UTC", offsetMinutes: 0, tz: "Asia/Kolkata" },
    // Kolkata wall times, the process elsewhere.
    { zone: "Asia/Kolkata", offsetMinutes: 330, tz: "America/New_York" },
    // A tz database link without a slash (an abbreviation of UTC to PostgreSQL too, so any tzdata serves).
    { zone: "GMT", offsetMinutes: 0, tz: "Asia/Kolkata" },
  ])(
    "CALLS_TIME_ZONE=$zone, TZ=$tz: a 20 h-old call is kept, the age bound and Twilio's end are written as $zone wall times",
    async ({ zone, offsetMinutes, tz }) => {
      const w = await naiveWorld(zone);
      world = w.world;
      const r = await runCli(["audit", "--apply"], { ...w.world.env, CALLS_TIME_ZONE: zone, TZ: tz });
      // The failing checks leave the 20 h-old call unverified: exit 3.
      expect(r.code, r.stderr).toBe(3);
      expect(await stored(w.world)).toEqual({
        "tz-zombie": { status: "completed", ended: wall(w.zombie.endedAt, offsetMinutes) },
        "tz-live": { status: "active", ended: null },
        // 20 h old, not 25.5: the age bound (24 h) does not apply.
        "tz-20h": { status: "active", ended: null },
        "tz-26h": {
          status: "timeout",
          ended: wall(new Date(w.old.startedAt.getTime() + 24 * HOUR), offsetMinutes),
        },
      });
      // The audit rows (timestamptz) hold the same instants.
      const actions = Object.fromEntries((await w.world.actions()).map((a) => [a.callId, a]));
      expect(Object.keys(actions).sort()).toEqual(["tz-26h", "tz-zombie"]);
      expect(actions["tz-zombie"]).toMatchObject({ source: "twilio", endedAt: w.zombie.endedAt });
      expect(actions["tz-26h"]).toMatchObject({
        source: "age_bound",
        endedAt: new Date(w.old.startedAt.getTime() + 24 * HOUR),
      });
    },
  );
});
