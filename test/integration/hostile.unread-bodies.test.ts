import { connect } from "node:net";
import { startSimulator, type Simulator } from "../../src/simulator/simulator";
import { startGatewayOn, type GatewayClient } from "../helpers/stack";

/**
 * Work before authentication (issue 18): a request that will be refused (no credentials, a wrong key, an
 * address locked out by AUTH_FAILURE_LIMIT, a caller over CALLER_RATE_LIMIT, an unknown path) is answered
 * from its headers, before any byte of its body is read; a body that does get read is refused before
 * JSON.parse if it nests deeper than 64 levels. Each check sends the headers and only the first kilobyte
 * of a body that is within MAX_BODY_BYTES, then waits: an answer while most of the body is still unsent
 * means the gateway did not wait for it (before, the gate ran after the whole body was read and parsed).
 */
const KEY = "unread-bodies-key-5e2c9a7d1b";
const DECLARED = 200_000; // under MAX_BODY_BYTES (256 KiB), so only the gate can answer early
let sim: Simulator;
let gw: GatewayClient | undefined;

beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim.close());
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

async function gateway(env: Record<string, string> = {}): Promise<number> {
  gw = await startGatewayOn(sim, { AUTH_MODE: "", AUTH_API_KEYS: KEY, ...env });
  return Number(new URL(gw.gateway.url).port);
}

interface Early {
  /** The status answered, or 0 if nothing came within the wait. */
  status: number;
  text: string;
  /** The gateway closed the connection after answering, rather than wait to read the rest. */
  closed: boolean;
}

/**
 * Sends the head and the first 1 KB of a body of `declared` bytes (or a chunked one, which has no end),
 * then waits up to `ms` for an answer.
 */
function partial(
  port: number,
  method: string,
  target: string,
  headers: Record<string, string> = {},
  { declared = DECLARED, chunked = false, ms = 3_000 } = {},
): Promise<Early> {
  const head = `${method} ${target} HTTP/1.1\r\n${Object.entries({
    host: `127.0.0.1:${port}`,
    "content-type": "application/json",
    ...(chunked ? { "transfer-encoding": "chunked" } : { "content-length": String(declared) }),
    ...headers,
  })
    .map(([k, v]) => `${k}: ${v}`)
    .join("\r\n")}\r\n\r\n`;
  const first = `{"query":"{__typename}","variables":{"a":"${"x".repeat(1_000)}`;
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () =>
      socket.write(head + (chunked ? `${first.length.toString(16)}\r\n${first}\r\n` : first)),
    );
    let text = "";
    let closed = false;
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text, closed });
    };
    const timer = setTimeout(done, ms);
    socket.on("data", (c: Buffer) => {
      text += c.toString("latin1");
      // The whole answer (a JSON body) is in once its length is reached; then watch for a close.
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(text)?.[1] ?? NaN);
      const bodyStart = text.indexOf("\r\n\r\n");
      if (bodyStart >= 0 && text.length - bodyStart - 4 >= length) setTimeout(done, 500);
    });
    socket.on("end", () => (closed = true));
    socket.on("close", () => {
      closed = true;
      done();
    });
    socket.on("error", () => undefined);
  });
}

