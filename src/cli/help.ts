export const MAIN_HELP = `call-reconciler: find and end "zombie" calls (rows stuck active after a lost webhook)

Usage: call-reconciler <command> [options]

Commands:
  run       the daemon: a reconcile pass every RECONCILE_INTERVAL_SECONDS
  audit     one pass, dry-run unless --apply; prints what it found
  migrate   create or update the daemon's own tables
  doctor    check the setup (database, privileges, tables, index, clock, providers); writes nothing
  demo      zero-config demo on an embedded Postgres (--sqlite: on a SQLite file) and the provider simulators
  simulate  Twilio and OpenAI simulators mirroring your table's active rows: try audit without credentials
  report    why the ends were lost: zombies by cause, endpoint, direction and day, and the diagnosis
  revert    undo the ends of one run (or of one call), dry-run unless --apply; restored calls are held
  hold      protect one call: the daemon never ends it until it is released
  release   end a call's hold: the next pass judges it again
  events    events setup|teardown: the Twilio Event Streams sink that tells the daemon of call ends at once

Options:
  -h, --help      show help (also: call-reconciler <command> --help)
  -v, --version   print the version

Configuration is read from the environment (DATABASE_URL, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, ...);
docs/configuration.md lists every setting. DATABASE_URL is PostgreSQL's postgres://user:password@host/db, or
the app's SQLite file on this host: sqlite:///absolute/path/calls.db (docs/sqlite.md). Exit code 2 means bad
usage or configuration.`;

