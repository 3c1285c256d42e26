import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readActions } from "../../src/dev/seed.js";
import { startCli, watchOutput } from "../helpers/cli.js";
import { endedBy, mismatches, type SeededWorld, seededWorld } from "../helpers/scenario.js";
import { until } from "../helpers/wait.js";

describe("run: the daemon", () => {
  let world: SeededWorld;
  beforeEach(async () => {
    world = await seededWorld();
  });
  afterEach(async () => {
    await world.close();
  });

  // The daemon runs passes an interval apart, so it also confirms the realtime absence.
  const zombieCount = (w: SeededWorld) => endedBy(w.scenario, true).length;
  const passesLogged = (stderr: string) =>
    stderr.split("\n").filter((l) => l.includes('"pass finished"')).length;

  it("ends the zombies on its interval, keeps live calls, and exits 0 on SIGTERM", async () => {
    const { child, done } = startCli(["run"], {
      ...world.env,
      RECONCILE_INTERVAL_SECONDS: "1",
      // Each end's own line is at debug.
      LOG_LEVEL: "debug",
    });
    const out = watchOutput(child);
    await until(
      "all zombies ended",
      async () => (await readActions(world.db.pool, world.config.calls)).length === zombieCount(world),
    );
    // Let it run at least one more whole pass: level-triggered, it must change nothing.
    const before = passesLogged(out.stderr());
    await until("two more passes", () => passesLogged(out.stderr()) >= before + 2);
    child.kill("SIGTERM");
    const r = await done;
    expect(r.code).toBe(0);
    expect(mismatches(world.scenario, await world.rows(), true, true)).toEqual([]);
    expect((await readActions(world.db.pool, world.config.calls)).length).toBe(zombieCount(world));
    const lines = r.stderr
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const passes = lines.filter((l) => l.msg === "pass finished");
    expect(passes.length).toBeGreaterThanOrEqual(2);
    expect(passes.at(-1)).toMatchObject({ zombies: 0, ended: 0 });
    expect(lines.filter((l) => l.msg === "zombie call ended")).toHaveLength(zombieCount(world));
    expect(lines.map((l) => l.msg)).toContain("shutting down: no new calls taken, in-flight ends finished");
    expect(lines.at(-1)?.msg).toBe("leader lease released");
  });

  it("on SIGINT during a pass, stops taking calls and leaves no half-written end", async () => {
    // Slow provider: a pass takes several seconds, so the signal lands in the middle of it.
    for (const c of world.scenario)
      if (c.twilio) world.sim.setFault(c.twilio.sid, { kind: "delay", ms: 400 });
    const { child, done } = startCli(["run"], {
      ...world.env,
      RECONCILE_INTERVAL_SECONDS: "60",
      TWILIO_CONCURRENCY: "2",
      // Small pages: ends are written a page (one batch) at a time, so some are done when the signal lands.
      DB_PAGE_SIZE: "5",
    });
    await until(
      "the first end",
      async () => (await readActions(world.db.pool, world.config.calls)).length > 0,
    );
    child.kill("SIGINT");
    const r = await done;
    expect(r.code).toBe(0);
    const actions = await readActions(world.db.pool, world.config.calls);
    expect(actions.length).toBeLessThan(zombieCount(world));
    // Every row is either untouched or fully ended with its audit row: nothing in between.
    const rows = await world.rows();
    const audited = new Set(actions.map((a) => a.callId));
    for (const c of world.scenario) {
      const row = rows.get(c.row.id);
      if (audited.has(c.row.id)) {
        expect(row).toMatchObject({ status: c.expectedStatus, endedAt: c.expectedEndedAt });
      } else {
        expect(row).toMatchObject({ status: c.row.status, endedAt: c.row.endedAt });
      }
    }
  });

  it("survives a provider that is down: the breaker opens, nothing is ended on its word, the daemon keeps running", async () => {
    world.sim.setAccountFault({ kind: "http", status: 503 });
    const { child, done } = startCli(["run"], {
      ...world.env,
      RECONCILE_INTERVAL_SECONDS: "1",
      LOG_LEVEL: "info",
      // 3 requests in the 30 s window may open it (the default needs 60). A pass that meets it open does not
      // wait: its rows are unverified at once, and the first request after half-open (0.5 s) is a trial.
      BREAKER_MIN_THROUGHPUT: "0.1",
      BREAKER_HALF_OPEN_SECONDS: "0.5",
      PROVIDER_TIMEOUT_MS: "500",
    });
    const out = watchOutput(child);
    await until("the breaker to open", async () => world.sim.stats.requests >= 3);
    await until(
      "two passes and the breaker open",
      () => passesLogged(out.stderr()) >= 2 && out.stderr().includes("circuit breaker opened"),
    );
    child.kill("SIGTERM");
    const r = await done;
    expect(r.code).toBe(0);
    // Three failures open the breaker (a few more may be under way); after that, one half-open trial per pass.
    expect(world.sim.stats.requests).toBeLessThanOrEqual(5 + 8);
    const actions = await readActions(world.db.pool, world.config.calls);
    // Nothing is ended on Twilio's word while it is down: only the age bound and the OpenAI side decide.
    expect(actions.map((a) => a.source).sort()).toEqual(["age_bound", "openai"]);
    const lines = r.stderr
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.some((l) => l.msg.includes("circuit breaker opened"))).toBe(true);
    const passes = lines.filter((l) => l.msg === "pass finished");
    expect(passes.length).toBeGreaterThanOrEqual(2);
    expect(passes.every((l) => l.outcome === "partial")).toBe(true);
    // Every Twilio row of every pass is unverified for the outage: it met the open breaker, failed (503, or a
    // 500 ms timeout on a loaded machine), or is backing off after failing; no Twilio answer got through (404,
    // unknown status: those rows are down too). The realtime side keeps its own reasons. (The last pass may
    // have been cut short by the SIGTERM, so every pass is looked at.)
    const reasons = new Set(
      passes.flatMap((p) => Object.keys(p.unverifiedByReason as Record<string, number>)),
    );
    const outage = ["circuit_open", "server_error", "timeout", "backoff"];
    expect(outage.some((reason) => reasons.has(reason))).toBe(true);
    expect(
      [...reasons].filter(
        (reason) =>
          !outage.includes(reason) && !["absence_unconfirmed", "within_session_cap"].includes(reason),
      ),
    ).toEqual([]);
  });
});

