/**
 * The two shapes a person's name takes across the products: a Windows account `DOMAIN\user` (Defender ids,
 * ESET USER_NAME identities) and `user@dns.domain` (UPNs, e-mail addresses). Parsed strictly: a value
 * that is neither is no name at all, never a partial one.
 */

/**
 * The comparison form: Unicode NFC, lower case. Windows account and domain names, DNS names and UPNs
 * compare without case; mailbox local parts may in theory be case-sensitive, but no mail system in this
 * picture (Exchange Online, Google) treats them so.
 */
export function fold(s: string): string {
  return s.normalize("NFC").toLowerCase();
}

/** `DOMAIN\user`, folded. */
export interface DomainUserName {
  domain: string;
  user: string;
}

/** `user@dns.domain`, folded, with the first DNS label (the NetBIOS domain name guessed from it). */
export interface AtName {
  user: string;
  domain: string;
  /** `contoso` for `contoso.com`: what a Windows domain is usually called for short. */
  label: string;
  /** An Entra ID guest UPN (`alice_fabrikam.com#EXT#@contoso.onmicrosoft.com`): names no account of this directory. */
  guest: boolean;
}

/** Exactly one backslash, with something on both sides, and a domain without `@` or white space. */
export function parseDomainUser(value: string): DomainUserName | undefined {
  const i = value.indexOf("\\");
  if (i <= 0 || i !== value.lastIndexOf("\\") || i === value.length - 1) return undefined;
  const domain = value.slice(0, i);
  const user = value.slice(i + 1);
  if (/[@\s]/u.test(domain) || /^\s|\s$/u.test(user)) return undefined;
  return { domain: fold(domain), user: fold(user) };
}

const DNS_LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?$/u;

/** Exactly one `@`, a user part without white space or backslash, and a DNS name after it. */
export function parseAtName(value: string): AtName | undefined {
  const at = value.indexOf("@");
  if (at <= 0 || at !== value.lastIndexOf("@")) return undefined;
  const user = value.slice(0, at);
  const labels = value.slice(at + 1).split(".");
  if (/[\s\\]/u.test(user) || !labels.every((l) => DNS_LABEL.test(l))) return undefined;
  return { user: fold(user), domain: fold(labels.join(".")), label: fold(labels[0]!), guest: /#ext#$/i.test(user) };
}

/** Exchange writes proxy addresses as `smtp:alice@contoso.com` (`SMTP:` for the primary); the address is what follows. */
export function stripSmtpPrefix(address: string): string {
  return address.replace(/^smtp:/i, "");
}
