/**
 * Twilio's promises about its records of a call (Call Events): readable 15 minutes after the call ends, kept 30
 * days (Twilio's Call Events docs). A diagnosis asked sooner finds nothing; one asked later finds nothing ever.
 */
export const TWILIO_RECORDS_DELAY_MS = 15 * 60_000;
export const TWILIO_RECORDS_KEPT_MS = 30 * 24 * 3600_000;
