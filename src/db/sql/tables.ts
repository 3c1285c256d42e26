import { quoteIdentifier } from "../../config/fields/identifiers.js";
import { OWN_TABLE_NAMES } from "../../model/index.js";

/** The daemon's own tables' names (created by `migrate`, see migrations.ts), never the app's. */
export const TABLE_NAMES = OWN_TABLE_NAMES;

/** Where the daemon's tables live when RECONCILER_SCHEMA is unset: where earlier releases created them. */
export const DEFAULT_DAEMON_SCHEMA = "public";

/**
 * The daemon's tables, each schema-qualified and quoted, ready for SQL text. Always qualified: a bare name
 * would resolve through the role's search_path, so `migrate` and `run` under different roles could create and
 * read tables in different schemas.
 */
export interface DaemonTables {
  /** The schema's plain name, as configured (for messages and catalog lookups). */
  schema: string;
  actions: string;
  leases: string;
  migrations: string;
  sightings: string;
  holds: string;
  causes: string;
  binding: string;
}

export function daemonTables(schema: string = DEFAULT_DAEMON_SCHEMA): DaemonTables {
  const s = quoteIdentifier(schema);
  const at = (name: string) => `${s}.${quoteIdentifier(name)}`;
  return {
    schema,
    actions: at(TABLE_NAMES.actions),
    leases: at(TABLE_NAMES.leases),
    migrations: at(TABLE_NAMES.migrations),
    sightings: at(TABLE_NAMES.sightings),
    holds: at(TABLE_NAMES.holds),
    causes: at(TABLE_NAMES.causes),
    binding: at(TABLE_NAMES.binding),
  };
}

/** The channel of `pg_notify` sent, in the ending transaction, for every call the daemon ends. */
export const ENDED_CHANNEL = "call_reconciler_ended";

/** Readiness: the database answers. */
export const PING_SQL = "SELECT 1";
/** The database's clock: statement_timestamp(), not now(), which would be frozen at a transaction's start. */
export const NOW_SQL = "SELECT statement_timestamp() AS now";
/** Who the daemon is connected as, to which server, and the database's clock (for `doctor`). */
export const SERVER_INFO_SQL = `SELECT current_user::text AS role, current_setting('server_version') AS version,
  statement_timestamp() AS now`;
