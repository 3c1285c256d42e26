/**
 * A misspelt setting (`MIN_CALL_AGE_SECOND`) would otherwise be ignored and the daemon would run with the
 * default: any variable that looks like one of ours (by prefix) but is not a setting is refused, with the
 * closest setting's name.
 */

/** Prefixes of the daemon's settings: a variable starting with one is taken to be meant for us. */
export const SETTING_PREFIXES = [
  "CALLS_",
  "TWILIO_",
  "OPENAI_",
  "RECONCILE",
  "MIN_CALL",
  "MAX_CALL",
  "DB_",
  "DATABASE_UR",
  "NOTIFY_",
  "EVENTS_",
  "BREAKER_",
  "PROVIDER_",
  "LEADER_",
  "METRICS_",
  "ZOMBIES_",
  "STATUS_",
  "ACTIVE_",
  "HANGUP_",
  "PASS_",
  "SHUTDOWN_",
  "DRY_",
  "RECONCILER_",
] as const;

/**
 * Variables Kubernetes injects for every Service in the namespace (service links): a Service named `metrics`
 * or `db` brings METRICS_PORT=tcp://…, DB_SERVICE_HOST and the like. Those are not typos of ours.
 */
const SERVICE_LINK =
  /_SERVICE_HOST$|_SERVICE_PORT(_[A-Z0-9_]+)?$|_PORT_\d+_(TCP|UDP|SCTP)(_PROTO|_PORT|_ADDR)?$/;

/** Levenshtein distance, small strings only. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/**
 * The table or column most like `name`, for a one-line "did you mean": the same up to case first, else the
 * nearest within a few edits.
 */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const sameCase = candidates.find((c) => c.toLowerCase() === lower);
  if (sameCase !== undefined) return sameCase;
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(lower, c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

/** The known name closest to `name`, when close enough to be a typo of it. */
export function closest(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const k of known) {
    // A name cut short or run on (RECONCILE_INTERVAL for RECONCILE_INTERVAL_SECONDS) is as good as a typo.
    const truncated = name.length >= 8 && (k.startsWith(name) || name.startsWith(k));
    const d = truncated ? 1 : editDistance(name, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 4)) ? best : undefined;
}

/**
 * The first variable of `env` that looks like a setting of ours and is not one, as the one line to print;
 * null when there is none. RECONCILER_IGNORE_VARS (comma-separated) lets an environment shared with another
 * program (`envFrom` the app's ConfigMap) keep that program's TWILIO_* or DB_* variables.
 */
export function unknownVariableProblem(
  env: Readonly<Record<string, string | undefined>>,
  known: ReadonlySet<string>,
): string | null {
  const ignored = new Set(
    (env.RECONCILER_IGNORE_VARS ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== ""),
  );
  for (const name of Object.keys(env).sort()) {
    if (known.has(name) || ignored.has(name) || env[name] === undefined) continue;
    const upper = name.toUpperCase();
    const ours = SETTING_PREFIXES.some((p) => upper.startsWith(p));
    if (!ours || SERVICE_LINK.test(upper)) continue;
    const guess = closest(upper, known);
    const fix =
      guess !== undefined
        ? `did you mean ${guess}?`
        : "remove it, or list it in RECONCILER_IGNORE_VARS if another program reads it";
    return `${name} is not a setting of call-reconciler: ${fix} (a misspelt setting would leave its default in force)`;
  }
  return null;
}
