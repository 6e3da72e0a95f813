import type { UnknownEnumReporter } from "../graphql/normalize";
import type { EsetRoster } from "../sources/eset/user-list/user-roster.listing";
import { toEsetUser } from "../sources/eset/users/user.mapper";
import type { EsetUser } from "../sources/eset/users/user.type";
import { defenderNames, esetNames, type AccountEvidence, type DefenderSide } from "./link-rules";

/**
 * ESET's user list indexed by every name the link rules compare (link-rules.ts): `domain\user` (from a
 * `DOMAIN\user` identity, or from a UPN or address as `label\user`), the whole address (for Defender's
 * User evidence: ALERT_EVIDENCE) and the bare user part of a UPN. Built once per kept list, so joining a
 * Defender account costs a few map lookups; the candidates it yields are then judged by `matchReasons`,
 * the same rules as every other link.
 */
export interface EsetNameIndex {
  users: EsetUser[];
  byAccount: Map<string, Set<number>>;
  byAddress: Map<string, Set<number>>;
  byBareUser: Map<string, Set<number>>;
}

const VIEW = "people:name-index";

export function esetNameIndex(roster: EsetRoster, report: UnknownEnumReporter): EsetNameIndex {
  const kept = roster.views.get(VIEW) as EsetNameIndex | undefined;
  if (kept !== undefined) return kept;
  const index: EsetNameIndex = { users: [], byAccount: new Map(), byAddress: new Map(), byBareUser: new Map() };
  const add = (map: Map<string, Set<number>>, key: string, i: number) => {
    const set = map.get(key);
    if (set === undefined) map.set(key, new Set([i]));
    else set.add(i);
  };
  roster.users.forEach((dto, i) => {
    const user = toEsetUser(dto, report);
    index.users.push(user);
    for (const name of esetNames(user)) {
      if (name.domainUser) add(index.byAccount, `${name.domainUser.domain}\\${name.domainUser.user}`, i);
      else if (name.at && !name.at.guest) {
        add(index.byAccount, `${name.at.label}\\${name.at.user}`, i);
        add(index.byAddress, `${name.at.user}@${name.at.domain}`, i);
        if (name.kind === "UPN") add(index.byBareUser, name.at.user, i);
      }
    }
  });
  roster.views.set(VIEW, index);
  return index;
}

/** The ESET users that may be this account's (every rule's key looked up); callers judge each with matchReasons. */
export function candidatesOf(index: EsetNameIndex, account: DefenderSide, evidence: readonly AccountEvidence[]): EsetUser[] {
  const names = defenderNames(account);
  const found = new Set<number>();
  const take = (set: Set<number> | undefined) => set?.forEach((i) => found.add(i));
  for (const key of names.domainUsers.keys()) take(index.byAccount.get(key));
  for (const e of evidence) if (names.domainUsers.has(e.domainUser)) take(index.byAddress.get(e.upn));
  if (names.bare) take(index.byBareUser.get(names.bare.key));
  return [...found].sort((a, b) => a - b).map((i) => index.users[i]!);
}
