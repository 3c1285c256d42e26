import type { IBackoff, IBackoffFactory, IRetryBackoffContext } from "cockatiel";

export interface RetryAfterFloor<R> {
  /** The Retry-After (ms) that the answer being retried carried, if any. */
  retryAfterMs?: ((result: R) => number | undefined) | undefined;
  /** Caps the hint, so that one server's Retry-After cannot park a retry for hours. */
  capMs?: number | undefined;
}

/**
 * Wraps a backoff so that each delay is at least the Retry-After of the answer being retried (cockatiel
 * hands the backoff that answer as `context.result`). The wrapped backoff still advances, so its jittered
 * exponent keeps growing underneath a run of hinted delays.
 */
export function atLeastRetryAfter<R>(
  base: IBackoffFactory<IRetryBackoffContext<unknown>>,
  floor: RetryAfterFloor<R>,
): IBackoffFactory<IRetryBackoffContext<unknown>> {
  return {
    next(context): IBackoff<IRetryBackoffContext<unknown>> {
      const step = base.next(context);
      return {
        duration: Math.max(step.duration, hintOf(context, floor)),
        next: atLeastRetryAfter(step, floor).next,
      };
    },
  };
}

function hintOf<R>(
  context: IRetryBackoffContext<unknown>,
  { retryAfterMs, capMs }: RetryAfterFloor<R>,
): number {
  // A thrown error carries no Retry-After; cockatiel types the answer `unknown`, the policy knows it is R.
  const hinted =
    retryAfterMs && "value" in context.result ? retryAfterMs(context.result.value as R) : undefined;
  if (hinted === undefined) return 0;
  const capped = capMs === undefined ? hinted : Math.min(hinted, capMs);
  return Number.isFinite(capped) && capped > 0 ? capped : 0;
}
