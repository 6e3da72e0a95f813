import type { EsetCloudOfficeDto, EsetIdentityDto, EsetUserDto } from "../dto";
import type { CloudOffice } from "./cloud-office.type";
import { IdentityProviderType, IdentityReferenceFormat, ProtectionStatus } from "../enums";
import type { EsetUser } from "./user.type";
import type { Identity } from "./identity.type";
import { bool, date, enumValue, int64List, str, strList, type UnknownEnumReporter } from "../../../graphql/normalize";

const mapped = new WeakMap<EsetUserDto, EsetUser>();

/**
 * ESET wire user → EsetUser. Pure but for reporting enum values it does not know (once, on first mapping).
 * Memoised by DTO identity: a cached DTO is mapped once, not on every cache hit.
 */
export function toEsetUser(dto: EsetUserDto, report: UnknownEnumReporter): EsetUser {
  let user = mapped.get(dto);
  if (user === undefined) mapped.set(dto, (user = map(dto, report)));
  return user;
}

function map(dto: EsetUserDto, report: UnknownEnumReporter): EsetUser {
  return {
    uuid: dto.uuid,
    displayName: str(dto.displayName),
    primaryEmailAddress: str(dto.primaryEmailAddress),
    proxyEmailAddresses: strList(dto.proxyEmailAddresses),
    phoneNumbers: strList(dto.phoneNumbers),
    department: str(dto.department),
    jobTitle: str(dto.jobTitle),
    officeLocation: str(dto.officeLocation),
    identities: Array.isArray(dto.identities) ? dto.identities.filter(isObject).map((identity) => toIdentity(identity, report)) : [],
    cloudOffice: isObject(dto.cloudOffice) ? toCloudOffice(dto.cloudOffice) : null,
    protectionStatus: enumValue(
      dto.protectionStatus,
      "ProtectionStatus",
      "PROTECTION_STATUS_",
      ProtectionStatus,
      ProtectionStatus.UNSPECIFIED,
      report,
    ),
    activeProductIds: int64List(dto.activeProductIds),
    userGroupUuids: strList(dto.userGroupUuids),
  };
}

function toIdentity(dto: EsetIdentityDto, report: UnknownEnumReporter): Identity {
  return {
    userName: str(dto.userName),
    providerReference: str(dto.providerReference),
    providerReferenceFormat: enumValue(
      dto.providerReferenceFormat,
      "IdentityReferenceFormat",
      "IDENTITY_REFERENCE_FORMAT_",
      IdentityReferenceFormat,
      IdentityReferenceFormat.UNSPECIFIED,
      report,
      // ESET's wire spelling (sic, one S).
      { EMAIL_ADDRES: IdentityReferenceFormat.EMAIL_ADDRESS },
    ),
    providerType: enumValue(
      dto.providerType,
      "IdentityProviderType",
      "IDENTITY_PROVIDER_TYPE_",
      IdentityProviderType,
      IdentityProviderType.UNSPECIFIED,
      report,
    ),
    createTime: date(dto.createTime),
    updateTime: date(dto.updateTime),
  };
}

function toCloudOffice(dto: EsetCloudOfficeDto): CloudOffice | null {
  const cloudOffice = { hasMsLicense: bool(dto.hasMsLicense), tenantReference: str(dto.tenantReference) };
  return cloudOffice.hasMsLicense === null && cloudOffice.tenantReference === null ? null : cloudOffice;
}

function isObject<T>(v: T): v is T & object {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
