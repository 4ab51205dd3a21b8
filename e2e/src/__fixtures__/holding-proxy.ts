/**
 * A loopback HTTP proxy in front of moto_server that can hold one chosen request: it
 * never forwards it, so the client (the CLI) is stuck at exactly that S3 call until
 * the test kills it. This is how the fault suite stops `xo-foundry` inside a given
 * stage (publish, load, state write) without any hook in the product: each stage
 * makes its own S3 calls, and the proxy recognises them by method and key.
 */
import { createServer, request, type IncomingMessage } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface S3Call {
  readonly method: string;
  /** `/<bucket>/<key>` (path-style), without the query. */
  readonly path: string;
  readonly headers: IncomingMessage["headers"];
}

export interface HoldingProxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Every call that went through or was held, in order. */
  readonly calls: S3Call[];
  /** Holds the next call that matches; resolves when it arrives. */
  hold(match: (call: S3Call) => boolean): Promise<S3Call>;
  close(): Promise<void>;
}

export async function startHoldingProxy(target: string): Promise<HoldingProxy> {
  const upstream = new URL(target);
  const calls: S3Call[] = [];
  const holds: { match: (c: S3Call) => boolean; resolve: (c: S3Call) => void }[] = [];
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    const call: S3Call = { method: req.method ?? "GET", path: decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname), headers: req.headers };
    calls.push(call);
    const held = holds.findIndex((h) => h.match(call));
    if (held !== -1) {
      const [{ resolve }] = holds.splice(held, 1) as [(typeof holds)[number]];
      // Read and drop the body so the client believes it was sent, then never answer.
      req.resume();
      resolve(call);
      return;
    }
    const headers = { ...req.headers };
    // The proxy already answered any `Expect: 100-continue`; moto gets the body at once.
    delete headers.expect;
    const forward = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    hold: (match) => new Promise((resolve) => holds.push({ match, resolve })),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}
