import { describe, expect, it } from "vitest";
import { metricsUrl, type Replica, seededReplicas } from "../helpers/replica.js";
import { until } from "../helpers/wait.js";
import { bearer, fetchWith } from "../helpers/zombies.js";

const TOKEN = "s3cret-zombies-token-0123456789abcdef";

/** Private findings: /zombies names calls and SIDs, so it is off without ZOMBIES_TOKEN, and bearer-only with it. */
describe("GET /zombies (the built CLI, real Postgres)", () => {
  const suite = seededReplicas();

  const start = (extra: Record<string, string>) => {
    const r = suite.start({
      ...suite.world.env,
      DRY_RUN: "true",
      RECONCILE_INTERVAL_SECONDS: "1",
      LEADER_LEASE_SECONDS: "3",
      LOG_LEVEL: "debug",
      ...extra,
    });
    return r;
  };
  const passFinished = (r: Replica) =>
    until("a finished pass", () => r.lines().some((l) => l.msg === "pass finished"));

  it("is off without ZOMBIES_TOKEN; /metrics, /healthz and /readyz stay open", async () => {
    const r = start({});
    const url = await until("the metrics server", () => metricsUrl(r));
    await passFinished(r);
    const off = await fetchWith(url, "/zombies", bearer("anything"));
    expect(off.status).toBe(404);
    expect(off.body).toMatch(/\/zombies is off: set ZOMBIES_TOKEN/);
    expect((await fetchWith(url, "/metrics")).status).toBe(200);
    expect((await fetchWith(url, "/healthz")).status).toBe(200);
    expect((await fetchWith(url, "/readyz")).status).toBe(200);
  });

  it("with a token: 401 without it or with a wrong one, 200 with it; a stand-by and a former leader answer 503", async () => {
    const a = start({ ZOMBIES_TOKEN: TOKEN });
    const urlA = await until("the metrics server", () => metricsUrl(a));
    await passFinished(a);

    const none = await fetchWith(urlA, "/zombies");
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(none.body).not.toContain("call-");
    for (const wrong of [
      bearer("wrong"),
      bearer(`${TOKEN}x`),
      bearer(TOKEN.slice(0, -1)),
      { Authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString("base64")}` },
      { Authorization: TOKEN },
    ]) {
      const res = await fetchWith(urlA, "/zombies", wrong);
      expect(res.status, JSON.stringify(wrong)).toBe(401);
      expect(res.body).not.toMatch(/call-|CA[0-9a-f]{32}/);
    }
    const ok = await fetchWith(urlA, "/zombies", bearer(TOKEN));
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ dryRun: true, summary: { checked: expect.any(Number) } });
    expect((await fetchWith(urlA, "/metrics")).status).toBe(200);

    // A stand-by has no findings to serve.
    const b = start({ ZOMBIES_TOKEN: TOKEN });
    const urlB = await until("the stand-by's metrics server", () => metricsUrl(b));
    await until(
      "the stand-by's lease check",
      async () => (await fetchWith(urlB, "/readyz")).body === "ready (standing by)\n",
    );
    const standBy = await fetchWith(urlB, "/zombies", bearer(TOKEN));
    expect(standBy.status).toBe(503);
    expect(JSON.parse(standBy.body)).toEqual({
      error: "this replica is standing by; the leader has the findings",
    });
    expect((await fetchWith(urlB, "/zombies")).status).toBe(401);

    // Someone else takes the lease over: the former leader stops serving its last report.
    await suite.world.db.pool.query(
      "UPDATE call_reconciler_leases SET holder = 'intruder', expires_at = now() + interval '60 seconds'",
    );
    await until("the former leader stands by", () =>
      a.lines().some((l) => l.msg === "standing by: another replica leads"),
    );
    const former = await fetchWith(urlA, "/zombies", bearer(TOKEN));
    expect(former.status).toBe(503);
    expect(former.body).not.toMatch(/call-|CA[0-9a-f]{32}/);

    // The token never reaches the logs.
    for (const r of [a, b]) {
      expect(r.out.stderr()).not.toContain(TOKEN);
      expect(r.out.stdout()).not.toContain(TOKEN);
    }
  });
});
