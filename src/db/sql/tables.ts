/** The daemon's own tables and channel: created by `migrate` (see migrations.ts), never the app's. */
export const ACTIONS_TABLE = "call_reconciler_actions";
export const LEASES_TABLE = "call_reconciler_leases";
export const MIGRATIONS_TABLE = "call_reconciler_migrations";
export const SIGHTINGS_TABLE = "call_reconciler_sightings";
/** The channel of `pg_notify` sent, in the ending transaction, for every call the daemon ends. */
export const ENDED_CHANNEL = "call_reconciler_ended";

/** Readiness: the database answers. */
export const PING_SQL = "SELECT 1";
/** The database's clock: statement_timestamp(), not now(), which would be frozen at a transaction's start. */
export const NOW_SQL = "SELECT statement_timestamp() AS now";
