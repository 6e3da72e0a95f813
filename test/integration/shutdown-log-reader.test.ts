import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * The gateway exits after SIGTERM whatever its log reader does: the reader closed its end of the pipes
 * (a supervisor or test runner that exited), or stopped reading. Before, with the reader gone, the exit's
 * synchronous log flush retried EPIPE every 100 ms forever and the process never exited (nor heeded
 * another SIGTERM). Real child processes with real pipes, as a supervisor runs them.
 */
const root = join(__dirname, "..", "..");
// dist-test/ is compiled once for all suites by test/global-setup.ts.
const main = join(root, "dist-test", "main.js");
const GRACE_MS = 2_000;
/** What main.ts promises: gone at most 3 s after the grace period. The extra second is for observing it on a loaded machine. */
const EXIT_BOUND_MS = GRACE_MS + 3_000 + 1_000;
const env = {
  PATH: process.env.PATH ?? "",
  HOME: process.env.HOME ?? "/tmp",
  PORT: "0",
  LOG_LEVEL: "debug",
  SHUTDOWN_GRACE_MS: String(GRACE_MS),
  GRAPHQL_SANDBOX: "1",
  // Every lookup reaches the simulator and logs its call; the demo's vendor budget would only queue them.
  CACHE_TTL_SECONDS: "0",
  DEFENDER_RATE_LIMITS: "off",
};

interface Started {
  child: ChildProcess;
  url: string;
  /** Stops reading both pipes and lets the data accumulate in them (the reader is "paused"). */
  pause(): void;
  /** Closes the reading ends of both pipes (the reader is gone). */
  close(): void;
}

async function start(command: string, args: string[], options: { cwd?: string; detached?: boolean } = {}): Promise<Started> {
  const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"], ...options });
  let out = "";
  const onData = (d: Buffer) => (out += d.toString());
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const until = Date.now() + 30_000;
  let url: string | undefined;
  while (!(url = /Apollo Sandbox:\s+(http:\/\/127\.0\.0\.1:\d+\/graphql)/.exec(out)?.[1])) {
    if (Date.now() > until || child.exitCode !== null) throw new Error(`the gateway did not start; output:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    url,
    pause: () => {
      for (const s of [child.stdout!, child.stderr!]) {
        s.removeAllListeners("data");
        s.pause();
      }
    },
    close: () => {
      child.stdout!.destroy();
      child.stderr!.destroy();
    },
  };
}

/**
 * Requests at debug level, each looking up `idsPerRequest` distinct unknown Defender ids: one debug line
 * per vendor call (about 280 bytes), so the log volume is chosen by the caller.
 */
async function traffic(url: string, requests: number, idsPerRequest = 1): Promise<void> {
  for (let sent = 0; sent < requests; sent += 20) {
    await Promise.all(
      Array.from({ length: Math.min(20, requests - sent) }, (_, i) => {
        const ids = Array.from({ length: idsPerRequest }, (_, j) => `contoso\\\\nobody-${sent + i}-${j}`);
        const body = JSON.stringify({ query: `{ defenderUsers(ids: [${ids.map((id) => `"${id}"`).join(",")}]) { id } }` });
        return fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body }).then((r) => r.arrayBuffer());
      }),
    );
  }
}

function exitOf(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
}

/** Whether `promise` settles within `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Processes of a process group that are still running (zombies have exited: nobody may reap them in a container). */
function liveMembers(pgid: number): number[] {
  const live: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid pgrp …: comm may hold spaces and parentheses, so read after the last ")".
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) === pgid && state !== "Z" && state !== "X") live.push(Number(name));
  }
  return live;
}

async function groupGone(pgid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (liveMembers(pgid).length > 0) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

describe("shutdown whatever the log reader does", () => {
  let app: Started | undefined;
  afterEach(() => {
    app?.child.kill("SIGKILL");
    app = undefined;
  });

  it("exits within the grace period + 3 s when the reader of stdout and stderr has closed them", async () => {
    app = await start(process.execPath, [main]);
    await traffic(app.url, 300);
    app.close();
    app.child.kill("SIGTERM");
    expect(await within(exitOf(app.child), EXIT_BOUND_MS)).toBe(true);
    expect(app.child.exitCode).toBe(0);
  }, 60_000);

  it("exits within the grace period + 3 s when the reader has stopped reading and the pipe is full", async () => {
    app = await start(process.execPath, [main]);
    app.pause();
    // About 1 MB of debug lines, more than the pipe holds: the gateway's writes now answer EAGAIN.
    await traffic(app.url, 200, 20);
    app.child.kill("SIGTERM");
    expect(await within(exitOf(app.child), EXIT_BOUND_MS)).toBe(true);
    expect(app.child.exitCode).toBe(0);
  }, 90_000);

  describe("under `npm start`", () => {
    let dir: string;
    beforeAll(() => {
      // `npm start` as a user runs it (npm → sh → scripts/start.js → main), in a copy of the project's
      // shape whose dist/ is up to date (it forwards to dist-test/), so start.js does not compile.
      dir = mkdtempSync(join(tmpdir(), "usergraph-npm-start-"));
      mkdirSync(join(dir, "scripts"));
      mkdirSync(join(dir, "src"));
      mkdirSync(join(dir, "dist"));
      copyFileSync(join(root, "scripts", "start.js"), join(dir, "scripts", "start.js"));
      writeFileSync(
        join(dir, "package.json"),
        JSON.stringify({ name: "usergraph-start-test", private: true, scripts: { start: "node scripts/start.js" } }),
      );
      writeFileSync(join(dir, "dist", "main.js"), `require(${JSON.stringify(main)});\n`);
      writeFileSync(join(dir, "dist", ".build-stamp"), "now\n");
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("leaves no process of its group running when the group gets SIGTERM as the runner that read its output exits", async () => {
      app = await start("npm", ["start", "--silent"], { cwd: dir, detached: true });
      const pgid = app.child.pid!;
      await traffic(app.url, 300);
      app.close();
      process.kill(-pgid, "SIGTERM");
      const gone = await groupGone(pgid, EXIT_BOUND_MS);
      if (!gone) for (const pid of liveMembers(pgid)) process.kill(pid, "SIGKILL");
      expect(gone).toBe(true);
    }, 60_000);
  });
});
