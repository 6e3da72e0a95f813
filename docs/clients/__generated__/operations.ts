/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
/** Identity providers that can be used for authentication (ESET v1IdentityProviderType). */
export type IdentityProviderType =
  /** Facebook as an identity provider for authentication via Facebook accounts. */
  | 'FACEBOOK'
  /** Google as an identity provider for authentication via Google accounts. */
  | 'GOOGLE'
  /** A local provider that manages identities and authentication within the application's scope. */
  | 'LOCAL'
  /** Microsoft Entra ID (formerly Azure Active Directory) as an identity provider for enterprise authentication. */
  | 'MICROSOFT'
  /** Fallback: ESET sent no provider, or one usergraph does not know yet. */
  | 'UNSPECIFIED';

/** Aggregated status of protection, per context of specific asset (ESET v1ProtectionStatus). */
export type ProtectionStatus =
  /** The asset is fully protected by enabled ESET protection features. */
  | 'FULLY_PROTECTED'
  /** The asset is protected by enabled protection features, with some complications that require attention. */
  | 'PARTIALLY_PROTECTED'
  /** The asset is not protected by enabled protection features yet; the protection features are setting up. */
  | 'PENDING'
  /** The asset is not protected by enabled ESET protection features. */
  | 'UNPROTECTED'
  /** Fallback: ESET sent no status, or one usergraph does not know yet. */
  | 'UNSPECIFIED';

export type AccountAndEsetUserQueryVariables = Exact<{
  id: string;
  uuid: string;
}>;


export type AccountAndEsetUserQuery = { defenderUser: { id: string, accountName: string | null, lastSeen: string | null } | null, esetUser: { uuid: string, displayName: string | null } | null };

export type EsetUsersByUuidQueryVariables = Exact<{
  uuids: Array<string> | string;
}>;


export type EsetUsersByUuidQuery = { esetUsers: Array<{ uuid: string, displayName: string | null, protectionStatus: ProtectionStatus, cloudOffice: { tenantReference: string | null } | null, identities: Array<{ providerType: IdentityProviderType, userName: string | null, updateTime: string | null }> } | null> | null };

export type EsetUserByUuidQueryVariables = Exact<{
  uuid: string;
}>;


export type EsetUserByUuidQuery = { esetUser: { uuid: string, displayName: string | null } | null };


export const AccountAndEsetUserDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"AccountAndEsetUser"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"uuid"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"defenderUser"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"accountName"}},{"kind":"Field","name":{"kind":"Name","value":"lastSeen"}}]}},{"kind":"Field","name":{"kind":"Name","value":"esetUser"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"uuid"},"value":{"kind":"Variable","name":{"kind":"Name","value":"uuid"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"uuid"}},{"kind":"Field","name":{"kind":"Name","value":"displayName"}}]}}]}}]} as unknown as DocumentNode<AccountAndEsetUserQuery, AccountAndEsetUserQueryVariables>;
export const EsetUsersByUuidDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"EsetUsersByUuid"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"uuids"}},"type":{"kind":"NonNullType","type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"esetUsers"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"uuids"},"value":{"kind":"Variable","name":{"kind":"Name","value":"uuids"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"uuid"}},{"kind":"Field","name":{"kind":"Name","value":"displayName"}},{"kind":"Field","name":{"kind":"Name","value":"protectionStatus"}},{"kind":"Field","name":{"kind":"Name","value":"cloudOffice"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"tenantReference"}}]}},{"kind":"Field","name":{"kind":"Name","value":"identities"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"providerType"}},{"kind":"Field","name":{"kind":"Name","value":"userName"}},{"kind":"Field","name":{"kind":"Name","value":"updateTime"}}]}}]}}]}}]} as unknown as DocumentNode<EsetUsersByUuidQuery, EsetUsersByUuidQueryVariables>;
export const EsetUserByUuidDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"EsetUserByUuid"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"uuid"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"esetUser"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"uuid"},"value":{"kind":"Variable","name":{"kind":"Name","value":"uuid"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"uuid"}},{"kind":"Field","name":{"kind":"Name","value":"displayName"}}]}}]}}]} as unknown as DocumentNode<EsetUserByUuidQuery, EsetUserByUuidQueryVariables>;