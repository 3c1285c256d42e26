/**
 * The README and docs/ are read by people who click: every relative link must land on a file, and on a
 * heading when it names one. The README stays a quick path, and links every page of docs/.
 */
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, expect, it } from "vitest";
import { anchors, linkTargets, readDoc, readmeGrants, sqlBlockUnder } from "../helpers/markdown.js";

const DOCS = readdirSync(new URL("../../docs/", import.meta.url))
  .filter((f) => f.endsWith(".md"))
  .map((f) => `docs/${f}`);
const PAGES = ["README.md", ...DOCS];

/** What is wrong with one relative link of `page`, or null when it resolves. */
function brokenLink(page: string, target: string): string | null {
  const [path = "", anchor] = target.split("#");
  const file = path === "" ? page : normalize(join(dirname(page), path));
  if (file.startsWith("..")) return `${target}: outside the repository`;
  if (!existsSync(new URL(`../../${file}`, import.meta.url))) return `${target}: no file ${file}`;
  if (anchor === undefined) return null;
  if (!file.endsWith(".md")) return `${target}: an anchor into a file that is not Markdown`;
  return anchors(readDoc(file)).has(anchor) ? null : `${target}: no heading #${anchor} in ${file}`;
}

describe("the product's documentation", () => {
  it.each(PAGES)("every relative link of %s resolves, anchors included", (page) => {
    const relative = linkTargets(readDoc(page)).filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
    const broken = relative.map((t) => brokenLink(page, t)).filter((p) => p !== null);
    expect(broken).toEqual([]);
  });

  it("the README is a quick path: at most 160 lines", () => {
    expect(readDoc("README.md").split("\n").length).toBeLessThanOrEqual(160);
  });

  it("the README links every page of docs/", () => {
    const linked = new Set(linkTargets(readDoc("README.md")).map((t) => t.split("#")[0]));
    expect(DOCS.filter((d) => !linked.has(d))).toEqual([]);
  });

  it("operations.md gives the same runtime GRANTs as the README, the block the privilege tests run", () => {
    expect(sqlBlockUnder(readDoc("docs/operations.md"), "Database privileges")).toBe(readmeGrants());
  });
});