describe("refusals answered before the body is read", () => {
  it("answers 401 to a POST without credentials while its body is still being sent, keeping the connection", async () => {
    const port = await gateway();
    sim.reset();
    const res = await partial(port, "POST", "/graphql");
    expect(res.status).toBe(401);
    expect(res.text).toContain('"code":"UNAUTHENTICATED"');
    // A body within MAX_BODY_BYTES is drained unparsed, so the connection can be reused.
    expect(res.closed).toBe(false);
    expect(sim.requests).toEqual([]);
  });

  it("answers 401 and closes the connection without reading a body over MAX_BODY_BYTES, or a chunked one", async () => {
    const port = await gateway();
    const large = await partial(port, "POST", "/graphql", {}, { declared: 10_000_000 });
    expect(large.status).toBe(401);
    expect(large.closed).toBe(true);
    const chunked = await partial(port, "POST", "/graphql", {}, { chunked: true });
    expect(chunked.status).toBe(401);
    expect(chunked.closed).toBe(true);
  });

  it("answers 401 to a wrong key, then 429 to the locked-out address even with a good key, before either body is read", async () => {
    const port = await gateway({ AUTH_FAILURE_LIMIT: "2/60s" });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await partial(port, "POST", "/graphql", { "x-api-key": "a-wrong-key-long-enough-1234" })).status);
    expect(statuses).toEqual([401, 401, 429]);
    const locked = await partial(port, "POST", "/graphql", { "x-api-key": KEY });
    expect(locked.status).toBe(429);
    expect(locked.text).toContain('"limit":"AUTH_FAILURE_LIMIT"');
  });

  it("answers 429 to a caller over CALLER_RATE_LIMIT before its body is read", async () => {
    const port = await gateway({ CALLER_RATE_LIMIT: "1/60s" });
    expect((await gw!.post('{"query":"{ __typename }"}', { "x-api-key": KEY })).status).toBe(200);
    const over = await partial(port, "POST", "/graphql", { "x-api-key": KEY });
    expect(over.status).toBe(429);
    expect(over.text).toContain('"limit":"CALLER_RATE_LIMIT"');
  });

  it("waits for the body of an authenticated caller (the early answers above are the gate's doing)", async () => {
    const port = await gateway();
    const res = await partial(port, "POST", "/graphql", { "x-api-key": KEY }, { ms: 1_000 });
    expect(res.status).toBe(0);
  });

  it("gates an OPTIONS request that carries a body (fastify would parse it), before reading it", async () => {
    const port = await gateway();
    const withBody = await partial(port, "OPTIONS", "/graphql");
    expect(withBody.status).toBe(401);
  });

  it("still answers a CORS preflight without credentials, and refuses a malformed one before reading its body", async () => {
    const port = await gateway({ CORS_ORIGINS: "https://app.example" });
    const preflight = await fetch(gw!.gateway.url, {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("https://app.example");
    // @fastify/cors refuses a preflight without its headers in its own onRequest hook.
    expect((await partial(port, "OPTIONS", "/graphql")).status).toBe(400);
  });

  const routed = [
    "/graphql",
    "/graphql?",
    "/%67raphql",
    "/%67%72%61%70%68%71%6c",
    "http://127.0.0.1/graphql",
    "http://evil.example/graphql",
  ];
  it.each(routed)("answers 401 before reading the body of a POST to %s (a spelling routed to GraphQL)", async (target) => {
    const port = await gateway();
    const res = await partial(port, "POST", target);
    expect(res.status).toBe(401);
  });

  const unrouted = ["/graphql/", "//graphql", "/%2Fgraphql", "/GRAPHQL", "/graphql;a=b", "/health/live", "/nothing"];
  it.each(unrouted)("answers 404 before reading the body of a POST to %s (no route takes it)", async (target) => {
    const port = await gateway();
    const res = await partial(port, "POST", target, {}, { chunked: true });
    expect(res.status).toBe(404);
    expect(res.closed).toBe(true);
  });
});

