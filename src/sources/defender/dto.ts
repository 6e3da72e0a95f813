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

/** An OData collection as Defender sends it: items in `value`, more pages behind `@odata.nextLink` (UPSTREAMS.md §5.1). */
export interface ODataCollectionDto<T> {
  "@odata.context"?: string;
  "@odata.nextLink"?: string;
  value: T[];
}

/** One page of a Defender list, as the client hands it out: the items, and the absolute URL of the next page if any. */
export interface ODataPage<T> {
  items: T[];
  nextLink?: string;
}

/**
 * Defender `machine` entity (UPSTREAMS.md §5.2). Every field but `id` may be absent or null. `osBuild` is
 * int64: a number when it is a safe integer, else its exact decimal string (the client parses losslessly).
 */
export interface DefenderMachineDto {
  "@odata.context"?: string;
  id: string;
  computerDnsName?: string | null;
  firstSeen?: string | null;
  lastSeen?: string | null;
  osPlatform?: string | null;
  /** Deprecated by Defender in favour of osArchitecture. */
  osProcessor?: string | null;
  version?: string | null;
  osBuild?: number | string | null;
  lastIpAddress?: string | null;
  lastExternalIpAddress?: string | null;
  healthStatus?: string | null;
  /** The property table's spelling; the examples and the $filter name say onboardingStatus. */
  onboardingstatus?: string | null;
  onboardingStatus?: string | null;
  rbacGroupName?: string | null;
  /** A number in the examples (140), a string elsewhere. */
  rbacGroupId?: number | string | null;
  riskScore?: string | null;
  aadDeviceId?: string | null;
  machineTags?: string[] | null;
  exposureLevel?: string | null;
  deviceValue?: string | null;
  ipAddresses?: Array<{ ipAddress?: string | null; macAddress?: string | null; operationalStatus?: string | null }> | null;
  osArchitecture?: string | null;
  /** Only in the examples. */
  isAadJoined?: boolean | null;
}

/** `relatedUser` as the examples send it (the property table calls it a String). */
export interface AlertRelatedUserDto {
  userName?: string | null;
  domainName?: string | null;
}

export interface AlertCommentDto {
  comment?: string | null;
  createdBy?: string | null;
  createdTime?: string | null;
}

/** One `evidence` item (only with `$expand=evidence`); keys that do not apply to its entityType are null. */
export interface AlertEvidenceDto {
  entityType?: string | null;
  evidenceCreationTime?: string | null;
  sha1?: string | null;
  sha256?: string | null;
  fileName?: string | null;
  filePath?: string | null;
  processId?: number | string | null;
  processCommandLine?: string | null;
  processCreationTime?: string | null;
  parentProcessId?: number | string | null;
  parentProcessCreationTime?: string | null;
  parentProcessFileName?: string | null;
  parentProcessFilePath?: string | null;
  ipAddress?: string | null;
  url?: string | null;
  registryKey?: string | null;
  registryHive?: string | null;
  registryValueType?: string | null;
  registryValue?: string | null;
  accountName?: string | null;
  domainName?: string | null;
  userSid?: string | null;
  aadUserId?: string | null;
  userPrincipalName?: string | null;
  detectionStatus?: string | null;
}

/**
 * Defender `alert` entity (UPSTREAMS.md §5.3). The table and the examples disagree; both shapes are typed:
 * `ID`/`id`, `Evidence`/`evidence`, `relatedUser` object or string, `mitreTechniques` array or string.
 * `incidentId` and `investigationId` are int64 (numbers, or exact strings beyond 2^53).
 */
export interface DefenderAlertDto {
  "@odata.context"?: string;
  id: string;
  ID?: string;
  incidentId?: number | string | null;
  investigationId?: number | string | null;
  investigationState?: string | null;
  assignedTo?: string | null;
  rbacGroupName?: string | null;
  mitreTechniques?: string[] | string | null;
  relatedUser?: AlertRelatedUserDto | string | null;
  severity?: string | null;
  status?: string | null;
  classification?: string | null;
  determination?: string | null;
  category?: string | null;
  detectionSource?: string | null;
  threatFamilyName?: string | null;
  threatName?: string | null;
  title?: string | null;
  description?: string | null;
  alertCreationTime?: string | null;
  firstEventTime?: string | null;
  lastEventTime?: string | null;
  lastUpdateTime?: string | null;
  resolvedTime?: string | null;
  machineId?: string | null;
  computerDnsName?: string | null;
  aadTenantId?: string | null;
  detectorId?: string | null;
  comments?: AlertCommentDto[] | null;
  evidence?: AlertEvidenceDto[] | null;
  Evidence?: AlertEvidenceDto[] | null;
}
