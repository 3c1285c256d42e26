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
  }, 120_000);
});
