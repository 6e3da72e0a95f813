import type { Logger } from "pino";
import type { Deadline } from "../../upstream/deadline";
import type { RetryingSender } from "../../upstream/http-json";
import { postTokenForm } from "../../upstream/token-endpoint";
import type { FetchedToken } from "../../upstream/token-cache";
import { UpstreamError } from "../../upstream/upstream-error";

export interface EsetCredentials {
  tokenUrl: URL;
  username: string;
  password: string;
}

/**
 * ESET Connect's OAuth flow: the password grant first, then the refresh_token grant. ESET rotates the
 * refresh token on every refresh, so the newest one is kept; when a refresh fails for any reason we fall
 * back to the password grant rather than failing the request.
 */
export class EsetTokenFlow {
  private refreshToken?: string;

  constructor(
    private readonly sender: RetryingSender,
    private readonly creds: EsetCredentials,
    private readonly log: Logger,
    private readonly onSecret: (secret: string) => void,
  ) {}

  readonly fetch = async (deadline: Deadline): Promise<FetchedToken> => {
    if (this.refreshToken !== undefined) {
      const refreshToken = this.refreshToken;
      this.refreshToken = undefined;
      try {
        return await this.grant({ grant_type: "refresh_token", refresh_token: refreshToken }, deadline);
      } catch (err) {
        const e = err as UpstreamError;
        this.log.warn(
          { source: "ESET", status: e.status, upstreamCode: e.upstreamCode, kind: e.kind },
          "ESET refresh_token grant failed; falling back to the password grant",
        );
        if (e instanceof UpstreamError && e.kind === "timeout") throw e;
      }
    }
    return this.grant({ grant_type: "password", username: this.creds.username, password: this.creds.password }, deadline);
  };

  private async grant(form: Record<string, string>, deadline: Deadline): Promise<FetchedToken> {
    const { token, body } = await postTokenForm(this.sender, "ESET", this.creds.tokenUrl, form, deadline);
    if (typeof body.refresh_token === "string" && body.refresh_token !== "") {
      this.refreshToken = body.refresh_token;
      this.onSecret(body.refresh_token);
    }
    return token;
  }
}
