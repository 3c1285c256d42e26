/**
 * The daemon as an operator runs it: the built CLI (`node dist/cli/main.js run`) in a process of its own,
 * its JSON log lines read as they come. Only the lines the bench needs are kept: a count of warnings and
 * errors with the first few, and whether the first pass has finished.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const CLI = join(ROOT, "dist", "cli", "main.js");
const MAX_PROBLEMS = 5;

/** Newest modification time of the .ts files under `dir`, in ms. */
async function newestSource(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(".ts"))
      newest = Math.max(newest, (await stat(join(entry.parentPath, entry.name))).mtimeMs);
  }
  return newest;
}

/** Refuses a missing or stale build: the bench would measure another daemon than the sources describe. */
export async function checkBuild(): Promise<void> {
  const built = await stat(CLI).catch(() => null);
  if (built === null) throw new Error(`${CLI} does not exist: run \`npm run build\` first`);
  if ((await newestSource(join(ROOT, "src"))) > built.mtimeMs)
    throw new Error("src/ changed after the last build: run `npm run build` first");
}

export interface Daemon {
  /** Resolves with the metrics server's URL once the first pass has finished. */
  firstPass: Promise<string>;
  /** Warnings and errors logged so far (first few, and how many). */
  problems(): { first: string[]; count: number };
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export function startDaemon(env: Record<string, string>, firstPassTimeoutMs: number): Daemon {
  // Only what the bench gives: the developer's own variables never reach the daemon.
  const child: ChildProcess = spawn(process.execPath, [CLI, "run"], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const first: string[] = [];
  let count = 0;
  let metricsUrl: string | undefined;
  let resolveFirst: (url: string) => void = () => {};
  let rejectFirst: (err: Error) => void = () => {};
  const firstPass = new Promise<string>((resolve, reject) => {
    resolveFirst = resolve;
    rejectFirst = reject;
  });
  firstPass.catch(() => {});
  const timer = setTimeout(
    () => rejectFirst(new Error(`no pass finished within ${firstPassTimeoutMs / 1000} s`)),
    firstPassTimeoutMs,
  );
  child.once("exit", (code, signal) => {
    clearTimeout(timer);
    rejectFirst(new Error(`the daemon exited (${signal ?? code})`));
  });
  for (const stream of [child.stdout, child.stderr]) {
    if (stream === null) continue;
    createInterface({ input: stream }).on("line", (line) => {
      if (!line.startsWith("{")) return;
      let entry: { level?: number; msg?: string; metrics?: string };
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      if ((entry.level ?? 0) >= 40) {
        count++;
        if (first.length < MAX_PROBLEMS) first.push(line.slice(0, 400));
      }
      if (entry.msg === "call-reconciler started" && typeof entry.metrics === "string")
        metricsUrl = entry.metrics;
      if (entry.msg === "pass finished" && metricsUrl !== undefined) {
        clearTimeout(timer);
        resolveFirst(metricsUrl);
      }
    });
  }
  return {
    firstPass,
    problems: () => ({ first: [...first], count }),
    async stop(graceMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
