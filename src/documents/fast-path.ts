import type { FastifyReply, FastifyRequest } from "fastify";
import {
  GraphQLError,
  Kind,
  parse,
  specifiedRules,
  validate,
  visit,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValidationRule,
} from "graphql";
import { compileQuery, isCompiledQuery, type CompiledQuery } from "graphql-jit";
import type { Principal } from "../auth/principal";
import type { Context } from "../context";
import { OperationPricer } from "../limits/operation-limits";
import type { Metrics } from "../observability/metrics";
import { addStaleNotes, logRequest, logRequestErrors } from "../observability/request-log.plugin";
import { endWithConnection } from "../request-lifetime.plugin";
import type { DocumentRegistry, RegisteredDocument } from "./registry";

/**
 * The fast path of registered documents: a POST that names a registered document (by `documentId`, by an
 * APQ hash alone, or by its exact text) is answered here, in the /graphql route, instead of by Apollo
 * Server. Apollo's per-request pipeline (plugin dispatch, the context copy, the SHA-256 of the text and the
 * document-store lookup, response formatting, content negotiation) cost more than executing the operation
 * (bench/results-issue21.md): a registered document needs none of it, because everything that does not
 * depend on the variables is done once per document when the registry is loaded:
 * - parsed (with MAX_TOKENS) and validated with Apollo's rules (graphql-js's specified rules, Apollo's
 *   NoIntrospection when introspection is off, and the operation limits);
 * - each of its operations compiled by graphql-jit into a plan (no per-request walk of the document or of
 *   graphql-js's field collection), its name kept for the log line and the metric label.
 * Per request remains: the principal (the route's gate already ran), the context, the variables' price
 * (the same OperationPricer as the cost plugin, cached per shape of the variables), the plan, the error
 * formatting (the same errorFormatter, through a copy of Apollo's normalisation below), the request log
 * line and metric (the same functions as the request-log plugin), the lifetime's end (as the lifetime
 * plugin) and one JSON.stringify of the answer.
 *
 * What it does not answer exactly as Apollo would, it does not answer: it returns undefined and the route
 * hands the request to Apollo unchanged. That is every GET, a batch, an `Accept` other than the few below,
 * an APQ registration (hash and text together), `documentId` beside an APQ hash, an unknown body field, an
 * operation name the document does not have, a mutation, and every refusal before execution (a variable
 * value refused, a price over a limit, variables that do not coerce): Apollo refuses those with its own
 * words, and a refusal's cost does not matter. So does an unauthenticated request (no principal).
 * test/integration/trusted-documents.parity.test.ts compares both paths byte for byte.
 *
 * Only registered documents are compiled: graphql-jit generates JavaScript source from the document (its
 * field names, aliases, arguments) and evaluates it with `new Function`, so a document an attacker chose
 * never reaches it, and a process does not compile (and keep) one plan per distinct document it is sent.
 */
export class FastPath {
  /** Per registry (a reload makes a new one): each document's operations by the `operationName` a request gives (undefined: none). */
  private readonly prepared = new WeakMap<DocumentRegistry, WeakMap<RegisteredDocument, Map<string | undefined, Prepared>>>();
  private readonly rules: readonly ValidationRule[];
  private readonly pricer: OperationPricer;
  /** usergraph_fast_path_requests_total: answered here, or a registered document's request handed to Apollo. */
  private readonly answered: { inc(): void };
  private readonly declined: { inc(): void };

  constructor(private readonly deps: FastPathDeps) {
    this.rules = [...specifiedRules, ...deps.validationRules];
    this.pricer = deps.pricer;
    this.answered = deps.metrics.fastPath.labels("answered");
    this.declined = deps.metrics.fastPath.labels("declined");
  }

  /** Parses, validates and compiles every document of `registry` now (at start-up, and on SIGHUP). */
  prepare(registry: DocumentRegistry): void {
    if (this.prepared.has(registry)) return;
    const byDocument = new WeakMap<RegisteredDocument, Map<string | undefined, Prepared>>();
    for (const entry of registry.entries()) byDocument.set(entry, this.prepareDocument(entry.text));
    this.prepared.set(registry, byDocument);
  }

