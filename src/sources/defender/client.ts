import type { Deadline } from "../../upstream/deadline";
import type { DefenderErrorDto, DefenderUserDto } from "./dto";
import { header, tryParseJson, type ErrorFacts, type JsonApi } from "../../upstream/http-json";
import type { HttpResult } from "../../upstream/http-transport";
import { isObject } from "../../upstream/json-shape";
import { encodePathSegment } from "../../upstream/path";
import { UpstreamError } from "../../upstream/upstream-error";

/** Microsoft Defender for Endpoint users API: one method per REST endpoint, wire DTOs out. */
export class DefenderClient {
  constructor(private readonly api: JsonApi) {}

  /** `GET /api/users/{id}`; null when Defender answers 404. */
  async getUser(id: string, deadline: Deadline): Promise<DefenderUserDto | null> {
    const body = await this.api.requestOrUndefined({ method: "GET", path: `/api/users/${encodePathSegment(id)}`, deadline });
    if (body === undefined) return null;
    if (!isObject(body) || typeof body.id !== "string" || body.id === "") {
      throw new UpstreamError("DEFENDER", "parse", "Defender GET /api/users/{id} answered 200 without a user id");
    }
    return body as unknown as DefenderUserDto;
  }
}

export function defenderErrorFacts(res: HttpResult): ErrorFacts {
  const body = tryParseJson(res.text) as DefenderErrorDto | undefined;
  const error = isObject(body) && isObject(body.error) ? body.error : undefined;
  return {
    upstreamCode: typeof error?.code === "string" ? error.code : undefined,
    upstreamRequestId:
      (typeof error?.target === "string" ? error.target : undefined) ??
      header(res, "request-id") ??
      header(res, "x-ms-request-id"),
  };
}
