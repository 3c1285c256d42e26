/** Bounded sets of outcomes, used as metric labels: each metric starts every value at 0. */

export const PASS_OUTCOMES = ["success", "partial", "failed"] as const;
export type PassOutcome = (typeof PASS_OUTCOMES)[number];

export const HANGUP_OUTCOMES = ["hung_up", "already_gone", "error"] as const;
export type HangupOutcome = (typeof HANGUP_OUTCOMES)[number];

export const NOTIFY_OUTCOMES = ["delivered", "failed", "dropped"] as const;
export type NotifyOutcome = (typeof NOTIFY_OUTCOMES)[number];
