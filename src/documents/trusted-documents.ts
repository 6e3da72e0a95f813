import type { ApolloServerPlugin, GraphQLRequest, GraphQLRequestListener } from "@apollo/server";
import { GraphQLError } from "graphql";
import type { Logger } from "pino";
import type { TrustedDocumentsMode } from "../config";
import { visibleTenants } from "../auth/principal";
import type { Context } from "../context";
import { ErrorCode } from "../errors/error-code";
import type { Metrics } from "../observability/metrics";
import { clip } from "../observability/log-bounds";
import { DocumentRegistry, sha256Hex, type RegisteredDocument, type TenantFilter, type TenantManifests } from "./registry";

/** A configured tenant as trusted documents need it: its id, and its own manifests (TENANTS_FILE `documents`). */
export interface TenantDocuments {
  readonly id: string;
  readonly documents?: readonly string[];
}

/** How many distinct unregistered documents are logged (once each) before the log stops naming new ones; the metric still counts. */
const MAX_LOGGED_HASHES = 10_000;

/**
 * The trusted-documents registry in force, its mode, and its reload. A reload builds a whole new registry
 * and swaps it in only when every manifest loaded: a broken manifest on SIGHUP keeps the old registry.
 *
 * A caller may use the built-in operations, TRUSTED_DOCUMENTS_MANIFESTS' documents, and the documents of
 * the tenants it sees (their TENANTS_FILE `documents`); another tenant's document is, for it, exactly an
 * unknown one (same refusal, same log line, same metric), so no answer tells that some tenant has it.
 */
export class TrustedDocuments {
  #registry: DocumentRegistry;
  /** Every configured tenant's id (whom a caller sees is computed from these) and the manifests of those that have some. */
  #tenants: { ids: readonly string[]; manifests: readonly TenantManifests[] };
  private readonly logged = new Set<string>();
  private readonly loadListeners: Array<(registry: DocumentRegistry) => void> = [];

  constructor(
    readonly mode: TrustedDocumentsMode,
    private readonly manifests: readonly string[],
    private readonly log: Logger,
    private readonly metrics?: Metrics,
    registry?: DocumentRegistry,
    tenants: readonly TenantDocuments[] = [],
  ) {
    this.#tenants = tenantsOf(tenants);
    this.#registry = registry ?? DocumentRegistry.load(manifests, undefined, this.#tenants.manifests);
  }

  get registry(): DocumentRegistry {
    return this.#registry;
  }

