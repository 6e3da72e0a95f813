/**
 * ESET Connect user-management wire types (v1User, v1Identity, v1CloudOfficeUser), from ESET's OpenAPI in
 * shared/specs. grpc-gateway omits default values and every field is optional, so all may be absent.
 */
export interface EsetIdentityDto {
  createTime?: string;
  updateTime?: string;
  providerReference?: string;
  providerReferenceFormat?: string;
  providerType?: string;
  userName?: string;
}

export interface EsetCloudOfficeDto {
  hasMsLicense?: boolean;
  tenantReference?: string;
}

export interface EsetUserDto {
  uuid: string;
  displayName?: string;
  primaryEmailAddress?: string;
  proxyEmailAddresses?: string[];
  phoneNumbers?: string[];
  department?: string;
  jobTitle?: string;
  officeLocation?: string;
  identities?: EsetIdentityDto[];
  cloudOffice?: EsetCloudOfficeDto;
  protectionStatus?: string;
  /** int64: a JSON number or a decimal string; unsafe integers arrive here as strings (lossless-json.ts). */
  activeProductIds?: Array<number | string>;
  userGroupUuids?: string[];
}

export interface EsetGetUserResponseDto {
  user: EsetUserDto;
}

export interface EsetBatchGetUsersResponseDto {
  users?: EsetUserDto[];
}

/** grpc-gateway's rpcStatus; ESET does not document its error bodies, so this is only a best guess. */
export interface EsetRpcStatusDto {
  code?: number;
  message?: string;
}

/**
 * The filters of `GET /v1/users`, by their wire (query parameter) names, in ESET's OpenAPI order of
 * meaning. Values are sent as strings; absent or "" means "no filter" (ESET's own rule).
 */
export const ESET_LIST_FILTER_PARAMS = [
  "displayName",
  "email",
  "protectionStatus",
  "userGroupUuid",
  "cloudOfficeTenantReference",
  "hasCloudOfficeMsLicense",
  "activeProduct.id",
  "activeProduct.name",
  "activeProduct.autoActivated",
  "activeProduct.autoActivationDetails.base",
  "activeProduct.autoActivationDetails.userGroupUuid",
  "activeProduct.subscriptionUuid",
  "activeProduct.unitPoolUuid",
] as const;

export type EsetListFilterParam = (typeof ESET_LIST_FILTER_PARAMS)[number];

/** A `GET /v1/users` filter: wire parameter name → value. */
export type EsetUserListFilter = Partial<Record<EsetListFilterParam, string>>;

/** v1ListUsersResponse. grpc-gateway omits defaults: no `users` on an empty page, no `totalSize` when it is 0. */
export interface EsetListUsersResponseDto {
  users?: EsetUserDto[];
  nextPageToken?: string;
  /** int64: a JSON number or a decimal string. */
  totalSize?: number | string;
}
