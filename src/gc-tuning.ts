import { setFlagsFromString } from "node:v8";

/**
 * How far V8 lets the old generation grow past what survived its last full collection before it collects again:
 * 50 %, against V8's own factor of up to 4 for a fast collector. A pass allocates steadily (rows, answers, list
 * pages) while what it keeps stays flat (about 25 MB at 10,000 and at 100,000 rows, after a full collection), so
 * with V8's factor a long pass's peak grew with its length: the heap reached about four times the live size
 * before each full collection. Collected sooner, the peak follows what is kept. A full collection here takes a
 * few milliseconds; `npm run bench` shows no change in pass time. Not a cap: the heap grows as far as it must.
 */
export const HEAP_GROWING_PERCENT = 50;

/** V8 reads this factor at each full collection, so it takes effect when set at start-up, as here. */
export function tuneGarbageCollection(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
