import type { EndSource } from "../model/index.js";
import type { PendingEnd } from "./check-page.js";

/** Below this many rows in a pass, a share says too little to hold anything back. */
const MIN_SEEN_FOR_SHARE = 10;

/** The blast-radius test both guards apply: `ends` of `seen` rows is more than `maxShare` of enough rows. */
export function exceedsShare(ends: number, seen: number, maxShare: number): boolean {
  return seen >= MIN_SEEN_FOR_SHARE && ends > maxShare * seen;
}

/** The ends of one source, set aside until the end of the pass, when a guard decides whether to write them. */
export class HeldEnds {
  private readonly held: PendingEnd[] = [];

  constructor(private readonly source: EndSource) {}

  /** Sets this source's ends aside; returns the others for the page's write. */
  takeAside(pending: readonly PendingEnd[]): PendingEnd[] {
    const rest: PendingEnd[] = [];
    for (const p of pending) (p.verdict.source === this.source ? this.held : rest).push(p);
    return rest;
  }

  get ends(): readonly PendingEnd[] {
    return this.held;
  }
}
