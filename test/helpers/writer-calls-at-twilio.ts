/**
 * Makes Twilio (the simulator) know the calls an app writer inserts while it runs, as calls already over, so
 * that a daemon listing one while the writer is still on it confirms it ended and races the writer's own end.
 * Reads the file as another of the app's readers: a plain SELECT, no transaction kept.
 */
import { DatabaseSync } from "@photostructure/sqlite";
import type { TwilioSimulator } from "../../src/sim/twilio-sim.js";
import { isBusy } from "../../src/sqlite/busy.js";

export interface WriterCallsAtTwilio {
  /** Stops looking, after a last look: every call the writer made is then known. */
  stop(): void;
}

/**
 * Each call is `completed` at Twilio with a start and end at the whole second its row started (Twilio's times
 * are whole seconds, and an end later than the daemon's clock would wait a pass), and a duration of 0: an end
 * that is Twilio's, never the writer's. `idPrefix`: what the writer's ids begin with.
 */
export function writerCallsAtTwilio(
  path: string,
  idPrefix: string,
  twilio: TwilioSimulator,
  everyMs: number,
): WriterCallsAtTwilio {
  const db = new DatabaseSync(path, { timeout: 5_000 });
  const read = db.prepare(
    "SELECT rowid AS n, call_id, started_at FROM calls WHERE rowid > ? AND substr(call_id, 1, ?) = ? ORDER BY rowid",
  );
  let last = 0;
  const look = () => {
    const rows = read.all(last, idPrefix.length, idPrefix) as {
      n: number;
      call_id: string;
      started_at: string;
    }[];
    for (const r of rows) {
      last = Math.max(last, r.n);
      const second = new Date(Math.floor(Date.parse(`${r.started_at}Z`) / 1000) * 1000);
      twilio.upsertCall({
        sid: r.call_id,
        status: "completed",
        startTime: second,
        endTime: second,
        duration: "0",
      });
    }
  };
  // A look that meets the file locked past its timeout (a slow CI machine, the writer and the daemon both
  // committing) is skipped, as an app's reader would retry: the next look reads from the same rowid.
  const lookUnlessBusy = (): boolean => {
    try {
      look();
      return true;
    } catch (error) {
      if (isBusy(error)) return false;
      throw error;
    }
  };
  const timer = setInterval(lookUnlessBusy, everyMs);
  return {
    stop() {
      clearInterval(timer);
      if (!db.isOpen) return;
      // The last look must happen: the test's promise is that every call the writer made is known.
      for (let attempt = 1; !lookUnlessBusy(); attempt++) {
        if (attempt === 5) look();
      }
      db.close();
    },
  };
}
