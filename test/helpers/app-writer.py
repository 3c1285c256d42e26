"""The app's writes to its call_history.db, as its Python code makes them, for the concurrency test.

For each call: insert the call (status 'active'), insert transcript rows, end the call (status 'completed',
its end time and duration); every operation on a connection of its own (sqlite3.connect's defaults: a 5 s
busy timeout, a deferred transaction, the file's journal mode as it is). Prints one JSON line: the errors the
writer met and the end each call got, so the test can check that none was lost or overwritten.

Usage: python3 app-writer.py <file> <calls> <id-prefix> <transcript-rows-per-call>
(each call's id is the prefix and its number in 10 digits: a 24-character `CA…` prefix makes Call SIDs)
"""
import json
import sqlite3
import sys
from contextlib import closing
from datetime import datetime, timezone


def utcnow_naive():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def operation(path, sql, params):
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(sql, params)
        conn.commit()


def main():
    path, calls, prefix, rows = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    errors, ended = [], {}
    for i in range(calls):
        call_id = f"{prefix}{i:010d}"
        try:
            started = utcnow_naive()
            operation(
                path,
                "INSERT INTO calls (call_id, call_type, caller_number, callee_number, started_at, status) "
                "VALUES (?, 'outbound', '+15005550006', '+15005550001', ?, 'active')",
                (call_id, started.isoformat()),
            )
            for k in range(rows):
                operation(
                    path,
                    "INSERT INTO transcripts (call_id, speaker, text, created_at) VALUES (?, ?, ?, ?)",
                    (call_id, "agent" if k % 2 == 0 else "caller", f"line {k}", utcnow_naive().isoformat()),
                )
            end = utcnow_naive()
            operation(
                path,
                "UPDATE calls SET status = 'completed', ended_at = ?, duration_seconds = ? WHERE call_id = ?",
                (end.isoformat(), (end - started).total_seconds(), call_id),
            )
            ended[call_id] = end.isoformat()
        except Exception as err:  # the test counts every error the app would have met
            errors.append(f"{call_id}: {err!r}")
    print(json.dumps({"errors": errors, "ended": ended}))


if __name__ == "__main__":
    main()
