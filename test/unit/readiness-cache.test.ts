import { setTimeout as sleep } from "node:timers/promises";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { type HttpServer, READINESS_CACHE_MS, sharedAnswer, startHttpServer } from "../../src/server/http.js";
import { fetchWith } from "../helpers/zombies.js";

/** /readyz is open to anyone who reaches the port: a flood of probes must not become a flood of queries. */
describe("/readyz is cheap", () => {
  let server: HttpServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("answers N probes within the cache window with one readiness check (one database query)", async () => {
    expect(READINESS_CACHE_MS).toBeGreaterThanOrEqual(1_000);
    let checks = 0;
    server = await startHttpServer("127.0.0.1", 0, {
      registry: new Registry(),
      readiness: async () => {
        checks++;
        await sleep(50); // the ping in flight while more probes arrive
        return { ready: true, reason: "ready (leader)" };
      },
      zombies: () => ({ unavailable: "none" }),
    });
    const url = server.url;
    const burst = await Promise.all(Array.from({ length: 25 }, () => fetchWith(url, "/readyz")));
    for (let i = 0; i < 25; i++) burst.push(await fetchWith(url, "/readyz"));
    expect(burst.every((r) => r.status === 200 && r.body === "ready (leader)\n")).toBe(true);
    expect(checks).toBe(1);
  });

  it("asks again once the window has passed, and never caches a check that threw", async () => {
    let t = 0;
    let calls = 0;
    let fail = true;
    const answer = sharedAnswer(
      async () => {
        calls++;
        if (fail) throw new Error("boom");
        return calls;
      },
      5_000,
      () => t,
    );
    await expect(answer()).rejects.toThrow("boom");
    fail = false;
    expect(await answer()).toBe(2);
    t = 4_999;
    expect(await answer()).toBe(2);
    t = 10_000;
    expect(await answer()).toBe(3);
    expect(calls).toBe(3);
  });
});
