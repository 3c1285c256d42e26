import { afterEach, describe, expect, it } from "vitest";
import { type ChaosWorld, chaosWorld, liveCall, zombie } from "../helpers/chaos-world.js";
import { type CliResult, runCli } from "../helpers/cli.js";

/**
 * Call ids come from the app's calls table, so whoever can create a call can choose one. This one, printed raw,
 * retitles the terminal window, clears the screen, prints a green all-clear and forges a table row.
 */
const CRAFTED = "\x1b]0;pwned\x07\x1b[2J\x1b[32mALL CLEAR: 0 zombies\x1b[0m\n| forged | row |";
const LONG = `long-${"x".repeat(1995)}`;
/** The rendering the operator sees instead: every control character spelt out. */
const CRAFTED_SHOWN = "\\x1b]0;pwned\\x07\\x1b[2J\\x1b[32mALL CLEAR: 0 zombies\\x1b[0m\\n| forged | row |";
/** ... and where an id is shown, cut to 64 characters. */
const CRAFTED_ID = `${CRAFTED_SHOWN.slice(0, 63)}…`;

/** Longest line a human-readable output may print: wide enough for a table of truncated cells. */
const MAX_LINE = 500;

/** Anything a terminal acts on, but a newline (which ends the output's own lines). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters under test
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

function expectSafe(r: CliResult): void {
  for (const [name, text] of [
    ["stdout", r.stdout],
    ["stderr", r.stderr],
  ] as const) {
    expect(CONTROL.exec(text), name).toBeNull();
    const lines = text.split("\n");
    expect(
      lines.filter((l) => l.length > MAX_LINE).map((l) => l.slice(0, 80)),
      name,
    ).toEqual([]);
    // The newline inside the id must not start a line of its own.
    expect(
      lines.filter((l) => l.startsWith("| forged")),
      name,
    ).toEqual([]);
  }
}

describe("ids, statuses and provider text reach the terminal escaped (the built CLI, real PostgreSQL, the simulator)", () => {
  let world: ChaosWorld | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  const start = async (env: Record<string, string> = {}) => {
    const zombies = [CRAFTED, LONG, "plain-zombie"].map((id) => zombie(id, 30));
    const live = liveCall("plain-live", 30);
    const w = await chaosWorld(
      [...zombies.map((z) => z.row), live.row],
      [...zombies.map((z) => z.call), live.call],
      { env: { LOG_LEVEL: "warn", ...env } },
    );
    world = w;
    return w;
  };

  it("audit: a dry run's table shows the ids escaped and truncated; --json keeps them whole", async () => {
    const w = await start();
    const r = await runCli(["audit"], w.env);
    expect(r.code).toBe(1);
    expectSafe(r);
    const lines = r.stdout.split("\n");
    expect(lines.find((l) => l.startsWith(`${CRAFTED_ID} `))).toContain("would end → completed");
    const long = lines.find((l) => l.startsWith("long-xxx"));
    expect(long).toMatch(/^long-x+… /);
    expect(long).toContain("would end → completed");
    // The other rows are not padded out to the long id's width.
    const plain = lines.find((l) => l.startsWith("plain-zombie")) ?? "";
    expect(plain.indexOf("would end")).toBeLessThan(200);
    expect(r.stdout).toMatch(/3 zombies/);

    const json = await runCli(["audit", "--json"], w.env);
    const ids = (JSON.parse(json.stdout) as { calls: { callId: string }[] }).calls.map((c) => c.callId);
    expect(ids).toContain(CRAFTED);
    expect(ids).toContain(LONG);
  });

  it("audit --apply, report --call, revert, hold and release: escaped for the eye, exact in --json", async () => {
    const w = await start();
    const applied = await runCli(["audit", "--apply"], w.env);
    expect(applied.code).toBe(0);
    expectSafe(applied);
    expect(applied.stdout).toContain(CRAFTED_ID);

    const story = await runCli(["report", "--call", CRAFTED], w.env);
    expect(story.code).toBe(0);
    expectSafe(story);
    expect(story.stdout).toContain(`Call ${CRAFTED_ID} (CA`);
    const storyJson = JSON.parse((await runCli(["report", "--call", CRAFTED, "--json"], w.env)).stdout);
    expect(storyJson.call.callId).toBe(CRAFTED);

    const longStory = await runCli(["report", "--call", LONG], w.env);
    expect(longStory.code).toBe(0);
    expectSafe(longStory);
    expect(longStory.stdout).toMatch(/^Call long-x+… \(CA/);
    expect(JSON.parse((await runCli(["report", "--call", LONG, "--json"], w.env)).stdout).call.callId).toBe(
      LONG,
    );

    const unknown = await runCli(["report", "--call", `${CRAFTED}-nobody`], w.env);
    expect(unknown.code).toBe(1);
    expectSafe(unknown);

    const summary = await runCli(["report"], w.env);
    expect(summary.code).toBe(0);
    expectSafe(summary);

    for (const id of [CRAFTED, LONG]) {
      const revert = await runCli(["revert", "--call", id], w.env);
      expect(revert.code).toBe(1);
      expectSafe(revert);
      expect(revert.stdout).toContain("would restore → active");
      const revertJson = JSON.parse((await runCli(["revert", "--call", id, "--json"], w.env)).stdout);
      expect(revertJson.call).toBe(id);
      expect(revertJson.calls[0].callId).toBe(id);
    }
    const noSuchCall = await runCli(["revert", "--call", `${CRAFTED}-nobody`], w.env);
    expect(noSuchCall.code).toBe(2);
    expectSafe(noSuchCall);
    expect(noSuchCall.stderr).toContain(CRAFTED_ID);

    for (const id of [CRAFTED, LONG]) {
      const hold = await runCli(["hold", id, "--reason", "\x1b[2Jlooks\nfine"], w.env);
      expect(hold.code).toBe(0);
      expectSafe(hold);
      // The id as shown would not find the call again: the release command is outlined, not spelt.
      expect(hold.stdout).toContain("`call-reconciler release <call-id>`");
      const again = await runCli(["hold", id], w.env);
      expect(again.code).toBe(0);
      expectSafe(again);
      expect(again.stdout).toContain("\\x1b[2Jlooks\\nfine");
      const release = await runCli(["release", id], w.env);
      expect(release.code).toBe(0);
      expectSafe(release);
    }
  }, 90_000); // a dozen CLI runs, one after another: on a loaded machine more than the default 30 s

  it("doctor: an account column holding an escape sequence is named escaped", async () => {
    const w = await start({ CALLS_COL_TWILIO_ACCOUNT: "twilio_account_sid" });
    await w.db.pool.query("UPDATE calls SET twilio_account_sid = $1 WHERE call_id = 'plain-live'", [CRAFTED]);
    const r = await runCli(["doctor"], { ...w.env, OPENAI_PROBE: "off" });
    expectSafe(r);
    expect(r.stdout).toMatch(/✗ subaccounts/);
    expect(r.stdout).toContain(CRAFTED_SHOWN);
    const json = JSON.parse((await runCli(["doctor", "--json"], { ...w.env, OPENAI_PROBE: "off" })).stdout);
    expect(
      (json.checks as { name: string; detail: string }[]).find((c) => c.name === "subaccounts")?.detail,
    ).toContain(CRAFTED);
  });
});
