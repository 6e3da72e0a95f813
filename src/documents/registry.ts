import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Kind, parse, print, visit, type DefinitionNode, type DocumentNode, type FragmentDefinitionNode } from "graphql";

/** One registered document: its exact text, the hash clients name it by, where it came from. */
export interface RegisteredDocument {
  /** Lower-case hex SHA-256 of the document's UTF-8 bytes (`documentId` is `sha256:` + this). */
  readonly hash: string;
  readonly text: string;
  /** `schema/operations/<file>` or the manifest's path, for logs. */
  readonly origin: string;
  /**
   * The tenants whose own manifests (TENANTS_FILE `documents`) register it; absent: every caller's (built in,
   * or TRUSTED_DOCUMENTS_MANIFESTS).
   */
  readonly tenants?: ReadonlySet<string>;
}

/**
 * Whether a caller may use a document registered for these tenants only: true when it sees one of them. A
 * document registered for everyone needs no such check, so the common path never computes what a caller sees.
 */
export type TenantFilter = (tenants: ReadonlySet<string>) => boolean;
/** The default of every lookup: no tenant's documents (fail closed). */
const NO_TENANT: TenantFilter = () => false;

/** A manifest of one tenant's (TENANTS_FILE `documents`): its documents are trusted for that tenant's callers only. */
export interface TenantManifests {
  readonly tenant: string;
  readonly paths: readonly string[];
}

/**
 * The directory of the operations every usergraph registers (the ones its tests and examples send): the
 * repository's schema/operations/, from src/documents/ or its build in dist/documents/ or dist-bench/src/documents/.
 */
export const BUILT_IN_OPERATIONS =
  [join(__dirname, "..", "..", "schema", "operations"), join(__dirname, "..", "..", "..", "schema", "operations")].find((dir) =>
    existsSync(dir),
  ) ?? join(__dirname, "..", "..", "schema", "operations");

/** A manifest that cannot be read, parsed, or whose hashes do not match their documents: start-up (or the reload) fails. */
export class ManifestError extends Error {}

/**
 * The documents this gateway trusts, by hash and by exact text. Immutable: a reload (SIGHUP) builds a new
 * registry and swaps it in whole, so a request sees one registry from start to end.
 *
 * Looking a document up by its text is a Map lookup (V8 hashes the string once), not a SHA-256 per request:
 * the hash is computed only for the documents that are not registered, to log them.
 */
export class DocumentRegistry {
  private readonly byHash = new Map<string, RegisteredDocument>();
  private readonly byText = new Map<string, RegisteredDocument>();

  /**
   * Every document of `sources`, in order; the first registration of a text wins (its origin is kept). A
   * text registered for everyone is everyone's; one registered only by tenants' manifests is theirs (all of them).
   */
  constructor(sources: Iterable<{ text: string; origin: string; tenant?: string }>) {
    for (const { text, origin, tenant } of sources) {
      const known = this.byText.get(text);
      if (known && !known.tenants) continue;
      if (known && tenant !== undefined) {
        (known.tenants as Set<string>).add(tenant);
        continue;
      }
      const entry: RegisteredDocument = {
        hash: known?.hash ?? sha256Hex(text),
        text,
        origin: known?.origin ?? origin,
        ...(tenant === undefined ? {} : { tenants: new Set([tenant]) }),
      };
      this.byHash.set(entry.hash, entry);
      this.byText.set(text, entry);
    }
  }

  get size(): number {
    return this.byHash.size;
  }

  /** Every registered document, once each (tenants' own included). */
  entries(): IterableIterator<RegisteredDocument> {
    return this.byHash.values();
  }

  /**
   * By lower-case hex SHA-256. A document only tenants' manifests register is found when `may` accepts its
   * tenants (by default never): for any other caller it is as unknown as a document nobody registered.
   */
  byId(hash: string, may: TenantFilter = NO_TENANT): RegisteredDocument | undefined {
    return visible(this.byHash.get(hash), may);
  }

  /** By the exact text a client sent (no normalisation: a document is trusted byte for byte); `may` as for `byId`. */
  byDocument(text: string, may: TenantFilter = NO_TENANT): RegisteredDocument | undefined {
    return visible(this.byText.get(text), may);
  }

