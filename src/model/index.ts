/** The domain, a leaf: imports nothing of the project outside this folder. */
export * from "./call.js";
export * from "./call-ids.js";
export * from "./call-sid-page.js";
export * from "./cause-row.js";
export * from "./database.js";
export * from "./evidence.js";
export * from "./nudge.js";
export * from "./outcomes.js";
export * from "./ports.js";
export * from "./twilio-records.js";
export * from "./verdict.js";
export * from "./zombie-record.js";
