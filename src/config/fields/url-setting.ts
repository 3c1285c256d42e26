/**
 * URL settings (TWILIO_API_BASE_URL, OPENAI_BASE_URL, NOTIFY_URL) never carry a credential: a URL is printed in
 * logs, error lines and process listings, so `user:pass@` or `?token=` in it leaks. Each is refused with the
 * secret variable the credential belongs in, and only scheme://host/path of a URL is ever shown.
 */
import { z } from "zod";

/** Query parameters whose name says they carry a credential. */
const CREDENTIAL_PARAM = /token|secret|key|pass|auth|sig|credential|session/i;

/** scheme://host/path of a URL, for logs and errors: never its user, password, query or fragment. */
export function safeUrl(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    // Unparseable: show it only when nothing in it can be a user, a password or a query.
    return /[@?#]/.test(raw) ? "(not shown: it may hold a credential)" : raw;
  }
}

function credentialProblem(u: URL, secretVariable: string, allowQuery: boolean): string | null {
  const fix = `put the credential in ${secretVariable}, never in the URL`;
  if (u.username !== "" || u.password !== "")
    return `must not contain a user or password (user:pass@): ${fix}`;
  if (u.hash !== "") return "must not have a #fragment";
  if (!allowQuery && u.search !== "") return `must not have a ?query: give scheme://host/path; ${fix}`;
  const param = [...u.searchParams.keys()].find((k) => CREDENTIAL_PARAM.test(k));
  if (param !== undefined) return `must not carry a credential in its query (?${param}=): ${fix}`;
  return null;
}

/** An http(s) URL without a credential; `secretVariable` names where a credential goes instead. */
export const urlSetting = (secretVariable: string, opts: { allowQuery?: boolean } = {}) =>
  z.string().superRefine((v, ctx) => {
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      ctx.addIssue({ code: "custom", message: "must be an http(s) URL, e.g. https://host/path" });
      return;
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") {
      ctx.addIssue({ code: "custom", message: "must be an http(s) URL, e.g. https://host/path" });
      return;
    }
    const problem = credentialProblem(u, secretVariable, opts.allowQuery === true);
    if (problem !== null) ctx.addIssue({ code: "custom", message: problem });
  });
