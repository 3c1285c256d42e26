import { describe, expect, it } from "vitest";
import { valuesAllowedByCheck } from "../../src/db/check-values.js";

const read = (def: string, subject = "status") => {
  const v = valuesAllowedByCheck(def, subject);
  return v === null ? null : [...v].sort();
};

describe("valuesAllowedByCheck (pg_get_constraintdef text)", () => {
  it.each([
    ["CHECK ((status = ANY (ARRAY['active'::text, 'completed'::text])))", ["active", "completed"]],
    [
      "CHECK (((status)::text = ANY ((ARRAY['active'::character varying, 'it''s'::character varying])::text[])))",
      ["active", "it's"],
    ],
    ["CHECK ((status = 'active'::text))", ["active"]],
    ["CHECK (('active'::text = status))", ["active"]],
    ["CHECK (((status = 'a'::text) OR (status = 'b'::text)))", ["a", "b"]],
    ["CHECK ((VALUE = ANY (ARRAY['a'::text, 'b'::text])))", ["a", "b"], "VALUE"],
    ['CHECK (("State" = ANY (ARRAY[\'a\'::"Call State", \'b\'::"Call State"])))', ["a", "b"], "State"],
    ["CHECK ((status = ANY (ARRAY['a'::text, 'b'::text]))) NOT VALID", ["a", "b"]],
    // AND keeps what it can read: a value must pass every part.
    ["CHECK (((status = ANY (ARRAY['a'::text, 'b'::text])) AND (length(status) < 20)))", ["a", "b"]],
    ["CHECK (((status = ANY (ARRAY['a'::text, 'b'::text])) AND (status IS NOT NULL)))", ["a", "b"]],
    ["CHECK (((status = ANY (ARRAY['a'::text, 'b'::text])) AND (status = ANY (ARRAY['b'::text]))))", ["b"]],
  ])("reads %s", (def, expected, subject = "status") => {
    expect(read(def, subject)).toEqual(expected);
  });

  it.each([
    "CHECK ((status <> 'busy'::text))",
    "CHECK ((NOT (status = ANY (ARRAY['a'::text]))))",
    "CHECK (((status = 'a'::text) OR (ended_at IS NULL)))",
    "CHECK ((lower(status) = ANY (ARRAY['a'::text])))",
    "CHECK ((other = ANY (ARRAY['a'::text])))",
    "CHECK ((status = ANY ('{a,b}'::text[])))",
    "CHECK ((status = ANY (ARRAY['a'::text, NULL::text])))",
    "CHECK (((status)::character(3) = 'abc'::bpchar))",
    "CHECK ((status = ('a'::text COLLATE \"C\")))",
    "CHECK ((status = E'a\\\\'::text))",
    "CHECK ((status IS NOT NULL))",
    "CHECK (CASE WHEN (ended_at IS NULL) THEN true ELSE (status = 'a'::text) END)",
    "CHECK ((status = 'unterminated))",
    "UNIQUE (status)",
  ])("does not guess at %s", (def) => {
    expect(read(def)).toBeNull();
  });
});