  /**
   * Answers the request when it is a registered document's (the returned promise is the body the route
   * sends), or returns undefined, having done nothing: the route then hands it to Apollo.
   */
  answer(request: FastifyRequest, reply: FastifyReply): Promise<string> | undefined {
    if (request.method !== "POST") return undefined;
    const registry = this.deps.registry();
    if (!registry) return undefined;
    const body = request.body as Record<string, unknown> | null;
    if (body === null || typeof body !== "object" || Array.isArray(body)) return undefined;
    let query: unknown;
    let documentId: unknown;
    let variables: unknown;
    let operationName: unknown;
    let extensions: unknown;
    for (const key in body) {
      switch (key) {
        case "query":
          query = body.query;
          break;
        case "documentId":
          documentId = body.documentId;
          break;
        case "variables":
          variables = body.variables;
          break;
        case "operationName":
          operationName = body.operationName;
          break;
        case "extensions":
          extensions = body.extensions;
          break;
        default:
          return undefined;
      }
    }
    // The types Apollo accepts for a POST (runHttpQuery), `null` as absent, as there.
    if (query !== undefined && typeof query !== "string") return undefined;
    if (variables === null) variables = undefined;
    if (variables !== undefined && !isRecord(variables)) return undefined;
    if (operationName === null) operationName = undefined;
    if (operationName !== undefined && typeof operationName !== "string") return undefined;
    if (extensions === null) extensions = undefined;
    if (extensions !== undefined && !isRecord(extensions)) return undefined;
    const persisted = extensions === undefined ? undefined : extensions.persistedQuery;

    // The document, resolved exactly as TrustedDocuments.resolve resolves it; any other combination is Apollo's.
    let entry: RegisteredDocument | undefined;
    if (documentId !== undefined) {
      if (typeof documentId !== "string" || persisted !== undefined || !DOCUMENT_ID.test(documentId)) return undefined;
      entry = registry.byId(documentId.slice(7).toLowerCase());
      if (entry === undefined || (query !== undefined && query !== entry.text)) return undefined;
    } else if (persisted !== undefined) {
      // A hash alone, as Apollo's APQ sends it (version 1, lower-case hex); with the text, it is a registration.
      if (query !== undefined || !isRecord(persisted) || persisted.version !== 1 || typeof persisted.sha256Hash !== "string")
        return undefined;
      entry = registry.byId(persisted.sha256Hash);
    } else if (query !== undefined) {
      entry = registry.byDocument(query);
    }
    if (entry === undefined) return undefined;

    const operations = this.operationsOf(registry, entry);
    const prepared = operations.get(operationName);
    const contentType = prepared === undefined ? undefined : contentTypeFor(request.headers.accept);
    const principal = contentType === undefined ? undefined : this.deps.principalOf(request);
    if (prepared === undefined || contentType === undefined || principal === undefined) {
      this.declined.inc();
      return undefined;
    }
    const vars = (variables ?? {}) as Record<string, unknown>;
    // Refusals and variables that do not coerce are Apollo's to answer, in its words (see above).
    const price = this.pricer.check(prepared.document, prepared.operation, vars, () => this.deps.tenantsVisible(principal));
    if (price === null || price instanceof GraphQLError) {
      this.declined.inc();
      return undefined;
    }
    // The deadline counts from the request's arrival: body parsing and the gate's waits spent some of it.
    const context = this.deps.makeContext(request.id, principal, Date.now() - reply.elapsedTime);
    endWithConnection(reply, context);
    this.pricer.promise(price, context.deadline);
    const started = performance.now();
    const run = prepared.plan.query(undefined, context, vars) as ExecutionResult | Promise<ExecutionResult>;
    return (run instanceof Promise ? run : Promise.resolve(run)).then((result) => {
      if (result.data === undefined) {
        // The variables did not coerce (and nothing ran): Apollo answers that, with graphql-js's words.
        context.deadline.end();
        this.declined.inc();
        return this.deps.fallback(request, reply);
      }
      this.answered.inc();
      return this.respond(reply, context, started, prepared, result, contentType);
    });
  }

