/**
 * Runs the app's writer (app-writer.py: Python's sqlite3 with its defaults, a connection per operation) as a
 * process of its own, beside whatever the test runs against the same file.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("./app-writer.py", import.meta.url));

export const pythonMissing = spawnSync("python3", ["-c", "import sqlite3"]).status !== 0;

export interface WriterReport {
  /** Every error the app met, as `<call id>: <repr of the exception>`. */
  errors: string[];
  /** Each call's end as the writer wrote it into `ended_at`. */
  ended: Record<string, string>;
}

/** `calls` calls, ids `prefix` + the call's number in 10 digits, each with `rows` transcript rows. */
export function startAppWriter(
  path: string,
  calls: number,
  prefix: string,
  rows: number,
): { child: ChildProcess; report: Promise<WriterReport> } {
  const child = spawn("python3", [SCRIPT, path, String(calls), prefix, String(rows)], {
    env: { PATH: process.env.PATH ?? "" },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const report = new Promise<WriterReport>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) reject(new Error(`app-writer.py exited ${code}\nstderr: ${stderr}`));
      else resolve(JSON.parse(stdout) as WriterReport);
    });
  });
  return { child, report };
}

/** Microseconds since the epoch of a naive UTC `datetime.isoformat()` text, exactly (a Date keeps milliseconds). */
export function isoMicros(text: string): number {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{6}))?$/.exec(text);
  if (m === null) throw new Error(`not a naive isoformat() text: ${text}`);
  return Date.parse(`${m[1]}Z`) * 1000 + Number(m[2] ?? "0");
}

/** `(end - started).total_seconds()` as Python computes it: whole microseconds divided once. */
export const pythonSeconds = (started: string, ended: string): number =>
  (isoMicros(ended) - isoMicros(started)) / 1e6;
