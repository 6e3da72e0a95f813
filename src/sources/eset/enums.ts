import { registerEnumType } from "type-graphql";

/** ESET v1ProtectionStatus without its `PROTECTION_STATUS_` prefix. */
export enum ProtectionStatus {
  UNSPECIFIED = "UNSPECIFIED",
  UNPROTECTED = "UNPROTECTED",
  PENDING = "PENDING",
  PARTIALLY_PROTECTED = "PARTIALLY_PROTECTED",
  FULLY_PROTECTED = "FULLY_PROTECTED",
}

/** ESET v1IdentityProviderType without its `IDENTITY_PROVIDER_TYPE_` prefix. */
export enum IdentityProviderType {
  UNSPECIFIED = "UNSPECIFIED",
  MICROSOFT = "MICROSOFT",
  GOOGLE = "GOOGLE",
  FACEBOOK = "FACEBOOK",
  LOCAL = "LOCAL",
}

/** ESET v1IdentityReferenceFormat without its `IDENTITY_REFERENCE_FORMAT_` prefix (and with ESET's EMAIL_ADDRES spelled right). */
export enum IdentityReferenceFormat {
  UNSPECIFIED = "UNSPECIFIED",
  EMAIL_ADDRESS = "EMAIL_ADDRESS",
  USER_NAME = "USER_NAME",
  USER_PRINCIPAL_NAME = "USER_PRINCIPAL_NAME",
  PHONE_NUMBER = "PHONE_NUMBER",
  FEDERATED = "FEDERATED",
}

registerEnumType(ProtectionStatus, {
  name: "ProtectionStatus",
  description: "Aggregated status of protection, per context of specific asset (ESET v1ProtectionStatus).",
  valuesConfig: {
    UNSPECIFIED: { description: "Fallback: ESET sent no status, or one usergraph does not know yet." },
    UNPROTECTED: { description: "The asset is not protected by enabled ESET protection features." },
    PENDING: {
      description: "The asset is not protected by enabled protection features yet; the protection features are setting up.",
    },
    PARTIALLY_PROTECTED: {
      description: "The asset is protected by enabled protection features, with some complications that require attention.",
    },
    FULLY_PROTECTED: { description: "The asset is fully protected by enabled ESET protection features." },
  },
});

registerEnumType(IdentityProviderType, {
  name: "IdentityProviderType",
  description: "Identity providers that can be used for authentication (ESET v1IdentityProviderType).",
  valuesConfig: {
    UNSPECIFIED: { description: "Fallback: ESET sent no provider, or one usergraph does not know yet." },
    MICROSOFT: {
      description: "Microsoft Entra ID (formerly Azure Active Directory) as an identity provider for enterprise authentication.",
    },
    GOOGLE: { description: "Google as an identity provider for authentication via Google accounts." },
    FACEBOOK: { description: "Facebook as an identity provider for authentication via Facebook accounts." },
    LOCAL: { description: "A local provider that manages identities and authentication within the application's scope." },
  },
});

registerEnumType(IdentityReferenceFormat, {
  name: "IdentityReferenceFormat",
  description: "Possible formats of user references (ESET v1IdentityReferenceFormat).",
  valuesConfig: {
    UNSPECIFIED: { description: "Fallback: ESET sent no format, or one usergraph does not know yet." },
    EMAIL_ADDRESS: {
      description: "The identity reference (login) is an e-mail address. ESET's wire name is IDENTITY_REFERENCE_FORMAT_EMAIL_ADDRES.",
    },
    USER_NAME: { description: "The identity reference (login) is a user name." },
    USER_PRINCIPAL_NAME: { description: "The identity reference (login) is in user principal name (UPN) format." },
    PHONE_NUMBER: { description: "The identity reference (login) is a telephone number." },
    FEDERATED: { description: "A unique identifier for a user from a provider, in any format the provider chooses." },
  },
});

/** Why an ESET user and a Defender account are taken for one person; the values of src/people/link-rules.ts, strongest first. */

/** ESET v1ProductAutoActivationBase without its prefix and without UNSPECIFIED (which, as a filter, means "any"). */
export enum ProductAutoActivationBase {
  TENANT = "TENANT",
  USER_GROUP = "USER_GROUP",
}

registerEnumType(ProductAutoActivationBase, {
  name: "ProductAutoActivationBase",
  description: "Why ESET activated a product for a user automatically (ESET v1ProductAutoActivationBase).",
  valuesConfig: {
    TENANT: { description: "Automatic activation is enabled on the user's tenant." },
    USER_GROUP: { description: "Automatic activation is enabled on one of the user's groups." },
  },
});
