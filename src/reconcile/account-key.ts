/**
 * The Twilio account a row's call is asked under, as the pass keys it: null for the configured account
 * (TWILIO_ACCOUNT_SID), whether the row's account column is empty or names it. A table filled from webhooks'
 * AccountSid mixes both spellings; one key keeps that account one listing and one stop.
 */
export function rowAccount(account: string | null, configured: string | undefined): string | null {
  return account === configured ? null : account;
}
