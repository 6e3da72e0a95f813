import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** One request the proxy carried: the CONNECT target and the request that went through the tunnel. */
export interface ProxiedRequest {
  target: string;
  method: string;
  path: string;
}

export interface ForwardProxy {
  /** http://127.0.0.1:port */
  url: string;
  /** CONNECT requests, in order: the target (host:port) and the Proxy-Authorization they carried. */
  readonly tunnels: Array<{ target: string; authorization?: string }>;
  /** Every request carried through a tunnel. */
  readonly requests: ProxiedRequest[];
  close(): Promise<void>;
}

/**
 * A CONNECT proxy on loopback, like a corporate egress proxy: it opens a tunnel per CONNECT (undici tunnels
 * http targets too), refuses wrong credentials with 407, and counts what goes through. Hand-written because
 * it must see inside each tunnel to count requests: the tunnels it opens lead to plain-http test servers, so
 * it reads them with node's own HTTP parser and forwards each request. (The well-kept `proxy` package
 * neither counts requests inside tunnels nor loads in this CommonJS jest setup: it is ESM-only.)
 */
export async function startForwardProxy(options: { credentials?: string } = {}): Promise<ForwardProxy> {
  const tunnels: ForwardProxy["tunnels"] = [];
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  const upstream = new Agent({ keepAlive: true });
  const expected = options.credentials && `Basic ${Buffer.from(options.credentials).toString("base64")}`;

  // What arrives inside a tunnel: parsed as HTTP and forwarded to the tunnel's target.
  const inner = createServer((req: IncomingMessage, res: ServerResponse) => {
    const target = (req.socket as Socket & { tunnelTarget?: string }).tunnelTarget!;
    requests.push({ target, method: req.method!, path: req.url! });
    const [host, port] = [target.slice(0, target.lastIndexOf(":")), Number(target.slice(target.lastIndexOf(":") + 1))];
    const out = request({ host, port, method: req.method, path: req.url, headers: req.headers, agent: upstream }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    out.on("error", () => res.destroy());
    req.pipe(out);
  });

  const outer = createServer((_req, res) => {
    // Only CONNECT: plain absolute-URI forwarding is not what undici sends (it tunnels http targets too).
    res.writeHead(405).end();
  });
  outer.on("connect", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const authorization = req.headers["proxy-authorization"];
    tunnels.push({ target: req.url!, authorization });
    if (expected !== undefined && authorization !== expected) {
      socket.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="egress"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    (socket as Socket & { tunnelTarget?: string }).tunnelTarget = req.url!;
    if (head.length > 0) socket.unshift(head);
    inner.emit("connection", socket);
  });
  outer.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve) => outer.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(outer.address() as AddressInfo).port}`,
    tunnels,
    requests,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      upstream.destroy();
      inner.close();
      await new Promise<void>((resolve) => outer.close(() => resolve()));
    },
  };
}
