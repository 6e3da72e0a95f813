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
