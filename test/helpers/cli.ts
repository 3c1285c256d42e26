import { type ChildProcess, spawn } from "node:child_process";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
/** The built command line the bin runs, imported by the test worker itself. */
const COMMAND_LINE = new URL("../../dist/cli/command-line.js", import.meta.url).href;

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

/**
 * Commands that answer and return: they run in the test's own process, through the built code the bin runs,
 * with only the test's variables and their own stdout and stderr. A new Node process costs about half a
 * second of CPU, most of it loading modules, and the suite runs hundreds of these commands.
 */
const IN_PROCESS_COMMANDS: ReadonlySet<string> = new Set([
  "--help",
  "--version",
  "audit",
  "doctor",
  "events",
  "hold",
  "migrate",
  "release",
  "report",
  "revert",
]);

/** Variables that act on the whole process (the zone of its clock), which only a process of its own can have. */
const PROCESS_VARS = ["TZ", "NODE_OPTIONS"];

/**
 * Runs the built CLI to completion: one-shot commands through the bin's own `runCommandLine` in this process,
 * `run`, `simulate`, `demo` and anything under process-wide variables as the real `bin` in a child.
 */
export function runCli(args: string[], vars: Record<string, string>, timeoutMs = 20_000): Promise<CliResult> {
  const inProcess =
    IN_PROCESS_COMMANDS.has(args[0] ?? "") && PROCESS_VARS.every((name) => vars[name] === undefined);
  return inProcess ? runInProcess(args, vars, timeoutMs) : runCliProcess(args, vars, timeoutMs);
}

/** Runs the package's real `bin` in a child process to completion: for tests of the process itself. */
export function runCliProcess(
  args: string[],
  vars: Record<string, string>,
  timeoutMs = 20_000,
): Promise<CliResult> {
  return collect(spawn(process.execPath, [CLI, ...args], { env: cliEnv(vars) }), timeoutMs);
}

async function runInProcess(
  args: string[],
  vars: Record<string, string>,
  timeoutMs: number,
): Promise<CliResult> {
  const { runCommandLine } = (await import(COMMAND_LINE)) as typeof import("../../src/cli/command-line.js");
  const stdout = textSink();
  const stderr = textSink();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `CLI did not finish within ${timeoutMs} ms\nstdout: ${stdout.text()}\nstderr: ${stderr.text()}`,
          ),
        ),
      timeoutMs,
    );
  });
  try {
    const code = await Promise.race([
      runCommandLine(args, { env: cliEnv(vars), stdout: stdout.stream, stderr: stderr.stream }),
      timedOut,
    ]);
    return { code, signal: null, stdout: stdout.text(), stderr: stderr.text() };
  } finally {
    clearTimeout(timer);
  }
}

function textSink(): { stream: Writable; text(): string } {
  let text = "";
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
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
