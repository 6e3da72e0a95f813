import type { Deadline } from "../../upstream/deadline";
import type { DefenderAlertDto, DefenderErrorDto, DefenderMachineDto, DefenderUserDto, ODataPage } from "./dto";
import { header, tryParseJson, type ErrorFacts, type JsonApi } from "../../upstream/http-json";
import type { HttpResult } from "../../upstream/http-transport";
import { isObject } from "../../upstream/json-shape";
import { encodePathSegment, wellFormed } from "../../upstream/path";
import { UpstreamError } from "../../upstream/upstream-error";

/**
 * The application permission each Defender endpoint needs (UPSTREAMS.md §1.1, §5.1), named in the error when
 * Defender answers 403. `GET /api/users/{id}/machines` names Machine.ReadWrite.All in the current docs (older
 * revisions also accepted Machine.Read.All): the permission that is sure to work is the one named.
 */
export const DEFENDER_PERMISSIONS = {
  users: "User.Read.All",
  machines: "Machine.Read.All",
  userMachines: "Machine.ReadWrite.All",
  alerts: "Alert.Read.All",
} as const;

/** Defender's largest `$top` (get-machines.md, get-alerts.md). */
export const DEFENDER_MAX_TOP = 10_000;

/** OData options of Defender's list endpoints, as usergraph sends them. */
export interface ODataQuery {
  /** An OData `$filter` expression over the documented filterable properties (built by the caller, literals escaped). */
  filter?: string;
  top?: number;
  skip?: number;
}

/**
 * Microsoft Defender for Endpoint API: one method per REST endpoint, wire DTOs out. Every answer is checked
 * for the documented shape (an entity with an id, a collection with `value`) before it is handed on.
 */
export class DefenderClient {
  constructor(private readonly api: JsonApi) {}

  /** `GET /api/users/{id}`; null when Defender answers 404. */
  async getUser(id: string, deadline: Deadline): Promise<DefenderUserDto | null> {
    const body = await this.api.requestOrUndefined({
      method: "GET",
      path: `/api/users/${encodePathSegment(id)}`,
      deadline,
      permission: DEFENDER_PERMISSIONS.users,
    });
    if (body === undefined) return null;
    return entity<DefenderUserDto>(body, "GET /api/users/{id}", "user");
  }

  /** `GET /api/machines/{id}`: by device id or computer name; null when Defender answers 404. */
  async getMachine(id: string, deadline: Deadline): Promise<DefenderMachineDto | null> {
    const body = await this.api.requestOrUndefined({
      method: "GET",
      path: `/api/machines/${encodePathSegment(id)}`,
      deadline,
      permission: DEFENDER_PERMISSIONS.machines,
    });
    if (body === undefined) return null;
    return entity<DefenderMachineDto>(body, "GET /api/machines/{id}", "machine");
  }

  /**
   * `GET /api/machines` with `$filter`/`$top`/`$skip`: one page of the fleet. Defender answers 404 when it
   * has no recent machines: that is an empty page, not an error.
   */
  async listMachines(query: ODataQuery, deadline: Deadline): Promise<ODataPage<DefenderMachineDto>> {
    const body = await this.api.requestOrUndefined({
      method: "GET",
      path: `/api/machines${odata(query)}`,
      deadline,
      permission: DEFENDER_PERMISSIONS.machines,
    });
    if (body === undefined) return { items: [] };
    return this.page<DefenderMachineDto>(body, "GET /api/machines", "machine");
  }

  /**
   * `GET /api/alerts` with `$filter`/`$top`/`$skip`, and `$expand=evidence` when asked. Defender filters
   * alerts on a documented set of properties only (not on the related user or the machine: group locally).
   */
  async listAlerts(query: ODataQuery & { expandEvidence?: boolean }, deadline: Deadline): Promise<ODataPage<DefenderAlertDto>> {
    const body = await this.api.request({
      method: "GET",
      path: `/api/alerts${odata(query, query.expandEvidence)}`,
      deadline,
      permission: DEFENDER_PERMISSIONS.alerts,
    });
    return this.page<DefenderAlertDto>(body, "GET /api/alerts", "alert");
  }

  /** The page behind an `@odata.nextLink` of a machine list. */
  async nextMachines(nextLink: string, deadline: Deadline): Promise<ODataPage<DefenderMachineDto>> {
    const body = await this.api.request({
      method: "GET",
      path: this.linkPath(nextLink, "/api/machines"),
      deadline,
      permission: DEFENDER_PERMISSIONS.machines,
    });
    return this.page<DefenderMachineDto>(body, "GET /api/machines (next page)", "machine");
  }

  /** The page behind an `@odata.nextLink` of an alert list. */
  async nextAlerts(nextLink: string, deadline: Deadline): Promise<ODataPage<DefenderAlertDto>> {
    const body = await this.api.request({
      method: "GET",
      path: this.linkPath(nextLink, "/api/alerts"),
      deadline,
      permission: DEFENDER_PERMISSIONS.alerts,
    });
    return this.page<DefenderAlertDto>(body, "GET /api/alerts (next page)", "alert");
  }

  /** `GET /api/users/{id}/machines`: an unknown user is an empty list (200 today; 404 in older revisions, read the same). */
  async getUserMachines(id: string, deadline: Deadline): Promise<DefenderMachineDto[]> {
    const body = await this.api.requestOrUndefined({
      method: "GET",
      path: `/api/users/${encodePathSegment(id)}/machines`,
      deadline,
      permission: DEFENDER_PERMISSIONS.userMachines,
    });
    return body === undefined ? [] : this.page<DefenderMachineDto>(body, "GET /api/users/{id}/machines", "machine").items;
  }

