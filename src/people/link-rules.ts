import { fold, parseAtName, parseDomainUser, stripSmtpPrefix, type AtName, type DomainUserName } from "./account-names";

/**
 * When an ESET user and a Defender account are the same person. Pure and exact: values are compared whole
 * (after case folding), never as substrings, so `user1` never matches `user10`. The README's "Lists, links
 * and the person view" section is the prose version of this file, with each rule's blind spots.
 *
 * Rules, strongest first:
 * - DOMAIN_USER: an ESET identity reads `DOMAIN\user`, and so does the Defender account.
 * - UPN: an ESET identity `user@dns.name` (a UPN, or any identity but an e-mail one) has the Defender
 *   account's user name before the `@` and its domain as the first DNS label (`contoso.com` → `contoso`).
 * - EMAIL: the same comparison for an e-mail address: the primary one, a proxy (alias), or an
 *   EMAIL_ADDRESS identity.
 * - BARE_USER_NAME: the Defender account has no domain (`user1`), and an ESET UPN's user part is that
 *   name. Microsoft documents this form of id (`user1` for `user1@contoso.com`); the domain is unknowable.
 */
export type LinkRuleName = "DOMAIN_USER" | "ALERT_EVIDENCE" | "UPN" | "EMAIL" | "BARE_USER_NAME";

export const RULE_ORDER: readonly LinkRuleName[] = ["DOMAIN_USER", "ALERT_EVIDENCE", "UPN", "EMAIL", "BARE_USER_NAME"];

/**
 * Defender's own word that a Windows account and a UPN are one person: a `User` evidence item of an alert
 * carries `domainName`, `accountName` and `userPrincipalName` together (UPSTREAMS.md §5.3). Folded.
 */
export interface AccountEvidence {
  /** `domain\user`, folded. */
  domainUser: string;
  /** The UPN, folded. */
  upn: string;
}

/** The usable evidence among raw User evidence items: all three parts present and well formed; repeats dropped. */
export function accountEvidence(
  items: ReadonlyArray<{ accountName: string; domainName: string; userPrincipalName: string }>,
): AccountEvidence[] {
  const out = new Map<string, AccountEvidence>();
  for (const item of items) {
    const account = parseDomainUser(`${item.domainName}\\${item.accountName}`);
    const upn = parseAtName(item.userPrincipalName);
    if (!account || !upn || upn.guest) continue;
    const e = { domainUser: `${account.domain}\\${account.user}`, upn: fold(item.userPrincipalName) };
    out.set(`${e.domainUser} ${e.upn}`, e);
  }
  return [...out.values()];
}

/** What the rules read of an ESET user (the mapped `EsetUser` has this shape). */
export interface EsetSide {
  identities: ReadonlyArray<{ userName: string | null; providerReference: string | null; providerReferenceFormat: string }>;
  primaryEmailAddress: string | null;
  proxyEmailAddresses: readonly string[];
}

/** What the rules read of a Defender account (the mapped `DefenderUser` has this shape). */
export interface DefenderSide {
  id: string;
  accountName: string | null;
  accountDomain: string | null;
}

/** One reason a pair matched: the rule and the two values it compared, with where the ESET value came from. */
export interface LinkReasonData {
  rule: LinkRuleName;
  /** `identities[1].userName`, `primaryEmailAddress`, `proxyEmailAddresses[0]`. */
  esetField: string;
  esetValue: string;
  /** The Defender id, or `accountDomain\accountName` when that is what matched. */
  defenderValue: string;
}

interface EsetName {
  kind: "DOMAIN_USER" | "UPN" | "EMAIL";
  field: string;
  value: string;
  domainUser?: DomainUserName;
  at?: AtName;
}

/** Identity formats whose value names neither a Windows account nor a mailbox. */
const NOT_ACCOUNT_FORMATS = new Set(["PHONE_NUMBER", "FEDERATED"]);