describe("JSON nesting in bodies that are read", () => {
  const nested = (levels: number) => `{"query":"{ __typename }","variables":{"a":${"[".repeat(levels)}${"]".repeat(levels)}}}`;

  it("refuses a body nested deeper than 64 levels with 400 BAD_REQUEST before the variables' own check", async () => {
    await gateway();
    const deep = await gw!.post(nested(63), { "x-api-key": KEY }); // 2 levels of object + 63 of arrays
    expect(deep.status).toBe(400);
    expect(deep.body).toEqual({
      errors: [{ message: "The request body nests JSON deeper than 64 levels.", extensions: { code: "BAD_REQUEST" } }],
    });
    // 64 levels pass the body's bound and reach the variables' check, which names the variable.
    const fits = await gw!.post(nested(62), { "x-api-key": KEY });
    expect(fits.status).toBe(400);
    expect(fits.body.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const shallow = await gw!.post(nested(30), { "x-api-key": KEY });
    expect(shallow.status).toBe(200);
    expect(shallow.body).toEqual({ data: { __typename: "Query" } });
  });

  it("counts only brackets outside strings, escaped quotes included", async () => {
    await gateway();
    const body = JSON.stringify({ query: "{ __typename }", variables: { s: `\\"${"[".repeat(500)}`, t: "{".repeat(500) } });
    const res = await gw!.post(body, { "x-api-key": KEY });
    expect(res.status).toBe(200);
  });

  it("still refuses __proto__ keys (fastify's secure-json-parse runs after the depth check)", async () => {
    await gateway();
    const res = await gw!.post('{"query":"{ __typename }","__proto__":{"x":1}}', { "x-api-key": KEY });
    expect(res.status).toBe(400);
  });
});

describe("a flood of unauthenticated deep bodies", () => {
  /**
   * One request sending its whole body in 16 KB writes, stopping once answered; resolves with the status,
   * or 0 if the connection ended without one.
   */
  function send(port: number, body: string): Promise<number> {
    return new Promise((resolve) => {
      let status = 0;
      let text = "";
      const socket = connect(port, "127.0.0.1", async () => {
        socket.write(`POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`);
        for (let at = 0; at < body.length && status === 0 && !socket.destroyed; at += 16_384) {
          if (!socket.write(body.slice(at, at + 16_384))) await new Promise((r) => socket.once("drain", r).once("close", r));
        }
      });
      const finish = () => {
        socket.destroy();
        resolve(status);
      };
      socket.on("data", (c: Buffer) => {
        text += c.toString("latin1");
        status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
        if (status !== 0) finish();
      });
      socket.on("error", finish);
      socket.on("close", finish);
    });
  }

  it("refuses every request and keeps /health/live answering", async () => {
    const port = await gateway({ AUTH_FAILURE_LIMIT: "30/60s" });
    sim.reset();
    // The issue's body (480,000 levels, 960 KB) and one within MAX_BODY_BYTES (100,000 levels, 200 KB).
    const deep = (levels: number) => `{"query":"{__typename}","variables":{"a":${"[".repeat(levels)}${"]".repeat(levels)}}}`;
    const bodies = [deep(480_000), deep(100_000)];
    const until = Date.now() + 3_000;
    const statuses: number[] = [];
    const senders = Array.from({ length: 4 }, async (_, i) => {
      while (Date.now() < until) statuses.push(await send(port, bodies[i % 2]!));
    });
    const health: number[] = [];
    const latencies: number[] = [];
    const probe = (async () => {
      while (Date.now() < until) {
        const t0 = performance.now();
        health.push((await fetch(gw!.gateway.url.replace("/graphql", "/health/live"))).status);
        latencies.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await Promise.all([...senders, probe]);
    latencies.sort((a, b) => a - b);
    process.stdout.write(
      `flood: ${statuses.length} requests refused; /health/live p50 ${latencies[Math.floor(latencies.length / 2)]!.toFixed(1)} ms over ${latencies.length} probes\n`,
    );
    expect(statuses.length).toBeGreaterThan(4);
    // Refused, or (rarely) a connection reset before the refusal was read: never parsed, never answered otherwise.
    expect(statuses.filter((s) => s !== 401 && s !== 429 && s !== 0)).toEqual([]);
    expect(statuses.filter((s) => s === 401 || s === 429).length).toBeGreaterThan(statuses.length / 2);
    expect(new Set(health)).toEqual(new Set([200]));
    expect(sim.requests).toEqual([]);
  }, 30_000);
});
