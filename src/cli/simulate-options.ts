import { isIPv4 } from "node:net";
import { MIRROR_KINDS, type MirrorShares } from "../sim/mirror.js";
import { UsageError } from "./errors.js";

export interface SimulateOptions {
  shares: MirrorShares;
  host: string;
  twilioPort: number;
  openaiPort: number;
}

export const DEFAULT_SHARES: MirrorShares = { live: 0.6, ended: 0.3, unknown: 0.1 };

/** Floating-point slack when the shares are summed (0.7 + 0.2 + 0.1 is not exactly 1). */
const SUM_TOLERANCE = 1e-9;

type Flags = Record<string, string | boolean | undefined>;
const text = (v: string | boolean | undefined): string | undefined => (typeof v === "string" ? v : undefined);

/**
 * The simulators answer with fake credentials that anyone can read off the terminal: they must never be
 * reachable from another machine, so only loopback addresses are accepted (no name: it could resolve elsewhere).
 */
export function isLoopback(host: string): boolean {
  return host === "::1" || (isIPv4(host) && host.startsWith("127."));
}

function share(flag: string, raw: string): number {
  const n = raw.trim() === "" ? Number.NaN : Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 1)
    throw new UsageError(`simulate: --${flag} must be a share between 0 and 1, e.g. 0.3 (got "${raw}")`);
  return n;
}

function port(flag: string, raw: string | undefined): number {
  if (raw === undefined) return 0;
  const n = /^\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n > 65_535)
    throw new UsageError(
      `simulate: --${flag} must be a port number 0-65535, 0 for any free one (got "${raw}")`,
    );
  return n;
}

/**
 * No share given: the defaults. Any given: those not given are 0, so `--ended 1` makes every row ended; the
 * shares must then add up to 1.
 */
export function simulateOptions(flags: Flags): SimulateOptions {
  const given = MIRROR_KINDS.filter((k) => text(flags[k]) !== undefined);
  const shares =
    given.length === 0
      ? { ...DEFAULT_SHARES }
      : (Object.fromEntries(
          MIRROR_KINDS.map((k) => {
            const raw = text(flags[k]);
            return [k, raw === undefined ? 0 : share(k, raw)];
          }),
        ) as MirrorShares);
  const sum = shares.live + shares.ended + shares.unknown;
  if (Math.abs(sum - 1) > SUM_TOLERANCE)
    throw new UsageError(
      `simulate: --live, --ended and --unknown must add up to 1 (got ${shares.live} + ${shares.ended} + ${shares.unknown} = ${Number(sum.toFixed(6))})`,
    );
  const host = text(flags.host) ?? "127.0.0.1";
  if (!isLoopback(host))
    throw new UsageError(
      `simulate: --host must be a loopback address (127.0.0.1 or ::1): the simulators accept printed fake credentials (got "${host}")`,
    );
  return {
    shares,
    host,
    twilioPort: port("twilio-port", text(flags["twilio-port"])),
    openaiPort: port("openai-port", text(flags["openai-port"])),
  };
}
