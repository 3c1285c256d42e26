import { DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_OPENAI_KEY, type ScenarioCall } from "./demo-scenario.js";
import { type OpenAISimulator, startOpenAISimulator } from "./openai-sim.js";
import { type SimTwilioOptions, startTwilioSimulator, type TwilioSimulator } from "./twilio-sim.js";

export interface DemoSimulators {
  twilio: TwilioSimulator;
  openai: OpenAISimulator;
  /** The provider settings that point the daemon at these simulators. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** Twilio simulator settings a caller may add; the account, credentials and calls come from the scenario. */
export type DemoTwilioOptions = Pick<SimTwilioOptions, "numbers" | "recordsAvailableAfterMs" | "now">;

/** Both provider simulators, holding a scenario's calls and realtime sessions (demo and tests). */
export async function startDemoSimulators(
  scenario: readonly ScenarioCall[],
  twilioOptions: DemoTwilioOptions = {},
): Promise<DemoSimulators> {
  const twilio = await startTwilioSimulator({
    ...twilioOptions,
    accountSid: DEMO_ACCOUNT_SID,
    authToken: DEMO_AUTH_TOKEN,
    calls: scenario.flatMap((c) => (c.twilio ? [c.twilio] : [])),
  });
  const openai = await startOpenAISimulator({
    apiKey: DEMO_OPENAI_KEY,
    sessions: scenario.flatMap((c) => (c.realtime ? [c.realtime] : [])),
  });
  return {
    twilio,
    openai,
    env: {
      TWILIO_ACCOUNT_SID: DEMO_ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: DEMO_AUTH_TOKEN,
      TWILIO_API_BASE_URL: twilio.url,
      // The simulator is on this machine: asked at 50 requests a second, not the 10 a real account's default
      // leaves, a demo pass takes one second instead of four.
      TWILIO_MAX_RPS: "50",
      OPENAI_API_KEY: DEMO_OPENAI_KEY,
      OPENAI_BASE_URL: openai.url,
    },
    close: async () => {
      await twilio.close();
      await openai.close();
    },
  };
}
