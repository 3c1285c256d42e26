import type { DecisionPolicy } from "../../src/model/index.js";

/** The decision policy the unit tables are written against: 2 min minimum age, 24 h bound, 1 min interval, 60 min sessions. */
export const TEST_POLICY: DecisionPolicy = {
  minCallAgeSeconds: 120,
  maxCallDurationSeconds: 86_400,
  absenceConfirmSeconds: 60,
  openaiMaxSessionSeconds: 3600,
};
