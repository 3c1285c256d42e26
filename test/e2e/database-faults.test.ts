/**
 * A daemon whose database misbehaves under it while it works: its sessions terminated in bursts
 * (`pg_terminate_backend`, 57P01) and each of its own tables locked exclusively for longer than its
 * lock_timeout (55P03: what a `migrate` or `VACUUM FULL` of those tables does). It must never exit, log each
 * failed pass once, and end every zombie afterwards with one audit row each.
 *
 * Short by default (a 6 s lock on the sightings and the audit trail, a few bursts); `SOAK_SECONDS=180` runs the
 * faults that long, with 10 s locks on each of the five tables, and prints the figures.
 */
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { type ChaosWorld, chaosWorld, liveCall, zombie } from "../helpers/chaos-world.js";
import { rtc } from "../helpers/matrix.js";
import { type Replica, startReplica } from "../helpers/replica.js";
import { until } from "../helpers/wait.js";

const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 0);
const DAEMON_TABLES = [
  "call_reconciler_sightings",
  "call_reconciler_actions",
  "call_reconciler_holds",
  "call_reconciler_causes",
  "call_reconciler_leases",
];
/** The short run locks the two tables every pass with work reads or writes; the soak locks all five. */
const LOCKED_TABLES = SOAK_SECONDS > 0 ? DAEMON_TABLES : DAEMON_TABLES.slice(0, 2);
/** Past the pool's lock_timeout (5 s), so that every statement waiting on the lock fails with 55P03. */
const LOCK_SECONDS = SOAK_SECONDS > 0 ? 10 : 6;
const INTERVAL_SECONDS = 2;

/** Rows also name a realtime session, so that every page reads and writes sightings. */
const realtimeZombie = (id: string, minutesAgo: number) => {
  const z = zombie(id, minutesAgo);
  return { ...z, row: { ...z.row, openaiId: rtc(id) } };
};

