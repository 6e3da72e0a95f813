import "reflect-metadata";
import { ConfigError, loadConfig, type Config } from "./config";
import { browserPages, demoBanner } from "./demo";
import { checkCredentials } from "./credential-check";
import { startGateway } from "./gateway";
import { flushLogs } from "./observability/logger";
import { sourceFacts } from "./upstream/source";

/** After the grace period, how long shutdown may still take before the process exits regardless. */
const EXIT_MARGIN_MS = 3_000;
/** How long buffered log lines may take to drain on the way out. */
const LOG_FLUSH_MS = 1_000;

/** Entry point: the only module with start-up side effects (listen, signals, exit codes). */
async function main(): Promise<void> {
  // A reader of stdout/stderr that went away (EPIPE) must not crash the gateway: an unhandled 'error' on
  // these streams would end the process in the middle of requests. What cannot be written is dropped.
  process.stdout.on("error", () => {});
  process.stderr.on("error", () => {});
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }

  if (config.ignoredByDemo.length > 0) {
    process.stderr.write(
      `usergraph: DEMO=1, so the vendor credentials that are set are IGNORED (${config.ignoredByDemo.join(", ")}): both sources point at the built-in simulator. Unset DEMO to use them.\n`,
    );
  }
  const gateway = await startGateway(config);
  const tenants = gateway.clients.tenants.ids;
  // With TENANTS_FILE, nothing is started yet: each tenant logs in on its first request (docs/tenants.md).
  const sources = gateway.clients.tenants.reloadable
    ? `${tenants.length} tenant${tenants.length === 1 ? "" : "s"} (each started on its first request)`
    : [...gateway.clients.sources.keys()].map((name) => sourceFacts(name)?.short ?? name).join(" and ") || "no source";
  gateway.log.info({ url: gateway.url, demo: config.demo, sources }, "usergraph listening");
  const pages = { sandbox: config.sandbox, explorer: config.explorer };
  if (config.demo && gateway.simulator) process.stdout.write(demoBanner(gateway.url, gateway.simulator.url, pages));
  else
    process.stdout.write(["", `usergraph is serving ${sources} at ${gateway.url}`, ...browserPages(gateway.url, pages), "", ""].join("\n"));

  if (!config.demo) {
    // Wrong credentials are said at start-up, per source, on stderr as well as in the log; serving goes on.
    void checkCredentials(gateway.clients, gateway.log).then((checks) => {
      for (const check of checks) if (!check.ok) process.stderr.write(`usergraph: ${check.line}\n`);
    });
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    gateway.log.info({ signal }, "shutting down: finishing in-flight requests");
    // Last resort: whatever hangs (a close that never completes), the process is gone shortly after the
    // grace period. Nothing on the way out blocks the event loop or writes synchronously (see logger.ts),
    // so this timer can fire and the exit it calls is immediate.
    setTimeout(() => process.exit(1), config.shutdownGraceMs + EXIT_MARGIN_MS).unref();
    // Lines still buffered get a second to reach a slow log consumer; a stalled one does not hold the exit.
    const exit = (code: number) => void flushLogs(gateway.log, LOG_FLUSH_MS).then(() => process.exit(code));
    gateway.stop().then(
      (summary) => {
        // Exit 0 only when every request got an answer (data, an error, or the retryable 503 at the grace's end).
        if (summary.cut > 0) gateway.log.error({ cut: summary.cut }, "shutdown cut connections with no answer");
        exit(summary.cut > 0 ? 1 : 0);
      },
      (err: unknown) => {
        gateway.log.error({ err }, "error during shutdown");
        exit(1);
      },
    );
  };
  // SIGHUP reads TENANTS_FILE and the trusted documents' manifests again (a reloaded file brings its tenants'
  // own manifests with it); one that does not load leaves what is in force as it was.
  process.on("SIGHUP", () => {
    if (!gateway.reloadTenants(process.env)) gateway.trustedDocuments.reload();
  });
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((err: unknown) => {
  process.stderr.write(`usergraph failed to start: ${(err as Error)?.message ?? String(err)}\n`);
  process.exit(1);
});
