import { GraphQLError } from "graphql";
import type { Context } from "../context";
import { ErrorCode } from "../errors/error-code";
import { toDefenderUser } from "../sources/defender/users/user.mapper";
import type { DefenderUser } from "../sources/defender/users/user.type";
import { toEsetUser } from "../sources/eset/users/user.mapper";
import type { EsetUser } from "../sources/eset/users/user.type";
import { DEFENDER_ID_MESSAGE, isValidDefenderId } from "../sources/defender/id-rules";
import { ESET_UUID_MESSAGE, isValidEsetUuid } from "../sources/eset/id-rules";
import { mapMaybe } from "../graphql/maybe-promise";
import type { SourceName } from "../upstream/source";

/** One `_entities` representation as the router sends it: `__typename` plus the key fields. */
export type Representation = Readonly<Record<string, unknown>>;

/** Which source answers each entity, and by which key field. */
const ENTITY_KEYS = {
  DefenderUser: { source: "DEFENDER", key: "id", isValid: isValidDefenderId, message: DEFENDER_ID_MESSAGE },
  EsetUser: { source: "ESET", key: "uuid", isValid: isValidEsetUuid, message: ESET_UUID_MESSAGE },
} as const satisfies Record<string, { source: SourceName; key: string; isValid: (v: unknown) => boolean; message: string }>;

const ENTITY_NAMES = Object.keys(ENTITY_KEYS).join(" or ");

/**
 * Every representation of one `_entities` call checked before any is looked up: an object whose
 * `__typename` is a string naming one of this subgraph's entities. Anything else means the caller (or its
 * router) speaks another schema, so the whole call is refused, naming each bad entry but never echoing it,
 * and no lookup starts. @apollo/subgraph would throw on such an entry mid-list, after the entries before it
 * had started their vendor calls, and answer INTERNAL_SERVER_ERROR. A bad key still fails only its own entry
 * (keyOf, in `__resolveReference`), before its lookup.
 */
export function assertRepresentations(representations: readonly unknown[]): void {
  const problems: Array<{ argument: string; problems: string[] }> = [];
  representations.forEach((ref, i) => {
    const problem = representationProblem(ref);
    if (problem !== undefined) problems.push({ argument: `representations[${i}]`, problems: [problem] });
  });
  if (problems.length === 0) return;
  const shown = problems.slice(0, 3).map((p) => `${p.argument}: ${p.problems[0]}`);
  if (problems.length > 3) shown.push(`and ${problems.length - 3} more`);
  throw new GraphQLError(
    `Invalid entity representations: ${shown.join("; ")}. Each is an object whose __typename is ${ENTITY_NAMES}; no entity was looked up.`,
    { extensions: { code: ErrorCode.BAD_USER_INPUT, validationErrors: problems.slice(0, 100), http: { status: 400 } } },
  );
}

function representationProblem(ref: unknown): string | undefined {
  if (typeof ref !== "object" || ref === null || Array.isArray(ref)) return "not an object";
  const typename = (ref as Record<string, unknown>).__typename;
  if (typename === undefined) return "__typename is missing";
  if (typeof typename !== "string") return "__typename is not a string";
  if (!Object.hasOwn(ENTITY_KEYS, typename)) return "__typename names no entity of this subgraph";
  return undefined;
}

/**
 * The same gate as the `id`/`uuid` arguments, and the same error shape as argument validation
 * (`extensions.validationErrors`), never echoing the value: a representation is caller input like any
 * argument.
 */
function keyOf(typename: keyof typeof ENTITY_KEYS, ref: Representation): string {
  const { key, isValid, message } = ENTITY_KEYS[typename];
  const value = ref[key];
  if (!isValid(value)) {
    throw new GraphQLError(`Invalid entity representation: ${typename}.${key}: ${message}`, {
      extensions: { code: ErrorCode.BAD_USER_INPUT, validationErrors: [{ argument: `${typename}.${key}`, problems: [message] }] },
    });
  }
  return value as string;
}

/**
 * `__resolveReference` for the two entities: the router's `_entities` lookups take the path of
 * `defenderUser(id:)` / `esetUser(uuid:)` — the part's scopes (subgraph-schema.ts puts
 * guardReference in front of these), key validation, the request's loader (so every
 * representation of one `_entities` call lands in one DataLoader batch, behind the same cache, single-flight
 * and rate limits), the same mapper — and `null` for an id the vendor does not know.
 *
 * Async on purpose: @apollo/subgraph calls these inside one `representations.map`, so a synchronous throw
 * would fail the whole `_entities` list; a rejection fails only its own entry (path `_entities.<i>`), like
 * an entry of `esetUsers(uuids:)`. The loads still start synchronously, in the same tick, so they batch.
 */
export const referenceResolvers = {
  DefenderUser: {
    async __resolveReference(ref: Representation, ctx: Context): Promise<DefenderUser | null> {
      const id = keyOf("DefenderUser", ref);
      return mapMaybe(ctx.loaders.defenderUser.load(id), (dto) => (dto ? toDefenderUser(dto) : null));
    },
  },
  EsetUser: {
    async __resolveReference(ref: Representation, ctx: Context): Promise<EsetUser | null> {
      const uuid = keyOf("EsetUser", ref);
      return mapMaybe(ctx.loaders.esetUser.load(uuid), (dto) => (dto ? toEsetUser(dto, ctx.reportUnknownEnum) : null));
    },
  },
};
