import type { Deadline } from "../../upstream/deadline";
import type { RetryingSender } from "../../upstream/http-json";
import { postTokenForm } from "../../upstream/token-endpoint";
import type { FetchedToken } from "../../upstream/token-cache";

export interface EntraCredentials {
  tokenUrl: URL;
  clientId: string;
  clientSecret: string;
  scope: string;
}

/** Microsoft Entra ID client-credentials grant, v2 endpoint (`scope=…/.default`). */
export function entraClientCredentials(sender: RetryingSender, creds: EntraCredentials) {
  return async (deadline: Deadline): Promise<FetchedToken> => {
    const { token } = await postTokenForm(
      sender,
      "DEFENDER",
      creds.tokenUrl,
      {
        grant_type: "client_credentials",
        client_id: creds.clientId,
        client_secret: creds.clientSecret,
        scope: creds.scope,
      },
      deadline,
    );
    return token;
  };
}
