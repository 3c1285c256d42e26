import type { Config } from "../config/config.js";
import { errorMessage } from "../error-message.js";
import type { Logger } from "../log.js";
import type { PageCursor } from "../model/index.js";
import { type MirrorSimulators, type MirrorTally, startMirrorSimulators } from "../sim/mirror-simulators.js";
import { openDatabase } from "./database.js";
import { EXIT, UsageError } from "./errors.js";
import type { SimulateOptions } from "./simulate-options.js";
import { isLoopback } from "./simulate-options.js";

/**
 * `simulate`: the Twilio and OpenAI simulators, serving calls that mirror the active rows of the configured
 * table, so that a dry run or an apply on a copy of real data goes down the provider path without credentials.
 * Reads the table once, in keyset pages, on a read-only session; then serves until `signal` is aborted.
 */
export async function runSimulate(
  config: Config,
  logger: Logger,
  opts: SimulateOptions & { out: NodeJS.WritableStream; signal: AbortSignal },
): Promise<number> {
  const database = await openDatabase(config, {
    connections: 1,
    readOnly: true,
    withoutHolds: true,
    onConnectionLost: (err) => logger.warn({ err: err.message }, "database connection lost"),
  });
  let sims: MirrorSimulators | undefined;
  try {
    const { store } = database;
    await database.verifyCallsTable();
    const now = await store.now();
    sims = await startMirrorSimulators({
      ...opts,
      now,
      openaiMaxSessionSeconds: config.openaiMaxSessionSeconds,
    }).catch((err: unknown) => {
      throw new UsageError(
        `simulate: cannot listen on ${opts.host} (--twilio-port ${opts.twilioPort}, --openai-port ${opts.openaiPort}): ${errorMessage(err)}`,
      );
    });
    for (const url of [sims.twilio.url, sims.openai.url]) {
      const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
      if (!isLoopback(host)) throw new UsageError(`simulate: bound to ${host}, which is not loopback`);
    }
    // Rows started after `now` are left out, as a pass started now would leave them.
    let cursor: PageCursor | null = null;
    do {
      const page = await store.listActivePage(cursor, now, config.dbPageSize);
      for (const row of page.rows) sims.add(row);
      cursor = page.next;
    } while (cursor !== null);
  } catch (err) {
    await sims?.close();
    throw err;
  } finally {
    await database.close();
  }
  printBanner(opts.out, sims, config, opts);
  if (!opts.signal.aborted)
    await new Promise<void>((resolve) =>
      opts.signal.addEventListener("abort", () => resolve(), { once: true }),
    );
  await sims.close();
  opts.out.write("# simulators stopped\n");
  return EXIT.ok;
}

function printBanner(
  out: NodeJS.WritableStream,
  sims: MirrorSimulators,
  config: Config,
  opts: SimulateOptions,
): void {
  const t: MirrorTally = sims.tally;
  const exports = Object.entries(sims.env)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  const pct = (n: number) => `${Math.round(n * 1000) / 10}%`;
  out.write(
    [
      `export ${exports}`,
      // A key pair in the shell would win over the account token, which is all the simulator accepts.
      "unset TWILIO_API_KEY TWILIO_API_SECRET",
      `# simulating ${t.live + t.ended + t.unknown} active rows of ${config.calls.table} (shares: live ${pct(opts.shares.live)}, ended ${pct(opts.shares.ended)}, unknown ${pct(opts.shares.unknown)})`,
      `#   live ${t.live}: Twilio in-progress, realtime session live`,
      `#   ended ${t.ended}: Twilio completed with an end time, realtime session gone`,
      `#   unknown ${t.unknown}: Twilio answers 404; OpenAI refuses the session, as it does an ended one`,
      ...(t.noProviderId > 0
        ? [`#   ${t.noProviderId} more rows have no Twilio SID or OpenAI id: no provider is asked`]
        : []),
      ...(t.subaccounts > 0
        ? [`#   ${t.subaccounts} Twilio (sub)accounts served under ${sims.env.TWILIO_ACCOUNT_SID}`]
        : []),
      "# Rows added after this start are unknown to the simulators: restart simulate to mirror them.",
      "# In another shell, with the same DATABASE_URL and CALLS_* settings, paste the two lines above, then:",
      "#   call-reconciler audit            (dry run)",
      "# Serving until Ctrl-C (SIGINT) or SIGTERM.",
      "",
    ].join("\n"),
  );
}
