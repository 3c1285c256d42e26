/** What the demo scenarios do alike: an embedded PostgreSQL (not --sqlite's), and the audit, the --apply and the audit again. */
import type { Config } from "../config/config.js";
import { ConfigError } from "../config/config.js";
import {
  EMBEDDED_NOT_INSTALLED_MESSAGE,
  type EmbeddedPostgres,
  startEmbeddedPostgres,
} from "../dev/embedded.js";
import type { Logger } from "../log.js";
import type { PassResult } from "../reconcile/pass-result.js";
import { runAudit } from "./audit.js";

export type Say = (line?: string) => void;

export async function startDemoDatabase(say: Say): Promise<EmbeddedPostgres> {
  say("starting an embedded PostgreSQL ...");
  return startEmbeddedPostgres().catch((err: unknown) => {
    // A production install omits the optional embedded server: that is a setup problem, not a crash.
    if (err instanceof Error && err.message === EMBEDDED_NOT_INSTALLED_MESSAGE)
      throw new ConfigError(`${err.message}; demo --sqlite needs none`);
    throw err;
  });
}

/** The URL to print: the password masked. */
export const shownUrl = (url: string): string => url.replace(/:[^:@/]*@/, ":***@");

export interface AuditSteps {
  applied: PassResult;
  /** Zombies the audit after --apply still found. */
  zombiesLeft: number;
}

/** `audit` (dry run), `audit --apply`, then `audit` again, each printed as a user would see it. */
export async function auditSteps(
  config: Config,
  logger: Logger,
  out: NodeJS.WritableStream,
  say: Say,
  /** Printed right after --apply's own output. */
  afterApply: (applied: PassResult) => void = () => {},
): Promise<AuditSteps> {
  say("\n$ call-reconciler audit            # dry run: nothing is written");
  const dry = await runAudit(config, logger, { apply: false, json: false, out });
  say(`(exit code ${dry.exitCode}: 1 = zombies found and left as they are)`);

  say("\n$ call-reconciler audit --apply");
  const applied = await runAudit(config, logger, { apply: true, json: false, out });
  say(`(exit code ${applied.exitCode}: 3 = some calls could not be verified; they are left active)`);
  afterApply(applied.result);

  say("\n$ call-reconciler audit            # again: a level-triggered pass is idempotent");
  const again = await runAudit(config, logger, { apply: false, json: false, out });
  const z = again.result.zombies;
  return { applied: applied.result, zombiesLeft: z.twilio + z.openai + z.age_bound };
}
