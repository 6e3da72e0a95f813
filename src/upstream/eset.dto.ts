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