describe("run: shutdown", () => {
  let world: SeededWorld;
  beforeEach(async () => {
    world = await seededWorld();
  });
  afterEach(async () => {
    await world.close();
  });

  it("releases the lease on SIGTERM so a stand-by takes over at once, and never logs a secret", async () => {
    const env = {
      ...world.env,
      RECONCILE_INTERVAL_SECONDS: "1",
      LEADER_LEASE_SECONDS: "60",
      LOG_LEVEL: "trace",
    };
    const first = startCli(["run"], env);
    await until(
      "the first pass",
      async () => (await readActions(world.db.pool, world.config.calls)).length > 0,
    );
    first.child.kill("SIGTERM");
    const r = await first.done;
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("leader lease released");
    // (A trust-auth test server has no password: nothing to look for then.)
    const secrets = [world.env.TWILIO_AUTH_TOKEN, world.env.OPENAI_API_KEY, new URL(world.db.url).password];
    for (const secret of secrets.filter((s) => s !== undefined && s !== "")) {
      expect(r.stderr).not.toContain(secret);
    }
    // A 60 s lease, handed back: the next replica leads within its first interval.
    const second = startCli(["run"], env);
    const out = watchOutput(second.child);
    await until("the second replica to lead", async () => out.stderr().includes("became the leader"), 5000);
    second.child.kill("SIGTERM");
    expect((await second.done).code).toBe(0);
  });

  it("exits 0 promptly on SIGTERM even when a provider never answers", async () => {
    for (const c of world.scenario)
      if (c.twilio) world.sim.setFault(c.twilio.sid, { kind: "delay", ms: 120_000 });
    const { child, done } = startCli(["run"], {
      ...world.env,
      PROVIDER_TIMEOUT_MS: "120000",
      SHUTDOWN_TIMEOUT_SECONDS: "2",
      LOG_LEVEL: "info",
    });
    const out = watchOutput(child);
    await until("a pass to start", async () => world.sim.stats.requests > 0);
    child.kill("SIGTERM");
    const r = await done;
    expect(r.code).toBe(0);
    // The pass abandons the requests in flight (Twilio would answer only after PROVIDER_TIMEOUT_MS, 2 min)
    // and the daemon exits on its own, not on the shutdown timer.
    expect(out.stderr()).toContain("shutting down: no new calls taken, in-flight ends finished");
    expect(out.stderr()).not.toContain("shutdown took too long");
    // Nothing was half-written: no end happened at all (Twilio never answered).
    expect(await readActions(world.db.pool, world.config.calls)).toHaveLength(
      world.scenario.filter((c) => c.expect === "end_age_bound").length,
    );
  });

  it("exits 0 within SHUTDOWN_TIMEOUT_SECONDS when an end is stuck in the database, and the end never half-happens", async () => {
    const zombie = world.scenario.find((c) => c.kind === "zombie (completed)");
    if (!zombie) throw new Error("no zombie in the scenario");
    // Another session holds the table against writes (a row lock would only be skipped): the daemon's end
    // waits on the lock, inside its transaction, while its listing still reads.
    const blocker = await world.db.pool.connect();
    await blocker.query("BEGIN");
    await blocker.query("LOCK TABLE calls IN EXCLUSIVE MODE");
    try {
      const { child, done } = startCli(["run"], {
        ...world.env,
        SHUTDOWN_TIMEOUT_SECONDS: "2",
        LOG_LEVEL: "info",
      });
      const out = watchOutput(child);
      // Its own lead first: a session of another process waiting on the table would otherwise let the
      // SIGTERM reach this daemon before it is listening for it (one run in a few under load).
      await until("the daemon to lead", async () => out.stderr().includes("became the leader"));
      await until("the daemon to wait on the lock", async () => {
        const { rows } = await world.db.pool.query(
          "SELECT 1 FROM pg_stat_activity WHERE application_name = 'call-reconciler' AND wait_event_type = 'Lock'",
        );
        return rows.length > 0;
      });
      child.kill("SIGTERM");
      const r = await done;
      // The end waits on the lock for lock_timeout (5 s): the exit is SHUTDOWN_TIMEOUT_SECONDS' doing.
      expect(r.code).toBe(0);
      expect(out.stderr()).toContain("shutdown took too long; exiting now");
    } finally {
      await blocker.query("ROLLBACK");
      blocker.release();
    }
    // The stuck end died with its connection: the row is untouched and has no audit row.
    expect((await world.rows()).get(zombie.row.id)).toMatchObject({ status: "active", endedAt: null });
    const actions = await readActions(world.db.pool, world.config.calls);
    expect(actions.find((a) => a.callId === zombie.row.id)).toBeUndefined();
  });
});
