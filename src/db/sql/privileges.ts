/**
 * What the connected role may do, asked of the catalog before anything is read or written, so that a missing
 * privilege is named (with its GRANT) instead of surfacing as "permission denied" in the middle of a pass.
 * Objects are found by their plain names in pg_class / pg_namespace, never by parsing a qualified name: a role
 * without USAGE on a schema could not even resolve `schema.table`, and would get the error this check exists
 * to explain. An object that does not exist yields no verdict (`ok` NULL): the table probes report those.
 *
 * Per-check arrays, index i is one check: $1 kind (schema | table | column | sequence), $2 schema, $3 object
 * (table or sequence; ignored for a schema), $4 column (for kind column), $5 privilege.
 */
export const PRIVILEGES_SQL = `SELECT u.i::int AS i, current_user::text AS role,
    CASE u.kind
      WHEN 'schema' THEN (SELECT has_schema_privilege(n.oid, u.privilege) FROM pg_namespace n
        WHERE n.nspname = u.schema_name)
      WHEN 'column' THEN (SELECT has_column_privilege(c.oid, a.attnum, u.privilege)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = u.column_name AND NOT a.attisdropped
        WHERE n.nspname = u.schema_name AND c.relname = u.object_name)
      WHEN 'sequence' THEN (SELECT has_sequence_privilege(c.oid, u.privilege)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = u.schema_name AND c.relname = u.object_name AND c.relkind = 'S')
      ELSE (SELECT has_table_privilege(c.oid, u.privilege)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = u.schema_name AND c.relname = u.object_name)
    END AS ok
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
    WITH ORDINALITY AS u(kind, schema_name, object_name, column_name, privilege, i)
  ORDER BY u.i`;

/** The schema an unqualified CALLS_TABLE resolves to for this role ($1 the name as configured), if any. */
export const TABLE_SCHEMA_SQL = `SELECT n.nspname::text AS schema FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)`;
