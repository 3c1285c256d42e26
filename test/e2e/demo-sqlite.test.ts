import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

describe("npm run demo -- --sqlite", () => {
  it("reconciles the app's own SQLite file in place, with no PostgreSQL, and leaves every row as the providers say", async () => {
    const r = await runCli(["demo", "--sqlite"], {}, 90_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/PostgreSQL at|embedded PostgreSQL/);
    const file = /^SQLite file at (\/\S+\/call_history\.db) \(DATABASE_URL=sqlite:\/\/(\S+)\)/m.exec(
      r.stdout,
    );
    expect(file, r.stdout).not.toBeNull();
    const [, path, urlPath] = file as unknown as [string, string, string];
    expect(urlPath).toBe(path);
    // The daemon's tables went into the app's file, and doctor read the file, not a server.
    expect(r.stdout).toContain(`applied migrations: 1 in the SQLite file ${path}`);
    expect(r.stdout).toMatch(/^✓ journal mode +delete/m);
    expect(r.stdout).toMatch(
      /^! listing index .*CREATE INDEX IF NOT EXISTS "call_reconciler_calls_active_idx"/m,
    );
    // Ended in the app's words, with Python's naive isoformat and Twilio's duration.
    expect(r.stdout).toMatch(/ended → cancelled \(twilio\)/);
    expect(r.stdout).toMatch(/rtc_\S+ +\S+ +not its id/);
    expect(r.stdout).toMatch(
      /completed +started \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d +ended \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d +duration \d+/,
    );
    expect(r.stdout).toMatch(/^ended: [1-9]\d*, zombies found by the last audit: 0$/m);
    expect(r.stdout).toMatch(
      /^rows whose status, ended_at or duration_seconds differs from what the providers say: 0$/m,
    );
    // The index created before the audits serves the listing: no audit advises it again.
    expect(r.stdout).not.toMatch(/no index serves/);
    expect(r.stderr).toBe("");
    expect(existsSync(path)).toBe(false);
  }, 120_000);

  it("refuses --sqlite with the daemon's default table, in one line", async () => {
    const r = await runCli(["demo", "--sqlite", "--table", "default"], {});
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      "call-reconciler: demo: --sqlite keeps the app's own table (--table text) in its SQLite file, not --table default",
    );
  });
});
