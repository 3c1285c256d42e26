import { readFileSync } from "node:fs";
import { loadConfig } from "../config/config.js";
import { createLogger } from "../log.js";
import { callIdOf, eventsActionOf, isCommand, parse, TAKES_CALL_ID, text } from "./arguments.js";
import { EXIT, explainFatal, UsageError } from "./errors.js";
import { eventsUrl } from "./events-url.js";
import { COMMAND_HELP, MAIN_HELP } from "./help.js";
import { shutDownOnUnexpectedError } from "./last-resort.js";
import { terminalText } from "./terminal-text.js";

// Commands are imported when chosen: --help and config errors answer without loading the SDKs.

/** Where a command line reads its settings and writes its answer and its logs. */
export interface CommandLineIo {
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/**
 * Runs one command line to its exit code. Everything a user can get wrong (usage, config, schema, an
 * unreachable database) becomes one line on stderr; anything else is a bug and keeps its stack trace.
 * `run` and `simulate` also answer the process's signals, and `run` ends the process when it stops.
 */
export async function runCommandLine(argv: string[], io: CommandLineIo): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (err) {
    io.stderr.write(fatalText(err));
    return EXIT.badConfig;
  }
}

/** Messages quote what the command met (an id as typed, a database's error about a value): shown escaped. */
function fatalText(err: unknown): string {
  const explained = explainFatal(err);
  if (explained !== null) return `call-reconciler: ${terminalText(explained)}\n`;
  // A stack keeps its lines; only what is inside each line is escaped.
  const told = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return `call-reconciler: unexpected error: ${told
    .split("\n")
    .map((l) => terminalText(l))
    .join("\n")}\n`;
}

async function dispatch(argv: string[], io: CommandLineIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "-h" || command === "--help" || command === "help") {
    io.stdout.write(`${MAIN_HELP}\n`);
    return command === undefined ? EXIT.badConfig : EXIT.ok;
  }
  if (command === "-v" || command === "--version") {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    io.stdout.write(`${pkg.version}\n`);
    return EXIT.ok;
  }
  if (!isCommand(command)) throw new UsageError(`unknown command "${command}" (try --help)`);
  const { flags, positionals } = parse(command, rest);
  const eventsAction = command === "events" ? eventsActionOf(positionals, flags.help === true) : null;
  if (flags.help) {
    const help = eventsAction === null ? COMMAND_HELP[command] : COMMAND_HELP[`events ${eventsAction}`];
    io.stdout.write(`${help}\n`);
    return EXIT.ok;
  }
  if (command === "demo") {
    const sqlite = flags.sqlite === true;
    const table = text(flags.table) ?? (sqlite ? "text" : "default");
    if (table !== "default" && table !== "text")
      throw new UsageError(
        `demo: --table takes default or text, not ${JSON.stringify(table)} (the app's SQLite file: demo --sqlite)`,
      );
    if (sqlite && table !== "text")
      throw new UsageError(
        "demo: --sqlite keeps the app's own table (--table text) in its SQLite file, not --table default",
      );
    if (sqlite) return (await import("./demo-app-sqlite.js")).runSqliteAppDemo({ out: io.stdout });
    if (table === "text")
      return (await import("./demo-app-postgres.js")).runPostgresAppDemo({ out: io.stdout });
    return (await import("./demo.js")).runDemo({ out: io.stdout });
  }
  const callId = TAKES_CALL_ID.has(command) ? callIdOf(command, positionals) : "";
  if (command === "simulate") {
    // Bad flags answer before the configuration and the database are looked at.
    const options = (await import("./simulate-options.js")).simulateOptions(flags);
    const config = loadConfig(io.env);
    const stop = new AbortController();
    for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => stop.abort());
    return (await import("./simulate.js")).runSimulate(config, createLogger(config.logLevel, io.stderr), {
      ...options,
      out: io.stdout,
      signal: stop.signal,
    });
  }

  const config = loadConfig(io.env);
  // A one-shot command answers on stdout, and info lines on stderr would bury the answer: it logs warnings
  // and errors only, unless LOG_LEVEL asks for more. The daemon's default stays info (a summary a pass).
  const logLevel = command === "run" || io.env.LOG_LEVEL !== undefined ? config.logLevel : "warn";
  const logger = createLogger(logLevel, io.stderr);
  switch (command) {
    case "migrate":
      return (await import("./migrate.js")).runMigrate(config, logger, {
        withCallsTable: flags["with-calls-table"] === true,
        out: io.stdout,
        err: io.stderr,
      });
    case "doctor":
      return (await import("./doctor.js")).runDoctor(config, logger, {
        json: flags.json === true,
        out: io.stdout,
        eventsUrl: config.events.url ?? undefined,
      });
    case "audit": {
      const { exitCode } = await (await import("./audit.js")).runAudit(config, logger, {
        apply: flags.apply === true,
        force: flags.force === true,
        confirmRealtimeAbsences: flags["confirm-realtime-absences"] === true,
        confirmAgeBound: flags["confirm-age-bound"] === true,
        json: flags.json === true,
        out: io.stdout,
        err: io.stderr,
      });
      return exitCode;
    }
    case "revert": {
      const { exitCode } = await (await import("./revert.js")).runRevert(config, logger, {
        run: text(flags.run),
        call: text(flags.call),
        apply: flags.apply === true,
        json: flags.json === true,
        out: io.stdout,
      });
      return exitCode;
    }
    case "report":
      return (await import("./causes-report.js")).runCausesReport(config, {
        since: text(flags.since),
        call: text(flags.call),
        json: flags.json === true,
        out: io.stdout,
      });
    case "events": {
      const { runEventsSetup, runEventsTeardown } = await import("./events.js");
      // EVENTS_URL as the configuration read it: a value it refuses is refused as for any command.
      const url = eventsUrl(`events ${eventsAction}`, text(flags.url), config.events.url ?? undefined);
      const opts = { url, json: flags.json === true, out: io.stdout };
      return (eventsAction === "setup" ? runEventsSetup : runEventsTeardown)(config, opts);
    }
    case "hold":
    case "release": {
      const { runHold, runRelease } = await import("./hold.js");
      const opts = { callId, reason: text(flags.reason), out: io.stdout };
      return (command === "hold" ? runHold : runRelease)(config, logger, opts);
    }
    case "run": {
      const stop = new AbortController();
      const onSignal = (signal: NodeJS.Signals) => {
        if (stop.signal.aborted) return;
        logger.info({ signal }, "signal received: finishing in-flight work");
        stop.abort();
        // The bound on a graceful stop: past it, exit anyway. An end still in flight dies with its
        // connection, and Postgres rolls its transaction back: never half-written.
        setTimeout(() => {
          logger.warn(
            { timeoutSeconds: config.shutdownTimeoutSeconds },
            "shutdown took too long; exiting now",
          );
          process.exit(EXIT.ok);
        }, config.shutdownTimeoutSeconds * 1000).unref();
      };
      process.once("SIGTERM", onSignal);
      process.once("SIGINT", onSignal);
      const unexpected = shutDownOnUnexpectedError(process, logger, () => stop.abort());
      await (await import("./run.js")).runDaemon(config, logger, { signal: stop.signal });
      // Everything that matters is closed (lease released, pool ended); a provider request abandoned at
      // shutdown may still hold a socket open, and must not hold the process until its own timeout.
      const code = unexpected.fired() ? EXIT.crashed : EXIT.ok;
      setImmediate(() => process.exit(code));
      return code;
    }
  }
}
