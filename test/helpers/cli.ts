import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Environment for the CLI: only what the test gives, so the developer's own variables never leak in. */
export function cliEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  // Port 0: daemons started in parallel test files must not fight over the default metrics port.
  return {
    PATH: process.env.PATH ?? "",
    LOG_LEVEL: "warn",
    METRICS_HOST: "127.0.0.1",
    METRICS_PORT: "0",
    ...vars,
  };
}

/** Runs the built CLI (the package's real `bin`) to completion. */
export function runCli(args: string[], vars: Record<string, string>, timeoutMs = 20_000): Promise<CliResult> {
  return collect(spawn(process.execPath, [CLI, ...args], { env: cliEnv(vars) }), timeoutMs);
}

/** Runs the built CLI under a wrapper command (e.g. `faketime -f +3h`), to completion. */
export function runUnder(
  wrapper: string[],
  args: string[],
  vars: Record<string, string>,
  timeoutMs = 60_000,
): Promise<CliResult> {
  const [command, ...wrapperArgs] = wrapper as [string, ...string[]];
  return collect(
    spawn(command, [...wrapperArgs, process.execPath, CLI, ...args], { env: cliEnv(vars) }),
    timeoutMs,
  );
}

/** `timeoutMs`: the child is killed (and `done` rejects) if it is still running then. */
export function startCli(
  args: string[],
  vars: Record<string, string>,
  timeoutMs = 60_000,
): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [CLI, ...args], { env: cliEnv(vars) });
  return { child, done: collect(child, timeoutMs) };
}

function collect(child: ChildProcess, timeoutMs: number): Promise<CliResult> {
  const out = watchOutput(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `CLI did not finish within ${timeoutMs} ms\nstdout: ${out.stdout()}\nstderr: ${out.stderr()}`,
        ),
      );
    }, timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: out.stdout(), stderr: out.stderr() });
    });
  });
}

/**
 * What a running child has written so far, for tests that must react to its logs before it exits.
 * Attach it right after `startCli` (before the event loop turns) so that no output is missed; it adds its
 * own listeners and leaves `done` untouched.
 */
export function watchOutput(child: ChildProcess): { stdout(): string; stderr(): string } {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  return { stdout: () => stdout, stderr: () => stderr };
}