/** Every account-like name of an ESET user, strongest kind first (identities before addresses). */
export function esetNames(user: EsetSide): EsetName[] {
  const names: EsetName[] = [];
  user.identities.forEach((identity, i) => {
    if (NOT_ACCOUNT_FORMATS.has(identity.providerReferenceFormat)) return;
    const seen = new Set<string>();
    for (const [key, value] of [
      ["userName", identity.userName],
      ["providerReference", identity.providerReference],
    ] as const) {
      if (value === null || seen.has(fold(value))) continue;
      seen.add(fold(value));
      const field = `identities[${i}].${key}`;
      const domainUser = parseDomainUser(value);
      if (domainUser) {
        names.push({ kind: "DOMAIN_USER", field, value, domainUser });
        continue;
      }
      const at = parseAtName(value);
      if (at) names.push({ kind: identity.providerReferenceFormat === "EMAIL_ADDRESS" ? "EMAIL" : "UPN", field, value, at });
    }
  });
  const address = (field: string, raw: string) => {
    const value = stripSmtpPrefix(raw);
    const at = parseAtName(value);
    if (at) names.push({ kind: "EMAIL", field, value, at });
  };
  if (user.primaryEmailAddress !== null) address("primaryEmailAddress", user.primaryEmailAddress);
  user.proxyEmailAddresses.forEach((a, i) => address(`proxyEmailAddresses[${i}]`, a));
  return names.sort((a, b) => RULE_ORDER.indexOf(a.kind) - RULE_ORDER.indexOf(b.kind));
}

export interface DefenderNames {
  /** folded `domain\user` → the Defender value it came from. */
  domainUsers: Map<string, string>;
  /** A domain-less id (`user1`), folded, and as Defender wrote it. */
  bare?: { key: string; value: string };
}

export function defenderNames(account: DefenderSide): DefenderNames {
  const domainUsers = new Map<string, string>();
  const fromId = parseDomainUser(account.id);
  if (fromId) domainUsers.set(`${fromId.domain}\\${fromId.user}`, account.id);
  if (account.accountName !== null && account.accountDomain !== null) {
    const value = `${account.accountDomain}\\${account.accountName}`;
    const parsed = parseDomainUser(value);
    if (parsed && !domainUsers.has(`${parsed.domain}\\${parsed.user}`)) domainUsers.set(`${parsed.domain}\\${parsed.user}`, value);
  }
  const bare = fromId || /[\\@]/.test(account.id) ? undefined : { key: fold(account.id), value: account.id };
  return { domainUsers, bare };
}

/**
 * Why this ESET user and this Defender account are the same person, strongest reason first; empty if they
 * are not. `evidence` is what alerts at hand prove (ALERT_EVIDENCE); without it that rule never matches.
 */
export function matchReasons(eset: EsetSide, defender: DefenderSide, evidence: readonly AccountEvidence[] = []): LinkReasonData[] {
  const names = defenderNames(defender);
  const reasons: LinkReasonData[] = [];
  for (const name of esetNames(eset)) {
    const base = { esetField: name.field, esetValue: name.value };
    if (name.domainUser) {
      const matched = names.domainUsers.get(`${name.domainUser.domain}\\${name.domainUser.user}`);
      if (matched !== undefined) reasons.push({ rule: "DOMAIN_USER", ...base, defenderValue: matched });
      continue;
    }
    const at = name.at!;
    if (at.guest) continue;
    const value = fold(name.value);
    for (const e of evidence) {
      const matched = e.upn === value ? names.domainUsers.get(e.domainUser) : undefined;
      if (matched !== undefined) reasons.push({ rule: "ALERT_EVIDENCE", ...base, defenderValue: matched });
    }
    const matched = names.domainUsers.get(`${at.label}\\${at.user}`);
    if (matched !== undefined) reasons.push({ rule: name.kind, ...base, defenderValue: matched });
    if (name.kind === "UPN" && names.bare?.key === at.user)
      reasons.push({ rule: "BARE_USER_NAME", ...base, defenderValue: names.bare.value });
  }
  // A reason is the rule and the two values it compared: the same address found as an identity and as the
  // primary address (or proved by two alerts) is one reason, reported where it was found first (identities first).
  const once = new Map<string, LinkReasonData>();
  for (const r of reasons) {
    const key = `${r.rule}\0${fold(r.esetValue)}\0${fold(r.defenderValue)}`;
    if (!once.has(key)) once.set(key, r);
  }
  return [...once.values()].sort((a, b) => RULE_ORDER.indexOf(a.rule) - RULE_ORDER.indexOf(b.rule));
}

