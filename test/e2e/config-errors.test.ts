/**
 * The operator's first hour: every mistake in the environment or in DATABASE_URL is one line on stderr naming
 * the variable and the fix, exit code 2, no stack trace, no password; `run` does not retry what waiting
 * cannot fix.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, runCli } from "../helpers/cli.js";
import { adminDatabaseUrl, type FreshDatabase, freshDatabase, urlForDatabase } from "../helpers/db.js";

const SECRET = "hunter2-secret";

/**
 * The one error line (log lines are JSON; pg's own warning about sslmode semantics is not ours; a one-shot
 * command without Twilio credentials says so first, in a plain warning line).
 */
function oneLine(r: CliResult): string {
  expect(r.code).toBe(2);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr).not.toContain("unexpected error");
  const lines = r.stderr
    .split("\n")
    .filter((l) => l.startsWith("call-reconciler:") && !l.startsWith("call-reconciler: warning:"));
  expect(lines).toHaveLength(1);
  return lines[0] ?? "";
}

function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.password = password;
  return u.toString();
}

describe("configuration mistakes: one line, exit 2", () => {
  let db: FreshDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
    const migrated = await runCli(["migrate", "--with-calls-table"], { DATABASE_URL: db.url });
    expect(migrated.code).toBe(0);
  });
  afterAll(async () => {
    await db.drop();
  });

  it.each([
    [
      { MIN_CALL_AGE_SECOND: "3600" },
      /^call-reconciler: MIN_CALL_AGE_SECOND is not a setting .*did you mean MIN_CALL_AGE_SECONDS\?/,
    ],
    [
      { RECONCILE_INTERVAL_SECONDS: "1m" },
      /^call-reconciler: RECONCILE_INTERVAL_SECONDS must be a whole number of seconds above 0, e\.g\. 60 \(got "1m"\)$/,
    ],
    [
      { NOTIFY_URL: `https://hook:${SECRET}@hooks.example.com/x`, NOTIFY_SECRET: "s" },
      /^call-reconciler: NOTIFY_URL must not contain a user or password .*NOTIFY_SECRET/,
    ],
    [
      { OPENAI_BASE_URL: `https://api.openai.com/v1?api_key=${SECRET}` },
      /^call-reconciler: OPENAI_BASE_URL must not have a \?query/,
    ],
    [
      { ZOMBIES_TOKEN: "short" },
      /^call-reconciler: ZOMBIES_TOKEN must be at least 32 characters; generate one with: openssl rand -hex 32$/,
    ],
    [{ CALLS_TABLE: 'telephony."PhoneCalls"' }, /so write telephony\.PhoneCalls without quotes/],
  ])("run with %j", async (env, message) => {
    const r = await runCli(["run"], { DATABASE_URL: db.url, ...(env as Record<string, string>) });
    const line = oneLine(r);
    expect(line).toMatch(message);
    expect(line).not.toContain(SECRET);
  });

  it("an unencoded # in the password of DATABASE_URL: names the fix, not the password", async () => {
    const url = db.url.replace(/:[^:@/]*@/, ":pa#ss@");
    const line = oneLine(await runCli(["audit"], { DATABASE_URL: url }));
    expect(line).toMatch(
      /^call-reconciler: DATABASE_URL is not a valid URL: percent-encode special characters .*# as %23/,
    );
    expect(line).not.toContain("pa#ss");
  });

  it("sslmode=require against a server without TLS: use sslmode=disable or enable TLS", async () => {
    for (const cmd of ["audit", "run"]) {
      const line = oneLine(await runCli([cmd], { DATABASE_URL: `${db.url}?sslmode=require` }));
      expect(line).toBe(
        "call-reconciler: DATABASE_URL: the server does not offer TLS, but the URL asks for it (sslmode): use sslmode=disable, or enable TLS on the server",
      );
    }
  });

  it("run stops at once on a wrong password, like audit, instead of retrying for ever", async () => {
    const url = withPassword(db.url, SECRET);
    for (const cmd of ["audit", "run"]) {
      const line = oneLine(await runCli([cmd], { DATABASE_URL: url }, 15_000));
      expect(line).toMatch(
        /^call-reconciler: DATABASE_URL: authentication failed .*check the user name and password/,
      );
      expect(line).not.toContain(SECRET);
    }
  });

  it("run stops at once on a database that does not exist", async () => {
    const url = urlForDatabase(adminDatabaseUrl(), "cr_no_such_database");
    const line = oneLine(await runCli(["run"], { DATABASE_URL: url }, 15_000));
    expect(line).toMatch(
      /^call-reconciler: DATABASE_URL: database "cr_no_such_database" does not exist: check the database name/,
    );
  });

  it("run stops at once when its role lacks a privilege", async () => {
    const role = `cr_noprivs_${db.name.slice(-6)}`;
    await db.pool.query(`CREATE ROLE ${role} LOGIN PASSWORD 'pw'`);
    try {
      const u = new URL(db.url);
      u.username = role;
      u.password = "pw";
      const line = oneLine(await runCli(["run"], { DATABASE_URL: u.toString() }, 15_000));
      // Named by the start-up privilege check, with the GRANT that gives it.
      expect(line).toMatch(new RegExp(`^call-reconciler: the database role ${role} lacks .*GRANT `));
    } finally {
      await db.pool.query(`DROP ROLE ${role}`);
    }
  });
});
