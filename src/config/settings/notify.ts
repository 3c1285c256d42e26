import { optionalSecret } from "../fields/env-fields.js";
import { urlSetting } from "../fields/url-setting.js";
import { inGroup } from "./setting.js";

export const NOTIFY_SETTINGS = inGroup("notify", {
  NOTIFY_URL: {
    about:
      "receives an HTTP `POST` for every ended call (see [downstream notification](operations.md#downstream-notification-of-ended-calls)); carries no credential, logged as origin and path only",
    field: urlSetting("NOTIFY_SECRET (the receiver checks the signature)", { allowQuery: true }).optional(),
  },
  NOTIFY_SECRET: {
    about: "signs every notification (HMAC-SHA256); required with `NOTIFY_URL`. Never logged",
    field: optionalSecret,
  },
});
