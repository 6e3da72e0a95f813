import type { Deadline } from "./deadline";
import { header, tryParseJson, type RetryingSender } from "./http-json";
import type { SourceName } from "./source";
import type { FetchedToken } from "./token-cache";
import { UpstreamError } from "./upstream-error";

/**
 * POSTs an OAuth form to a token endpoint and returns the token answer. Errors carry the OAuth `error`
 * code and the vendor's request id, never the form (it holds the secret).
 */
export async function postTokenForm(
  sender: RetryingSender,
  source: SourceName,
  url: URL,
  form: Record<string, string>,
  deadline: Deadline,
): Promise<{ token: FetchedToken; body: Record<string, unknown> }> {
  const body = new URLSearchParams(form).toString();
  let res: Awaited<ReturnType<RetryingSender["send"]>>;
  try {
    res = await sender.send({
      source,
      phase: "token",
      deadline,
      build: async () => ({
        method: "POST",
        origin: url.origin,
        path: url.pathname + url.search,
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
        body,
      }),
    });
  } catch (err) {
    // Timeouts and network errors: say it was the token endpoint, so the client's error names it.
    if (err instanceof UpstreamError && err.phase !== "token") {
      throw new UpstreamError(source, err.kind, `${source} token endpoint: ${err.message}`, {
        phase: "token",
        status: err.status,
        retryAfter: err.retryAfter,
        cause: err,
      });
    }
    throw err;
  }
  const json = tryParseJson(res.text) as Record<string, unknown> | undefined;
  const requestId =
    header(res, "request-id") ??
    header(res, "x-ms-request-id") ??
    (typeof json?.correlation_id === "string" ? json.correlation_id : undefined);
  if (res.status !== 200) {
    const oauthError = typeof json?.error === "string" ? json.error : undefined;
    const rpcCode = typeof json?.code === "number" || typeof json?.code === "string" ? String(json.code) : undefined;
    throw new UpstreamError(source, "http", `${source} token endpoint answered ${res.status}`, {
      phase: "token",
      status: res.status,
      upstreamCode: oauthError ?? rpcCode,
      upstreamRequestId: requestId,
    });
  }
  const accessToken = json?.access_token;
  const expiresIn = Number(json?.expires_in);
  if (typeof accessToken !== "string" || accessToken === "" || !Number.isFinite(expiresIn)) {
    throw new UpstreamError(source, "parse", `${source} token endpoint answered 200 without access_token/expires_in`, {
      phase: "token",
      status: res.status,
      upstreamRequestId: requestId,
    });
  }
  return { token: { accessToken, expiresInSec: expiresIn }, body: json as Record<string, unknown> };
}
