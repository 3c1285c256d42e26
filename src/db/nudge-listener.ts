/**
 * One LISTEN session on a client of its own: a pooled connection would be handed to other queries, and its
 * LISTEN would follow it, or be lost when the pool closes it. The session is opened again, with a backoff,
 * whenever it is lost (a restart, a failover, pg_terminate_backend); nothing it meets is thrown at the daemon.
 * Behind PgBouncer it needs session pooling: in transaction pooling a LISTEN stays on whichever server session
 * ran it, and this one would hear nothing.
 */
import { ExponentialBackoff, type IBackoffFactory } from "cockatiel";
import type pg from "pg";
import { errorMessage } from "../error-message.js";
import type { CallNudge } from "../model/index.js";
import { decodeNudges } from "./nudge-payload.js";
import { listenSql } from "./sql/nudges.js";

const RECONNECT_BACKOFF = new ExponentialBackoff({ initialDelay: 250, maxDelay: 30_000 });

export interface NudgeListenerDeps {
  channel: string;
  /** A new, unconnected client with the daemon's connection settings. */
  newClient(): pg.Client;
  onNudges(nudges: CallNudge[]): void;
  onTrouble?: ((err: Error) => void) | undefined;
  /** The waits before each new attempt after a loss; default from a quarter second up to 30 s. */
  backoff?: IBackoffFactory<unknown>;
}

export class NudgeListener {
  private client: pg.Client | null = null;
  private closed = false;
  /** Ends the backoff's wait early (close()). */
  private wake: (() => void) | null = null;
  private reopening: Promise<void> | null = null;

  constructor(private readonly deps: NudgeListenerDeps) {}

  /** Listening once this resolves; the first connection's failure is thrown. */
  async start(): Promise<void> {
    this.client = await this.open();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake?.();
    const client = this.client;
    this.client = null;
    await Promise.all([client?.end().catch(() => undefined), this.reopening]);
  }

  private async open(): Promise<pg.Client> {
    const client = this.deps.newClient();
    let listening = false;
    const lost = (err: Error) => {
      if (!listening) return;
      listening = false;
      void client.end().catch(() => undefined);
      if (this.client === client) this.client = null;
      if (this.closed) return;
      this.trouble("the nudge listener lost its connection; opening another", err);
      this.reopening = this.reopen();
    };
    // Without an 'error' listener a lost connection would be an unhandled 'error' event: a crash.
    client.on("error", lost);
    client.on("end", () => lost(new Error("the connection ended")));
    client.on("notification", (m) => {
      if (!this.closed && m.channel === this.deps.channel) this.deliver(m.payload);
    });
    try {
      await client.connect();
      await client.query(listenSql(this.deps.channel));
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      throw new Error("the nudge listener was closed");
    }
    listening = true;
    return client;
  }

  private async reopen(): Promise<void> {
    // Each loss starts over from the shortest wait: a connection that held since is no sign of trouble.
    let backoff = (this.deps.backoff ?? RECONNECT_BACKOFF).next(undefined);
    while (!this.closed) {
      await this.pause(backoff.duration);
      if (this.closed) return;
      try {
        this.client = await this.open();
        return;
      } catch (err) {
        if (this.closed) return;
        this.trouble("the nudge listener could not listen again; retrying", err);
        backoff = backoff.next(undefined);
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private deliver(payload: string | undefined): void {
    let nudges: CallNudge[];
    try {
      nudges = decodeNudges(payload ?? "");
    } catch (err) {
      this.trouble("a nudge message was ignored", err);
      return;
    }
    try {
      this.deps.onNudges(nudges);
    } catch (err) {
      this.trouble("the nudges' handler failed", err);
    }
  }

  private trouble(what: string, cause: unknown): void {
    try {
      this.deps.onTrouble?.(new Error(`${what}: ${errorMessage(cause)}`, { cause }));
    } catch {
      // A hook that throws must not take the listener down with it.
    }
  }
}
