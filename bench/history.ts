/**
 * `npm run bench -- --listing`: what a pass costs the app's database on a real-shaped calls table, mostly
 * history (ended calls) and a few thousand active ones, with the partial index the daemon recommends and
 * without it. Seeds once (INSERT … SELECT generate_series), then times, on the same table:
 *
 * - the listing alone: every page of one pass through PgCallStore.listActivePage (all of it database time);
 * - a dry-run pass (runPass as `audit` wires it) with no provider configured, so that what differs is the
 *   database's share: listing, holds, sightings;
 * - for reference, the listing as it was before (one keyset statement per page) on the table without index.
 */

import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { Writable } from "node:stream";
import type pg from "pg";
import { passDepsFor } from "../src/cli/runtime.js";
import { loadConfig } from "../src/config/config.js";
import { ActiveListing } from "../src/db/listing.js";
import { migrate } from "../src/db/migrate.js";
import { createPool } from "../src/db/pool.js";
import { buildPageStatements } from "../src/db/sql.js";
import { PgCallStore } from "../src/db/store.js";
import { countingListings } from "../src/dev/counting-pool.js";
import { createLogger } from "../src/log.js";
import { createMetrics } from "../src/metrics/metrics.js";
import type { ActivePage, PageCursor } from "../src/model/index.js";
import { rawProviders } from "../src/providers/guarded.js";
import { runPass } from "../src/reconcile/pass.js";
import { createDatabase } from "./dataset.js";

const CONFIG = loadConfig({ DRY_RUN: "true" });
const MAPPING = CONFIG.calls;
const RUNS = 3;

export interface ListingRow {
  variant: string;
  statements: number;
  listingMs: number[];
  passMs: number[];
  rows: number;
}

export interface ListingSummary {
  active: number;
  ended: number;
  seedMs: number;
  indexBuildMs: number;
  rows: ListingRow[];
}

/** Active rows started 1 to 3 hours ago; ended rows spread over the last year, with their end time. */
async function seed(pool: pg.Pool, active: number, ended: number): Promise<void> {
  await migrate(pool, { withCallsTable: true, mapping: MAPPING });
  await pool.query(
    `INSERT INTO calls (call_id, twilio_call_sid, status, started_at, ended_at)
     SELECT 'ended-' || i, 'CA' || lpad(to_hex(i), 32, '0'), 'completed',
            now() - make_interval(secs => 3 * 3600 + (i::bigint * 7919) % (365 * 86400)),
            now() - make_interval(secs => (i::bigint * 7919) % (365 * 86400))
     FROM generate_series(1, $1::int) AS i`,
    [ended],
  );
  await pool.query(
    `INSERT INTO calls (call_id, twilio_call_sid, status, started_at)
     SELECT 'active-' || i, 'CA' || lpad(to_hex($2::int + i), 32, '0'), 'active',
            now() - make_interval(secs => 3600 + i % 7200)
     FROM generate_series(1, $1::int) AS i`,
    [active, ended],
  );
  await pool.query("VACUUM ANALYZE calls");
}

async function timeListing(list: (c: PageCursor | null) => Promise<ActivePage>): Promise<[number, number]> {
  const t0 = performance.now();
  let rows = 0;
  let cursor: PageCursor | null = null;
  do {
    const page = await list(cursor);
    rows += page.rows.length;
    cursor = page.next;
  } while (cursor !== null);
  return [performance.now() - t0, rows];
}

