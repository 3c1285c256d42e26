/**
 * Import rules for src/ (docs/development.md, "Layout"): layers import downward only, no import cycles.
 * Checked by `npm run lint:imports` (part of `npm test`); test/unit/import-rules.test.ts shows each rule can fail.
 *
 * A layer is the first path segment under src/. Each layer rule lists what the layer MAY import
 * (`to.pathNot`); anything else of src/ is a violation. Imports of sim/ and dev/ are judged by one rule
 * of their own, so every layer rule leaves them out and a violation is reported once.
 */

// Bottom helpers: may exist or not; importable from every layer.
const HELPERS = "error-message\\.ts$|log\\.ts$|json\\.ts$|http-serve\\.ts$|retry/|time/";
/** Regex for src/ paths in the given folders (or the bottom helpers, when `helpers` is true). */
const under = (folders, helpers = true) =>
  `^src/(?:${[...folders.map((f) => `${f}/`), ...(helpers ? [HELPERS] : [])].join("|")})`;

/** One "layer may import only ..." rule. */
const layer = (name, comment, from, allowed, helpers = true) => ({
  name,
  comment,
  severity: "error",
  from: { path: from },
  to: { path: "^src/", pathNot: [under(allowed, helpers), under(["sim", "dev"], false)] },
});

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "No import cycle between files of src/ (type-only imports count too).",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    layer(
      "model-is-a-leaf",
      "src/model/ is the domain: it imports nothing of src/ outside itself.",
      "^src/model/",
      ["model"],
      false,
    ),
    layer(
      "helpers-import-only-helpers-and-model",
      "Bottom helpers (error-message.ts, log.ts, json.ts, http-serve.ts, retry/, time/) import only each other and model/.",
      `^src/(?:${HELPERS})`,
      ["model"],
    ),
    layer(
      "config-imports-only-model-and-helpers",
      "src/config/ imports only model/ and the bottom helpers.",
      "^src/config/",
      ["config", "model"],
    ),
    layer(
      "config-settings-import-only-fields",
      "src/config/settings/ defines the settings from the field builders of src/config/fields/: it never imports " +
        "the rest of config/, which reads the settings, so no folder of config/ imports one that imports it back.",
      "^src/config/settings/",
      ["config/settings", "config/fields", "model"],
    ),
    layer(
      "config-fields-are-a-leaf",
      "src/config/fields/ holds the parsers every setting is built from: it imports only itself, model/ and the " +
        "bottom helpers.",
      "^src/config/fields/",
      ["config/fields", "model"],
    ),
    layer(
      "metrics-imports-only-config-model-helpers",
      "src/metrics/ imports only config/, model/ and the bottom helpers (never reconcile/, adapters, daemon/).",
      "^src/metrics/",
      ["metrics", "config", "model"],
    ),
    layer(
      "adapters-import-only-below-and-not-each-other",
      "Adapters (db/, sqlite/, providers/, notify/, server/, events/) import only metrics/, config/, model/, the bottom helpers " +
        "and their own folder: never each other, reconcile/, daemon/ or cli/.",
      "^src/(db|sqlite|providers|notify|server|events)/",
      ["$1", "metrics", "config", "model"],
    ),
    layer(
      "diagnosis-is-pure",
      "src/diagnosis/ decides why an end was lost from Twilio's records: pure, it imports only model/.",
      "^src/diagnosis/",
      ["diagnosis", "model"],
      false,
    ),
    layer(
      "reconcile-imports-only-config-model-helpers",
      "src/reconcile/ works on the ports only: it imports config/, model/ and the bottom helpers, " +
        "never db/, providers/, notify/, server/ or metrics/.",
      "^src/reconcile/",
      ["reconcile", "diagnosis", "config", "model"],
    ),
    layer(
      "daemon-imports-only-below",
      "src/daemon/ may import every layer below it, never cli/.",
      "^src/daemon/",
      [
        "daemon",
        "reconcile",
        "diagnosis",
        "db",
        "providers",
        "notify",
        "server",
        "events",
        "metrics",
        "config",
        "model",
      ],
    ),
    layer(
      "sim-dev-import-only-db-config-model-helpers",
      "src/sim/ and src/dev/ (simulators, embedded PostgreSQL, seeding) import only each other, db/, " +
        "config/, model/ and the bottom helpers.",
      "^src/(sim|dev)/",
      ["sim", "dev", "db", "config", "model"],
    ),
    {
      name: "cli-opens-the-database-through-the-port",
      comment:
        "The commands get their database from cli/database.ts (the port of model/database.ts, PostgreSQL or SQLite): " +
        "no other file of cli/ imports db/, except the demo, which starts and seeds its own PostgreSQL.",
      severity: "error",
      from: { path: "^src/cli/", pathNot: "^src/cli/(?:database|demo|demo-app-postgres)\\.ts$" },
      to: { path: "^src/db/" },
    },
    {
      name: "only-cli-imports-sim-dev",
      comment:
        "src/sim/ and src/dev/ are for the demo, tests and bench: of src/, only cli/ (and sim/, dev/ themselves) may import them.",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/(?:cli|sim|dev)/" },
      to: { path: "^src/(?:sim|dev)/" },
    },
  ],
  options: {
    includeOnly: "^src/",
    doNotFollow: { path: "node_modules" },
    // TypeScript: see type-only imports too, and resolve "./x.js" specifiers to ./x.ts.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    moduleSystems: ["es6", "cjs"],
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".js", ".json"],
    },
  },
};
