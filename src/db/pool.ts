import pg from "pg";

/**
 * How long the daemon's database links may take, and what its own sessions allow. The defaults are what
 * `run` and `audit` use; only the statement timeout is a setting (DB_STATEMENT_TIMEOUT_MS), the rest follow.
 */
export interface PoolOptions {
  max?: number;
  onError?: (err: Error) => void;
  /** Server side: a statement running longer is cancelled (57014). Default 30 s. */
  statementTimeoutMs?: number;
  /**
   * Client side: a query without an answer for this long is rejected and its connection dropped, even when
   * the link went silent (no RST) and the server can no longer cancel anything. Default: statement + 5 s.
   */
  queryTimeoutMs?: number;
  /** Server side: a lock wait longer than this fails with 55P03 (the store raises RowLockedError). Default 5 s. */
  lockTimeoutMs?: number;
  /**
   * Server side: a session of ours idle inside a transaction for this long is ended by the server, which
   * releases its row locks: a daemon that died or went silent mid-transaction holds nothing for long.
   * Default 30 s.
   */
  idleInTransactionTimeoutMs?: number;
  /** Opening a connection (TCP, TLS, start-up) or waiting for a free client. Default 10 s. */
  connectionTimeoutMs?: number;
  /** TCP keepalive probes start after this much silence, so a dead peer is noticed. Default 10 s. */
  keepAliveInitialDelayMs?: number;
  /**
   * Every transaction of these sessions is read-only, enforced by the server (`simulate` promises to write
   * nothing; a bug of ours then fails instead of writing).
   */
  readOnly?: boolean;
}

export const POOL_DEFAULTS = {
  statementTimeoutMs: 30_000,
  /** Added to the statement timeout for the client-side query timeout. */
  queryTimeoutMarginMs: 5_000,
  lockTimeoutMs: 5_000,
  idleInTransactionTimeoutMs: 30_000,
  connectionTimeoutMs: 10_000,
  keepAliveInitialDelayMs: 10_000,
} as const;

/**
 * A pool whose links cannot hang and whose sessions cannot hold locks for long (see PoolOptions). The
 * session settings are start-up parameters of each connection. Behind PgBouncer, which drops or refuses
 * start-up parameters it does not know, set them on the daemon's role instead
 * (`ALTER ROLE reconciler SET lock_timeout = '5s'`, and so on).
 *
 * Idle-client errors (the server restarting, a network cut) are reported instead of crashing the process:
 * pg emits them as 'error' events, which Node treats as fatal when unhandled.
 */
export function createPool(connectionString: string, opts: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    ...connectionSettings(connectionString, opts),
    max: opts.max ?? 4,
    idleTimeoutMillis: 30_000,
  });
  pool.on("error", (err) => opts.onError?.(err));
  return pool;
}

/**
 * What every connection of the daemon is opened with, pooled or not (a LISTEN session is a client of its
 * own): the links and session limits of PoolOptions, and the name operators see in pg_stat_activity.
 */
export function connectionSettings(connectionString: string, opts: PoolOptions = {}): pg.ClientConfig {
  const d = POOL_DEFAULTS;
  const statementTimeoutMs = opts.statementTimeoutMs ?? d.statementTimeoutMs;
  return {
    connectionString,
    application_name: "call-reconciler",
    connectionTimeoutMillis: opts.connectionTimeoutMs ?? d.connectionTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: opts.keepAliveInitialDelayMs ?? d.keepAliveInitialDelayMs,
    query_timeout: opts.queryTimeoutMs ?? statementTimeoutMs + d.queryTimeoutMarginMs,
    statement_timeout: statementTimeoutMs,
    lock_timeout: opts.lockTimeoutMs ?? d.lockTimeoutMs,
    idle_in_transaction_session_timeout: opts.idleInTransactionTimeoutMs ?? d.idleInTransactionTimeoutMs,
    ...(opts.readOnly === true ? { options: "-c default_transaction_read_only=on" } : {}),
  };
}

/**
 * Runs `fn` inside BEGIN/COMMIT on one client, rolling back on any error. While checked out, a client's
 * connection errors (the server going away mid-transaction) are no longer the pool's to handle: without a
 * listener of our own they would be an unhandled 'error' event and kill the process. The query in flight
 * rejects anyway, which is how the caller learns of it; the server rolls back the open transaction.
 *
 * An error without a SQLSTATE (a client-side query timeout, a reset) leaves the connection in an unknown
 * state: no ROLLBACK is sent down a link that may be silent, and the client is dropped rather than pooled;
 * the server rolls back when it sees the connection go (at the latest after idle_in_transaction_session_timeout).
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
    if (broken === undefined && !answeredByServer(err))
      broken = err instanceof Error ? err : new Error(String(err));
    if (broken === undefined) await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.off("error", onError);
    // A client whose connection broke must not go back into the pool.
    client.release(broken);
  }
}

/** The server answered with an error (a SQLSTATE): the connection is fine and can roll back. */
function answeredByServer(err: unknown): boolean {
  return err instanceof pg.DatabaseError;
}
