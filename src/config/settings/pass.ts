import { booleanFlag, positiveInt, positiveNumber } from "../fields/env-fields.js";
import { numberSetting } from "../fields/number-setting.js";
import { inGroup } from "./setting.js";

export const PASS_SETTINGS = inGroup("pass", {
  RECONCILE_INTERVAL_SECONDS: { about: "time between passes of `run`", field: positiveInt(60, "seconds") },
  MIN_CALL_AGE_SECONDS: {
    about: "younger rows are never touched: they may still get their webhook",
    field: numberSetting({ whole: true, min: 0, unit: "seconds", example: 120 }).default(120),
  },
  MAX_CALL_DURATION_SECONDS: {
    about:
      "the age bound: an unverified row older than this is ended as `timeout` at `started_at` + this (Twilio caps calls at 24 h)",
    field: positiveInt(86_400, "seconds"),
  },
  AGE_BOUND_MAX_END_SHARE: {
    about:
      'the age bound\'s blast radius: a pass that would end more than this share of the (≥ 10) active calls it saw on the age bound alone ends none of them on it (`age_bound_share` in the report, `ageBoundHeldBack` in the summary, exit 1, one warning with the reason, `call_reconciler_evidence_suspect{provider="age_bound"}` 1); `audit --apply --confirm-age-bound` ends such a backlog when the operator knows it is real',
    field: numberSetting({ above: 0, max: 1, example: 0.5 }).default(0.5),
  },
  PASS_DEADLINE_SECONDS: {
    about:
      "a pass (the daemon's, and `audit`'s: exit 3, \"pass interrupted\") stops taking rows at this age; no progress for this long plus one interval makes `/healthz` answer 503",
    field: positiveNumber(600, "seconds"),
  },
  DIAGNOSIS_REQUEST_SHARE: {
    about:
      "the share of a pass's Twilio budget (`TWILIO_MAX_RPS` × `RECONCILE_INTERVAL_SECONDS`) that may go to reading why earlier Twilio ends were lost; 0 turns the diagnosis off. A tenth: the diagnosis serves someone reading a report later, the ends protect billing and limits now (at the defaults, 60 requests a pass: 30–60 zombies diagnosed)",
    field: numberSetting({ min: 0, max: 1, example: 0.1 }).default(0.1),
  },
  DRY_RUN: { about: "`run` finds zombies without ending them", field: booleanFlag },
});
