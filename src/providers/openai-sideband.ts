import type { IncomingHttpHeaders } from "node:http";
import type WebSocket from "ws";

/** What happened on one sideband connection attempt, before any interpretation. */
export type SidebandOutcome =
  /** The server completed the WebSocket handshake (101); `headers` are those of the 101 response. */
  | { kind: "opened"; headers: IncomingHttpHeaders }
  /** The server answered the upgrade with a normal HTTP response (404, 401, 429, …). */
  | { kind: "refused"; status: number; headers: IncomingHttpHeaders; body: string }
  /** The connection ended before a 101 or a complete refusal. */
  | { kind: "closed"; code: number }
  | { kind: "timeout" }
  | { kind: "aborted" }
  | { kind: "error"; error: Error };

export interface SidebandOptions {
  timeoutMs: number;
  /** After the outcome is known: how long the close handshake may take before the socket is destroyed. */
  closeGraceMs: number;
  signal?: AbortSignal;
}

/** Refusal bodies are small JSON documents; anything longer is cut (and will not parse). */
const MAX_REFUSAL_BODY = 64 * 1024;
/**
 * No frame is ever read for the answer, but the server may send some (session.created, with the session's
 * config) while the close handshake runs: bounded, and too large only ends the socket sooner.
 */
const MAX_FRAME = 1024 * 1024;

/** Imported at the first probe: loading `ws` (about 50 ms) is not paid by every start of the CLI. */
export const loadWs = () => import("ws");

/**
 * Opens the sideband WebSocket, settles as soon as the handshake is answered (101, or a refusal), and closes.
 *
 * Guarantees: never sends a data frame (only the close control frame); the promise settles only once the
 * socket is closed or destroyed, and after every timer and listener it installed is gone; one overall
 * deadline (`timeoutMs`) covers connect and handshake, plus at most `closeGraceMs` to close.
 */
export async function openSideband(
  url: URL,
  headers: Record<string, string>,
  opts: SidebandOptions,
): Promise<SidebandOutcome> {
  const { default: WebSocket } = await loadWs();
  return new Promise((resolve) => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, {
        headers,
        perMessageDeflate: false,
        followRedirects: false,
        maxPayload: MAX_FRAME,
      });
    } catch (err) {
      resolve({ kind: "error", error: err instanceof Error ? err : new Error(String(err)) });
      return;
    }

    let outcome: SidebandOutcome | undefined;
    let closed = false;
    let upgradeHeaders: IncomingHttpHeaders = {};
    let killTimer: NodeJS.Timeout | undefined;
    const deadline = setTimeout(() => settle({ kind: "timeout" }), opts.timeoutMs);
    const onAbort = () => settle({ kind: "aborted" });
    opts.signal?.addEventListener("abort", onAbort, { once: true });

    function finishIfDone(): void {
      if (!outcome || !closed) return;
      clearTimeout(killTimer);
      ws.removeAllListeners();
      // `ws` may still emit a late 'error' (e.g. from a destroyed request): keep it handled.
      ws.on("error", () => {});
      resolve(outcome);
    }

    function settle(result: SidebandOutcome): void {
      if (outcome) return;
      outcome = result;
      clearTimeout(deadline);
      opts.signal?.removeEventListener("abort", onAbort);
      if (closed) {
        finishIfDone();
        return;
      }
      if (ws.readyState === WebSocket.OPEN) {
        // Status 1000 and nothing else: no client event is ever sent on this socket.
        ws.close(1000);
        killTimer = setTimeout(() => ws.terminate(), opts.closeGraceMs);
      } else {
        // CONNECTING: abort the request / drop the refused response. CLOSING: the peer is slow; don't wait.
        ws.terminate();
      }
    }

    // 'upgrade' (the 101 response, whose headers carry x-request-id) comes just before 'open'; 'open' means
    // `ws` checked the handshake (Sec-WebSocket-Accept). The answer is known then: no frame is awaited, as a
    // control socket on an existing call may never be sent session.created.
    ws.on("upgrade", (res) => {
      upgradeHeaders = res.headers;
    });
    ws.on("open", () => settle({ kind: "opened", headers: upgradeHeaders }));
    ws.on("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        if (size >= MAX_REFUSAL_BODY) return;
        chunks.push(chunk);
        size += chunk.length;
      });
      res.on("error", (error: Error) => settle({ kind: "error", error }));
      res.on("aborted", () => settle({ kind: "error", error: new Error("refusal response aborted") }));
      res.on("end", () => {
        const body = Buffer.concat(chunks).subarray(0, MAX_REFUSAL_BODY).toString("utf8");
        settle({ kind: "refused", status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    ws.on("error", (error: Error) => settle({ kind: "error", error }));
    ws.on("close", (code: number) => {
      closed = true;
      settle({ kind: "closed", code });
      finishIfDone();
    });
  });
}
