import { print } from "graphql";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { loadConfig } from "../../src/config";
import { startGateway, type Gateway } from "../../src/gateway";
import { simulatorEnv, startSimulator, type Simulator, type SimulatorOptions } from "../../src/simulator/simulator";
import { LogCapture } from "./log-capture";

export interface GraphQLResponse<TData> {
  status: number;
  headers: Headers;
  body: {
    data?: TData | null;
    errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }>;
  };
  /** The raw response text, for checks that must see everything (secrets). */
  text: string;
}

export interface Stack {
  sim: Simulator;
  gateway: Gateway;
  logs: LogCapture;
  /** Every response body this stack returned, for secret checks. */
  responses: string[];
  gql<TData, TVars>(
    doc: TypedDocumentNode<TData, TVars>,
    variables: TVars,
    headers?: Record<string, string>,
  ): Promise<GraphQLResponse<TData>>;
  post(body: string, headers?: Record<string, string>): Promise<GraphQLResponse<unknown>>;
  close(): Promise<void>;
}

export { simulatorEnv };

/**
 * Fast retries and polls so failure paths finish in milliseconds; the cache, the rate limits and the
 * circuit breaker are out of the way unless a test turns them on, so call counts mean one thing.
 */
export const FAST = {
  PORT: "0",
  HOST: "127.0.0.1",
  LOG_LEVEL: "debug",
  UPSTREAM_RETRY_BASE_MS: "2",
  UPSTREAM_RETRY_MAX_MS: "20",
  ESET_PENDING_POLL_MS: "5",
  CACHE_TTL_SECONDS: "0",
  CACHE_NEGATIVE_TTL_SECONDS: "0",
  DEFENDER_RATE_LIMITS: "off",
  ESET_RATE_LIMITS: "off",
  CIRCUIT_FAILURE_THRESHOLD: "1000000",
  AUTH_MODE: "none",
  // Tests send bursts from one address on purpose; the suites about these limits turn them on.
  CALLER_RATE_LIMIT: "off",
  AUTH_FAILURE_LIMIT: "off",
};

/**
 * A simulator and a usergraph pointed at it, both on loopback, as real HTTP servers. `env` overrides or
 * removes (with "") variables; `simulatorEnv` is the default wiring.
 */
export async function startStack(
  env: Record<string, string> = {},
  simOptions: SimulatorOptions = {},
  wire: (sim: Simulator) => Record<string, string> = simulatorEnv,
): Promise<Stack> {
  const sim = await startSimulator(simOptions);
  let client: GatewayClient;
  try {
    client = await startGatewayOn(sim, env, wire);
  } catch (err) {
    await sim.close();
    throw err;
  }
  return {
    ...client,
    sim,
    close: async () => {
      await client.close();
      await sim.close();
    },
  };
}

/** A usergraph on loopback and a typed way to query it; closing it leaves the simulator running. */
export type GatewayClient = Omit<Stack, "sim">;

/**
 * A usergraph pointed at a simulator that is already running: for tests that stop one gateway and start
 * another on the same vendor data (a restart).
 */
export async function startGatewayOn(
  sim: Simulator,
  env: Record<string, string> = {},
  wire: (sim: Simulator) => Record<string, string> = simulatorEnv,
): Promise<GatewayClient> {
  const logs = new LogCapture();
  const merged: Record<string, string> = { ...FAST, ...wire(sim), ...env };
  const gateway = await startGateway(loadConfig(merged), { logDestination: logs });
  const responses: string[] = [];
  const post = async (body: string, headers: Record<string, string> = {}): Promise<GraphQLResponse<never>> => {
    const res = await fetch(gateway.url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
    });
    const text = await res.text();
    responses.push(text);
    return { status: res.status, headers: res.headers, body: JSON.parse(text), text };
  };
  return {
    gateway,
    logs,
    responses,
    gql: (doc, variables, headers) => post(JSON.stringify({ query: print(doc), variables }), headers),
    post,
    close: async () => {
      await gateway.stop();
    },
  };
}

/** The codes of a response's errors, in order. */
export function codes(res: GraphQLResponse<unknown>): unknown[] {
  return (res.body.errors ?? []).map((e) => e.extensions?.code);
}

/**
 * Two stacks for a test file, started once: one with the cache off and one that keeps listings for a minute
 * (`CACHE_TTL_SECONDS=60`), each on its own simulator with `sim`, reset before every test so no test reads
 * another's calls or faults. `use` receives them when they are up.
 */
export function useStackPair(sim: SimulatorOptions, use: (plain: Stack, cached: Stack) => void): void {
  let pair: Stack[] = [];
  beforeAll(async () => {
    pair = await Promise.all([startStack({}, sim), startStack({ CACHE_TTL_SECONDS: "60" }, sim)]);
    use(pair[0]!, pair[1]!);
  });
  afterAll(() => Promise.all(pair.map((s) => s.close())));
  beforeEach(() => pair.forEach((s) => s.sim.reset()));
}
