/** The daemon's own tables and channel: created by `migrate` (see migrations.ts), never the app's. */
export const ACTIONS_TABLE = "call_reconciler_actions";
export const LEASES_TABLE = "call_reconciler_leases";
export const MIGRATIONS_TABLE = "call_reconciler_migrations";
/** The channel of `pg_notify` sent, in the ending transaction, for every call the daemon ends. */
export const ENDED_CHANNEL = "call_reconciler_ended";

/** Readiness: the database answers. */
export const PING_SQL = "SELECT 1";
