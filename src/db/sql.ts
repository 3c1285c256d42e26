/**
 * Every SQL statement of the daemon, kept together by statement family under sql/ (the way graphile-worker
 * keeps its SQL), one file per family; this module re-exports them all. Built from the (validated, quoted)
 * table mapping; values are always parameters, only identifiers are spliced in, and only after quoting.
 */
import type { CallsTableMapping } from "../config/config.js";
import { buildEndStatements, type ColumnTypes } from "./sql/ends.js";
import { buildPageStatements, type PageStatements } from "./sql/pages.js";

export * from "./sql/ends.js";
export * from "./sql/lease.js";
export * from "./sql/listing-index.js";
export * from "./sql/migrations.js";
export * from "./sql/pages.js";
export * from "./sql/schema.js";
export * from "./sql/sightings.js";
export * from "./sql/tables.js";

export interface Statements extends PageStatements {
  /** The batched end once the id and status column types are known (see `buildEndStatements`). */
  endCalls(types: ColumnTypes): string;
}

export function buildStatements(m: CallsTableMapping, opts: { oneActiveStatus?: boolean } = {}): Statements {
  return { ...buildPageStatements(m, opts), endCalls: (types) => buildEndStatements(m, types).endCalls };
}
export * from "./sql/causes.js";
export * from "./sql/shares.js";
export * from "./sql/time-values.js";
