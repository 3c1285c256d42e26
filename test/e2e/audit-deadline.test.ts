import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { type SeededWorld, seededWorld } from "../helpers/scenario.js";

describe("audit keeps the daemon's bound on one pass (real Postgres, the simulator)", () => {
  let world: SeededWorld;
  beforeAll(async () => {
    world = await seededWorld();
  });
  afterAll(async () => {
    await world.close();
  });

  it("a provider that answers slowly stops the pass at PASS_DEADLINE_SECONDS: exit 3, said once, nothing half-done", async () => {
    world.sim.setAccountFault({ kind: "delay", ms: 3000 });
    const before = await world.rows();
    const r = await runCli(
      ["audit", "--apply"],
      { ...world.env, PASS_DEADLINE_SECONDS: "1", PROVIDER_TIMEOUT_MS: "10000", OPENAI_PROBE: "off" },
      60_000,
    );
    world.sim.setAccountFault(undefined);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/pass interrupted/);
    expect(
      r.stderr.split("\n").filter((l) => l.includes("audit stopped at PASS_DEADLINE_SECONDS")),
    ).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // Whatever it ended, it ended whole: every changed row is an end with its audit row.
    const after = await world.rows();
    const changed = [...after].filter(([id, row]) => JSON.stringify(row) !== JSON.stringify(before.get(id)));
    for (const [, row] of changed) expect(row.endedAt).not.toBeNull();
  });
});