  private respond(
    reply: FastifyReply,
    context: Context,
    started: number,
    prepared: Prepared,
    result: ExecutionResult,
    contentType: string,
  ): string {
    let formatted: GraphQLFormattedError[] | undefined;
    let status = 200;
    if (result.errors) {
      const errors = result.errors.map(asGraphQLJsError);
      logRequestErrors(context, errors);
      const http = { status: undefined as number | undefined, headers: new Map<string, string>() };
      formatted = errors.map((error) => this.format(error, http));
      if (http.status) status = http.status;
      for (const [name, value] of http.headers) void reply.header(name, value);
    }
    // Apollo's order: errors, data, extensions (runHttpQuery's orderExecutionResultFields).
    const answer: { errors?: GraphQLFormattedError[]; data: unknown; extensions?: Record<string, unknown> } = {
      errors: formatted,
      data: result.data,
      extensions: result.extensions as Record<string, unknown> | undefined,
    };
    // As the lifetime plugin and then the request-log plugin do in willSendResponse, in that order.
    context.deadline.end();
    addStaleNotes(context, answer);
    logRequest(this.deps.metrics, context, started, prepared.operationName, true, formatted, answer.data);
    void reply.code(status).header("content-type", contentType);
    // Apollo's prettyJSONStringify: the JSON and a newline.
    return JSON.stringify(answer) + "\n";
  }

  /**
   * Apollo's normalizeAndFormatErrors for one error (@apollo/server errorNormalize.ts, not exported), so the
   * errorFormatter sees exactly what Apollo hands it: `extensions.code` defaulted, `extensions.http` taken
   * out into the response's status and headers. Stack traces are never included (includeStacktraceInErrorResponses: false).
   */
  private format(error: GraphQLError, http: { status: number | undefined; headers: Map<string, string> }): GraphQLFormattedError {
    try {
      const extensions: Record<string, unknown> = { ...error.extensions, code: error.extensions.code ?? "INTERNAL_SERVER_ERROR" };
      const head = extensions.http as { status?: unknown; headers?: unknown } | undefined;
      if (
        !!head &&
        typeof head === "object" &&
        (!("status" in head) || typeof head.status === "number") &&
        (!("headers" in head) || head.headers instanceof Map)
      ) {
        if (head.status) http.status = head.status as number;
        if (head.headers) for (const [name, value] of head.headers as Map<string, string>) http.headers.set(name, value);
        delete extensions.http;
      }
      return this.deps.formatError({ ...error.toJSON(), extensions }, error);
    } catch {
      return { message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } };
    }
  }

  private operationsOf(registry: DocumentRegistry, entry: RegisteredDocument): Map<string | undefined, Prepared> {
    let byDocument = this.prepared.get(registry);
    if (!byDocument) {
      // A registry swapped in by a reload before prepare() ran for it.
      this.prepare(registry);
      byDocument = this.prepared.get(registry)!;
    }
    return byDocument.get(entry) ?? NONE;
  }

  /** The operations of one document that the fast path answers, by the `operationName` that selects each. */
  private prepareDocument(text: string): Map<string | undefined, Prepared> {
    const { schema } = this.deps;
    let document: DocumentNode;
    try {
      document = parse(text, { maxTokens: this.deps.maxTokens });
    } catch {
      return NONE;
    }
    // A document Apollo would refuse is left to Apollo to refuse (and not compiled).
    if (validate(schema, document, this.rules).length > 0) return NONE;
    if (!this.deps.introspection && selectsIntrospection(document)) return NONE;
    const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    const out = new Map<string | undefined, Prepared>();
    for (const operation of operations) {
      if (operation.operation !== "query") continue;
      let plan: CompiledQuery;
      try {
        const compiled = compileQuery(schema, document, operation.name?.value, { disablingCapturingStackErrors: true });
        if (!isCompiledQuery(compiled)) continue;
        plan = compiled;
      } catch {
        continue;
      }
      const prepared: Prepared = { document, operation, operationName: operation.name?.value || null, plan };
      // As graphql-js's getOperationAST picks it: by name, or without one when it is the only operation.
      if (operation.name) out.set(operation.name.value, prepared);
      if (operations.length === 1) out.set(undefined, prepared);
    }
    return out;
  }
}

