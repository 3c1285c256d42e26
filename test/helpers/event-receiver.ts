/** A plain HTTP server standing for an Event Streams sink's destination: it keeps every request it gets. */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedPost {
  /** Path and query as received. */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed: a batch of CloudEvents. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary CloudEvent JSON and assert on it.
  events: any[];
}

/** What to answer the n-th request (0-based): a status, or null to never answer. */
export type Answer = (n: number, post: ReceivedPost) => number | null;

export interface EventReceiver {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  posts: ReceivedPost[];
  /** Requests whose connection closed before an answer was sent. */
  closedUnanswered: number;
  close(): Promise<void>;
}

export async function startEventReceiver(answer: Answer = () => 200): Promise<EventReceiver> {
  const receiver: EventReceiver = {
    origin: "",
    posts: [],
    closedUnanswered: 0,
    close: async () => {},
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const post: ReceivedPost = {
        path: req.url ?? "/",
        headers: req.headers,
        body,
        events: JSON.parse(body),
      };
      const status = answer(receiver.posts.length, post);
      receiver.posts.push(post);
      if (status === null) {
        res.once("close", () => receiver.closedUnanswered++);
        return;
      }
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return receiver;
}
