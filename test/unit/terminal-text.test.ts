import { describe, expect, it } from "vitest";
import { ID_WIDTH, terminalId, terminalText } from "../../src/cli/terminal-text.js";

describe("terminalText: what a terminal would act on is shown, not obeyed", () => {
  it.each([
    ["plain text", "CA0123-call_id.42", "CA0123-call_id.42"],
    ["an empty string", "", ""],
    ["a window-title OSC ending in BEL", "\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"],
    ["a clear-screen CSI", "\x1b[2J", "\\x1b[2J"],
    ["SGR colours", "\x1b[32mALL CLEAR\x1b[0m", "\\x1b[32mALL CLEAR\\x1b[0m"],
    ["a newline that would forge a row", "a\n| forged | row |", "a\\n| forged | row |"],
    ["a carriage return that would overwrite the line", "ok\rFAIL", "ok\\rFAIL"],
    ["a tab that would shift the columns", "a\tb", "a\\tb"],
    ["NUL and the other C0 characters", "\x00\x01\x08\x0b\x0c\x1f", "\\x00\\x01\\x08\\x0b\\x0c\\x1f"],
    ["DEL", "a\x7fb", "a\\x7fb"],
    ["C1 controls (8-bit CSI, OSC, ST)", "\x80\x9b2J\x9d0;t\x9c\x9f", "\\x80\\x9b2J\\x9d0;t\\x9c\\x9f"],
    ["a right-to-left override", "abc\u202edcba", "abc\\u202edcba"],
    ["the other embeddings and overrides", "\u202a\u202b\u202c\u202d", "\\u202a\\u202b\\u202c\\u202d"],
    ["the bidi isolates", "\u2066\u2067\u2068\u2069", "\\u2066\\u2067\\u2068\\u2069"],
    ["the bidi marks", "\u200e\u200f\u061c", "\\u200e\\u200f\\u061c"],
    ["line and paragraph separators", "a\u2028b\u2029c", "a\\u2028b\\u2029c"],
    ["a backslash, left as it is", "a\\nb\\x1b", "a\\nb\\x1b"],
    ["accents, CJK, emoji and the no-break space", "café 通話 📞 a\u00a0b", "café 通話 📞 a\u00a0b"],
    ["the last character before C1 and the first after it", "\u007e\u00a0", "\u007e\u00a0"],
  ])("%s", (_label, input, shown) => {
    expect(terminalText(input)).toBe(shown);
  });

  it("escaping twice changes nothing more", () => {
    const once = terminalText("\x1b]0;x\x07\n\u202e");
    expect(terminalText(once)).toBe(once);
  });

  it.each([
    ["fits", "abcdef", 6, "abcdef"],
    ["one too long: cut, and the cut marked", "abcdefg", 6, "abcde…"],
    ["a spelt-out character is never cut in half", "abcd\x1b", 6, "abcd…"],
    ["spelt-out characters count at their shown width", "\n\n\n\n", 6, "\\n\\n…"],
    ["an emoji is never split", "abcd📞xyz", 6, "abcd…"],
  ])("at most maxChars: %s", (_label, input, max, shown) => {
    expect(terminalText(input, max)).toBe(shown);
    expect(shown.length).toBeLessThanOrEqual(max);
  });
});

describe("terminalId", () => {
  it("shows a short id whole, escaped", () => {
    expect(terminalId("call-1\n")).toBe("call-1\\n");
  });

  it("cuts a 2,000-character id to ID_WIDTH, the cut marked", () => {
    const shown = terminalId(`long-${"x".repeat(1995)}`);
    expect(shown).toHaveLength(ID_WIDTH);
    expect(shown).toBe(`long-${"x".repeat(ID_WIDTH - 6)}…`);
  });

  it("cuts after escaping, so the width holds for an id made only of control characters", () => {
    const shown = terminalId("\x1b".repeat(500));
    expect(shown.length).toBeLessThanOrEqual(ID_WIDTH);
    expect(shown).toMatch(/^(\\x1b)+…$/);
  });
});
