import { loadConfig } from "../../src/config/config.js";
import { migrate } from "../../src/db/migrate.js";
import { readActions, readCalls, type SeedCall, type StoredCall, seedCalls } from "../../src/dev/seed.js";
import {
  type SimTwilioCall,
  type SimTwilioOptions,
  startTwilioSimulator,
  type TwilioSimulator,
} from "../../src/sim/twilio-sim.js";
import { type FreshDatabase, freshDatabase } from "./db.js";
import { ACCOUNT_SID, AUTH_TOKEN, activeRow, sid, whole } from "./matrix.js";

/** A fresh database seeded with `rows`, a Twilio simulator holding `calls`, and the CLI's environment for both. */
export interface ChaosWorld {
  db: FreshDatabase;
  twilio: TwilioSimulator;
  env: Record<string, string>;
  rows(ids: string[]): Promise<Map<string, StoredCall>>;
  /** Calls that appear while the world runs: each row in the table, each call at the simulator. */
  add(calls: { row: SeedCall; call: SimTwilioCall }[]): Promise<void>;
  actions(): ReturnType<typeof readActions>;
  close(): Promise<void>;
}

export async function chaosWorld(
  rows: SeedCall[],
  calls: SimTwilioCall[],
  opts: {
    sim?: Partial<SimTwilioOptions>;
    env?: Record<string, string>;
    beforeSeed?: (db: FreshDatabase) => Promise<void>;
  } = {},
): Promise<ChaosWorld> {
  const db = await freshDatabase();
  const twilio = await startTwilioSimulator({
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    calls,
    ...opts.sim,
  });
  const env = {
    DATABASE_URL: db.url,
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    TWILIO_API_BASE_URL: twilio.url,
    TWILIO_STRATEGY: "per-call",
    TWILIO_MAX_RPS: "100",
    PROVIDER_TIMEOUT_MS: "2000",
    LOG_LEVEL: "info",
    ...opts.env,
  };
  const config = loadConfig(env);
  await migrate(db.pool, { withCallsTable: true, mapping: config.calls });
  await opts.beforeSeed?.(db);
  await seedCalls(db.pool, config.calls, rows);
  return {
    db,
    twilio,
    env,
    rows: async (ids) => new Map((await readCalls(db.pool, config.calls, ids)).map((r) => [r.id, r])),
    add: async (calls) => {
      for (const c of calls) twilio.upsertCall(c.call);
      await seedCalls(
        db.pool,
        config.calls,
        calls.map((c) => c.row),
      );
    },
    actions: () => readActions(db.pool, config.calls),
    close: async () => {
      await twilio.close();
      await db.drop();
    },
  };
}

const HOUR = 3_600_000;

/** A zombie: active in the table, over at Twilio with a true end time, started `minutesAgo`. */
export function zombie(
  id: string,
  minutesAgo: number,
  extra: Partial<SimTwilioCall> = {},
): { row: SeedCall; call: SimTwilioCall; endedAt: Date } {
  const startedAt = whole(Date.now() - minutesAgo * 60_000);
  const endedAt = whole(startedAt.getTime() + 90_000);
  return {
    row: activeRow(id, startedAt, { sid: sid(id) }),
    call: {
      sid: sid(id),
      status: "completed",
      startTime: startedAt,
      endTime: endedAt,
      duration: "90",
      ...extra,
    },
    endedAt,
  };
}

/** A live call: active in the table and in progress at Twilio. */
export function liveCall(id: string, minutesAgo: number): { row: SeedCall; call: SimTwilioCall } {
  const startedAt = whole(Date.now() - minutesAgo * 60_000);
  return {
    row: activeRow(id, startedAt, { sid: sid(id) }),
    call: { sid: sid(id), status: "in-progress", startTime: startedAt, endTime: null, duration: null },
  };
}

export const hoursAgo = (h: number) => whole(Date.now() - h * HOUR);
