import type { IncomingMessage } from "node:http";

export type BodyRead = { body: string } | { tooLarge: true };

/**
 * The request's body as UTF-8 text (what Twilio hashed), or `tooLarge` as soon as it is known to exceed
 * `maxBytes`: from a Content-Length, before reading anything, or else once the bytes read pass it. Reading
 * stops there, so an endless body costs at most `maxBytes` of memory. Rejects when the client goes away.
 */
export function readBoundedBody(req: IncomingMessage, maxBytes: number): Promise<BodyRead> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve({ tooLarge: true });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const stop = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBytes) {
        stop();
        req.pause();
        resolve({ tooLarge: true });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      resolve({ body: Buffer.concat(chunks, bytes).toString("utf8") });
    };
    const onError = (err: Error) => {
      stop();
      reject(err);
    };
    const onClose = () => {
      stop();
      reject(new Error("the client closed the connection before the body ended"));
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}
