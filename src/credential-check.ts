import type { Logger } from "pino";
import type { Clients } from "./sources/clients";
import { Deadline } from "./upstream/deadline";
import { sourceFacts, type SourceName } from "./upstream/source";
import { UpstreamError } from "./upstream/upstream-error";

export interface CredentialCheck {
  source: SourceName;
  ok: boolean;
  /** One line for a person: what the vendor said and what to check. */
  line: string;
}

/**
 * At start-up, asks each configured vendor for a token once, so wrong credentials are said loudly then,
 * per source and with the vendor's error code, instead of at the first query. It does not stop start-up:
 * a vendor that is down for a minute must not keep usergraph from serving the other source or retrying.
 * The token obtained is cached and serves the first query.
 */
export async function checkCredentials(clients: Clients, log: Logger, timeoutMs = 10_000): Promise<CredentialCheck[]> {
  return Promise.all(
    [...clients.sources].map(async ([source, { token }]): Promise<CredentialCheck> => {
      try {
        await token.getToken(new Deadline(timeoutMs));
        log.info({ component: "credential-check", source }, `${source} accepted usergraph's credentials (token obtained)`);
        return { source, ok: true, line: `${source}: credentials accepted` };
      } catch (err) {
        const e = err instanceof UpstreamError ? err : undefined;
        const said = [e?.upstreamCode, e?.status !== undefined ? `HTTP ${e.status}` : undefined, e && !e.status ? e.kind : undefined]
          .filter(Boolean)
          .join(", ");
        const refused = e?.kind === "http" && (e.status === 400 || e.status === 401 || e.status === 403);
        const line = refused
          ? `${source} REFUSED usergraph's credentials at start-up (${said}): check ${sourceFacts(source)?.credentialCheck ?? "its credentials"}; its fields answer UPSTREAM_UNAUTHENTICATED until this is fixed.`
          : `${source} could not be asked for a token at start-up (${said || "unknown error"}): usergraph serves and retries on demand; /health/ready shows the state.`;
        log.error({ component: "credential-check", source, kind: e?.kind, status: e?.status, upstreamCode: e?.upstreamCode }, line);
        return { source, ok: false, line };
      }
    }),
  );
}
