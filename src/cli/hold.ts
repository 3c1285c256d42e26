import { hostname, userInfo } from "node:os";
import type { Config } from "../config/config.js";
import type { Logger } from "../log.js";
import type { Hold, HoldBook } from "../model/index.js";
import { openDatabase } from "./database.js";
import { EXIT, UsageError } from "./errors.js";
import { ID_WIDTH, terminalId, terminalText } from "./terminal-text.js";

export interface HoldOptions {
  /** The call id as the operator typed it (read as the id column's type). */
  callId: string;
  reason?: string;
  out: NodeJS.WritableStream;
}

/** Who runs this command, for `held_by` / `released_by` and the revert's audit rows: user@host. */
export function operator(): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    // A container user without a passwd entry.
    user = `uid${process.getuid?.() ?? "?"}`;
  }
  return `${user}@${hostname()}`;
}

/** Shows a reason this long at most: whoever held the call wrote it, for others to read. */
const REASON_WIDTH = 200;

function describe(h: Hold): string {
  const reason = h.reason === null ? "" : `, reason: ${terminalText(h.reason, REASON_WIDTH)}`;
  return `held since ${h.heldAt.toISOString()} by ${terminalText(h.heldBy, ID_WIDTH)}${reason}`;
}

async function withHolds<T>(config: Config, fn: (holds: HoldBook) => Promise<T>): Promise<T> {
  const database = await openDatabase(config, { connections: 1 });
  try {
    await database.verifyWriter();
    await database.checkBinding({ bind: true });
    return await fn(database.holds());
  } finally {
    await database.close();
  }
}

/**
 * `hold <call-id> [--reason …]`: the daemon never ends the call (not even by the age bound) until it is
 * released. Exit 0 when held (now or already); 2 when the calls table has no such call.
 */
export async function runHold(config: Config, logger: Logger, opts: HoldOptions): Promise<number> {
  return withHolds(config, async (holds) => {
    const call = await holds.callById(opts.callId);
    if (call === null)
      throw new UsageError(
        `hold: no call ${terminalId(opts.callId)} in ${config.calls.table} (column ${config.calls.id})`,
      );
    const { made, hold } = await holds.hold(call.callId, {
      reason: opts.reason ?? null,
      heldBy: `hold:${operator()}`,
    });
    if (made) logger.info({ callId: call.callId, reason: hold.reason }, "call held");
    const state = `status ${terminalText(call.status, ID_WIDTH)}, ended_at ${terminalText(call.endedAt ?? "NULL", ID_WIDTH)}`;
    const id = terminalId(call.callId);
    // An id shown escaped or cut would not be released if pasted back: the command is then only outlined.
    const release = `call-reconciler release ${id === call.callId ? id : "<call-id>"}`;
    opts.out.write(
      made
        ? `call ${id} is held (${state}): no pass asks about it or ends it until \`${release}\`\n`
        : `call ${id} was already ${describe(hold)} (${state}); left as it is\n`,
    );
    return EXIT.ok;
  });
}

/**
 * `release <call-id>`: ends the call's hold (the hold stays in call_reconciler_holds, with released_at); the
 * next pass judges the call again. Exit 0, also when it was not held.
 */
export async function runRelease(config: Config, logger: Logger, opts: HoldOptions): Promise<number> {
  return withHolds(config, async (holds) => {
    // A hold of a row the app deleted can still be released, under the id as typed.
    const callId = (await holds.callById(opts.callId))?.callId ?? opts.callId;
    const released = await holds.release(callId, `release:${operator()}`);
    if (released === null) {
      opts.out.write(`call ${terminalId(callId)} is not held: nothing to release\n`);
      return EXIT.ok;
    }
    logger.info({ callId, heldBy: released.heldBy }, "call released");
    opts.out.write(
      `call ${terminalId(callId)} released (it was ${describe(released)}); the next pass judges it again\n`,
    );
    return EXIT.ok;
  });
}