export const COMMAND_HELP: Record<string, string> = {
  run: `Usage: call-reconciler run

Runs a reconcile pass every RECONCILE_INTERVAL_SECONDS (default 60) until SIGTERM or SIGINT. A pass that
fails (database down, provider outage) is logged and retried on the next interval. On a signal the daemon
stops taking new calls, lets ends already in flight commit or roll back, closes its pool and exits 0.
DRY_RUN=true finds zombies without ending them. Logs are JSON lines on stderr.

With RECONCILE_TOKEN set, POST /reconcile on the metrics port (METRICS_HOST:METRICS_PORT) runs one pass now
on the leader, under the same lease, deadline and shutdown as the interval's passes, and answers its summary
as JSON; ?dry_run=true writes nothing. 401 without the bearer token, 409 while a pass runs (naming it), 503
on a stand-by (naming the leader).

With EVENTS_PORT set (and EVENTS_URL, TWILIO_AUTH_TOKEN), POST /twilio/events on that port is a Twilio Event
Streams sink: each signed call-end event queues its call for an immediate check on the leader (the same
Calls API request and decision as a pass, never an end on the event's word); the passes go on as the resync.
Create the sink with \`call-reconciler events setup\`; docs/event-streams.md.`,
  audit: `Usage: call-reconciler audit [--apply [--force] [--confirm-realtime-absences] [--confirm-age-bound]] [--json]

Runs one pass and prints every zombie and every call that could not be verified, with the providers'
answers, the decision and the end time it would write. Nothing is written unless --apply is given.
With --apply it takes the daemon's lease for the pass (and hands it back at the end): while a replica
of the daemon leads, it exits 2 naming the holder and when the lease expires, and writes nothing.

Options:
  --apply   end the confirmed zombies (conditional update + audit row per call)
  --force   with --apply: write without the lease, even beside a leading daemon (each end is still
            conditional); every audit row it writes is marked forced
  --confirm-realtime-absences
            with --apply: end the calls OpenAI says are gone even when that evidence looks suspect
            (no live session seen within OPENAI_LIVE_CONTROL_SECONDS, or more than OPENAI_MAX_END_SHARE
            of the realtime calls asked about would end): for a backlog the operator knows is real
  --confirm-age-bound
            with --apply: end the calls older than MAX_CALL_DURATION_SECONDS that no provider vouches
            for even when they are more than AGE_BOUND_MAX_END_SHARE of the active calls the pass saw
            (a wrong ACTIVE_STATUSES looks like that): for a backlog the operator knows is real
  --json    print the report as JSON on stdout instead of a table

Exit codes (the first that applies):
  2  bad usage or configuration, the database could not be used, or (--apply) another replica holds
     the lease
  1  zombies found and left as they are (dry run, or a write failed)
  3  some calls could not be verified
  0  otherwise: no zombies, or all of them ended with --apply`,
  report: `Usage: call-reconciler report [--since 7d] [--json] | report --call <call-id> [--json]

Why the zombies ended in a window lost their end, from the daemon's own tables (reads only, asks no
provider): the zombies by cause, by callback endpoint (scheme, host, path), by Twilio direction and status,
and by day; the share of the window's ends that were lost; how long zombies lived (end time written to
ended here); how long the calls lasted by the end times written against what a cleanup stamping the time
it found them would have recorded; then the diagnosis in sentences. Ends undone by revert are counted
apart (reverted). Only Twilio gives a call's end time: an end from OpenAI's absence or the age bound is the
latest the call can have ended, and is shown as such. A Twilio end's cause is read from Twilio's records of the call by later passes (readable 15
minutes after the call ends, kept 30 days): until then it shows as pending. Causes:
  callback_acknowledged   Twilio sent the final status callback and the app answered 2xx, yet the row stayed
                          active: the handler acknowledges the end without ending the call
  callback_failed         Twilio sent it and got a 4xx/5xx, a timeout or a connection error
  callback_not_requested  no final status callback was sent: no StatusCallback, or its events lack completed
  unknown                 the records are gone, never came, or could not be read
  age_bound, openai       ended on the age bound or on OpenAI's word: no Twilio record to ask

Options:
  --since <window>   7d (default), 36h, 90m, or an ISO date
  --call <call-id>   one call's story in order: what Twilio sent, when, what the app answered, what the
                     daemon saw and wrote
  --json             the same as JSON

Exit codes:
  0  the report was printed
  1  --call: the daemon never ended that call
  2  bad usage or configuration, or the database could not be used`,
  doctor: `Usage: call-reconciler doctor [--json]

Checks everything a pass relies on, before anything is written, and prints one line per check with what to
do about it: the configuration, that the database answers (and as which role), the host's clock against the
database's, the role's privileges (with the GRANTs that are missing), the calls table, its columns and types
and the daemon's tables (migrated, and the calls table their state belongs to), the status values that would be written (after STATUS_MAP) and whether
the column accepts them, the listing index, that some rows hold ACTIVE_STATUSES, the Twilio credentials
(one page of calls in progress for the account and for each subaccount the active rows name), the phone
numbers without a status callback (inbound calls to them never report their end), with EVENTS_URL set the
account's Event Streams (a sink posts to EVENTS_URL, is active and is subscribed to call ends; warnings only,
as the passes do the work without them) and the OpenAI key (one page of the model list). Reads only. On a SQLite file (DATABASE_URL=sqlite:…) the database lines are the
file's instead of a server's: its SQLite version, that it is on a local disk and that this user can read and
write it and its directory, its journal mode.

Options:
  --json   the checks as JSON: {"checks": [{"name", "state": "pass"|"warn"|"fail", "detail"}]}

Exit codes:
  0  every check passed
  1  some checks warn (the daemon runs, but look at them)
  2  some checks failed (run and audit would refuse to start), or bad usage or configuration`,
  migrate: `Usage: call-reconciler migrate [--with-calls-table]

Creates or updates the daemon's own tables in RECONCILER_SCHEMA (default public), creating that schema if
it is missing: call_reconciler_actions (the audit trail), call_reconciler_leases, call_reconciler_holds,
call_reconciler_sightings, call_reconciler_causes and call_reconciler_binding (the one calls table this
state belongs to, recorded by the first command that uses it), plus the call_reconciler_migrations ledger of
what was applied. A copy of the calls table needs a RECONCILER_SCHEMA of its own. Prints where it wrote. Run it as the owner of these
tables, once and after every upgrade; the daemon's runtime role needs only the GRANTs of the README's
"Database privileges" step. It never alters the app's calls table. On a SQLite file (DATABASE_URL=sqlite:…)
the same tables go into the app's file, beside its calls table (RECONCILER_SCHEMA is refused there), and
SQLITE_JOURNAL_MODE, when set, becomes the file's journal mode.

Options:
  --with-calls-table   when CALLS_TABLE does not exist, also create the default calls table (CALLS_TABLE and
                       CALLS_COL_* names) and the index its listing needs, for a new install or a trial.
                       When it exists, it never alters it (no column, no index): it checks it as doctor does,
                       naming every problem with its fix, and when no index serves the listing of active
                       calls prints the CREATE INDEX CONCURRENTLY statement to run yourself

Exit codes:
  0  done (an existing calls table is usable; warnings, such as the index to create, are printed)
  2  the existing calls table is not usable as configured (its problems are printed), or bad usage or
     configuration`,
  demo: `Usage: call-reconciler demo [--table default|text] [--sqlite]

Zero configuration: starts an embedded PostgreSQL and the built-in Twilio and OpenAI simulators, seeds about
50 calls of mixed kinds (live, zombies with a true end time, busy/no-answer without one, unknown SIDs, ancient
rows), runs an audit (dry run), then audit --apply, prints both and the zombie count before and after, and
stops. Exit code 0 when the rows end as the providers say, 1 otherwise.

Options:
  --table text   the same incident on the calls table a small Python app creates for itself (text ISO times,
                 one id column for both providers, a duration column, its own status words), mapped as it is
                 and never altered: migrate, doctor, the index doctor advises, then the audits; prints the rows
                 as the app reads them before and after
  --table default  the daemon's default table (the default)
  --sqlite       the app's table (--table text) in its own SQLite file, call_history.db in a temporary folder
                 (DATABASE_URL=sqlite:///…/call_history.db), removed at the end; no PostgreSQL is started`,
  simulate: `Usage: call-reconciler simulate [--live <share>] [--ended <share>] [--unknown <share>]
                                 [--twilio-port <port>] [--openai-port <port>] [--host <loopback>]

Starts the Twilio and OpenAI simulators on this machine only, serving one call for each active row of the
configured table (DATABASE_URL, CALLS_TABLE, CALLS_COL_*, ACTIVE_STATUSES): read once, in pages, on a
read-only session. Prints the variables that point call-reconciler at them (fake credentials only they
accept), then serves until SIGINT (Ctrl-C) or SIGTERM and exits 0. In another shell, with those variables,
audit goes down the provider path as it would against Twilio and OpenAI. Try it on a copy of your data:
audit --apply there writes real ends.

Each row's kind is drawn from a hash of its id, so every run gives a row the same kind:
  live      Twilio: in-progress; its realtime session (OpenAI id): live, until OPENAI_MAX_SESSION_SECONDS
  ended     Twilio: completed, talked 15 s to 30 min from started_at, ended before now; realtime: gone
  unknown   Twilio: 404, a SID it does not know; realtime: refused, as OpenAI refuses an ended session
A row's SID is served under the (sub)account of CALLS_COL_TWILIO_ACCOUNT when that column is set. Rows
without a SID or OpenAI id are not served; rows added later are unknown until simulate is restarted.

Options:
  --live <share>, --ended <share>, --unknown <share>
                         shares of the rows, 0 to 1, adding up to 1 (default 0.6, 0.3, 0.1; once one
                         is given, those not given are 0: --ended 1 makes every row ended)
  --twilio-port <port>   the Twilio simulator's port (default 0: any free one)
  --openai-port <port>   the OpenAI simulator's port (default 0: any free one)
  --host <address>       a loopback address to listen on (default 127.0.0.1; ::1); no other is accepted

Exit codes: 0 stopped by a signal; 2 bad usage or configuration, a port in use, or the table unreadable.`,
  revert: `Usage: call-reconciler revert (--run <run-id> | --call <call-id>) [--apply] [--json]

Undoes the daemon's ends: those of one run (its id is printed by audit --apply and stored in
call_reconciler_actions.run_id), or the last end of one call. Prints, per call, where it stands now, what
the run wrote, and what would be restored: the status before the end and ended_at NULL. Nothing is
written unless --apply is given. With --apply, a call is restored only while its status and ended_at are
still exactly what the end wrote (a conditional update, in batches; a row the app holds locked is
skipped); each restore appends an audit row (outcome reverted) and holds the call, so the daemon never
ends it again until call-reconciler release <call-id>. A call written since the run is left as it is.

Options:
  --run <run-id>    the run whose ends to undo
  --call <call-id>  the call whose last end to undo
  --apply           restore (and hold) the calls
  --json            print the report as JSON on stdout instead of a table

Exit codes (the first that applies):
  2  bad usage or configuration, the database could not be used, or a run id no audit row carries
     (a call id neither in the calls table nor in the audit rows)
  1  calls left that could be restored (dry run, or rows the app held locked)
  3  some calls cannot be restored: written since the run, or their row is gone
  0  otherwise: all restored, already reverted, or nothing to revert`,
  hold: `Usage: call-reconciler hold <call-id> [--reason <text>]

Holds one call of the calls table: no pass asks a provider about it or ends it, not even by the age
bound (MAX_CALL_DURATION_SECONDS); audit reports it as unverified (held). The hold is a row in the
daemon's table call_reconciler_holds; revert --apply holds every call it restores. Holding a held call
changes nothing.

Options:
  --reason <text>   why, kept with the hold

Exit codes: 0 held (now or before); 2 bad usage or configuration, or no such call.`,
  release: `Usage: call-reconciler release <call-id>

Ends the hold of one call (call-reconciler hold, or a revert): the next pass judges it again, and may
end it. The hold stays in call_reconciler_holds as history (released_at, released_by).

Exit codes: 0 released, or not held; 2 bad usage or configuration.`,
  events: `Usage: call-reconciler events setup [--url <url>] [--json]
       call-reconciler events teardown [--url <url>] [--json]

Twilio's Event Streams send a copy of each call's final status callback to the daemon's events endpoint, so
that it looks at that call at once instead of at the next pass. These commands make or remove what Twilio
needs for it on the account: a webhook sink that posts to the URL, and its subscription to call ends.
call-reconciler events setup --help and events teardown --help say what each does.`,
  "events setup": `Usage: call-reconciler events setup [--url <url>] [--json]

Makes sure the account (TWILIO_ACCOUNT_SID) has an Event Streams webhook sink that POSTs to the URL (--url,
else EVENTS_URL: the events endpoint's public URL, exactly as Twilio must post to it) and that it is
subscribed to com.twilio.voice.status-callback.call.completed, the status callback of every call's end. A sink
or subscription that exists is used as it is ("already"); only what is missing is created, marked
"call-reconciler" in its description, the subscription at the event type's newest schema version. Running it
twice creates nothing the second time. Prints one line per account: the sink, its status (Twilio subscribes
only an active sink) and the subscription. The URL must be https:// (http only to 127.0.0.1, localhost or
[::1], for a local test). Events come only for calls that ask for status callbacks: doctor names the
phone numbers that do not.

Options:
  --url <url>   the URL Twilio posts to (default: EVENTS_URL)
  --json        the same as JSON: {"url", "accounts": [{"account", "kind": "set_up"|"error", ...}]}

Exit codes:
  0  the sink exists, is active and is subscribed to call ends
  1  not done: the sink is not active yet, or Twilio failed (404, 429, 5xx, no answer); run it again
  2  bad usage or configuration: no URL, a URL refused, no Twilio credentials, or Twilio refused them (401, 403)`,
  "events teardown": `Usage: call-reconciler events teardown [--url <url>] [--json]

Removes what events setup made for the URL (--url, else EVENTS_URL): the subscriptions whose description
marks them as call-reconciler's, on any sink that posts to the URL, then call-reconciler's own sinks that post
to it. A sink or subscription someone else made is never removed, even at the same URL; a sink of
call-reconciler's that another's subscription still uses is kept. Running it twice removes nothing the second
time ("already").

Options:
  --url <url>   the URL the sink posts to (default: EVENTS_URL)
  --json        the same as JSON: {"url", "accounts": [{"account", "kind": "torn_down"|"error", ...}]}

Exit codes:
  0  nothing of call-reconciler's is left at the URL
  1  not done: Twilio failed (404, 429, 5xx, no answer); run it again
  2  bad usage or configuration: no URL, a URL refused, no Twilio credentials, or Twilio refused them (401, 403)`,
};
