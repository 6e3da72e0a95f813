import type { Deadline } from "../../upstream/deadline";
import { ESET_LIST_FILTER_PARAMS, type EsetRpcStatusDto, type EsetUserDto, type EsetUserListFilter } from "./dto";
import { header, tryParseJson, type ErrorFacts, type JsonApi } from "../../upstream/http-json";
import type { HttpResult } from "../../upstream/http-transport";
import { isObject } from "../../upstream/json-shape";
import { encodePathSegment, wellFormed } from "../../upstream/path";
import { UpstreamError } from "../../upstream/upstream-error";

/** ESET documents batchGetUsers as limited to 1000 uuids; more gets 400 OUT_OF_RANGE. */
export const ESET_BATCH_LIMIT = 1000;

/** ESET's largest list page ("values above 1000 will be coerced to 1000"). */
export const ESET_MAX_PAGE_SIZE = 1000;

/** One page of `GET /v1/users`, checked and with ESET's defaults filled in. */
export interface EsetUserPage {
  users: EsetUserDto[];
  /** "" on the last page. */
  nextPageToken: string;
  /** Users matching the filter across all pages; undefined when ESET did not say (or said something unreadable). */
  totalSize: number | undefined;
}

/** ESET Connect user-management API: one method per REST endpoint, wire DTOs out. */
export class EsetClient {
  constructor(private readonly api: JsonApi) {}

  /** `GET /v1/users/{userUuid}`; null when ESET answers 404. */
  async getUser(uuid: string, deadline: Deadline): Promise<EsetUserDto | null> {
    const body = await this.api.requestOrUndefined({ method: "GET", path: `/v1/users/${encodePathSegment(uuid)}`, deadline });
    if (body === undefined) return null;
    if (!isObject(body) || !isUser(body.user)) {
      throw new UpstreamError("ESET", "parse", "ESET GET /v1/users/{uuid} answered 200 without a user");
    }
    return body.user;
  }

  /**
   * `POST /v1/users:batchGetUsers` for at most 1000 uuids. Atomic: when one uuid is unknown the whole call
   * fails (an `UpstreamError`, status 404 as far as anyone has seen), and callers isolate the unknown ones.
   * Returns the users found, keyed by uuid.
   */
  async batchGetUsers(uuids: readonly string[], deadline: Deadline): Promise<Map<string, EsetUserDto>> {
    if (uuids.length > ESET_BATCH_LIMIT) throw new RangeError(`batchGetUsers takes at most ${ESET_BATCH_LIMIT} uuids`);
    const body = await this.api.request({
      method: "POST",
      path: "/v1/users:batchGetUsers",
      body: { usersUuids: uuids },
      deadline,
    });
    const users = isObject(body) ? (body.users ?? []) : undefined;
    if (!Array.isArray(users) || !users.every(isUser)) {
      throw new UpstreamError("ESET", "parse", "ESET batchGetUsers answered 200 without a users list");
    }
    return new Map(users.map((u) => [u.uuid, u]));
  }

  /**
   * `GET /v1/users`: one page of the users matching `filter`, starting at `pageToken` ("" = the first page).
   * Parameters go out in one fixed order, so the same page is the same URL (ESET's 202 answers are keyed
   * by request, and so is our pending memory). `pageSize` is 1 to 1000: ESET reads 0 as "its default 50".
   */
  async listUsers(filter: EsetUserListFilter, pageSize: number, pageToken: string, deadline: Deadline): Promise<EsetUserPage> {
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > ESET_MAX_PAGE_SIZE) {
      throw new RangeError(`listUsers takes a page size from 1 to ${ESET_MAX_PAGE_SIZE}`);
    }
    const query = new URLSearchParams();
    for (const name of ESET_LIST_FILTER_PARAMS) {
      const value = filter[name];
      if (value !== undefined && value !== "") query.set(name, wellFormed(value, `filter value ${name}`));
    }
    query.set("pageSize", String(pageSize));
    if (pageToken !== "") query.set("pageToken", wellFormed(pageToken, "page token"));
    const body = await this.api.request({ method: "GET", path: `/v1/users?${query.toString()}`, deadline });
    const users = isObject(body) ? (body.users ?? []) : undefined;
    const next = isObject(body) ? (body.nextPageToken ?? "") : undefined;
    if (!Array.isArray(users) || !users.every(isUser) || typeof next !== "string") {
      throw new UpstreamError("ESET", "parse", "ESET GET /v1/users answered 200 without a users list");
    }
    return { users, nextPageToken: next, totalSize: count((body as Record<string, unknown>).totalSize) };
  }
}

/** An int64 count as a JS number: a safe integer, or a decimal string of one; anything else is unknown. */
function count(v: unknown): number | undefined {
  const n = typeof v === "number" ? v : typeof v === "string" && /^\d{1,16}$/.test(v) ? Number(v) : NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/**
 * ESET's own "no such resource". ESET does not document its error bodies (UPSTREAMS.md §2.9): every answer
 * carries its `request-id` header, and error bodies are grpc-gateway `rpcStatus` JSON as far as anyone has
 * seen. So a 404 is ESET's when it has the `request-id` and either no body or an `rpcStatus` with code 5
 * (NOT_FOUND); an HTML or text page, or a 404 without ESET's header, came from a proxy or a wrong host.
 * (A wrong path on ESET's own host cannot be told apart: grpc-gateway answers it the same way.)
 */
export function isEsetNotFound(res: HttpResult): boolean {
  if (header(res, "request-id") === undefined) return false;
  if (res.text.trim() === "") return true;
  const body = tryParseJson(res.text) as EsetRpcStatusDto | undefined;
  if (!isObject(body)) return false;
  const code: unknown = body.code;
  return code === 5 || code === "NOT_FOUND";
}

export function esetErrorFacts(res: HttpResult): ErrorFacts {
  const body = tryParseJson(res.text) as EsetRpcStatusDto | undefined;
  const raw = isObject(body) ? body.code : undefined;
  const code = typeof raw === "number" ? (GRPC_CODE_NAMES[raw] ?? String(raw)) : typeof raw === "string" ? raw : undefined;
  return { upstreamCode: code, upstreamRequestId: header(res, "request-id") };
}

/** grpc-gateway error bodies carry the numeric gRPC status; clients read names more easily. */
const GRPC_CODE_NAMES: Record<number, string> = {
  1: "CANCELLED",
  2: "UNKNOWN",
  3: "INVALID_ARGUMENT",
  4: "DEADLINE_EXCEEDED",
  5: "NOT_FOUND",
  6: "ALREADY_EXISTS",
  7: "PERMISSION_DENIED",
  8: "RESOURCE_EXHAUSTED",
  9: "FAILED_PRECONDITION",
  10: "ABORTED",
  11: "OUT_OF_RANGE",
  12: "UNIMPLEMENTED",
  13: "INTERNAL",
  14: "UNAVAILABLE",
  15: "DATA_LOSS",
  16: "UNAUTHENTICATED",
};

function isUser(v: unknown): v is EsetUserDto {
  return isObject(v) && typeof v.uuid === "string" && v.uuid !== "";
}