/**
 * The Defender ids that could belong to this ESET user, in the order the rules rank them (all `domain\user`
 * forms, then bare names), folded and without repeats. Defender has no search, so each is one GET; callers
 * bound how many they try and judge every account found with `matchReasons`.
 */
export function defenderCandidates(eset: EsetSide, evidence: readonly AccountEvidence[] = []): string[] {
  const proven: string[] = [];
  const withDomain: string[] = [];
  const bare: string[] = [];
  for (const name of esetNames(eset)) {
    if (name.at && !name.at.guest) for (const e of evidence) if (e.upn === fold(name.value)) proven.push(e.domainUser);
    if (name.domainUser) withDomain.push(`${name.domainUser.domain}\\${name.domainUser.user}`);
    else if (!name.at!.guest) {
      withDomain.push(`${name.at!.label}\\${name.at!.user}`);
      if (name.kind === "UPN") bare.push(name.at!.user);
    }
  }
  return [...new Set([...proven, ...withDomain, ...bare])];
}

/** ESET caps the `email` filter at 100 characters. */
const ESET_FILTER_MAX_LENGTH = 100;

/**
 * ESET `email` filter terms that find the mailboxes this Defender account could own: `user@domain.` for
 * `DOMAIN\user` (Defender knows the NetBIOS name, not the DNS suffix) and `user@` for a bare name. ESET
 * matches them as substrings of primary and proxy addresses, so callers judge every user returned.
 */
export function esetSearchTerms(defender: DefenderSide, evidence: readonly AccountEvidence[] = []): string[] {
  const names = defenderNames(defender);
  const terms: string[] = [];
  // The UPN Defender's evidence names for this account: ESET matches it against e-mail addresses.
  // At most one, so a link field's price stays fixed (people/prices.ts ESET_SEARCHES).
  const proven = evidence.find((e) => names.domainUsers.has(e.domainUser));
  if (proven) terms.push(proven.upn);
  for (const key of names.domainUsers.keys()) {
    const { domain, user } = parseDomainUser(key)!;
    terms.push(`${user}@${domain}.`);
  }
  if (names.bare) terms.push(`${names.bare.key}@`);
  return [...new Set(terms)].filter((t) => t.length <= ESET_FILTER_MAX_LENGTH);
}

/**
 * How to look a person up by a reference (a UPN or e-mail address, or `DOMAIN\user`) with the same rules:
 * the reference stands in for the missing side — a UPN identity of an ESET user, or a Defender account.
 */
export interface RefProbe {
  defenderCandidates: string[];
  /** This Defender account is the person the reference names. */
  isDefenderMatch(account: DefenderSide): boolean;
  esetSearchTerms: string[];
  /** This ESET user is the person the reference names. */
  isEsetMatch(user: EsetSide): boolean;
}

export function probeFor(ref: string): RefProbe | undefined {
  if (parseDomainUser(ref)) {
    const asDefender: DefenderSide = { id: ref, accountName: null, accountDomain: null };
    const asEset: EsetSide = {
      identities: [{ userName: ref, providerReference: null, providerReferenceFormat: "USER_NAME" }],
      primaryEmailAddress: null,
      proxyEmailAddresses: [],
    };
    return {
      defenderCandidates: defenderCandidates(asEset),
      isDefenderMatch: (account) => matchReasons(asEset, account).length > 0,
      esetSearchTerms: esetSearchTerms(asDefender),
      isEsetMatch: (user) => matchReasons(user, asDefender).length > 0,
    };
  }
  const at = parseAtName(ref);
  if (!at) return undefined;
  // A user@domain reference is read as a UPN on the Defender side (its strongest reading), and must be one
  // of the ESET user's own names (an identity or an address), whole.
  const asEset: EsetSide = {
    identities: [{ userName: ref, providerReference: null, providerReferenceFormat: "USER_PRINCIPAL_NAME" }],
    primaryEmailAddress: null,
    proxyEmailAddresses: [],
  };
  const wanted = fold(ref);
  return {
    defenderCandidates: defenderCandidates(asEset),
    isDefenderMatch: (account) => matchReasons(asEset, account).length > 0,
    esetSearchTerms: wanted.length <= ESET_FILTER_MAX_LENGTH ? [wanted] : [],
    isEsetMatch: (user) => esetNames(user).some((n) => fold(n.value) === wanted),
  };
}
