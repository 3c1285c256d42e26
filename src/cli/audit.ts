import { randomUUID } from "node:crypto";
import type { Config } from "../config/config.js";
import type { Logger } from "../log.js";
import { type PassResult, runPass, totalUnverified, totalZombies } from "../reconcile/pass.js";
import { EXIT } from "./errors.js";
import { reportJson, reportTable } from "./report.js";
import { createRuntime } from "./runtime.js";

export interface AuditOptions {
  apply: boolean;
  json: boolean;
  out: NodeJS.WritableStream;
  twilioKeepAlive?: boolean;
}

/** The exit codes of DESIGN.md, first that applies: zombies left (1), then unverified calls (3). */
export function auditExitCode(r: PassResult): number {
  const zombiesLeft = r.dryRun ? totalZombies(r) : r.writeFailures + r.locked + r.refused;
  if (zombiesLeft > 0) return EXIT.zombiesLeft;
  if (totalUnverified(r) > 0) return EXIT.unverified;
  return EXIT.ok;
}

export async function runAudit(
  config: Config,
  logger: Logger,
  opts: AuditOptions,
): Promise<{ result: PassResult; exitCode: number }> {
  const runtime = createRuntime(config, logger, { twilioKeepAlive: opts.twilioKeepAlive ?? false });
  try {
    await runtime.store.verifySchema();
    const result = await runPass(runtime.passDeps, { runId: randomUUID(), dryRun: !opts.apply });
    opts.out.write(
      opts.json ? `${JSON.stringify(reportJson(result), null, 2)}\n` : `${reportTable(result)}\n`,
    );
    return { result, exitCode: auditExitCode(result) };
  } finally {
    await runtime.close();
  }
}
