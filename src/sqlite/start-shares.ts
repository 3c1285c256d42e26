/**
 * Per Twilio account, the active rows Twilio is asked about and the start times that cut them into equal
 * shares (see CallStore.activeStartShares): read in start order and cut here, SQLite having no percentile.
 */
import type { StartShares } from "../model/index.js";
import type { Connection } from "./file.js";
import { type ListingContext, rawText } from "./listing.js";

export function startShares(
  db: Connection,
  ctx: ListingContext,
  parts: number,
): Map<string | null, StartShares> {
  const shares = new Map<string | null, StartShares>();
  if (!Number.isInteger(parts) || parts < 2 || ctx.sql.twilioStarts === null) return shares;
  const rows = db.prepare(ctx.sql.twilioStarts).all(ctx.active) as Array<{
    account: string | null;
    started_at: string | number | null;
  }>;
  const byAccount = new Map<string | null, Array<string | null>>();
  for (const r of rows) {
    const starts = byAccount.get(r.account) ?? [];
    starts.push(rawText(r.started_at));
    byAccount.set(r.account, starts);
  }
  for (const [account, starts] of byAccount) {
    // As percentile_disc: the first start at or past each fraction of the rows.
    const cuts = Array.from({ length: parts - 1 }, (_, i) => {
      const at = Math.max(0, Math.ceil(((i + 1) / parts) * starts.length) - 1);
      return ctx.shape.started.parse(starts[at] ?? null);
    }).filter((c) => !Number.isNaN(c.getTime()));
    shares.set(account, { rows: starts.length, cuts });
  }
  return shares;
}
