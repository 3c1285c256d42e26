import { describe, expect, it } from "vitest";
import { loadSignatureCheck, signedUrl } from "../../src/events/signature.js";
import { signEventBatch } from "../helpers/sign-event-batch.js";

const TOKEN = "12345678901234567890123456789012";
const PUBLIC = "https://reconciler.example.com/twilio/events";
const BODY = JSON.stringify([{ id: "EV1", type: "com.twilio.voice.status-callback.call.completed" }]);

/** The request target a proxy forwards for a URL Twilio called: its path and query string. */
const targetOf = (url: string) => {
  const u = new URL(url);
  return `/twilio/events${u.search}`;
};

describe("signedUrl", () => {
  it.each([
    [
      "https://h.example/twilio/events",
      "/twilio/events?bodySHA256=ab",
      "https://h.example/twilio/events?bodySHA256=ab",
    ],
    ["https://h.example/twilio/events", "/twilio/events", "https://h.example/twilio/events"],
    [
      "https://h.example/hooks/twilio?tenant=a",
      "/twilio/events?tenant=a&bodySHA256=ab",
      "https://h.example/hooks/twilio?tenant=a&bodySHA256=ab",
    ],
    [
      "https://h.example:8443/twilio/events#x",
      "/twilio/events?bodySHA256=ab",
      "https://h.example:8443/twilio/events?bodySHA256=ab",
    ],
    ["https://H.example/A%27b", "/twilio/events?q='x'", "https://H.example/A%27b?q='x'"],
  ])("%s receiving %s checks %s", (publicUrl, target, expected) => {
    expect(signedUrl(publicUrl, target)).toBe(expected);
  });
});

describe("loadSignatureCheck", () => {
  it("a delivery signed as Twilio signs (by an independent signer) passes the SDK's check", async () => {
    const check = await loadSignatureCheck(TOKEN, PUBLIC);
    const { url, signature } = signEventBatch(TOKEN, PUBLIC, BODY);
    expect(check({ signature, target: targetOf(url), body: BODY })).toBeNull();
  });

  it("non-ASCII bodies hash as UTF-8 on both sides", async () => {
    const check = await loadSignatureCheck(TOKEN, PUBLIC);
    const body = JSON.stringify([{ id: "EV1", note: "café ☎" }]);
    const { url, signature } = signEventBatch(TOKEN, PUBLIC, body);
    expect(check({ signature, target: targetOf(url), body })).toBeNull();
  });

  it("a destination with a query string of its own is signed with it", async () => {
    const publicUrl = "https://reconciler.example.com/twilio/events?tenant=blue";
    const check = await loadSignatureCheck(TOKEN, publicUrl);
    const { url, signature } = signEventBatch(TOKEN, publicUrl, BODY);
    expect(url).toContain("?tenant=blue&bodySHA256=");
    expect(check({ signature, target: targetOf(url), body: BODY })).toBeNull();
  });

  it("a destination without its port is checked with the scheme's port too, as the SDK does", async () => {
    const check = await loadSignatureCheck(TOKEN, PUBLIC);
    const { url, signature } = signEventBatch(
      TOKEN,
      "https://reconciler.example.com:443/twilio/events",
      BODY,
    );
    expect(check({ signature, target: targetOf(url), body: BODY })).toBeNull();
  });

  it.each([
    ["no signature", () => ({ ...signed(), signature: undefined }), "signature_missing"],
    ["an empty signature", () => ({ ...signed(), signature: "" }), "signature_missing"],
    ["no bodySHA256", () => ({ ...signed(), target: "/twilio/events" }), "body_hash_missing"],
    [
      "an empty bodySHA256",
      () => ({ ...signed(), target: "/twilio/events?bodySHA256=" }),
      "body_hash_missing",
    ],
    [
      "the body changed after signing",
      () => ({ ...signed(), body: BODY.replace("EV1", "EV2") }),
      "body_hash_mismatch",
    ],
    ["a signature made with another token", () => signed("another-token"), "signature_invalid"],
    [
      "a signature for another URL",
      () => signed(TOKEN, "https://attacker.example/twilio/events"),
      "signature_invalid",
    ],
    [
      "a signature for another path",
      () => signed(TOKEN, "https://reconciler.example.com/other"),
      "signature_invalid",
    ],
    [
      "the hash and the body both changed",
      () => {
        const other = BODY.replace("EV1", "EV2");
        const hash = new URL(signEventBatch(TOKEN, PUBLIC, other).url).searchParams.get("bodySHA256");
        return { ...signed(), target: `/twilio/events?bodySHA256=${hash}`, body: other };
      },
      "signature_invalid",
    ],
    ["a garbled signature", () => ({ ...signed(), signature: "not base64 at all" }), "signature_invalid"],
  ])("%s: refused", async (_what, request, refusal) => {
    const check = await loadSignatureCheck(TOKEN, PUBLIC);
    expect(check(request())).toBe(refusal);
  });

  it("refuses to start without a token, or with a public URL that is not http(s)", async () => {
    await expect(loadSignatureCheck("", PUBLIC)).rejects.toThrow(/auth token/);
    await expect(loadSignatureCheck(TOKEN, "ftp://h.example/twilio/events")).rejects.toThrow(/EVENTS_URL/);
    await expect(loadSignatureCheck(TOKEN, "/twilio/events")).rejects.toThrow();
  });
});

function signed(token = TOKEN, url = PUBLIC) {
  const s = signEventBatch(token, url, BODY);
  return { signature: s.signature as string | undefined, target: targetOf(s.url), body: BODY };
}
