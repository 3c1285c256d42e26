import { z } from "zod";
import { numberSetting } from "../fields/number-setting.js";
import { urlSetting } from "../fields/url-setting.js";
import { inGroup } from "./setting.js";

export const EVENTS_SETTINGS = inGroup("events", {
  EVENTS_PORT: {
    about:
      "the port of the [Event Streams sink](event-streams.md) (`POST /twilio/events`), a listener of its own that faces Twilio. Unset: no sink, and calls are ended by the passes alone. Needs `EVENTS_URL` and `TWILIO_AUTH_TOKEN`",
    field: numberSetting({ whole: true, min: 0, max: 65_535, example: 9465 }).optional(),
  },
  EVENTS_HOST: {
    about: "the address the Event Streams sink listens on",
    field: z
      .string()
      .min(1, { error: "must be a host name or address to listen on, e.g. 0.0.0.0" })
      .default("0.0.0.0"),
  },
  EVENTS_URL: {
    about:
      "the public URL Twilio posts events to, exactly as the sink's destination says it (e.g. `https://reconciler.example.com/twilio/events`): signatures are checked against it, and `call-reconciler events setup` creates the sink with it",
    field: urlSetting("TWILIO_AUTH_TOKEN (Twilio signs each delivery with it)").optional(),
  },
});
