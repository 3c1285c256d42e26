export const MAIN_HELP = `call-reconciler: find and end "zombie" calls (rows stuck active after a lost webhook)

Usage: call-reconciler <command> [options]

Commands:
  run       the daemon: a reconcile pass every RECONCILE_INTERVAL_SECONDS
  audit     one pass, dry-run unless --apply; prints what it found
  migrate   create or update the daemon's own tables
  demo      zero-config demo on an embedded Postgres and the provider simulator

Options:
  -h, --help      show help (also: call-reconciler <command> --help)
  -v, --version   print the version

Configuration is read from the environment (DATABASE_URL, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, ...);
see the README for the full table. Exit code 2 means bad usage or configuration.`;

export const COMMAND_HELP: Record<string, string> = {
  run: `Usage: call-reconciler run

Runs a reconcile pass every RECONCILE_INTERVAL_SECONDS (default 60) until SIGTERM or SIGINT. A pass that
fails (database down, provider outage) is logged and retried on the next interval. On a signal the daemon
stops taking new calls, lets ends already in flight commit or roll back, closes its pool and exits 0.
DRY_RUN=true finds zombies without ending them. Logs are JSON lines on stderr.`,
  audit: `Usage: call-reconciler audit [--apply] [--json]

Runs one pass and prints every zombie and every call that could not be verified, with the providers'
answers, the decision and the end time it would write. Nothing is written unless --apply is given.

Options:
  --apply   end the confirmed zombies (conditional update + audit row per call)
  --json    print the report as JSON on stdout instead of a table

Exit codes (the first that applies):
  2  bad usage or configuration, or the database could not be used
  1  zombies found and left as they are (dry run, or a write failed)
  3  some calls could not be verified
  0  otherwise: no zombies, or all of them ended with --apply`,
  migrate: `Usage: call-reconciler migrate [--with-calls-table]

Creates or updates the daemon's own table call_reconciler_actions (the audit trail). It never alters the
app's calls table.

Options:
  --with-calls-table   also create the default calls table (CALLS_TABLE and CALLS_COL_* names) if it
                       does not exist, for a new install or a trial`,
  demo: `Usage: call-reconciler demo

Zero configuration: starts an embedded PostgreSQL and the built-in Twilio simulator, seeds about 50 calls
of mixed kinds (live, zombies with a true end time, busy/no-answer without one, unknown SIDs, ancient rows),
runs an audit (dry run), then audit --apply, prints both and the zombie count before and after, and stops.`,
};
