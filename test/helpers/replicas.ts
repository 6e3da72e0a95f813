import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { join } from "node:path";
import type { Simulator } from "../../src/simulator/simulator";
import { FAST, simulatorEnv } from "./stack";

/**
 * Real usergraph processes (`node dist-test/main.js`, compiled by test/global-setup.ts) and real Redis
 * servers, for the scale-out tests: replicas share nothing but the simulator and Redis, as in production.
 */
const main = join(__dirname, "..", "..", "dist-test", "main.js");

export interface Replica {
  url: string;
  child: ChildProcess;
  stdout(): string;
  /** Resolves once the output (logs are flushed every 250 ms) matches. */
  waitForOutput(pattern: RegExp, ms?: number): Promise<void>;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
}

/** A key prefix no other test uses, so suites can share the Redis on 6379. */
export function uniquePrefix(): string {
  return `ugtest:${randomBytes(6).toString("hex")}:`;
}

/** A replica pointed at the simulator, with the tests' fast settings and `env` on top. */
export async function startReplica(sim: Simulator, env: Record<string, string>): Promise<Replica> {
  const child = spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...FAST, LOG_LEVEL: "info", ...simulatorEnv(sim), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const until = Date.now() + 60_000; // a cold start on a loaded 2-core machine has taken over 20 s
  for (;;) {
    const m = /serving .* at (http:\/\/127\.0\.0\.1:\d+\/graphql)/.exec(out);
    if (m) {
      return {
        url: m[1]!,
        child,
        stdout: () => out,
        waitForOutput: async (pattern, ms = 5_000) => {
          const deadline = Date.now() + ms;
          while (!pattern.test(out)) {
            if (Date.now() > deadline) throw new Error(`no ${pattern} in the replica's output:\n${out}`);
            await new Promise((r) => setTimeout(r, 25));
          }
        },
        stop: async () => {
          if (child.exitCode === null) child.kill("SIGTERM");
          return exited;
        },
      };
    }
    if (child.exitCode !== null || Date.now() > until) {
      child.kill("SIGKILL");
      throw new Error(`replica did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function gql(url: string, query: string, variables?: Record<string, unknown>): Promise<{ data?: any; errors?: any[] }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: any; errors?: any[] };
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A private redis-server (Debian's, as in production) that a test may kill and restart on the same port. */
export class PrivateRedis {
  private child?: ChildProcess;

  private constructor(
    readonly port: number,
    private readonly password?: string,
  ) {}

  static async start(password?: string): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), password);
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://${this.password ? `:${encodeURIComponent(this.password)}@` : ""}127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const auth = this.password ? ["--requirepass", this.password] : [];
    const child = spawn("redis-server", ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...auth], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    const until = Date.now() + 10_000;
    while (!/Ready to accept connections/.test(out)) {
      if (child.exitCode !== null || Date.now() > until) throw new Error(`redis-server did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Freezes it (SIGSTOP): connections stay open and nothing answers, as on a stuck host. */
  pause(): void {
    this.child?.kill("SIGSTOP");
  }

  /** Thaws it (SIGCONT): it answers everything sent meanwhile. */
  resume(): void {
    this.child?.kill("SIGCONT");
  }

  /** Kills it outright (SIGKILL): connections drop as in a crash. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  }
}
