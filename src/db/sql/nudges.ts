import { createHash } from "node:crypto";
import { quoteIdentifier } from "../../config/fields/identifiers.js";
import type { ResolvedTable } from "../../model/index.js";

/** Every nudge channel's name starts with this; the rest names the binding (see nudgeChannel). */
export const NUDGE_CHANNEL_PREFIX = "call_reconciler_nudges_";

/**
 * The NOTIFY channel of the daemons of one binding: RECONCILER_SCHEMA and the calls table it serves (as the
 * database resolves CALLS_TABLE), so that two deployments on different tables of one database never hear
 * each other's nudges, and the replicas of one always hear each other whatever spelling of the table each
 * was given. A digest rather than the names: a channel is an identifier of at most 63 bytes, and the two
 * names may take 63 each. `call_reconciler_nudges_` and 16 hex digits of SHA-256 of
 * `<RECONCILER_SCHEMA>\n<table's schema>.<table's name>`.
 */
export function nudgeChannel(daemonSchema: string, table: ResolvedTable): string {
  const digest = createHash("sha256").update(`${daemonSchema}\n${table.schema}.${table.name}`).digest("hex");
  return `${NUDGE_CHANNEL_PREFIX}${digest.slice(0, 16)}`;
}

/**
 * $1 channel, $2 payloads (text[]): one notification each, all in one statement, so in one transaction: every
 * part of a batch is delivered, in order, or none.
 */
export const PUBLISH_NUDGES_SQL =
  "SELECT pg_notify($1::text, p.payload) FROM unnest($2::text[]) WITH ORDINALITY AS p(payload, n) ORDER BY p.n";

/** LISTEN takes an identifier, not a parameter: the channel is validated and quoted. */
export const listenSql = (channel: string): string => `LISTEN ${quoteIdentifier(channel)}`;