  /** `GET /api/users/{id}/alerts`: an unknown user is an empty list. Alerts come without evidence. */
  async getUserAlerts(id: string, deadline: Deadline): Promise<DefenderAlertDto[]> {
    const body = await this.api.requestOrUndefined({
      method: "GET",
      path: `/api/users/${encodePathSegment(id)}/alerts`,
      deadline,
      permission: DEFENDER_PERMISSIONS.alerts,
    });
    return body === undefined ? [] : this.page<DefenderAlertDto>(body, "GET /api/users/{id}/alerts", "alert").items;
  }

  /** `GET /api/machines/{id}/logonusers`; null when Defender does not know the machine (404). */
  async getMachineLogonUsers(id: string, deadline: Deadline): Promise<DefenderUserDto[] | null> {
    const body = await this.api.requestOrUndefined({
      method: "GET",
      path: `/api/machines/${encodePathSegment(id)}/logonusers`,
      deadline,
      permission: DEFENDER_PERMISSIONS.users,
    });
    return body === undefined ? null : this.page<DefenderUserDto>(body, "GET /api/machines/{id}/logonusers", "user").items;
  }

  /** `GET /api/machines/{id}/alerts`; null when Defender does not know the machine (404). Alerts come without evidence. */
  async getMachineAlerts(id: string, deadline: Deadline): Promise<DefenderAlertDto[] | null> {
    const body = await this.api.requestOrUndefined({
      method: "GET",
      path: `/api/machines/${encodePathSegment(id)}/alerts`,
      deadline,
      permission: DEFENDER_PERMISSIONS.alerts,
    });
    return body === undefined ? null : this.page<DefenderAlertDto>(body, "GET /api/machines/{id}/alerts", "alert").items;
  }

  /**
   * A nextLink is followed only on this API (same origin and base path), so the token never goes anywhere
   * else, and only to the next page of the same listing: a link to another endpoint (a user, a machine's
   * log-on users) would be a call the plan and its price never counted on.
   */
  private linkPath(nextLink: string, listing: string): string {
    const path = this.api.pathOf(nextLink);
    if (path === undefined)
      throw new UpstreamError("DEFENDER", "parse", "Defender sent an @odata.nextLink that does not point at its own API");
    if (path.split("?")[0] !== listing)
      throw new UpstreamError("DEFENDER", "parse", `Defender sent an @odata.nextLink that does not continue ${listing}`);
    return path;
  }

  /** A collection: `value` must be a list of entities with ids; `@odata.nextLink` is kept when it is a string. */
  private page<T>(body: unknown, what: string, kind: string): ODataPage<T> {
    if (!isObject(body) || !Array.isArray(body.value)) {
      throw new UpstreamError("DEFENDER", "parse", `Defender ${what} answered 200 without a value list`);
    }
    const items = body.value.map((item) => entity<T>(item, what, kind));
    const next = body["@odata.nextLink"];
    return typeof next === "string" && next !== "" ? { items, nextLink: next } : { items };
  }
}

/** An entity must be an object with a non-empty string id (alerts: `id`, or `ID` as the property table spells it). */
function entity<T>(body: unknown, what: string, kind: string): T {
  if (isObject(body)) {
    if (typeof body.id !== "string" && typeof body.ID === "string") body.id = body.ID;
    if (typeof body.id === "string" && body.id !== "") return body as unknown as T;
  }
  throw new UpstreamError("DEFENDER", "parse", `Defender ${what} answered 200 with a ${kind} without an id`);
}

/** `?$filter=…&$top=…&$skip=…[&$expand=evidence]`, each value percent-encoded; "" when there is none. */
function odata(query: ODataQuery, expandEvidence = false): string {
  const parts: string[] = [];
  if (query.filter !== undefined && query.filter !== "")
    parts.push(`$filter=${encodeURIComponent(wellFormed(query.filter, "OData filter"))}`);
  if (query.top !== undefined) parts.push(`$top=${Math.min(DEFENDER_MAX_TOP, Math.max(0, Math.floor(query.top)))}`);
  if (query.skip !== undefined && query.skip > 0) parts.push(`$skip=${Math.floor(query.skip)}`);
  if (expandEvidence) parts.push("$expand=evidence");
  return parts.length === 0 ? "" : `?${parts.join("&")}`;
}

/**
 * Defender's own "no such resource": its error body (UPSTREAMS.md §1.6) with the code `ResourceNotFound` or
 * `NotFound`. A 404 without it (an HTML page, an empty body, another code) came from somewhere else: a
 * DEFENDER_API_URL with a wrong path, or a proxy.
 */
export function isDefenderNotFound(res: HttpResult): boolean {
  const code = defenderErrorFacts(res).upstreamCode;
  return code === "ResourceNotFound" || code === "NotFound";
}

export function defenderErrorFacts(res: HttpResult): ErrorFacts {
  const body = tryParseJson(res.text) as DefenderErrorDto | undefined;
  const error = isObject(body) && isObject(body.error) ? body.error : undefined;
  return {
    upstreamCode: typeof error?.code === "string" ? error.code : undefined,
    upstreamRequestId:
      (typeof error?.target === "string" ? error.target : undefined) ?? header(res, "request-id") ?? header(res, "x-ms-request-id"),
  };
}
