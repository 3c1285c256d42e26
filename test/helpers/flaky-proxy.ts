/**
 * A reverse proxy standing for an ingress in front of the Event Streams sink: it answers `failFirst`
 * requests itself with 502 (the sink unreachable), then forwards each request, path, query, headers and
 * body unchanged, to `target`.
 */
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

export interface FlakyProxy {
  origin: string;
  /** Requests answered 502 without reaching the target. */
  failed: number;
  forwarded: number;
  close(): Promise<void>;
}

export async function startFlakyProxy(target: () => string | null, failFirst: number): Promise<FlakyProxy> {
  const proxy: FlakyProxy = { origin: "", failed: 0, forwarded: 0, close: async () => {} };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const to = target();
      if (proxy.failed < failFirst || to === null) {
        proxy.failed++;
        res.writeHead(502).end();
        return;
      }
      proxy.forwarded++;
      const out = request(
        `${to}${req.url ?? "/"}`,
        { method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      out.on("error", () => res.writeHead(502).end());
      out.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return proxy;
}
