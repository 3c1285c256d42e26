/**
 * Table and column names come from configuration and end up inside SQL text, where parameters cannot go.
 * They are therefore checked against a strict pattern and always double-quoted.
 */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

export function isValidIdentifier(name: string): boolean {
  return IDENTIFIER.test(name);
}

/** Accepts `name` or `schema.name`; returns the quoted form or throws with the offending part. */
export function quoteQualifiedIdentifier(name: string): string {
  const parts = name.split(".");
  if (parts.length > 2) throw new Error(`"${name}" has more than one dot`);
  return parts.map(quoteIdentifier).join(".");
}

export function quoteIdentifier(name: string): string {
  if (!isValidIdentifier(name)) {
    throw new Error(`"${name}" is not a plain SQL identifier (letters, digits, _ and $; at most 63)`);
  }
  return `"${name}"`;
}
