import { z } from "zod";
import {
  httpUrl,
  optionalPositiveInt,
  optionalSecret,
  positiveInt,
  positiveNumber,
} from "../fields/env-fields.js";
import { inGroup, readElsewhere } from "./setting.js";

export const TWILIO_SETTINGS = inGroup("twilio", {
  TWILIO_ACCOUNT_SID: {
    about:
      "the Twilio account (`AC` + 32 hex digits), with `TWILIO_AUTH_TOKEN` or with `TWILIO_API_KEY` + `TWILIO_API_SECRET`. Unset: Twilio is skipped and its rows stay unverified. With subaccounts, the parent's",
    field: optionalSecret.refine((v) => v === undefined || /^AC[0-9a-fA-F]{32}$/.test(v), {
      error: "must look like AC followed by 32 hex digits",
    }),
  },
  TWILIO_AUTH_TOKEN: { about: "the account's Auth Token. Never logged", field: optionalSecret },
  TWILIO_API_KEY: {
    about: "an API Key SID (`SK` + 32 hex digits), instead of the Auth Token, with `TWILIO_API_SECRET`",
    field: optionalSecret.refine((v) => v === undefined || /^SK[0-9a-fA-F]{32}$/.test(v), {
      error: "must look like SK followed by 32 hex digits",
    }),
  },
  TWILIO_API_SECRET: { about: "the API Key's secret. Never logged", field: optionalSecret },
  TWILIO_API_BASE_URL: {
    about:
      "Twilio's REST API, or a simulator's. Never carries a credential. `TWILIO_REGION` / `TWILIO_EDGE` apply to a `*.twilio.com` base URL only; any other host (a simulator, a proxy) is used exactly as given",
    field: httpUrl("https://api.twilio.com", "TWILIO_AUTH_TOKEN (or TWILIO_API_KEY + TWILIO_API_SECRET)"),
  },
  TWILIO_REGION: {
    about:
      "read by the Twilio SDK: with `TWILIO_EDGE`, Twilio's regional host `api.{edge}.{region}.twilio.com`",
    field: readElsewhere,
  },
  TWILIO_EDGE: { about: "read by the Twilio SDK: see `TWILIO_REGION`", field: readElsewhere },
  TWILIO_LOG_LEVEL: { about: "read by the Twilio SDK: its own log level", field: readElsewhere },
  TWILIO_MAX_RPS: {
    about:
      "requests per second **per account** (see [the policies](providers.md#talking-to-providers-politely-the-policies)), shared by list and fetch requests",
    field: positiveNumber(10, "requests per second"),
  },
  TWILIO_CONCURRENCY: { about: "requests in flight **per account**", field: positiveInt(4) },
  TWILIO_TOTAL_MAX_RPS: {
    about:
      "optional cap on requests per second over all Twilio accounts together, on top of the per-account one",
    field: optionalPositiveInt("requests per second", 20),
  },
  TWILIO_TOTAL_CONCURRENCY: {
    about:
      "optional cap on requests in flight over all Twilio accounts together, on top of the per-account one",
    field: optionalPositiveInt("requests in flight", 16),
  },
  TWILIO_STRATEGY: {
    about:
      "`per-call` (fetch every SID), `list-diff` (list the live calls once, fetch the others), or `auto` (list-diff for an account once the pass has met `TWILIO_LIST_DIFF_THRESHOLD` of its rows with a SID)",
    field: z
      .enum(["auto", "list-diff", "per-call"], { error: "must be auto, list-diff or per-call" })
      .default("auto"),
  },
  TWILIO_LIST_DIFF_THRESHOLD: {
    about: "with `auto`, the rows of one account a pass must meet before it lists that account's live calls",
    field: positiveInt(100, "calls"),
  },
});
