/**
 * The PostgreSQL relay of nudges from the replica an event reached to the leader: NOTIFY on the binding's
 * channel (see nudgeChannel), each listener on a session of its own (see NudgeListener).
 */
import pg from "pg";
import type { CallsTableMapping } from "../config/config.js";
import {
  type CallNudge,
  type NudgeListenOptions,
  NudgeNotRelayedError,
  type NudgeRelay,
} from "../model/index.js";
import { resolveCallsTable } from "./binding.js";
import { cachedUntilFailure } from "./column-types.js";
import { NudgeListener } from "./nudge-listener.js";
import { encodeNudges } from "./nudge-payload.js";
import { nudgeChannel, PUBLISH_NUDGES_SQL } from "./sql/nudges.js";
import { DEFAULT_DAEMON_SCHEMA } from "./sql/tables.js";

export interface PgNudgeRelayDeps {
  pool: pg.Pool;
  /** The connection settings of the pool's connections (see connectionSettings), for each listener's own. */
  clientConfig: pg.ClientConfig;
  mapping: CallsTableMapping;
}

export class PgNudgeRelay implements NudgeRelay {
  private readonly listeners = new Set<NudgeListener>();
  /** The binding's channel, resolved once (the table's resolution is a catalog read). */
  readonly channel = cachedUntilFailure(async () =>
    nudgeChannel(
      this.deps.mapping.daemonSchema ?? DEFAULT_DAEMON_SCHEMA,
      await resolveCallsTable(this.deps.pool, this.deps.mapping),
    ),
  );

  constructor(private readonly deps: PgNudgeRelayDeps) {}

  async publish(nudges: readonly CallNudge[]): Promise<void> {
    const { payloads, unrelayable } = encodeNudges(nudges);
    if (payloads.length > 0) await this.deps.pool.query(PUBLISH_NUDGES_SQL, [await this.channel(), payloads]);
    if (unrelayable.length > 0) throw new NudgeNotRelayedError(unrelayable);
  }

  async listen(
    onNudges: (nudges: CallNudge[]) => void,
    opts: NudgeListenOptions = {},
  ): Promise<{ close(): Promise<void> }> {
    const listener = new NudgeListener({
      channel: await this.channel(),
      newClient: () => new pg.Client(this.deps.clientConfig),
      onNudges,
      onTrouble: opts.onTrouble,
    });
    this.listeners.add(listener);
    try {
      await listener.start();
    } catch (err) {
      this.listeners.delete(listener);
      throw err;
    }
    return {
      close: async () => {
        this.listeners.delete(listener);
        await listener.close();
      },
    };
  }

  /** Closes every listener still open (the database is closing). */
  async close(): Promise<void> {
    const open = [...this.listeners];
    this.listeners.clear();
    await Promise.all(open.map((l) => l.close()));
  }
}
