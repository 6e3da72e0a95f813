import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";

/**
 * Unauthenticated senders of large request bodies against a gateway with client auth, while /health/live
 * is sampled: what work before authentication costs everyone else (issue 18). Each sender loops over raw
 * sockets: `{"query":"{__typename}","variables":{"a":[[[[…]]]]}}` 480,000 levels deep (960 KB), or a flat
 * body of the same size with `--flat`. Prints /health/live latency percentiles, the gateway's CPU use and
 * what the senders were answered.
 *
 *   npm run build && npx tsc -p tsconfig.bench.json && node dist-bench/bench/flood.js [--main dist/main.js]
 *     [--senders 4] [--seconds 10] [--levels 480000] [--flat]
 *
 * `--levels 100000` makes the bodies 200 KB, within MAX_BODY_BYTES. `--main` runs another build (e.g. the
 * starting commit's, compiled with tsc into a folder that also links node_modules and schema) for a
 * before/after comparison.
 */
const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};
const main = option("main", join(__dirname, "..", "..", "dist", "main.js"));
const senders = Number(option("senders", "4"));
const seconds = Number(option("seconds", "10"));
const flat = args.includes("--flat");
const LEVELS = Number(option("levels", "480000"));

const body = flat
  ? JSON.stringify({ query: "{__typename}", variables: { a: "x".repeat(2 * LEVELS) } })
  : `{"query":"{__typename}","variables":{"a":${"[".repeat(LEVELS)}${"]".repeat(LEVELS)}}}`;

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** CPU seconds (user + system) the process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100 Hz)
}

/** One request over its own socket: resolves with the status, or 0 when the connection ended without one. */
function send(port: number): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let answer = "";
    let done = false;
    const finish = (status: number) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve(status);
    };
    socket.on("connect", () => {
      socket.write(
        `POST /graphql HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n`,
      );
      socket.write(body);
    });
    socket.on("data", (chunk: Buffer) => {
      answer += chunk.toString("latin1");
      const m = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      if (m) finish(Number(m[1]));
    });
    socket.on("error", () => finish(0));
    socket.on("close", () => finish(0));
  });
}

async function run(): Promise<void> {
  const child = spawn(process.execPath, [main], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      PORT: "0",
      DEMO: "1",
      AUTH_API_KEYS: "flood-bench-key-0123456789",
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  let url: string | undefined;
  while (!(url = /(http:\/\/127\.0\.0\.1:\d+)\/graphql/.exec(out)?.[1])) {
    if (child.exitCode !== null) throw new Error(`the gateway exited at start-up:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const port = Number(new URL(url).port);

  const quiet: number[] = [];
  const sample = async (into: number[], until: number) => {
    while (Date.now() < until) {
      const t0 = performance.now();
      await fetch(`${url}/health/live`).then((r) => r.arrayBuffer());
      into.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await sample(quiet, Date.now() + 2_000);

  const until = Date.now() + seconds * 1000;
  const statuses = new Map<number, number>();
  const cpuBefore = cpuSeconds(child.pid!);
  const wallBefore = performance.now();
  const flooding = Array.from({ length: senders }, async () => {
    while (Date.now() < until) {
      const status = await send(port);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  });
  const loaded: number[] = [];
  await Promise.all([sample(loaded, until), ...flooding]);
  const cpu = (cpuSeconds(child.pid!) - cpuBefore) / ((performance.now() - wallBefore) / 1000);
  child.kill("SIGKILL");

  const show = (name: string, xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return `${name}: n=${s.length} p50=${percentile(s, 50).toFixed(1)} ms p90=${percentile(s, 90).toFixed(1)} ms max=${s[s.length - 1]!.toFixed(1)} ms`;
  };
  process.stdout.write(
    [
      `main: ${main}; ${senders} senders of ${flat ? "flat" : "deep"} ${Buffer.byteLength(body)}-byte bodies for ${seconds} s`,
      show("/health/live, quiet", quiet),
      show("/health/live, under the flood", loaded),
      `gateway CPU under the flood: ${(cpu * 100).toFixed(0)}% of one core`,
      `flood answers: ${[...statuses.entries()].map(([s, n]) => `${s === 0 ? "no answer (connection closed)" : s}: ${n}`).join(", ")}`,
      "",
    ].join("\n"),
  );
}

run().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
