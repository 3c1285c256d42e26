/**
 * `report`: why the zombies of a window lost their end, from the daemon's own tables (and one count of the
 * calls the app ended itself). Reads only; asks no provider.
 */
import type { Config } from "../config/config.js";
import { type CauseSummary, summarise } from "../diagnosis/summary.js";
import { callStory } from "./call-story.js";
import { openDatabase } from "./database.js";
import { EXIT, UsageError } from "./errors.js";
import { ID_WIDTH, terminalId, terminalText } from "./terminal-text.js";

const DAY_MS = 86_400_000;
const UNITS: Record<string, number> = { m: 60_000, h: 3600_000, d: DAY_MS };

/** `--since`: `7d`, `36h`, `90m`, or an ISO date or time. */
export function parseSince(value: string | undefined, now: Date): Date {
  if (value === undefined) return new Date(now.getTime() - 7 * DAY_MS);
  const relative = /^(\d+)([mhd])$/.exec(value.trim());
  if (relative)
    return new Date(now.getTime() - Number(relative[1]) * (UNITS[relative[2] as string] as number));
  const at = Date.parse(value);
  if (/^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(at)) return new Date(at);
  throw new UsageError(
    `report: --since ${JSON.stringify(value)} is not 7d, 36h, 90m or an ISO date (see --help)`,
  );
}

const pct = (x: number) => `${(x * 100).toFixed(x < 0.01 ? 2 : 1)} %`;
const span = (s: number) =>
  s < 120
    ? `${Math.round(s)} s`
    : s < 7200
      ? `${Math.round(s / 60)} min`
      : s < 172_800
        ? `${(s / 3600).toFixed(1)} h`
        : `${(s / 86_400).toFixed(1)} d`;
/** Causes are ours; directions and statuses are Twilio's or the app's words, shown escaped. */
const counts = (m: Record<string, number>) =>
  Object.entries(m)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, n]) => `${terminalText(k, ID_WIDTH)} ${n}`)
    .join(", ");

export function summaryText(s: CauseSummary): string {
  const lines = [`Zombies ended ${s.since} → ${s.until}: ${s.zombies}`];
  if (s.reverted > 0)
    lines.push(
      `reverted: ${s.reverted} (ended here, then undone with \`call-reconciler revert\`: not counted anywhere else)`,
    );
  if (s.zombies === 0) return [...lines, "No end was lost in this window."].join("\n");
  if (s.lostShare !== null)
    lines.push(
      `Ends lost: ${s.zombies} of ${s.zombies + s.endedByApp} calls that ended (${pct(s.lostShare)})`,
    );
  lines.push(`By cause: ${counts(s.byCause)}`);
  for (const g of s.byEndpoint)
    lines.push(`  ${g.cause.padEnd(24)} ${String(g.calls).padStart(5)}  ${terminalText(g.endpoint)}`);
  lines.push(
    `By direction: ${Object.entries(s.byDirection)
      .map(([d, st]) => `${terminalText(d, ID_WIDTH)} (${counts(st)})`)
      .join("; ")}`,
  );
  lines.push(`By day: ${counts(s.byDay)}`);
  if (s.lifetimeSeconds)
    lines.push(
      `Zombie for (end time written → ended here): median ${span(s.lifetimeSeconds.median)}, p95 ${span(s.lifetimeSeconds.p95)}, max ${span(s.lifetimeSeconds.max)}`,
    );
  // The daemon writes a status and an end time; a duration is only what the app derives from them.
  if (s.durations)
    lines.push(
      `End times corrected: ${s.durations.calls} calls lasted ${span(s.durations.trueSeconds)} in all; a cleanup stamping the time they were found would have recorded ${span(s.durations.ageBasedSeconds)}`,
    );
  if (s.boundEnds > 0)
    lines.push(
      `  ${s.boundEnds} of these end times are only bounds (OpenAI's absence or the age bound): those calls ended no later than the time written`,
    );
  // Each sentence names the endpoint Twilio's records gave.
  lines.push("", "Diagnosis:", ...s.diagnosis.map((d) => `- ${terminalText(d)}`));
  return lines.join("\n");
}

/**
 * Exit codes: 0 the report was printed; 1 `--call` names a call the daemon never ended; 2 bad usage or
 * configuration, or the database could not be used.
 */
export async function runCausesReport(
  config: Config,
  opts: { since?: string | undefined; call?: string | undefined; json: boolean; out: NodeJS.WritableStream },
): Promise<number> {
  const database = await openDatabase(config, { connections: 2 });
  const causes = database.causes();
  try {
    // Another table's causes and ends would be reported as this one's; reading binds nothing.
    await database.checkBinding({ bind: false });
    const now = new Date();
    if (opts.call !== undefined) {
      const row = await causes.of(opts.call);
      if (row === null) {
        opts.out.write(`call ${terminalId(opts.call)}: the daemon has not ended it (no cause recorded)\n`);
        return EXIT.zombiesLeft;
      }
      const actions = await causes.actionsOf(row.callId);
      opts.out.write(
        opts.json
          ? `${JSON.stringify({ call: row, actions }, null, 2)}\n`
          : `${callStory(row, actions).join("\n")}\n`,
      );
      return EXIT.ok;
    }
    const since = parseSince(opts.since, now);
    const zombies = await causes.since(since);
    const endedAll = await database.endedSince(since);
    // The daemon's own ends carry their true end time, which may be before the window: never below zero.
    // A reverted end is no longer in the calls table: nothing to subtract.
    const ownInWindow = zombies.filter((z) => !z.reverted && z.providerEndedAt >= since).length;
    const summary = summarise(zombies, {
      since,
      until: now,
      endedByApp: Math.max(0, endedAll - ownInWindow),
    });
    opts.out.write(opts.json ? `${JSON.stringify(summary, null, 2)}\n` : `${summaryText(summary)}\n`);
    return EXIT.ok;
  } finally {
    await database.close();
  }
}
