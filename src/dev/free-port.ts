import { createServer } from "node:net";

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => {
      const address = srv.address();
      const port = typeof address === "object" && address !== null ? address.port : undefined;
      srv.close(() => (port === undefined ? reject(new Error("no free port")) : resolve(port)));
    });
  });
}