describe("a daemon whose database fails under it", () => {
  let w: ChaosWorld | undefined;
  let daemon: Replica | undefined;
  afterEach(async () => {
    daemon?.child.kill("SIGKILL");
    await daemon?.done;
    daemon = undefined;
    await w?.close();
    w = undefined;
  });

  it(
    "terminated sessions and each of its tables locked: it never exits, logs each failed pass once, and ends every zombie once",
    async () => {
      const first = Array.from({ length: 30 }, (_, i) => realtimeZombie(`z0-${i}`, 200 - i));
      const live = Array.from({ length: 100 }, (_, i) => {
        const c = liveCall(`live-${i}`, 150 - i);
        return { ...c, row: { ...c.row, openaiId: rtc(`live-${i}`) } };
      });
      const seeded = [...first, ...live];
      w = await chaosWorld(
        seeded.map((c) => c.row),
        seeded.map((c) => c.call),
        // Pages of 5 rows and slow Twilio answers: a pass is 25 pages, more than it keeps in flight, so pages are
        // still being read while earlier ones wait on Twilio when a fault lands.
        {
          sim: { latencyMs: 100 },
          env: {
            RECONCILE_INTERVAL_SECONDS: String(INTERVAL_SECONDS),
            TWILIO_CONCURRENCY: "4",
            DB_PAGE_SIZE: "5",
          },
        },
      );
      const world = w;
      const zombies = [...first];
      const admin = new pg.Client({ connectionString: world.db.url });
      admin.on("error", () => {});
      await admin.connect();
      const faults = { locks: 0, bursts: 0, terminated: 0 };
      try {
        daemon = startReplica(world.env, SOAK_SECONDS * 1000 + 300_000);
        const d = daemon;
        await until("the first pass", () => d.lines().some((l) => l.msg === "pass finished"));

        // New zombies keep arriving, so that every fault meets work to do.
        let wave = 0;
        const addZombies = async () => {
          wave++;
          const more = Array.from({ length: 5 }, (_, i) => realtimeZombie(`z${wave}-${i}`, 30 + i));
          await world.add(more);
          zombies.push(...more);
        };
        const midPass = async () => {
          const ended = passesEnded();
          await until(
            "a pass to end",
            () => {
              if (d.child.exitCode !== null)
                throw new Error(`the daemon exited ${d.child.exitCode}: ${d.out.stderr().slice(-2000)}`);
              return passesEnded() > ended;
            },
            60_000,
          );
          // The next pass has read its first page and has a Twilio request per slot in flight.
          const asked = world.twilio.stats.requests;
          await until("the next pass to ask Twilio", () => world.twilio.stats.requests >= asked + 4, 60_000);
        };
        const passesEnded = () =>
          d
            .lines()
            .filter((l) => l.msg === "pass finished" || l.msg === "pass failed; retrying next interval")
            .length;
        const burst = async () => {
          const r = await admin.query<{ n: number }>(
            `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
              WHERE datname = current_database() AND application_name = 'call-reconciler'`,
          );
          faults.bursts++;
          faults.terminated += r.rows[0]?.n ?? 0;
        };
        const lockFor = async (table: string, seconds: number) => {
          await admin.query("BEGIN");
          await admin.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
          faults.locks++;
          // A sleep: the lock must outlast the pool's lock_timeout in real time.
          await sleep(seconds * 1000);
          await admin.query("COMMIT");
        };

        const faultsFrom = Date.now();
        const endAt = faultsFrom + SOAK_SECONDS * 1000;
        do {
          for (const table of LOCKED_TABLES) {
            // Each fault lands in the middle of a pass, its first pages past their reads and waiting on Twilio.
            await addZombies();
            await midPass();
            await lockFor(table, LOCK_SECONDS);
            await addZombies();
            await midPass();
            // Three bursts a second apart: the daemon's sessions die with work in flight, and again as it reconnects.
            for (let i = 0; i < 3; i++) {
              await burst();
              // A sleep: the bursts are spaced on purpose, so that the later ones meet the daemon reconnecting.
              await sleep(1000);
            }
            expect(d.child.exitCode, `exited after a fault on ${table}`).toBeNull();
          }
        } while (Date.now() < endAt);

        const faultSeconds = Math.round((Date.now() - faultsFrom) / 1000);
        await until(
          "every zombie ended",
          async () =>
            [...(await world.rows(zombies.map((z) => z.row.id))).values()].every(
              (r) => r.status === "completed",
            ),
          60_000,
        );
        expect(d.child.exitCode).toBeNull();
        const rows = await world.rows(zombies.map((z) => z.row.id));
        for (const z of zombies)
          expect(rows.get(z.row.id), z.row.id).toMatchObject({ status: "completed", endedAt: z.endedAt });
        const liveRows = await world.rows(live.map((c) => c.row.id));
        for (const c of live) expect(liveRows.get(c.row.id)?.status, c.row.id).toBe("active");
        const actions = await world.actions();
        const perCall = new Map<string, number>();
        for (const a of actions) perCall.set(a.callId, (perCall.get(a.callId) ?? 0) + 1);
        expect([...perCall.values()].every((n) => n === 1)).toBe(true);
        expect(actions).toHaveLength(zombies.length);

        const lines = d.lines();
        const failed = lines.filter((l) => l.msg === "pass failed; retrying next interval");
        const passes = lines.filter((l) => l.msg === "pass finished");
        // Each failed pass is one line (its runId once); the faults did make passes fail.
        const runIds = failed.map((l) => String(l.runId));
        expect(new Set(runIds).size).toBe(runIds.length);
        expect(failed.length).toBeGreaterThan(0);
        expect(d.out.stderr()).not.toMatch(/\n\s+at /);
        expect(lines.filter((l) => l.level === 60)).toEqual([]);
        console.log(
          `database-faults: ${faultSeconds} s of faults ` +
            `(${faults.locks} table locks of ${LOCK_SECONDS} s, ${faults.bursts} bursts terminating ` +
            `${faults.terminated} sessions); ${passes.length} passes finished, ${failed.length} failed ` +
            `(${[...new Set(failed.map((l) => String(l.err).slice(0, 50)))].join(" | ")}); ` +
            `${zombies.length} zombies ended, ${actions.length} audit rows; the daemon never exited`,
        );
      } finally {
        await admin.end().catch(() => {});
      }
    },
    SOAK_SECONDS * 1000 + 240_000,
  );
});
