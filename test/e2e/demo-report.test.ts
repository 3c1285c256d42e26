import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

describe("npm run demo", () => {
  it("ends its incident's zombies with the true end times and ends with the diagnosis", async () => {
    const r = await runCli(["demo"], {}, 90_000);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ended rows whose ended_at differs from the provider's end time: 0/);
    expect(r.stdout).toMatch(/\$ call-reconciler report/);
    expect(r.stdout).toMatch(
      /Twilio delivered `completed` for \d+ of \d+ calls to POST https:\/\/app\.example\.com\/twilio\/status and got 200 in about 80 ms, but the rows stayed active: that handler acknowledges the end without ending the call\./,
    );
    expect(r.stdout).toMatch(/and got 500 \(Twilio error 15003\): that endpoint fails/);
    expect(r.stdout).toMatch(/they were created without a StatusCallback/);
    expect(r.stdout).not.toMatch(/\+1500555/);
    // Event Streams: the call that ends during the demo is ended by its event, before the next pass.
    expect(r.stdout).toMatch(
      /the daemon's first pass found call demo-event-1 live; its next pass is in 300 s/,
    );
    expect(r.stdout).toMatch(
      /row demo-event-1: completed, ended_at \S+ \(Twilio's end time, exactly\), ended \d+\.\d s after the call, before any pass/,
    );
  }, 120_000);
});

describe("npm run demo -- --table text", () => {
  it("ends the incident on the app's own table as it is: its text times, its one id column, its duration, its words", async () => {
    const r = await runCli(["demo", "--table", "text"], {}, 90_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /rows whose status, ended_at or duration_seconds differs from what the providers say: 0/,
    );
    // The app's own format: Python's naive isoformat, no offset, no Z.
    expect(r.stdout).toMatch(
      /completed +started \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d +ended \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d +duration \d+/,
    );
    expect(r.stdout).toMatch(/ended → cancelled \(twilio\)/);
    expect(r.stdout).toMatch(/rtc_\S+ +\S+ +not its id/);
    expect(r.stdout).not.toMatch(/no index serves/);
  }, 120_000);

  it("refuses a table it does not know, in one line", async () => {
    const r = await runCli(["demo", "--table", "sqlite"], {});
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      'call-reconciler: demo: --table takes default or text, not "sqlite" (the app\'s SQLite file: demo --sqlite)',
    );
  });
});
