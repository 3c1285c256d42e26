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

/**
 * Runs `fn` inside BEGIN/COMMIT on one client, rolling back on any error. While checked out, a client's
 * connection errors (the server going away mid-transaction) are no longer the pool's to handle: without a
 * listener of our own they would be an unhandled 'error' event and kill the process. The query in flight
 * rejects anyway, which is how the caller learns of it; the server rolls back the open transaction.
 */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken = err;
  };
  client.on("error", onError);
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    if (broken === undefined) await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.off("error", onError);
    // A client whose connection broke must not go back into the pool.
    client.release(broken);
  }
}
