import {
  booleanFlag,
  httpUrl,
  openaiProbeSetting,
  optionalSecret,
  positiveInt,
  positiveNumber,
  realtimeSurfaces,
} from "../fields/env-fields.js";
import { numberSetting } from "../fields/number-setting.js";
import { inGroup, readElsewhere } from "./setting.js";

export const OPENAI_SETTINGS = inGroup("openai", {
  OPENAI_API_KEY: {
    about:
      "enables the realtime probe (and hang-ups, if asked); use a key of the project that receives the SIP calls. Unset: realtime-only rows stay unverified. Never logged",
    field: optionalSecret,
  },
  OPENAI_BASE_URL: {
    about: "OpenAI's API, or a simulator's. Never carries a credential",
    field: httpUrl("https://api.openai.com/v1", "OPENAI_API_KEY"),
  },
  OPENAI_ORG_ID: { about: "read by the OpenAI SDK behind hang-ups: the organization", field: readElsewhere },
  OPENAI_PROJECT_ID: { about: "read by the OpenAI SDK behind hang-ups: the project", field: readElsewhere },
  OPENAI_LOG: { about: "read by the OpenAI SDK: its own log level", field: readElsewhere },
  OPENAI_MAX_RPS: { about: "requests per second to OpenAI", field: positiveNumber(5, "requests per second") },
  OPENAI_CONCURRENCY: { about: "requests in flight to OpenAI", field: positiveInt(4) },
  OPENAI_PROBE: {
    about:
      "`after-cap` probes only realtime-only rows older than the session cap (they cannot be live); `early` younger ones too (a second connection to calls that may be live); `off` never asks OpenAI about sessions. See [the OpenAI probe](providers.md#what-the-openai-probe-relies-on)",
    field: openaiProbeSetting,
  },
  OPENAI_SURFACES: {
    about:
      "the OpenAI runtime surfaces (`live`, `realtime`) a realtime call is asked on, in order; it is gone only when every one says so",
    field: realtimeSurfaces,
  },
  HANGUP_ORPHANED_REALTIME: {
    about: "hang up the realtime session of a call Twilio ended, so it stops billing",
    field: booleanFlag,
  },
  OPENAI_MAX_SESSION_SECONDS: {
    about:
      "OpenAI's cap on a realtime session: a realtime-only end is never later than `started_at` + this, and with `after-cap` only older rows are probed",
    field: positiveInt(3600, "seconds"),
  },
  OPENAI_LIVE_CONTROL_SECONDS: {
    about:
      "the positive control: OpenAI's absences of young calls are trusted only if a probe saw a live session this recently",
    field: positiveInt(3600, "seconds"),
  },
  OPENAI_MAX_END_SHARE: {
    about:
      "the blast radius: a pass that would end more than this share of the (≥ 10) realtime calls it asked about ends none of them",
    field: numberSetting({ above: 0, max: 1, example: 0.5 }).default(0.5),
  },
});
