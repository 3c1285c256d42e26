/**
 * docs/configuration.md is generated from the settings' definitions (`npm run docs:config`): these tests fail
 * when the committed page is stale, or when a setting is defined without what the reference needs.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { configurationDoc, shownDefault } from "../../scripts/configuration-doc.js";
import { KNOWN_VARIABLES } from "../../src/config/config.js";
import {
  envSchema,
  SETTING_GROUPS,
  SETTING_PARTS,
  SETTINGS,
  type Setting,
} from "../../src/config/settings/index.js";

const ENTRIES = Object.entries(SETTINGS as Record<string, Setting>);

describe("the configuration reference", () => {
  it("docs/configuration.md is what the generator writes", () => {
    const committed = readFileSync(new URL("../../docs/configuration.md", import.meta.url), "utf8");
    expect(
      committed === configurationDoc(),
      "docs/configuration.md is stale: run `npm run docs:config` and commit the result",
    ).toBe(true);
  });

  it("every setting has a one-line description that fits in a table cell", () => {
    for (const [name, s] of ENTRIES) {
      expect(s.about.trim(), `${name}: no description`).not.toBe("");
      expect(s.about, `${name}: the description must be one line`).not.toMatch(/\n/);
      expect(s.about, `${name}: a | would split the table cell`).not.toContain("|");
    }
  });

  it("every setting shows a default, the parser's own unless the entry says it", () => {
    expect(shownDefault(SETTINGS.RECONCILE_INTERVAL_SECONDS)).toBe("`60`");
    expect(shownDefault(SETTINGS.OPENAI_SURFACES)).toBe("`live,realtime`");
    expect(shownDefault(SETTINGS.NOTIFY_URL)).toBe("unset");
    for (const [name, s] of ENTRIES) expect(shownDefault(s), name).toMatch(/\S/);
  });

  it("one name, one definition: the schema, the known names and the groups hold the same settings", () => {
    const names = ENTRIES.map(([name]) => name).sort();
    const defined = SETTING_PARTS.reduce((n, part) => n + Object.keys(part).length, 0);
    expect(defined, "a setting is defined in two groups, or a group is missing from SETTINGS").toBe(
      names.length,
    );
    expect(Object.keys(envSchema.shape).sort()).toEqual(names);
    expect([...KNOWN_VARIABLES].sort()).toEqual(names);
    for (const group of SETTING_GROUPS) {
      expect(
        ENTRIES.some(([, s]) => s.group === group),
        `group ${group} has no setting`,
      ).toBe(true);
    }
  });
});
