/**
 * Every CLI start imports its command's module. The provider SDKs (twilio, openai, ws) take about 250 ms to
 * load together, a cost each `migrate`, `hold` or `report` paid although it never asks a provider, and each
 * `audit` or `run` paid before its first request: they are imported where the first request is made. These
 * tests fail when a static import brings one back into a command's start.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const DIST = new URL("../../dist/", import.meta.url);

/** A resolve hook that names every module of the three SDKs the process loads, one line each on stdout. */
const HOOKS = `data:text/javascript,${encodeURIComponent(`
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  const sdk = /\\/node_modules\\/(twilio|openai|ws)\\//.exec(resolved.url);
  if (sdk) console.log("sdk " + sdk[1]);
  return resolved;
}`)}`;
const REGISTER = `data:text/javascript,${encodeURIComponent(
  `import { register } from "node:module"; register(${JSON.stringify(HOOKS)});`,
)}`;

/** The SDKs loaded by importing `modules` of dist/ (and by running `then`, code run after the imports). */
function sdksLoadedBy(modules: string[], then = ""): Promise<string[]> {
  const imports = modules.map((m) => `await import(${JSON.stringify(new URL(m, DIST).href)});`).join("\n");
  const child = spawn(
    process.execPath,
    ["--import", REGISTER, "--input-type=module", "-e", `${imports}\n${then}\nconsole.log("imported");`],
    { env: { PATH: process.env.PATH ?? "" }, cwd: fileURLToPath(DIST) },
  );
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve, reject) => {
    child.on("close", (code) => {
      if (code !== 0 || !out.includes("imported")) reject(new Error(`exit ${code}: ${err}`));
      else resolve([...new Set(out.split("\n").flatMap((l) => (l.startsWith("sdk ") ? [l.slice(4)] : [])))]);
    });
  });
}

describe("the CLI's start loads no provider SDK", () => {
  it.each([
    "cli/migrate.js",
    "cli/hold.js",
    "cli/revert.js",
    "cli/causes-report.js",
    "cli/doctor.js",
    "cli/audit.js",
    "cli/run.js",
    "cli/events.js",
  ])("importing %s loads none of twilio, openai, ws", async (module) => {
    expect(await sdksLoadedBy([module])).toEqual([]);
  });

  it("the hook sees them when they are loaded: a Twilio client's first request, a probe, a key check", async () => {
    const loaded = await sdksLoadedBy(
      ["providers/twilio-client.js", "providers/openai.js", "providers/openai-credentials.js"],
      `
      const { createTwilioClient } = await import(${JSON.stringify(new URL("providers/twilio-client.js", DIST).href)});
      const { createOpenAIProbe } = await import(${JSON.stringify(new URL("providers/openai.js", DIST).href)});
      const { checkOpenAIKey } = await import(${JSON.stringify(new URL("providers/openai-credentials.js", DIST).href)});
      const credentials = { accountSid: "AC" + "1".repeat(32), username: "AC" + "1".repeat(32), password: "t" };
      const unreachable = "http://127.0.0.1:1";
      await createTwilioClient({ credentials, baseUrl: unreachable, timeoutMs: 2000, keepAlive: false })
        .get(unreachable + "/x.json").catch(() => {});
      await createOpenAIProbe({ apiKey: "k", baseUrl: unreachable + "/v1", timeoutMs: 2000 }).probeSession("rtc_1");
      await checkOpenAIKey({ apiKey: "k", baseUrl: unreachable + "/v1", timeoutMs: 2000 });
      `,
    );
    expect(loaded.sort()).toEqual(["openai", "twilio", "ws"]);
  });
});

describe("the Event Streams sink loads Twilio's signature check when it starts, not when imported", () => {
  it("importing events/sink-server.js loads none of twilio, openai, ws", async () => {
    expect(await sdksLoadedBy(["events/sink-server.js"])).toEqual([]);
  });

  it("starting a sink loads twilio, and nothing else", async () => {
    const loaded = await sdksLoadedBy(
      ["events/sink-server.js", "log.js"],
      `
      const { startEventSink } = await import(${JSON.stringify(new URL("events/sink-server.js", DIST).href)});
      const { createLogger } = await import(${JSON.stringify(new URL("log.js", DIST).href)});
      const none = () => {};
      const sink = await startEventSink({
        host: "127.0.0.1", port: 0, publicUrl: "https://h.example/twilio/events", authToken: "t",
        logger: createLogger("silent"),
        observer: { received: none, refused: none, duplicate: none, ignored: none, queued: none },
        onNudges: async () => "accepted",
      });
      await sink.close();
      `,
    );
    expect(loaded).toEqual(["twilio"]);
  });
});
