import pg from "pg";

export interface PoolOptions {
  max?: number;
  onError?: (err: Error) => void;
}

/**
 * A pool whose idle-client errors (the server restarting, a network cut) are reported instead of
 * crashing the process: pg emits them as 'error' events, which Node treats as fatal when unhandled.
 */
export function createPool(connectionString: string, opts: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max: opts.max ?? 4,
    application_name: "call-reconciler",
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    // A statement stuck behind a lock must not freeze a pass forever.
    statement_timeout: 30_000,
  });
  pool.on("error", (err) => opts.onError?.(err));
  return pool;
}