async function measure(url: string, variant: string, before: boolean): Promise<ListingRow> {
  const pool = createPool(url);
  const counted = countingListings(pool);
  const logger = createLogger("silent", new Writable({ write: (_c, _e, done) => done() }));
  const row: ListingRow = { variant, statements: 0, listingMs: [], passMs: [], rows: 0 };
  const cutoff = new Date(Date.now() - CONFIG.minCallAgeSeconds * 1000);
  try {
    for (let i = 0; i < RUNS; i++) {
      const store = new PgCallStore(counted.pool, MAPPING, CONFIG.activeStatuses);
      // Before: one keyset statement per page, as if an index served the listing.
      const old = new ActiveListing({
        pool: counted.pool,
        statements: async () => ({
          sql: buildPageStatements(MAPPING, { oneActiveStatus: true }),
          startedZone: [],
        }),
        activeParam: "active",
        checkIndex: async () => ({ usable: true, index: null, statement: "" }),
      });
      const start = counted.listings();
      const [ms, rows] = await timeListing((c) =>
        before ? old.page(c, cutoff, CONFIG.dbPageSize) : store.listActivePage(c, cutoff, CONFIG.dbPageSize),
      );
      row.listingMs.push(ms);
      row.statements = counted.listings() - start;
      row.rows = rows;
      if (before) continue;
      const deps = passDepsFor(CONFIG, {
        store,
        metrics: createMetrics(),
        logger,
        raw: rawProviders(CONFIG),
      });
      const t0 = performance.now();
      await runPass(deps, { runId: randomUUID(), dryRun: true });
      row.passMs.push(performance.now() - t0);
    }
  } finally {
    await pool.end();
  }
  return row;
}

export async function runListingBench(
  adminUrl: string,
  active: number,
  historyFactor: number,
  log: (line: string) => void,
): Promise<ListingSummary> {
  const db = await createDatabase(adminUrl, "listing");
  const ended = active * historyFactor;
  try {
    let t0 = performance.now();
    await seed(db.pool, active, ended);
    const seedMs = performance.now() - t0;
    log(`listing: seeded ${active} active + ${ended} ended rows in ${Math.round(seedMs)} ms`);
    const rows: ListingRow[] = [];
    rows.push(await measure(db.url, "partial index (started_at, call_id) WHERE status = 'active'", false));
    await db.pool.query("DROP INDEX calls_active_idx");
    rows.push(await measure(db.url, "no index: one scan per 50,000-row window (now)", false));
    rows.push(await measure(db.url, "no index: one scan per 500-row page (before)", true));
    t0 = performance.now();
    await db.pool.query(
      "CREATE INDEX CONCURRENTLY calls_active_idx ON calls (started_at, call_id) WHERE status = 'active'",
    );
    const indexBuildMs = performance.now() - t0;
    for (const r of rows) log(`listing: ${r.variant}: ${r.listingMs.map(Math.round).join(", ")} ms`);
    return { active, ended, seedMs, indexBuildMs, rows };
  } finally {
    await db.drop();
  }
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? null;
};
const secs = (ms: number | null) => (ms === null ? "-" : `${(ms / 1000).toFixed(2)} s`);

export function renderListing(s: ListingSummary): string {
  const withIndex = s.rows[0];
  const ratio = (r: ListingRow, pick: (x: ListingRow) => number[]) => {
    const a = median(pick(r));
    const b = withIndex ? median(pick(withIndex)) : null;
    return a === null || b === null || b === 0 ? "-" : `${(a / b).toFixed(2)}×`;
  };
  const header = ["listing", "statements", "listing DB time", "vs index", "dry-run pass", "vs index"];
  const lines = s.rows.map((r) => [
    r.variant,
    String(r.statements),
    secs(median(r.listingMs)),
    ratio(r, (x) => x.listingMs),
    secs(median(r.passMs)),
    ratio(r, (x) => x.passMs),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? "").length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [
    `Listing on ${s.active.toLocaleString("en-US")} active + ${s.ended.toLocaleString("en-US")} ended rows ` +
      `(seeded in ${secs(s.seedMs)}; CREATE INDEX CONCURRENTLY took ${secs(s.indexBuildMs)}); medians of ${RUNS} runs:`,
    "",
    fmt(header),
    fmt(widths.map((w) => "-".repeat(w))),
    ...lines.map(fmt),
    "",
    "listing DB time: every page of one pass through the store (index check included), all of it waiting on PostgreSQL.",
    "dry-run pass: runPass as `audit` wires it, no provider configured (every row unverified), so the difference is the database's.",
  ].join("\n");
}
