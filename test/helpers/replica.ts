import type { ChildProcess } from "node:child_process";
import { afterEach, beforeEach } from "vitest";
import { type CliResult, startCli, watchOutput } from "./cli.js";
import { type SeededWorld, seededWorld } from "./scenario.js";

/** A running `call-reconciler run`, with its JSON log lines as they come. */
export interface Replica {
  child: ChildProcess;
  done: Promise<CliResult>;
  out: ReturnType<typeof watchOutput>;
  lines(): Record<string, unknown>[];
}

export function startReplica(env: Record<string, string>, timeoutMs?: number): Replica {
  const { child, done } = startCli(["run"], env, timeoutMs);
  const out = watchOutput(child);
  return {
    child,
    done,
    out,
    lines: () =>
      out
        .stderr()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l)),
  };
}

/** The metrics server's URL, from the replica's start line (LOG_LEVEL info or finer). */
export const metricsUrl = (r: Replica) =>
  r.lines().find((l) => l.msg === "call-reconciler started")?.metrics as string | undefined;

export async function scrape(url: string, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: await res.text() };
}

export const gauge = (body: string, name: string) =>
  Number(new RegExp(`^${name} (\\S+)$`, "m").exec(body)?.[1]);

/**
 * For a describe block: a fresh seeded world before each test, and every replica started through `start`
 * killed (then the world closed) after it.
 */
export function seededReplicas(): {
  readonly world: SeededWorld;
  start(env: Record<string, string>): Replica;
} {
  let world: SeededWorld | undefined;
  const running: Replica[] = [];
  beforeEach(async () => {
    world = await seededWorld();
  });
  afterEach(async () => {
    for (const r of running) r.child.kill("SIGKILL");
    await Promise.allSettled(running.map((r) => r.done));
    running.length = 0;
    await world?.close();
  });
  return {
    get world() {
      if (world === undefined) throw new Error("seededReplicas: no world outside a test");
      return world;
    },
    start(env) {
      const r = startReplica(env);
      running.push(r);
      return r;
    },
  };
}
