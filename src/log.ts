import { type Logger, pino } from "pino";

export type { Logger };

/** Any field with these names is replaced before a line is written: secrets never reach the logs. */
export const REDACTED_PATHS = [
  "password",
  "authToken",
  "apiKey",
  "apiSecret",
  "databaseUrl",
  "zombiesToken",
  "reconcileToken",
  "*.password",
  "*.authToken",
  "*.apiKey",
  "*.apiSecret",
  "*.databaseUrl",
  "*.zombiesToken",
  "*.reconcileToken",
  "headers.authorization",
  "*.headers.authorization",
];

/** JSON lines on stderr, so that `audit --json` keeps stdout for its report. */
export function createLogger(level: string, destination: NodeJS.WritableStream = process.stderr): Logger {
  return pino(
    { name: "call-reconciler", level, redact: { paths: REDACTED_PATHS, censor: "[redacted]" } },
    destination as pino.DestinationStream,
  );
}
