import type { EsetUserListFilter } from "../dto";
import type { EsetUserFilter } from "./user-filter.input";

/**
 * Our filter → ESET's query parameters: enums get their wire prefixes back, booleans become "true"/"false",
 * and absent, null and "" are left out (ESET: "If null or empty, … any"). So two filters that mean the same
 * thing map to the same parameters, and cursors (which carry a digest of them) work across both.
 */
export function toWireFilter(filter: EsetUserFilter | null | undefined): EsetUserListFilter {
  const wire: EsetUserListFilter = {};
  if (!filter) return wire;
  const set = (name: keyof EsetUserListFilter, value: string | boolean | null | undefined) => {
    if (value !== null && value !== undefined && value !== "") wire[name] = String(value);
  };
  set("displayName", filter.displayName);
  set("email", filter.email);
  set("protectionStatus", filter.protectionStatus && `PROTECTION_STATUS_${filter.protectionStatus}`);
  set("userGroupUuid", filter.userGroupUuid);
  set("cloudOfficeTenantReference", filter.cloudOfficeTenantReference);
  set("hasCloudOfficeMsLicense", filter.hasCloudOfficeMsLicense);
  const product = filter.activeProduct;
  if (product) {
    set("activeProduct.id", product.id && String(Number(product.id)));
    set("activeProduct.name", product.name);
    set("activeProduct.autoActivated", product.autoActivated);
    set(
      "activeProduct.autoActivationDetails.base",
      product.autoActivationBase && `PRODUCT_AUTO_ACTIVATION_BASE_${product.autoActivationBase}`,
    );
    set("activeProduct.autoActivationDetails.userGroupUuid", product.autoActivationUserGroupUuid);
    set("activeProduct.subscriptionUuid", product.subscriptionUuid);
    set("activeProduct.unitPoolUuid", product.unitPoolUuid);
  }
  return wire;
}
