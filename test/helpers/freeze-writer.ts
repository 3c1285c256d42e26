/**
 * Stops the app's writer in the middle of a call, as a real call lasts while the app waits for its end: the
 * process is stopped (SIGSTOP) at a moment it holds no lock on the file and its latest call is still active,
 * so a daemon can end that call before the writer, resumed (SIGCONT), ends it itself.
 */
import type { ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { DatabaseSync } from "@photostructure/sqlite";

export interface FrozenWriter {
  /** The writer's call left active while it is stopped. */
  callId: string;
  resume(): boolean;
}

export async function freezeOnACall(
  writer: ChildProcess,
  path: string,
  idPrefix: string,
): Promise<FrozenWriter> {
  const db = new DatabaseSync(path, { timeout: 0 });
  try {
    for (let attempt = 0; attempt < 2000; attempt++) {
      // kill() signals only a child that has not exited: a finished writer is never mistaken for another process.
      if (!writer.kill("SIGSTOP")) throw new Error("the writer finished before it was caught on a call");
      const callId = activeCallWithoutLock(db, idPrefix);
      if (callId !== null) return { callId, resume: () => writer.kill("SIGCONT") };
      writer.kill("SIGCONT");
      await sleep(3);
    }
    throw new Error("the writer was never caught on a call holding no lock");
  } finally {
    db.close();
  }
}

/** The writer's latest call if it is active and no connection holds any lock (EXCLUSIVE is then granted). */
function activeCallWithoutLock(db: InstanceType<typeof DatabaseSync>, idPrefix: string): string | null {
  try {
    db.exec("BEGIN EXCLUSIVE");
  } catch {
    return null;
  }
  try {
    const row = db
      .prepare(
        "SELECT call_id, status, ended_at FROM calls WHERE substr(call_id, 1, ?) = ? ORDER BY rowid DESC LIMIT 1",
      )
      .get(idPrefix.length, idPrefix) as
      | { call_id: string; status: string; ended_at: string | null }
      | undefined;
    return row !== undefined && row.status === "active" && row.ended_at === null ? row.call_id : null;
  } finally {
    db.exec("ROLLBACK");
  }
}