  /** Calls `listener` with the registry in force now and with each one a reload swaps in, before it is in force (the fast path prepares its documents). */
  onLoad(listener: (registry: DocumentRegistry) => void): void {
    this.loadListeners.push(listener);
    listener(this.#registry);
  }

  /**
   * Reads schema/operations/ and the manifests again (SIGHUP), each tenant's included; `tenants` replaces
   * the configured tenants (a reloaded TENANTS_FILE) when the new registry loads. Returns whether it is in force.
   */
  reload(tenants?: readonly TenantDocuments[]): boolean {
    try {
      const nextTenants = tenants ? tenantsOf(tenants) : this.#tenants;
      const next = DocumentRegistry.load(this.manifests, undefined, nextTenants.manifests);
      for (const listener of this.loadListeners) listener(next);
      this.#tenants = nextTenants;
      this.#registry = next;
      this.log.info({ component: "trusted-documents", documents: next.size, mode: this.mode }, "trusted documents reloaded");
      return true;
    } catch (err) {
      this.log.error(
        { component: "trusted-documents", reason: (err as Error).message },
        "trusted documents NOT reloaded: the registry in force is unchanged",
      );
      return false;
    }
  }

  /**
   * The Apollo plugin. It must come before the APQ plugin in the plugin list: Apollo calls every
   * `requestDidStart` in order, and this one decides synchronously, before the APQ plugin looks a hash up
   * in its store (a document stored by APQ is not trusted for that).
   *
   * It reads exactly what Apollo will execute (the GraphQLRequest Apollo built from the HTTP request:
   * `query`, `extensions.persistedQuery`) plus `documentId` from the same place Apollo reads the rest (the
   * JSON body of a POST, the query string of a GET, where Apollo too refuses a parameter given twice), so
   * no other spelling of a request can run a document this check did not see.
   */
  plugin(): ApolloServerPlugin<Context> {
    const logMode: GraphQLRequestListener<Context> = {
      didResolveSource: async ({ source, queryHash, contextValue, request }) => {
        // After APQ: `source` is the text that will run (sent, or looked up by hash), `queryHash` its SHA-256.
        if (this.#registry.byDocument(source, this.mayOf(contextValue))) return;
        this.metrics?.untrustedDocuments.inc({ action: "logged" });
        this.note("warn", queryHash, contextValue, request.operationName, "unregistered document answered (TRUSTED_DOCUMENTS=log)");
      },
    };
    return {
      requestDidStart: async ({ request, contextValue }) => {
        const refusal = this.resolve(request, contextValue);
        if (refusal) {
          // Apollo cannot be answered from requestDidStart (a throw there is a 500). The request is turned into
          // a fixed document that Apollo parses once and keeps, and refused where Apollo reports an error as
          // the client's (didResolveOperation, with the error's HTTP status): the untrusted document is never
          // parsed, validated or priced, and the refusal goes through the same formatting, log line and metrics.
          request.query = REFUSED_PLACEHOLDER;
          request.extensions = undefined;
          request.operationName = undefined;
          request.variables = undefined;
          return {
            async didResolveOperation() {
              throw refusal;
            },
          };
        }
        return this.mode === "log" ? logMode : undefined;
      },
    };
  }

  /**
   * Resolves `documentId` and registered APQ hashes into the request's `query`, and in enforce mode refuses
   * anything else. Returns the refusal, if any.
   */
  private resolve(request: GraphQLRequest, context: Context): GraphQLError | undefined {
    const registry = this.#registry;
    const may = this.mayOf(context);
    const given = documentIdOf(request);
    const persisted = request.extensions?.persistedQuery as unknown;
    if (given.present) {
      const id = given.value;
      const m = typeof id === "string" ? /^sha256:([0-9a-fA-F]{64})$/.exec(id) : null;
      if (!m) return badRequest('documentId must be given once, as "sha256:" and the 64 hex digits of the document\'s SHA-256.');
      const entry = registry.byId(m[1]!.toLowerCase(), may);
      if (!entry) {
        return new GraphQLError(
          "No registered document has this documentId: register the client's operations (docs/security.md, Trusted documents).",
          { extensions: { code: ErrorCode.DOCUMENT_NOT_FOUND, http: { status: 400 } } },
        );
      }
      if (request.query !== undefined && request.query !== entry.text)
        return badRequest("documentId and query name different documents; send one of them.");
      if (persisted !== undefined && (!isRecord(persisted) || persisted.sha256Hash !== entry.hash))
        return badRequest("documentId and extensions.persistedQuery name different documents; send one of them.");
      request.query = entry.text;
      return undefined;
    }
    let entry: RegisteredDocument | undefined;
    let hash: string | undefined;
    if (request.query === undefined) {
      // Nothing to run but, perhaps, an APQ hash. A registered one is answered from the registry (Apollo then
      // checks the hash against the text, as for any APQ request); an unknown one is left to APQ unless enforced.
      if (persisted === undefined) return undefined;
      const sent = isRecord(persisted) ? persisted.sha256Hash : undefined;
      // Exactly as Apollo compares hashes (lower-case hex): any other spelling is simply not registered.
      entry = typeof sent === "string" ? registry.byId(sent, may) : undefined;
      if (entry) {
        request.query = entry.text;
        return undefined;
      }
      hash = typeof sent === "string" ? clip(sent) : undefined;
    } else {
      entry = typeof request.query === "string" ? registry.byDocument(request.query, may) : undefined;
      if (entry) return undefined;
    }
    if (this.mode !== "enforce") return undefined;
    // Hashed only now, for the log: a registered document never pays for it.
    hash ??= typeof request.query === "string" ? sha256Hex(request.query) : undefined;
    this.metrics?.untrustedDocuments.inc({ action: "refused" });
    this.note("info", hash, context, request.operationName, "unregistered document refused (TRUSTED_DOCUMENTS=enforce)");
    return new GraphQLError(
      "This endpoint answers only registered documents (TRUSTED_DOCUMENTS=enforce), and this one is not: send the documentId of an operation its operator registered.",
      { extensions: { code: ErrorCode.DOCUMENT_NOT_TRUSTED, http: { status: 400 } } },
    );
  }

  /**
   * Whether this request's caller sees one of the tenants a tenant's document is registered for. Only a
   * document that tenants' manifests alone register asks, so other requests never compute what the caller sees.
   */
  private mayOf(context: Context): TenantFilter | undefined {
    const ids = this.#tenants.ids;
    if (this.#tenants.manifests.length === 0) return undefined;
    return (tenants) => visibleTenants(context.principal, ids).some((id) => tenants.has(id));
  }

  /** One line per distinct document (by hash), so a busy unregistered client does not flood the log. */
  private note(level: "warn" | "info", hash: string | undefined, context: Context, operationName: string | undefined | null, msg: string) {
    const key = hash ?? "";
    if (this.logged.has(key) || this.logged.size >= MAX_LOGGED_HASHES) return;
    this.logged.add(key);
    this.log[level](
      { component: "trusted-documents", documentHash: hash, operationName: clip(operationName ?? undefined), requestId: context.requestId },
      msg,
    );
  }
}

/**
 * A valid document Apollo parses once and keeps in its document store; a refused request runs nothing of
 * its own (see `plugin`). Anonymous, so no operation name of a client's reaches a metric label.
 */
export const REFUSED_PLACEHOLDER = "{__typename}";

function tenantsOf(tenants: readonly TenantDocuments[]): { ids: readonly string[]; manifests: readonly TenantManifests[] } {
  return {
    ids: tenants.map((t) => t.id),
    manifests: tenants.flatMap((t) => (t.documents?.length ? [{ tenant: t.id, paths: t.documents }] : [])),
  };
}

function badRequest(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.BAD_REQUEST, http: { status: 400 } } });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** `documentId` where Apollo reads the rest of the request: a POST's JSON body, a GET's query string (given more than once: an array). */
function documentIdOf(request: GraphQLRequest): { present: boolean; value?: unknown } {
  const http = request.http;
  if (!http) return { present: false };
  if (http.method === "POST") {
    const body = http.body as unknown;
    return isRecord(body) && Object.hasOwn(body, "documentId") ? { present: true, value: body.documentId } : { present: false };
  }
  const all = new URLSearchParams(http.search).getAll("documentId");
  if (all.length === 0) return { present: false };
  return { present: true, value: all.length === 1 ? all[0] : all };
}
