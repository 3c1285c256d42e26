/**
 * Twilio's date format, e.g. `Fri, 18 Oct 2019 17:03:00 +0000`. ECMA-262 pins `toUTCString()` to
 * `Www, DD Mmm YYYY HH:mm:ss GMT` (zero-padded day), so only the zone suffix needs rewriting.
 */
export function formatRfc2822(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new RangeError("formatRfc2822: invalid date");
  return d.toUTCString().replace(/ GMT$/, " +0000");
}
