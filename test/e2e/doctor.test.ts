import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { type SeededWorld, seededWorld } from "../helpers/scenario.js";

const checksOf = (stdout: string) =>
  Object.fromEntries(
    (JSON.parse(stdout) as { checks: { name: string; state: string; detail: string }[] }).checks.map((c) => [
      c.name,
      c,
    ]),
  );

describe("doctor on a real Postgres and the Twilio simulator", () => {
  let world: SeededWorld;
  beforeAll(async () => {
    world = await seededWorld();
  });
  afterAll(async () => {
    await world.close();
  });

  it("a good setup: every check a pass relies on, one line each, and nothing written", async () => {
    const before = await world.rows();
    const r = await runCli(["doctor"], { ...world.env, OPENAI_PROBE: "off" });
    expect(r.stderr).toBe("");
    const lines = r.stdout.trim().split("\n");
    for (const name of [
      "configuration",
      "database",
      "clock",
      "privileges",
      "tables",
      "state",
      "status values",
      "listing index",
      "active rows",
      "twilio",
    ]) {
      expect(
        lines.find((l) => l.includes(` ${name} `)),
        name,
      ).toMatch(/^✓ /);
    }
    expect(r.stdout).toMatch(/would write completed→completed, busy→busy, no-answer→no-answer/);
    expect(r.stdout).toMatch(/credentials accepted for AC/);
    // The only warning: the OpenAI probe is off.
    expect(lines.filter((l) => !l.startsWith("✓ "))).toEqual([expect.stringMatching(/^! openai +probe off/)]);
    expect(r.code).toBe(1);
    expect(await world.rows()).toEqual(before);
  });

  it("names what is wrong with its fix: a wrong Twilio token, a status column holding no active status", async () => {
    const r = await runCli(["doctor", "--json"], {
      ...world.env,
      TWILIO_AUTH_TOKEN: "0".repeat(32),
      ACTIVE_STATUSES: "in_progress",
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(2);
    const checks = checksOf(r.stdout);
    expect(checks.twilio).toMatchObject({
      state: "fail",
      detail: expect.stringMatching(/check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN/),
    });
    expect(checks["active rows"]).toMatchObject({
      state: "warn",
      detail: expect.stringMatching(
        /no row's status holds in_progress: .*CALLS_COL_STATUS or ACTIVE_STATUSES is wrong/,
      ),
    });
    expect(checks.database?.state).toBe("pass");
  });

  it("a database that cannot be reached fails its check in one line and skips the table checks", async () => {
    const r = await runCli(["doctor", "--json"], {
      ...world.env,
      DATABASE_URL: "postgres://u:pw@127.0.0.1:1/db",
    });
    expect(r.code).toBe(2);
    const checks = checksOf(r.stdout);
    expect(checks.database).toMatchObject({
      state: "fail",
      detail: expect.stringMatching(/cannot reach the database/),
    });
    expect(checks.tables).toBeUndefined();
    expect(r.stdout).not.toContain("pw@");
  });
});
