import type { Config } from "../config/config.js";
import { eventChecks } from "../daemon/event-checks.js";
import { acceptRelayed, eventIntake } from "../daemon/event-intake.js";
import { NudgeQueue } from "../daemon/nudge-queue.js";
import { listenForRelayed } from "../daemon/relay-listener.js";
import type { LoopState, TickDeps } from "../daemon/tick.js";
import { errorMessage } from "../error-message.js";
import { IGNORED_REASONS } from "../events/call-events.js";
import { EVENTS_PATH, type EventSink, SINK_REFUSALS, startEventSink } from "../events/sink-server.js";
import type { Logger } from "../log.js";
import type { Runtime } from "./runtime.js";

export interface EventsRunning {
  /** Where the sink listens (not the public URL). */
  url: string;
  /** Stops the sink and the checks, after the check in flight. */
  close(): Promise<void>;
}

/**
 * The Event Streams side of the daemon, when EVENTS_PORT is set: the sink facing Twilio, the relay of reported
 * calls between replicas, and the leader's checks of them. Null when no sink is configured.
 */
export async function startEvents(
  config: Config,
  runtime: Runtime,
  parts: { state: LoopState; tickDeps: TickDeps; logger: Logger; signal: AbortSignal },
): Promise<EventsRunning | null> {
  const sinkSettings = config.events.sink;
  if (sinkSettings === null) return null;
  const { metrics } = runtime;
  const { state, logger } = parts;
  // Closing stops the checks even when the daemon stops for another reason than its signal.
  const stop = new AbortController();
  const signal = AbortSignal.any([parts.signal, stop.signal]);
  const queue = new NudgeQueue();
  const relay = runtime.database.nudgeRelay();
  // Every replica listens; the one that leads queues what the others relay.
  const listening = relay === null ? null : listenForRelayed(relay, acceptRelayed(state, queue), logger);
  const checks = eventChecks(
    {
      tickDeps: parts.tickDeps,
      state,
      queue,
      record: runtime.recordFor,
      diagnoses: runtime.database.diagnoses,
      onCauseSettled: (cause) => metrics.zombieCauses.inc({ cause }),
    },
    signal,
  );
  let sink: EventSink;
  try {
    sink = await startEventSink({
      host: sinkSettings.host,
      port: sinkSettings.port,
      publicUrl: sinkSettings.url,
      authToken: sinkSettings.authToken,
      logger,
      observer: {
        received: (n) => {
          metrics.eventsReceived.inc(n);
          if (n > 0) metrics.lastEvent.set(Date.now() / 1000);
        },
        refused: (reason) => metrics.eventBatchesRefused.inc({ reason }),
        duplicate: (n) => metrics.eventsDuplicate.inc(n),
        ignored: (reason, n) => metrics.eventsIgnored.inc({ reason }, n),
        queued: (n) => metrics.eventsQueued.inc(n),
      },
      onNudges: eventIntake({ state, queue, relay, logger }),
    });
  } catch (err) {
    stop.abort();
    await checks;
    await listening?.close();
    throw err;
  }
  metrics.eventsSinkConfigured.set(1);
  // Every reason at 0 from the start, so that rate() and increase() see the first refusal.
  for (const reason of SINK_REFUSALS) metrics.eventBatchesRefused.inc({ reason }, 0);
  for (const reason of IGNORED_REASONS) metrics.eventsIgnored.inc({ reason }, 0);
  const publicPath = new URL(sinkSettings.url).pathname;
  if (publicPath !== EVENTS_PATH)
    logger.warn(
      { eventsUrlPath: publicPath, sinkPath: EVENTS_PATH },
      `EVENTS_URL's path is not ${EVENTS_PATH}, the sink's: the ingress must rewrite it, or every delivery is refused`,
    );
  return {
    url: sink.url,
    close: async () => {
      await sink.close();
      stop.abort();
      await checks;
      await listening
        ?.close()
        .catch((err: unknown) =>
          logger.warn({ err: errorMessage(err) }, "could not close the relay's connection"),
        );
    },
  };
}
