import type { Logger } from "pino";
import { DefenderClient, defenderErrorFacts } from "./defender.client";
import { entraClientCredentials, type EntraCredentials } from "./entra-token";
import { EsetClient, esetErrorFacts } from "./eset.client";
import { EsetTokenFlow, type EsetCredentials } from "./eset-token";
import { JsonApi, RetryingSender, type AttemptObserver } from "./http-json";
import { HttpTransport } from "./http-transport";
import { parseJsonLossless } from "./lossless-json";
import { RetryPolicy, type RetryOptions } from "./retry-policy";
import { TokenCache } from "./token-cache";

export interface ClientsOptions {
  defender?: EntraCredentials & { apiUrl: URL };
  eset?: EsetCredentials & { apiUrl: URL };
  attemptTimeoutMs: number;
  retry: RetryOptions;
  esetPendingPollMs: number;
  log: Logger;
  /** Told about every token obtained, so logs can redact it. */
  onToken: (token: string) => void;
}

export interface Clients {
  defender?: DefenderClient;
  eset?: EsetClient;
  close(): Promise<void>;
}

/** Builds the process-wide upstream machinery once: one pool, one token cache per source, one client each. */
export function createClients(options: ClientsOptions): Clients {
  const transport = new HttpTransport();
  const log = options.log.child({ component: "upstream" });
  const observe: AttemptObserver = (e) => {
    const level = e.error !== undefined || (e.status !== undefined && e.status >= 400) ? "info" : "debug";
    log[level](
      {
        source: e.source,
        phase: e.phase,
        method: e.method,
        path: e.phase === "token" ? "(token endpoint)" : e.path,
        status: e.status,
        error: e.error,
        durationMs: Math.round(e.durationMs * 10) / 10,
        attempt: e.attempt,
        upstreamRequestId: e.upstreamRequestId,
      },
      "upstream call",
    );
  };
  const sender = new RetryingSender(transport, new RetryPolicy(options.retry), options.attemptTimeoutMs, observe);

  let defender: DefenderClient | undefined;
  if (options.defender) {
    const token = new TokenCache(entraClientCredentials(sender, options.defender), options.onToken);
    defender = new DefenderClient(
      new JsonApi({ source: "DEFENDER", baseUrl: options.defender.apiUrl, sender, token, errorFacts: defenderErrorFacts }),
    );
  }

  let eset: EsetClient | undefined;
  if (options.eset) {
    const flow = new EsetTokenFlow(sender, options.eset, log, options.onToken);
    const token = new TokenCache(flow.fetch, options.onToken);
    eset = new EsetClient(
      new JsonApi({
        source: "ESET",
        baseUrl: options.eset.apiUrl,
        sender,
        token,
        errorFacts: esetErrorFacts,
        parseBody: parseJsonLossless,
        pending: { initialPollMs: options.esetPendingPollMs, maxPollMs: Math.max(options.esetPendingPollMs, 5_000) },
      }),
    );
  }

  return { defender, eset, close: () => transport.close() };
}
