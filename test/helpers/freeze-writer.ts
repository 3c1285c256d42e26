/**
 * Stops the app's writer in the middle of a call, as a real call lasts while the app waits for its end: the
 * process is stopped (SIGSTOP) at a moment it holds no lock on the file (none of its POSIX locks in
 * /proc/locks) and its latest call is still active, so a daemon can end that call before the writer, resumed
 * (SIGCONT), ends it itself. Linux only (/proc); elsewhere `canFreeze` is false.
 */
import type { ChildProcess } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { DatabaseSync } from "@photostructure/sqlite";
import { isBusy } from "../../src/sqlite/busy.js";

export const canFreeze = existsSync("/proc/locks");

export interface FrozenWriter {
  /** The writer's call left active while it is stopped. */
  callId: string;
  resume(): boolean;
}

/** Null when the writer finished before it was caught on a call holding no lock. */
export async function freezeOnACall(
  writer: ChildProcess,
  path: string,
  idPrefix: string,
): Promise<FrozenWriter | null> {
  const inode = statSync(path).ino;
  const db = new DatabaseSync(path, { timeout: 5_000 });
  const latest = db.prepare(
    "SELECT call_id, status, ended_at FROM calls WHERE substr(call_id, 1, ?) = ? ORDER BY rowid DESC LIMIT 1",
  );
  const onACall = () => {
    let found: unknown;
    try {
      found = latest.get(idPrefix.length, idPrefix);
    } catch (error) {
      // The file locked past the timeout (a loaded machine): not known to be on a call, so looked at again.
      if (isBusy(error)) return null;
      throw error;
    }
    const row = found as { call_id: string; status: string; ended_at: string | null } | undefined;
    return row?.status === "active" && row.ended_at === null ? row.call_id : null;
  };
  const pid = writer.pid ?? -1;
  try {
    for (;;) {
      if (writer.exitCode !== null || writer.signalCode !== null) return null;
      // Stopped while it holds a lock, the writer would hold it for as long: look first, stop only when free.
      if (holdsLock(pid, inode) || onACall() === null) {
        await sleep(1);
        continue;
      }
      // kill() signals only a child that has not exited: a finished writer is never mistaken for another process.
      if (!writer.kill("SIGSTOP")) return null;
      // The signal is delivered later: until the writer has stopped, it may still take a lock.
      if (!(await stopped(writer))) return null;
      const callId = holdsLock(pid, inode) ? null : onACall();
      if (callId !== null) return { callId, resume: () => writer.kill("SIGCONT") };
      writer.kill("SIGCONT");
      await sleep(1);
    }
  } finally {
    db.close();
  }
}

/** True once the process is stopped (its state in /proc is `T`); false when it has exited. */
async function stopped(child: ChildProcess): Promise<boolean> {
  const stat = `/proc/${child.pid}/stat`;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null || !existsSync(stat)) return false;
    // The state follows the command's name in parentheses, which may itself hold spaces or parentheses.
    const state = readFileSync(stat, "utf8")
      .replace(/^.*\) /s, "")
      .charAt(0);
    if (state === "T") return true;
    await sleep(1);
  }
}

/** Whether the process holds a POSIX lock on the file (SQLite's locks are byte-range locks on the file). */
function holdsLock(pid: number, inode: number): boolean {
  return readFileSync("/proc/locks", "utf8")
    .split("\n")
    .some((line) => {
      const f = line.trim().split(/\s+/);
      // "1: POSIX ADVISORY WRITE <pid> <major>:<minor>:<inode> <start> <end>"
      return f[1] === "POSIX" && f[4] === String(pid) && f[5]?.split(":")[2] === String(inode);
    });
}
