import type pg from "pg";

/**
 * A pool that counts the listing statements it runs (the only statements with ORDER BY … LIMIT $3): how the
 * tests and the bench tell one scan per window from one scan per page.
 */
export function countingListings(pool: pg.Pool): { pool: pg.Pool; listings: () => number } {
  let n = 0;
  const proxy = new Proxy(pool, {
    get(target, prop, receiver) {
      if (prop !== "query") return Reflect.get(target, prop, receiver);
      return (...args: unknown[]) => {
        if (typeof args[0] === "string" && /ORDER BY[^;]*LIMIT \$3/.test(args[0])) n++;
        return (target.query as (...a: unknown[]) => unknown)(...args);
      };
    },
  });
  return { pool: proxy, listings: () => n };
}
