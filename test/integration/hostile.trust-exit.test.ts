import { spawn } from "node:child_process";
import { join } from "node:path";

/**
 * The real entry point (`node dist-test/main.js`) with stdout a pipe nobody reads, as when a log consumer
 * stopped reading or died: after SIGTERM the process must be gone within the grace period and a little,
 * whatever happens to its logs. Before: pino's exit flush retried the full pipe forever.
 */
const main = join(__dirname, "..", "..", "dist-test", "main.js");
const GRACE_MS = 1_000;

it("exits after SIGTERM within the grace period while its stdout is a full pipe nobody reads", async () => {
  const child = spawn(process.execPath, [main], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      PORT: "0",
      LOG_LEVEL: "trace",
      SHUTDOWN_GRACE_MS: String(GRACE_MS),
      DEFENDER_RATE_LIMITS: "off",
      CACHE_TTL_SECONDS: "0",
      CACHE_NEGATIVE_TTL_SECONDS: "0",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.on("exit", (code) => resolve({ code, at: Date.now() })),
  );
  try {
    let out = "";
    const read = (d: Buffer) => (out += d.toString());
    child.stdout!.on("data", read);
    const until = Date.now() + 20_000;
    let m: RegExpExecArray | null;
    while (!(m = /Apollo Sandbox:\s+(http:\/\/127\.0\.0\.1:\d+\/graphql)/.exec(out))) {
      if (Date.now() > until) throw new Error(`usergraph did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const url = m[1]!;
    // Nobody reads stdout from here on: the pipe (64 KiB) and the reader's buffer fill up.
    child.stdout!.off("data", read);
    child.stdout!.pause();
    const query = "query Fill($ids: [ID!]!) { defenderUsers(ids: $ids) { id } }";
    let written = 0;
    for (let round = 0; round < 10; round++) {
      const ids = Array.from({ length: 100 }, (_, i) => `contoso\\nobody-${round}-${i}`);
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query, variables: { ids } }),
      });
      expect(res.status).toBe(200);
      await res.text();
      written += 100;
    }
    // Each unknown id is a trace/debug line of ~300 bytes: about 300 KB for a pipe that holds 64 KiB.
    expect(written).toBe(1_000);

    const sent = Date.now();
    child.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"still running">((resolve) => (timer = setTimeout(() => resolve("still running"), 15_000)));
    const outcome = await Promise.race([exited, timeout]);
    clearTimeout(timer); // else it holds jest open for 15 s after the test
    expect(outcome).not.toBe("still running");
    const { code, at } = outcome as { code: number | null; at: number };
    // Grace (1 s) + the bounded log flush (1 s) + the exit flush (0.5 s), with room for a busy machine.
    expect(at - sent).toBeLessThan(GRACE_MS + 4_000);
    expect(code).toBe(0);
  } finally {
    child.kill("SIGKILL");
  }
}, 60_000);