export interface FastPathDeps {
  schema: GraphQLSchema;
  /** The registry in force (it changes on SIGHUP). */
  registry: () => DocumentRegistry | undefined;
  /** Apollo's `validationRules` (the operation limits), beside graphql-js's specified rules. */
  validationRules: readonly ValidationRule[];
  /** As Apollo's: off adds Apollo's NoIntrospection rule there, so such a document is left to Apollo here. */
  introspection: boolean;
  maxTokens: number;
  pricer: OperationPricer;
  /** Apollo's `formatError`. */
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  metrics: Metrics;
  principalOf: (request: FastifyRequest) => Principal | undefined;
  makeContext: (requestId: string, principal: Principal, arrivedAt?: number) => Context;
  /** How many tenants the caller sees, for the price of `tenants { … }` (as the context says on Apollo's path). */
  tenantsVisible: (principal: Principal) => number;
  /** Apollo's handler, for a request the fast path found it could not answer only once it ran (variables that do not coerce). */
  fallback: (request: FastifyRequest, reply: FastifyReply) => Promise<string>;
}

interface Prepared {
  document: DocumentNode;
  operation: OperationDefinitionNode;
  /** As Apollo reports it to plugins: the operation's name, or null. */
  operationName: string | null;
  plan: CompiledQuery;
}

const NONE: Map<string | undefined, Prepared> = new Map();

const DOCUMENT_ID = /^sha256:[0-9a-fA-F]{64}$/;

/**
 * The content type Apollo chooses (ApolloServer.ts chooseContentTypeForSingleResultResponse, with the
 * `negotiator` package) for the `Accept` headers clients commonly send; any other is left to Apollo.
 * Each row is checked against Apollo by the parity test.
 */
const JSON_TYPE = "application/json; charset=utf-8";
const GRAPHQL_RESPONSE_TYPE = "application/graphql-response+json; charset=utf-8";
const CONTENT_TYPES = new Map<string, string>([
  ["*/*", JSON_TYPE],
  ["application/json", JSON_TYPE],
  ["application/json, */*", JSON_TYPE],
  ["application/json, text/plain, */*", JSON_TYPE],
  ["application/graphql-response+json", GRAPHQL_RESPONSE_TYPE],
  ["application/graphql-response+json, application/json", GRAPHQL_RESPONSE_TYPE],
  ["application/graphql-response+json, application/json;q=0.9", GRAPHQL_RESPONSE_TYPE],
  ["application/graphql-response+json,application/json;q=0.9", GRAPHQL_RESPONSE_TYPE],
]);
export const FAST_PATH_ACCEPT_HEADERS: readonly string[] = [...CONTENT_TYPES.keys()];

function contentTypeFor(accept: string | undefined): string | undefined {
  // No Accept (or an empty one, which Apollo's header map drops): JSON.
  return accept === undefined || accept === "" ? JSON_TYPE : CONTENT_TYPES.get(accept);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** What Apollo's NoIntrospection rule refuses. */
function selectsIntrospection(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Field(node) {
      if (node.name.value === "__schema" || node.name.value === "__type") found = true;
    },
  });
  return found;
}

/**
 * graphql-jit's errors are its own function-made objects on GraphQLError's prototype, without graphql-js's
 * `extensions` object when the thrown error has none (Apollo's formatting reads `extensions.code` and
 * fails on them): each becomes the GraphQLError graphql-js would have made for the same field.
 */
function asGraphQLJsError(error: GraphQLError): GraphQLError {
  if (Object.getPrototypeOf(error) === GraphQLError.prototype) return error;
  const made = new GraphQLError(error.message, { path: error.path, originalError: error.originalError, extensions: error.extensions });
  // graphql-js derives `locations` from the field's AST node, which graphql-jit does not keep: its own are the same positions.
  (made as { locations?: GraphQLError["locations"] }).locations = error.locations;
  return made;
}
