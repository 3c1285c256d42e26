/**
 * Two replicas through a partial Twilio outage (90 % of requests answered 500), on real PostgreSQL and the
 * simulator: the leader keeps its lease (an open breaker is a reason, never a wait), POST /reconcile is
 * answered by the leader and refused by the stand-by, the account never sees more than TWILIO_MAX_RPS, and
 * every end, during the outage or after it, is at Twilio's true end time. Once the outage is over, every zombie
 * ends within the breaker's half-open delay and two passes.
 *
 * Short by default (3 s interval, a 12 s outage, a 6 s half-open delay); `SOAK_SECONDS=300` runs a 5 s
 * interval through that long an outage with the default breaker, and prints the figures.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { type ChaosWorld, chaosWorld, liveCall, zombie } from "../helpers/chaos-world.js";
import { metricsUrl, type Replica, startReplica } from "../helpers/replica.js";
import { until } from "../helpers/wait.js";

const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 0);
const OUTAGE_SECONDS = SOAK_SECONDS > 0 ? SOAK_SECONDS : 12;
const INTERVAL_SECONDS = SOAK_SECONDS > 0 ? 5 : 3;
const HALF_OPEN_SECONDS = SOAK_SECONDS > 0 ? 30 : 6;
const MAX_RPS = 10;
const TOKEN = "outage-reconcile-token-0123456789abcdef";

async function postReconcile(url: string): Promise<number> {
  try {
    const res = await fetch(`${url}/reconcile`, {
      method: "POST",
      headers: { Authorization: `Bearer ${TOKEN}` },
      signal: AbortSignal.timeout(30_000),
    });
    await res.text();
    return res.status;
  } catch {
    return 0;
  }
}

describe("two replicas through a Twilio outage", () => {
  let w: ChaosWorld | undefined;
  const replicas: Replica[] = [];
  afterEach(async () => {
    for (const r of replicas) r.child.kill("SIGKILL");
    await Promise.allSettled(replicas.map((r) => r.done));
    replicas.length = 0;
    await w?.close();
    w = undefined;
  });

  it(
    "one lease holder throughout, POST /reconcile 200 on the leader and 503 on the stand-by, never above the rate, every end true",
    async () => {
      const first = Array.from({ length: 30 }, (_, i) => zombie(`z0-${i}`, 200 - i));
      const live = Array.from({ length: 30 }, (_, i) => liveCall(`live-${i}`, 150 - i));
      const seeded = [...first, ...live];
      w = await chaosWorld(
        seeded.map((c) => c.row),
        seeded.map((c) => c.call),
        {
          // The outage is under way when the replicas start.
          sim: { randomServerErrorShare: 0.9, randomSeed: 7 },
          env: {
            RECONCILE_INTERVAL_SECONDS: String(INTERVAL_SECONDS),
            TWILIO_MAX_RPS: String(MAX_RPS),
            BREAKER_HALF_OPEN_SECONDS: String(HALF_OPEN_SECONDS),
            RECONCILE_TOKEN: TOKEN,
          },
        },
      );
      const world = w;
      const zombies = [...first];
      const timeout = (OUTAGE_SECONDS + 240) * 1000;
      replicas.push(startReplica(world.env, timeout), startReplica(world.env, timeout));
      const urls = await until("both metrics servers", () => {
        const u = replicas.map(metricsUrl);
        return u.every((x) => x !== undefined) ? (u as string[]) : undefined;
      });

      const answers = { leader: new Map<number, number>(), standBy: new Map<number, number>() };
      const count = (m: Map<number, number>, status: number) => m.set(status, (m.get(status) ?? 0) + 1);
      let wave = 0;
      const outageEnds = Date.now() + OUTAGE_SECONDS * 1000;
      while (Date.now() < outageEnds) {
        // A sleep: the waves are spread over an outage of fixed length, so a shorter one would save no time.
        await sleep(SOAK_SECONDS > 0 ? 5000 : 4000);
        // New zombies keep arriving during the outage.
        wave++;
        const more = Array.from({ length: 3 }, (_, i) => zombie(`z${wave}-${i}`, 30 + i));
        await world.add(more);
        zombies.push(...more);
        // Each replica asked for a pass: the one that holds the lease runs it, the other names the leader.
        const statuses = await Promise.all(urls.map(postReconcile));
        const leaderIndex = statuses.findIndex((s) => s !== 503);
        for (const [i, s] of statuses.entries())
          count(i === leaderIndex ? answers.leader : answers.standBy, s);
      }
      const endedDuringOutage = (await world.actions()).length;
      world.twilio.setServerErrorShare(0);
      const outageOver = Date.now();

      await until(
        "every zombie ended",
        async () =>
          [...(await world.rows(zombies.map((z) => z.row.id))).values()].every(
            (r) => r.status === "completed",
          ),
        (HALF_OPEN_SECONDS + 6 * INTERVAL_SECONDS + 60) * 1000,
      );
      const recoverySeconds = (Date.now() - outageOver) / 1000;

      const rows = await world.rows(zombies.map((z) => z.row.id));
      for (const z of zombies)
        expect(rows.get(z.row.id), z.row.id).toMatchObject({ status: "completed", endedAt: z.endedAt });
      const liveRows = await world.rows(live.map((c) => c.row.id));
      for (const c of live) expect(liveRows.get(c.row.id)?.status, c.row.id).toBe("active");
      expect(await world.actions()).toHaveLength(zombies.length);

      const lines = replicas.flatMap((r) => r.lines());
      const leaderships = lines.filter((l) => l.msg === "became the leader: reconciling").length;
      const leasesLost = lines.filter(
        (l) => l.msg === "leader lease not renewed: this pass stops writing",
      ).length;
      const stats = world.twilio.stats;
      // One lease holder through the outage: the leader never gave its lease up (a pass waiting on an open
      // breaker without progress did, again and again), so no stand-by took over.
      expect(leasesLost).toBe(0);
      expect(leaderships).toBe(1);
      expect(stats.maxRequestsInOneSecond).toBeLessThanOrEqual(MAX_RPS);
      expect(answers.standBy.get(503)).toBe(wave);
      expect(answers.leader.get(200) ?? 0).toBeGreaterThan(0);
      expect([...answers.leader.keys()].every((s) => s === 200 || s === 409)).toBe(true);
      // Recovered within the half-open delay and two passes: the pass in which the trial closes the breaker, and
      // the next, which asks the rows that failed during the outage after the others. A pass takes its rows at
      // TWILIO_MAX_RPS; an interval may pass before the trial's pass starts.
      const passSeconds = (zombies.length + live.length) / MAX_RPS;
      expect(recoverySeconds).toBeLessThan(HALF_OPEN_SECONDS + 3 * INTERVAL_SECONDS + 2 * passSeconds + 10);
      for (const r of replicas) expect(r.child.exitCode).toBeNull();
      console.log(
        `provider-outage: ${OUTAGE_SECONDS} s of 90 % 500s at a ${INTERVAL_SECONDS} s interval, two replicas: ` +
          `${leaderships - 1} lease change(s), ${leasesLost} lease(s) given up; POST /reconcile on the leader ` +
          `${JSON.stringify(Object.fromEntries(answers.leader))}, on the stand-by ${JSON.stringify(Object.fromEntries(answers.standBy))}; ` +
          `at most ${stats.maxRequestsInOneSecond} requests in one second (limit ${MAX_RPS}), ${stats.requests} in all ` +
          `${JSON.stringify(stats.responsesByStatus)}; ${endedDuringOutage} ends during the outage, all ${zombies.length} ` +
          `zombies ended at Twilio's times, the last ${recoverySeconds.toFixed(1)} s after it (half-open ${HALF_OPEN_SECONDS} s)`,
      );
    },
    (OUTAGE_SECONDS + 300) * 1000,
  );
});
