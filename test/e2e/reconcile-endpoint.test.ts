import { describe, expect, it } from "vitest";
import { readActions, readCalls, seedCalls } from "../../src/dev/seed.js";
import { fakeCallSid } from "../../src/sim/demo-scenario.js";
import { metricsUrl, type Replica, seededReplicas } from "../helpers/replica.js";
import { until } from "../helpers/wait.js";
import { bearer, fetchWith } from "../helpers/zombies.js";

const TOKEN = "reconcile-token-0123456789abcdef-xyz";

interface Answer {
  status: number;
  body: {
    runId?: string;
    dryRun?: boolean;
    aborted?: boolean;
    summary?: { runId: string; zombies: number; ended: number };
    error?: string;
    running?: { runId: string; trigger: string };
    leader?: { holder: string; leaseExpiresAt: string } | null;
  };
}

async function post(
  url: string,
  path = "/reconcile",
  headers: Record<string, string> = bearer(TOKEN),
): Promise<Answer> {
  const res = await fetch(`${url}${path}`, { method: "POST", headers, signal: AbortSignal.timeout(20_000) });
  return { status: res.status, body: (await res.json()) as Answer["body"] };
}

const whole = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);

/** POST /reconcile on the daemon: the built CLI, real Postgres, the provider simulators. */
describe("POST /reconcile (one pass now)", () => {
  const suite = seededReplicas();

  /** A long interval: after its first pass, the daemon passes again only when asked. */
  const start = (extra: Record<string, string> = {}) =>
    suite.start({
      ...suite.world.env,
      RECONCILE_INTERVAL_SECONDS: "600",
      LOG_LEVEL: "info",
      RECONCILE_TOKEN: TOKEN,
      ...extra,
    });
  const firstPass = (r: Replica) =>
    until("the first pass", () => r.lines().some((l) => l.msg === "pass finished"));
  const holderOf = (r: Replica) => r.lines().find((l) => typeof l.replica === "string")?.replica as string;

  /** A call whose webhook is lost after the first pass: Twilio says it completed, its row is still active. */
  async function newZombie(name: string, delayMs = 0) {
    const { world } = suite;
    const sid = fakeCallSid(name);
    const startedAt = whole(Date.now() - 900_000);
    const endedAt = new Date(startedAt.getTime() + 240_000);
    world.sim.upsertCall({
      sid,
      status: "completed",
      startTime: startedAt,
      endTime: endedAt,
      duration: "240",
    });
    if (delayMs > 0) world.sim.setFault(sid, { kind: "delay", ms: delayMs });
    await seedCalls(world.db.pool, world.config.calls, [
      { id: name, twilioSid: sid, openaiId: null, status: "active", startedAt, endedAt: null },
    ]);
    return { id: name, endedAt };
  }
  const rowOf = async (id: string) =>
    (await readCalls(suite.world.db.pool, suite.world.config.calls, [id]))[0];

  it("on the leader: a dry run writes nothing; a pass ends the new zombie under the run id it answers", async () => {
    const r = start();
    const url = await until("the metrics server", () => metricsUrl(r));
    await firstPass(r);
    const zombie = await newZombie("fixed-webhook-1");

    const dry = await post(url, "/reconcile?dry_run=true");
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, summary: { zombies: 1, ended: 0 } });
    expect(await rowOf(zombie.id)).toMatchObject({ status: "active", endedAt: null });
    const actions = await readActions(suite.world.db.pool, suite.world.config.calls);
    expect(actions.filter((a) => a.runId === dry.body.runId)).toEqual([]);

    const real = await post(url);
    expect(real.status).toBe(200);
    expect(real.body).toMatchObject({ dryRun: false, aborted: false, summary: { zombies: 1, ended: 1 } });
    expect(real.body.summary?.runId).toBe(real.body.runId);
    expect(await rowOf(zombie.id)).toMatchObject({ status: "completed", endedAt: zombie.endedAt });
    const written = (await readActions(suite.world.db.pool, suite.world.config.calls)).filter(
      (a) => a.runId === real.body.runId,
    );
    expect(written.map((a) => a.callId)).toEqual([zombie.id]);
    // The summary is the line the daemon logs for the pass.
    expect(r.lines().find((l) => l.msg === "pass finished" && l.runId === real.body.runId)).toMatchObject(
      real.body.summary ?? {},
    );

    expect((await post(url, "/reconcile", {})).status).toBe(401);
    expect((await post(url, "/reconcile", bearer(`${TOKEN}-wrong`))).status).toBe(401);
    expect((await fetchWith(url, "/reconcile", bearer(TOKEN))).status).toBe(405);
    expect(r.out.stderr()).not.toContain(TOKEN);
  });

  it("runs one pass at a time: a second request while one runs is refused (409) naming the running one", async () => {
    const r = start();
    const url = await until("the metrics server", () => metricsUrl(r));
    await firstPass(r);
    const zombie = await newZombie("fixed-webhook-2", 1_500);
    const answers = await Promise.all([post(url), post(url)]);
    const ok = answers.filter((a) => a.status === 200);
    const busy = answers.filter((a) => a.status === 409);
    expect(ok).toHaveLength(1);
    expect(busy).toHaveLength(1);
    expect(busy[0]?.body.running).toMatchObject({ runId: ok[0]?.body.runId, trigger: "request" });
    expect(await rowOf(zombie.id)).toMatchObject({ status: "completed", endedAt: zombie.endedAt });
    // Once it is over, the next request runs.
    expect((await post(url, "/reconcile?dry_run=true")).status).toBe(200);
  });

  it("refuses (409) a request while the timer's pass runs, naming that run", async () => {
    const slow = suite.world.scenario.find((c) => c.twilio !== null && c.expect === "keep");
    if (slow?.twilio == null) throw new Error("the scenario has live Twilio calls");
    suite.world.sim.setFault(slow.twilio.sid, { kind: "delay", ms: 3_000 });
    const r = start();
    const url = await until("the metrics server", () => metricsUrl(r));
    const answer = await until("an answer from the leader", async () => {
      const a = await post(url, "/reconcile?dry_run=true");
      return a.status === 503 ? undefined : a;
    });
    expect(answer.status).toBe(409);
    expect(answer.body.running?.trigger).toBe("timer");
    await firstPass(r);
    const timerRun = r.lines().find((l) => l.msg === "pass finished")?.runId;
    expect(answer.body.running?.runId).toBe(timerRun);
  });

  it("on a stand-by: 503 naming the leader (the lease holder); off (404) without RECONCILE_TOKEN", async () => {
    const a = start();
    await until("the leader's metrics server", () => metricsUrl(a));
    await firstPass(a);
    const b = start({ RECONCILE_TOKEN: "" });
    const c = start();
    for (const standBy of [b, c]) {
      const u = await until("the stand-by's metrics server", () => metricsUrl(standBy));
      await until("a stand-by", async () => (await fetchWith(u, "/readyz")).body === "ready (standing by)\n");
    }
    const urlB = metricsUrl(b) as string;
    const off = await fetch(`${urlB}/reconcile`, { method: "POST", headers: bearer(TOKEN) });
    expect(off.status).toBe(404);
    const answer = await post(metricsUrl(c) as string);
    expect(answer.status).toBe(503);
    expect(answer.body.error).toMatch(/standing by: ask the leader/);
    expect(answer.body.leader?.holder).toBe(holderOf(a));
    expect(c.lines().some((l) => l.msg === "pass requested (POST /reconcile)")).toBe(false);
  });

  it("stops a pass asked for at SIGTERM as it stops a timer pass, answers it, and exits 0", async () => {
    const r = start();
    const url = await until("the metrics server", () => metricsUrl(r));
    await firstPass(r);
    const zombie = await newZombie("fixed-webhook-3", 8_000);
    const pending = post(url);
    await until("the requested pass", () =>
      r.lines().some((l) => l.msg === "pass requested (POST /reconcile)"),
    );
    // The pass is under way: a Twilio request of it is waiting on its answer (the zombie's takes 8 s).
    await until("the requested pass to ask Twilio", () => suite.world.sim.openResponses > 0);
    r.child.kill("SIGTERM");
    const answer = await pending;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ aborted: true, summary: { ended: 0 } });
    expect((await r.done).code).toBe(0);
    expect(await rowOf(zombie.id)).toMatchObject({ status: "active", endedAt: null });
  });
});
