/** Who is asking, as far as usergraph can tell, and what they may read. */
export interface Principal {
  kind: "api-key" | "jwt" | "open";
  /** The API key's label or the JWT's `sub`; never the key or the token. */
  subject: string;
  scopes: ReadonlySet<string>;
}
