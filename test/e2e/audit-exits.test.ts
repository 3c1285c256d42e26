import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCliProcess } from "../helpers/cli.js";
import { type SeededWorld, seededWorld } from "../helpers/scenario.js";

describe("a one-shot command exits once it has answered (the real bin, real Postgres, the simulator)", () => {
  let world: SeededWorld;
  beforeAll(async () => {
    world = await seededWorld();
  });
  afterAll(async () => {
    await world.close();
  });

  it("Twilio dripping its answers a byte at a time (a socket that never goes idle): audit reports and exits", async () => {
    // About 1 KB a call at 5 bytes a second: each answer would take minutes to arrive.
    world.sim.setAccountFault({ kind: "drip", everyMs: 200 });
    const r = await runCliProcess(
      ["audit"],
      { ...world.env, PASS_DEADLINE_SECONDS: "2", PROVIDER_TIMEOUT_MS: "1000", OPENAI_PROBE: "off" },
      45_000,
    );
    world.sim.setAccountFault(undefined);
    // The report came (zombies the age bound found: 1; calls Twilio never answered: 3), and the process ended.
    expect([1, 3]).toContain(r.code);
    expect(r.stdout).toMatch(/checked \d+ active calls/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});
