/**
 * `doctor`: every check a pass relies on, before anything is written, each with its fix in one line. Reads
 * only: one statement per check on the database; to Twilio one page of in-progress calls per account (the
 * configured one and the subaccounts the active rows name) and one page of phone numbers, with EVENTS_URL set
 * the account's Event Streams sinks and subscriptions; to OpenAI one page of the model list.
 */
import type { Config } from "../config/config.js";
import type { Logger } from "../log.js";
import { openDatabase } from "./database.js";
import { type Check, doctorExitCode, doctorReport, explainCheck } from "./doctor-check.js";
import { openaiCheck, twilioChecks } from "./doctor-providers.js";
import { storeChecks, subaccountsOf } from "./doctor-store.js";

export async function runDoctor(
  config: Config,
  _logger: Logger,
  opts: {
    json: boolean;
    out: NodeJS.WritableStream;
    twilioKeepAlive?: boolean;
    /** EVENTS_URL as set: the Event Streams lines check the sink that posts to it. */
    eventsUrl?: string | undefined;
  },
): Promise<number> {
  const checks: Check[] = [{ name: "configuration", state: "pass", detail: "every setting is valid" }];
  const database = await openDatabase(config);
  try {
    const { findings, tablesUsable } = await database.doctorChecks({
      scope: "database",
      explain: explainCheck,
    });
    checks.push(...findings);
    const failed = (name: string, err: unknown): Check => ({
      name,
      state: "fail",
      detail: explainCheck(err),
    });
    if (tablesUsable) checks.push(...(await storeChecks(config, database.store, failed)));
    const subaccounts = tablesUsable ? await subaccountsOf(config, database.store) : [];
    checks.push(...(await twilioChecks(config, subaccounts, opts.twilioKeepAlive ?? false, opts.eventsUrl)));
    checks.push(await openaiCheck(config));
  } finally {
    await database.close();
  }
  opts.out.write(opts.json ? `${JSON.stringify({ checks }, null, 2)}\n` : `${doctorReport(checks)}\n`);
  return doctorExitCode(checks);
}
