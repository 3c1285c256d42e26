/** Daemons of the built CLI on the app's SQLite file against the Twilio simulator: their environment, the calls live there, their teardown. */
import type { AppCall } from "../../src/dev/app-table.js";
import type { TwilioSimulator } from "../../src/sim/twilio-sim.js";
import type { Replica } from "./replica.js";
import type { E2eFile } from "./sqlite-e2e.js";

/**
 * The file's settings, the simulator's account, no OpenAI and no diagnosis requests, info logs (the lines the
 * tests wait on), then `extra`.
 */
export const sqliteDaemonEnv = (
  f: E2eFile,
  twilio: TwilioSimulator,
  account: { accountSid: string; authToken: string },
  extra: Record<string, string>,
): Record<string, string> => ({
  ...f.env,
  TWILIO_ACCOUNT_SID: account.accountSid,
  TWILIO_AUTH_TOKEN: account.authToken,
  TWILIO_API_BASE_URL: twilio.url,
  DIAGNOSIS_REQUEST_SHARE: "0",
  OPENAI_PROBE: "off",
  LOG_LEVEL: "info",
  ...extra,
});

/** The app's call, still in progress at Twilio. */
export const liveAtTwilio = (twilio: TwilioSimulator, call: AppCall): void =>
  twilio.upsertCall({
    sid: call.callId,
    status: "in-progress",
    startTime: call.startedAt,
    endTime: null,
    duration: null,
  });

/** Kills every replica still running, then closes the simulator and removes the file. */
export async function stopAll(
  running: Replica[],
  twilio: TwilioSimulator | undefined,
  f: E2eFile | undefined,
) {
  for (const r of running) r.child.kill("SIGKILL");
  await Promise.allSettled(running.map((r) => r.done));
  await twilio?.close();
  f?.remove();
}
