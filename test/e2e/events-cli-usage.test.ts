/**
 * The built CLI's `events` command before it asks Twilio: its help, and the usage it refuses with exit 2
 * before Twilio is asked. The command needs no database: none is given here.
 */
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

describe("call-reconciler events: help and usage", () => {
  it.each([
    ["events --help", /^Usage: call-reconciler events setup \[--url <url>\] \[--json\]$/m],
    [
      "events setup --help",
      /^Makes sure the account \(TWILIO_ACCOUNT_SID\) has an Event Streams webhook sink/m,
    ],
    ["events teardown --help", /^Removes what events setup made for the URL/m],
  ])("%s prints its help and exits 0", async (args, help) => {
    const r = await runCli(args.split(" "), {});
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(help);
  });

  it("the main help names the command", async () => {
    expect((await runCli(["--help"], {})).stdout).toMatch(/^ {2}events {4}events setup\|teardown: /m);
  });

  it.each([
    [["events"], {}, /events: give one action: call-reconciler events setup\|teardown/],
    [["events", "remove"], {}, /events: give one action/],
    [["events", "setup", "teardown"], {}, /events: give one action/],
    [
      ["events", "setup"],
      {},
      /events setup: give the URL Twilio posts the events to: --url https:\/\/… or EVENTS_URL/,
    ],
    [["events", "setup", "--url", "http://reconciler.example.com/e"], {}, /--url must be https:\/\//],
    [
      ["events", "teardown"],
      { EVENTS_URL: "http://reconciler.example.com/e" },
      /events teardown: EVENTS_URL must be https:\/\//,
    ],
    [["events", "setup", "--urll", "https://x.example"], {}, /events: Unknown option '--urll'/],
  ])("%j exits 2 with one line", async (args, env, message) => {
    const r = await runCli(args, env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it.each([
    [
      "not a url",
      /^call-reconciler: EVENTS_URL must be an http\(s\) URL, e\.g\. https:\/\/host\/path \(got "not a url"\)$/,
    ],
    ["   ", /^call-reconciler: EVENTS_URL must be an http\(s\) URL/],
  ])(
    "EVENTS_URL %j is refused in the same line by events setup, events teardown and doctor",
    async (url, message) => {
      const runs = await Promise.all(
        [
          ["events", "setup"],
          ["events", "teardown"],
          ["events", "setup", "--url", "https://reconciler.example.com/e"],
          ["doctor"],
        ].map((args) => runCli(args, { EVENTS_URL: url })),
      );
      for (const r of runs) {
        expect(r.code).toBe(2);
        expect(r.stderr.trim()).toMatch(message);
        expect(r.stderr.trim().split("\n")).toHaveLength(1);
      }
      expect(new Set(runs.map((r) => r.stderr)).size).toBe(1);
    },
  );

  it("with a good URL and no database, asks for Twilio's credentials next", async () => {
    const r = await runCli(["events", "setup", "--url", "https://reconciler.example.com/e"], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/events setup: Twilio is not configured: set TWILIO_ACCOUNT_SID/);
  });
});
