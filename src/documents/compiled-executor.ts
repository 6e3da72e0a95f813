import type { ApolloServerOptionsWithGateway } from "@apollo/server";
import { execute, GraphQLError, type ExecutionResult, type GraphQLSchema } from "graphql";
import { compileQuery, isCompiledQuery, type CompiledQuery } from "graphql-jit";
import { ANY_TENANT, type DocumentRegistry, type RegisteredDocument } from "./registry";

type Gateway = ApolloServerOptionsWithGateway<never>["gateway"];
type Executor = NonNullable<Awaited<ReturnType<Gateway["load"]>>["executor"]>;

/** Operations one registered document may keep a plan for (a document with more runs its others through graphql-js). */
const MAX_PLANS_PER_DOCUMENT = 32;

/**
 * The fast path of registered documents: each operation of a registered document is compiled once by
 * graphql-jit into a JavaScript function (no per-request walk of the AST, of the schema's types, or of
 * graphql-js's generic field collection) and executed as such; every other document runs through
 * graphql-js's `execute`, as Apollo Server would run it.
 *
 * Apollo's own hook for replacing execution is a gateway's executor (what Apollo Federation's gateway
 * uses): this object presents our schema as a gateway whose executor picks the plan. Everything else of
 * Apollo's pipeline stays: the document store (a document is parsed and validated once per text), the
 * plugins (authentication of the context, pricing with its per-document cache, the request log and
 * metrics, the lifetime), error formatting. So the fast path answers, refuses, logs and counts exactly
 * like the normal one (test/integration/trusted-documents.test.ts compares both byte for byte).
 *
 * Only registered documents are compiled: graphql-jit generates JavaScript source from the document (its
 * field names, aliases, arguments) and evaluates it with `new Function`, so a document an attacker chose
 * never reaches it, and a process does not compile (and keep) one plan per distinct document it is sent.
 *
 * Variables that do not coerce: graphql-jit words that refusal differently from graphql-js, and runs no
 * resolver for it; such a request is executed again by graphql-js for graphql-js's own words.
 */
export function compiledExecutorGateway(
  schema: GraphQLSchema,
  registry: () => DocumentRegistry | undefined,
  options: { compile: boolean },
): Gateway {
  const executor: Executor = async (rc) => {
    const variables = rc.request.variables ?? {};
    // Whether this caller may run the document was decided before (trusted-documents.ts, a tenant's own
    // documents included); a plan does not depend on the tenant, so any registered document's is used.
    const entry = options.compile && rc.source !== undefined && rc.operation ? registry()?.byDocument(rc.source, ANY_TENANT) : undefined;
    const plan = entry && planOf(entry, schema, rc);
    if (plan) {
      const result = (await plan.query(undefined, rc.context, variables)) as ExecutionResult;
      // `data` is absent only when execution never started: the variables did not coerce.
      if (result.data !== undefined) {
        if (result.errors) return { data: result.data, errors: result.errors.map(asGraphQLJsError) } as Awaited<ReturnType<Executor>>;
        return result as Awaited<ReturnType<Executor>>;
      }
    }
    return (await execute({
      schema,
      document: rc.document,
      contextValue: rc.context,
      variableValues: rc.request.variables,
      operationName: rc.request.operationName,
    })) as Awaited<ReturnType<Executor>>;
  };
  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: "" });
      return () => {};
    },
    load: async () => ({ schema, executor }),
    stop: async () => {},
  };
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

/** The operation's compiled plan, made on its first request; null when graphql-jit cannot compile it (graphql-js runs it). */
function planOf(entry: RegisteredDocument, schema: GraphQLSchema, rc: Parameters<Executor>[0]): CompiledQuery | null {
  const key = rc.operation.name?.value ?? "";
  const known = entry.plans.get(key) as CompiledQuery | null | undefined;
  if (known !== undefined) return known;
  if (entry.plans.size >= MAX_PLANS_PER_DOCUMENT) return null;
  let plan: CompiledQuery | null;
  try {
    const compiled = compileQuery(schema, rc.document, rc.operation.name?.value, { disablingCapturingStackErrors: true });
    plan = isCompiledQuery(compiled) ? compiled : null;
  } catch {
    plan = null;
  }
  entry.plans.set(key, plan);
  return plan;
}
