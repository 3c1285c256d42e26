import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { ListenError, startHttpServer } from "../../src/server/http.js";

const deps = () => ({
  registry: new Registry(),
  readiness: async () => ({ ready: true, reason: "ready" }),
  zombies: () => ({ unavailable: "none" }),
});

describe("the metrics server's port", () => {
  it("already taken: one line naming the setting and the address, as a configuration error", async () => {
    const first = await startHttpServer("127.0.0.1", 0, deps());
    try {
      const port = Number(new URL(first.url).port);
      const taken = startHttpServer("127.0.0.1", port, deps());
      await expect(taken).rejects.toBeInstanceOf(ListenError);
      await expect(taken).rejects.toThrow(`METRICS_PORT: 127.0.0.1:${port} is already in use`);
    } finally {
      await first.close();
    }
  });
});
