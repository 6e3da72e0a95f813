/**
 * Defender for Endpoint `user` entity as it arrives on the wire (UPSTREAMS.md §1.2). Microsoft publishes no
 * property table; every field but `id` may be absent or null, and types are what the documented examples show.
 */
export interface DefenderUserDto {
  "@odata.context"?: string;
  id: string;
  accountName?: string | null;
  accountDomain?: string | null;
  /** The early-preview name of accountDomain; some tenants and connectors still show it. */
  accountDomainName?: string | null;
  accountSid?: string | null;
  firstSeen?: string | null;
  lastSeen?: string | null;
  mostPrevalentMachineId?: string | null;
  leastPrevalentMachineId?: string | null;
  /** One string, comma-plus-space separated: "Network, RemoteInteractive". */
  logonTypes?: string | null;
  logOnMachinesCount?: number | null;
  isDomainAdmin?: boolean | null;
  isOnlyNetworkUser?: boolean | null;
}

/** Defender's documented error body (common-errors.md): `target` is the correlation request id. */
export interface DefenderErrorDto {
  error?: { code?: string; message?: string; target?: string };
}
