import type { ActiveCall } from "../model/index.js";
import { type MirrorKind, type MirrorShares, mirrorCall } from "./mirror.js";
import { type OpenAISimulator, startOpenAISimulator } from "./openai-sim.js";
import { startTwilioSimulator, type TwilioSimulator } from "./twilio-sim.js";

/** Credentials only these simulators accept: printed for anyone to copy, so never a real one's shape of secret. */
export const MIRROR_ACCOUNT_SID = `AC${"5".repeat(32)}`;
export const MIRROR_AUTH_TOKEN = "simulate-auth-token-not-a-secret";
export const MIRROR_OPENAI_KEY = "sk-simulate-key-not-a-secret";

export interface MirrorTally extends Record<MirrorKind, number> {
  /** Rows with neither a Twilio SID nor an OpenAI id: no provider is asked about them. */
  noProviderId: number;
  /** Distinct Twilio (sub)accounts named by the rows. */
  subaccounts: number;
}

export interface MirrorSimulators {
  twilio: TwilioSimulator;
  openai: OpenAISimulator;
  /** The settings that point call-reconciler at these simulators. */
  env: Record<string, string>;
  /** Serves one active row as its mirrored kind says. */
  add(call: ActiveCall): void;
  readonly tally: MirrorTally;
  close(): Promise<void>;
}

/** Both simulators, empty, on `host` (loopback: the caller checks) and the given ports (0: any free one). */
export async function startMirrorSimulators(opts: {
  shares: MirrorShares;
  host: string;
  twilioPort: number;
  openaiPort: number;
  now: Date;
  /** OPENAI_MAX_SESSION_SECONDS: no realtime session is served live past it. */
  openaiMaxSessionSeconds: number;
}): Promise<MirrorSimulators> {
  const twilio = await startTwilioSimulator(
    { accountSid: MIRROR_ACCOUNT_SID, authToken: MIRROR_AUTH_TOKEN },
    { host: opts.host, port: opts.twilioPort },
  );
  let openai: OpenAISimulator;
  try {
    openai = await startOpenAISimulator(
      { apiKey: MIRROR_OPENAI_KEY },
      { host: opts.host, port: opts.openaiPort },
    );
  } catch (err) {
    await twilio.close();
    throw err;
  }
  const tally: MirrorTally = { live: 0, ended: 0, unknown: 0, noProviderId: 0, subaccounts: 0 };
  const accounts = new Set<string>();
  return {
    twilio,
    openai,
    env: {
      TWILIO_API_BASE_URL: twilio.url,
      TWILIO_ACCOUNT_SID: MIRROR_ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: MIRROR_AUTH_TOKEN,
      OPENAI_BASE_URL: openai.url,
      OPENAI_API_KEY: MIRROR_OPENAI_KEY,
    },
    tally,
    add(call) {
      if (call.twilioSid === null && call.openaiId === null) {
        tally.noProviderId++;
        return;
      }
      const mirrored = mirrorCall(call, opts.shares, opts.now, opts.openaiMaxSessionSeconds);
      tally[mirrored.kind]++;
      if (call.twilioAccount !== null && !accounts.has(call.twilioAccount)) {
        // The daemon asks a row's own account with the parent's credentials, as Twilio allows for subaccounts.
        accounts.add(call.twilioAccount);
        twilio.addSubaccount(call.twilioAccount);
        tally.subaccounts = accounts.size;
      }
      if (mirrored.twilio !== null) twilio.upsertCall(mirrored.twilio);
      if (mirrored.realtime !== null) openai.upsertSession(mirrored.realtime);
    },
    close: async () => {
      await Promise.all([twilio.close(), openai.close()]);
    },
  };
}
