import "reflect-metadata";
import { ConfigError, loadConfig, type Config } from "./config";
import { demoBanner } from "./demo";
import { startGateway } from "./gateway";

/** Entry point: the only module with start-up side effects (listen, signals, exit codes). */
async function main(): Promise<void> {
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

  const gateway = await startGateway(config);
  const sources = [gateway.config.defender && "Defender", gateway.config.eset && "ESET"].filter(Boolean).join(" and ") || "no source";
  gateway.log.info({ url: gateway.url, demo: config.demo, sources }, "usergraph listening");
  if (config.demo && gateway.simulator) process.stdout.write(demoBanner(gateway.url, gateway.simulator.url));
  else process.stdout.write(`\nusergraph is serving ${sources} at ${gateway.url}\n\n`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    gateway.log.info({ signal }, "shutting down: finishing in-flight requests");
    gateway.stop().then(
      (summary) => {
        // Exit 0 only when every request got an answer (data, an error, or the retryable 503 at the grace's end).
        if (summary.cut > 0) gateway.log.error({ cut: summary.cut }, "shutdown cut connections with no answer");
        process.exit(summary.cut > 0 ? 1 : 0);
      },
      (err: unknown) => {
        gateway.log.error({ err }, "error during shutdown");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((err: unknown) => {
  process.stderr.write(`usergraph failed to start: ${(err as Error)?.message ?? String(err)}\n`);
  process.exit(1);
});