  /**
   * schema/operations/ (built in), every manifest named, and each tenant's manifests, read now. Throws one
   * ManifestError that lists every manifest that does not load.
   */
  static load(
    manifests: readonly string[],
    operationsDir: string = BUILT_IN_OPERATIONS,
    tenants: readonly TenantManifests[] = [],
  ): DocumentRegistry {
    const problems: string[] = [];
    const read = (path: string, where?: string) => {
      try {
        return readManifest(path, where);
      } catch (err) {
        if (!(err instanceof ManifestError)) throw err;
        problems.push(err.message);
        return [];
      }
    };
    const documents = [
      ...builtInDocuments(operationsDir),
      ...manifests.flatMap((path) => read(path)),
      ...tenants.flatMap(({ tenant, paths }) =>
        paths.flatMap((path) => read(path, tenantManifestsField(tenant)).map((d) => ({ ...d, tenant }))),
      ),
    ];
    if (problems.length === 1) throw new ManifestError(problems[0]);
    if (problems.length > 1)
      throw new ManifestError(`${problems.length} manifests do not load:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    return new DocumentRegistry(documents);
  }
}

/** How problems name a tenant's manifests: the field of TENANTS_FILE that lists them. */
export function tenantManifestsField(tenant: string): string {
  return `TENANTS_FILE tenant "${tenant}" documents`;
}

function visible(entry: RegisteredDocument | undefined, may: TenantFilter): RegisteredDocument | undefined {
  return entry && (entry.tenants === undefined || may(entry.tenants)) ? entry : undefined;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * The operations of schema/operations/, each registered twice: the whole file as written, and each
 * operation on its own with the fragments it uses, printed as GraphQL Code Generator's typed-document-node
 * prints it (the operation, then its fragments): what a codegen client built from these files sends.
 */
export function builtInDocuments(dir: string): Array<{ text: string; origin: string }> {
  const out: Array<{ text: string; origin: string }> = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".graphql"))
    .sort()) {
    const text = readFileSync(join(dir, file), "utf8");
    const origin = `schema/operations/${file}`;
    out.push({ text, origin });
    const document = parse(text);
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    for (const d of document.definitions) {
      if (d.kind !== Kind.OPERATION_DEFINITION) continue;
      const standalone: DocumentNode = { kind: Kind.DOCUMENT, definitions: [d, ...usedFragments(d, fragments)] };
      out.push({ text: print(standalone), origin: `${origin}#${d.name?.value ?? "anonymous"}` });
    }
  }
  return out;
}

/** The fragments a definition spreads, directly or through other fragments, in the order they are first met. */
function usedFragments(root: DefinitionNode, fragments: Map<string, FragmentDefinitionNode>): FragmentDefinitionNode[] {
  const seen = new Map<string, FragmentDefinitionNode>();
  const walk = (node: DefinitionNode) =>
    visit(node, {
      FragmentSpread(spread) {
        const name = spread.name.value;
        const fragment = fragments.get(name);
        if (!fragment || seen.has(name)) return;
        seen.set(name, fragment);
        walk(fragment);
      },
    });
  walk(root);
  return [...seen.values()];
}

/**
 * A client's manifest, in either format a build produces:
 * - Apollo's persisted query manifest (`@apollo/generate-persisted-query-manifest`):
 *   `{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id","name","type","body"}]}`;
 * - GraphQL Code Generator's persisted documents (client preset, `persistedDocuments: true`): `{"<hash>": "<document>"}`.
 * Every id must be the document's own SHA-256 (Apollo's default; codegen's with `hashAlgorithm: "sha256"`) or,
 * for codegen's older default, its SHA-1: a manifest whose ids do not match its documents is refused as
 * corrupt rather than loaded in part. Clients always name a document by its SHA-256.
 */
export function readManifest(path: string, where = "TRUSTED_DOCUMENTS_MANIFESTS"): Array<{ text: string; origin: string }> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new ManifestError(`${where}: ${path} could not be read as JSON (${(err as Error).message.slice(0, 200)})`);
  }
  const problem = (what: string) => new ManifestError(`${where}: ${path}: ${what}`);
  if (json === null || typeof json !== "object" || Array.isArray(json)) throw problem("expected a JSON object");
  const record = json as Record<string, unknown>;
  const pairs: Array<[string, unknown]> = [];
  if ("format" in record) {
    if (record.format !== "apollo-persisted-query-manifest" || record.version !== 1 || !Array.isArray(record.operations))
      throw problem(
        'a "format" other than Apollo\'s persisted query manifest version 1 ("apollo-persisted-query-manifest", "version": 1, "operations": [...])',
      );
    for (const [i, op] of (record.operations as unknown[]).entries()) {
      const o = (op ?? {}) as Record<string, unknown>;
      if (typeof o.id !== "string" || typeof o.body !== "string") throw problem(`operations[${i}] has no string "id" and "body"`);
      pairs.push([o.id, o.body]);
    }
  } else {
    pairs.push(...Object.entries(record));
  }
  const out: Array<{ text: string; origin: string }> = [];
  for (const [id, body] of pairs) {
    if (typeof body !== "string") throw problem(`the document of ${id.slice(0, 80)} is not a string`);
    const key = id.toLowerCase().replace(/^sha256:/, "");
    const matches = /^[0-9a-f]{64}$/.test(key)
      ? key === sha256Hex(body)
      : /^[0-9a-f]{40}$/.test(key) && key === createHash("sha1").update(body, "utf8").digest("hex");
    if (!matches) throw problem(`the id ${id.slice(0, 80)} is not the SHA-256 (or SHA-1) of its document`);
    try {
      parse(body);
    } catch (err) {
      throw problem(`the document ${id.slice(0, 80)} does not parse (${(err as Error).message.slice(0, 200)})`);
    }
    out.push({ text: body, origin: path });
  }
  return out;
}
