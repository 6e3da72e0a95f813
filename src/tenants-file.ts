import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Env, SourceConfigSpec } from "./config";
import { ManifestError, readManifest } from "./documents/registry";
import type { SourceName } from "./upstream/source";

/** One customer: its id (what callers and cache keys name), its display name, and each source's connection. */
export interface TenantConfig {
  id: string;
  name: string;
  /** Each registered source's connection for this tenant (absent: the source is off for it), by source name. */
  connections: Readonly<Record<SourceName, unknown>>;
  /**
   * Its own trusted-document manifests (`documents`, paths relative to the file's directory, made absolute):
   * trusted for callers who see this tenant only (src/documents/trusted-documents.ts).
   */
  documents?: readonly string[];
}

/** Most manifests one tenant may list. */
const MAX_TENANT_MANIFESTS = 100;

/** The id of the one tenant today's variables make when no TENANTS_FILE is set. */
export const DEFAULT_TENANT = "default";

/**
 * Lower-case letters, digits and inner hyphens, at most 32: an id goes into API keys (`key@a+b`), cache keys
 * and log lines, so it never needs quoting and cannot carry `@`, `+`, `=`, `,` or `:`.
 */
export const TENANT_ID = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

/** What a source needs to read its connection from a tenant's entry (see SourceConfigSpec.tenant). */
interface TenantSource {
  name: SourceName;
  config: Pick<SourceConfigSpec, "connection" | "tenant">;
}

/**
 * Reads TENANTS_FILE: `{ "tenants": [ { "id", "name", "<source key>": { ... } } ] }`. Each source's entry
 * is read by the source's own connection reader, with its fields standing in for the variables they name
 * (a `…Env` field names the variable that holds the secret: the file never holds one). Every problem is
 * collected, spelled as `TENANTS_FILE tenants[i] ("id").source.field`, and no value of a secret is ever
 * quoted. `reader` makes the Reader config.ts uses, so the URL and other rules are the same as the
 * single-tenant variables'.
 */
export function readTenantsFile<R>(
  path: string,
  env: Env,
  sources: readonly TenantSource[],
  reader: (env: Env, problems: string[]) => R,
  problems: string[],
): TenantConfig[] {
  const where = `TENANTS_FILE (${path})`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problems.push(code ? `${where} cannot be read (${code})` : `${where} is not valid JSON`);
    return [];
  }
  if (!isObject(parsed) || !Array.isArray(parsed.tenants)) {
    problems.push(`${where} must be an object { "tenants": [ ... ] }`);
    return [];
  }
  for (const key of Object.keys(parsed)) if (key !== "tenants") problems.push(`${where}: unknown key "${clip(key)}" (known: tenants)`);
  if (parsed.tenants.length === 0) problems.push(`${where} lists no tenant`);
  const byKey = new Map(sources.flatMap((s) => (s.config.tenant ? [[s.config.tenant.key, s] as const] : [])));
  const known = ["id", "name", "documents", ...byKey.keys()];
  const seen = new Set<string>();
  const tenants: TenantConfig[] = [];
  for (const [i, entry] of (parsed.tenants as unknown[]).entries()) {
    const at = `${where} tenants[${i}]`;
    if (!isObject(entry)) {
      problems.push(`${at} must be an object`);
      continue;
    }
    const id = entry.id;
    if (typeof id !== "string" || !TENANT_ID.test(id)) {
      problems.push(`${at}.id must be 1 to 32 lower-case letters, digits or inner hyphens`);
      continue;
    }
    const label = `${at} ("${id}")`;
    if (seen.has(id)) problems.push(`${label}: the id "${id}" is used twice`);
    seen.add(id);
    if (typeof entry.name !== "string" || entry.name.trim() === "" || entry.name.length > 200)
      problems.push(`${label}.name must be a non-empty string of at most 200 characters`);
    for (const key of Object.keys(entry))
      if (!known.includes(key)) problems.push(`${label}: unknown key "${clip(key)}" (known: ${known.join(", ")})`);
    const connections: Record<SourceName, unknown> = {};
    for (const [key, source] of byKey) {
      if (entry[key] === undefined) continue;
      connections[source.name] = readConnection(`${label}.${key}`, entry[key], env, source, reader, problems);
    }
    const documents = entry.documents === undefined ? undefined : readDocuments(`${label}.documents`, entry.documents, path, problems);
    tenants.push({ id, name: typeof entry.name === "string" ? entry.name.trim() : id, connections, ...(documents ? { documents } : {}) });
  }
  return tenants;
}

/**
 * A tenant's `documents`: manifest paths (Apollo's or GraphQL Code Generator's format, as for
 * TRUSTED_DOCUMENTS_MANIFESTS), each read and checked now so that start-up lists every problem at once.
 */
function readDocuments(at: string, value: unknown, file: string, problems: string[]): string[] | undefined {
  if (!Array.isArray(value) || value.length > MAX_TENANT_MANIFESTS) {
    problems.push(`${at} must be an array of at most ${MAX_TENANT_MANIFESTS} manifest paths`);
    return undefined;
  }
  const paths: string[] = [];
  for (const [j, p] of value.entries()) {
    if (typeof p !== "string" || p.trim() === "") {
      problems.push(`${at}[${j}] must be a non-empty string (a manifest's path)`);
      continue;
    }
    const path = resolve(dirname(file), p.trim());
    try {
      readManifest(path, `${at}[${j}]`);
      paths.push(path);
    } catch (err) {
      if (!(err instanceof ManifestError)) throw err;
      problems.push(err.message);
    }
  }
  return paths.length === value.length ? paths : undefined;
}

function readConnection<R>(
  at: string,
  entry: unknown,
  env: Env,
  source: TenantSource,
  reader: (env: Env, problems: string[]) => R,
  problems: string[],
): unknown {
  const spec = source.config.tenant!;
  if (!isObject(entry)) {
    problems.push(`${at} must be an object`);
    return undefined;
  }
  // The entry as the variables the source's reader knows; nothing else of the environment is visible to it.
  const asEnv: Record<string, string> = {};
  let complete = true;
  for (const [field, value] of Object.entries(entry)) {
    const target = spec.fields[field];
    if (!target) {
      problems.push(`${at}: unknown key "${clip(field)}" (known: ${Object.keys(spec.fields).join(", ")})`);
      complete = false;
      continue;
    }
    if (typeof value !== "string" || value.trim() === "") {
      problems.push(`${at}.${field} must be a non-empty string`);
      complete = false;
      continue;
    }
    if (target.secret) {
      // The field names a variable; its value (the secret) is read from the environment and never quoted.
      if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(value)) {
        problems.push(`${at}.${field} must name an environment variable (the secret itself never goes in the file)`);
        complete = false;
        continue;
      }
      const secret = env[value];
      if (secret === undefined || secret === "") {
        problems.push(`${at}.${field} names ${value}, which is not set`);
        complete = false;
        continue;
      }
      asEnv[target.variable] = secret;
    } else {
      asEnv[target.variable] = value;
    }
  }
  const own: string[] = [];
  const connection = source.config.connection(reader(asEnv, own) as never, asEnv, own);
  // The reader speaks of variables; say which field of the file stands for each.
  const fieldOf = Object.entries(spec.fields).map(([field, t]) => [t.variable, `${at}.${field}`] as const);
  fieldOf.sort((a, b) => b[0].length - a[0].length);
  for (const problem of own) problems.push(fieldOf.reduce((text, [variable, field]) => text.split(variable).join(field), problem));
  if (!connection && complete && own.length === 0) problems.push(`${at} sets no credentials`);
  return own.length > 0 || !complete ? undefined : connection;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}
