import { hasScope } from "../auth/assert-scope";
import type { Context } from "../context";
import { fold } from "./account-names";
import {
  accountEvidence,
  defenderCandidates,
  esetSearchTerms,
  matchReasons,
  probeFor,
  type AccountEvidence,
  type RefProbe,
} from "./link-rules";
import { userEvidence } from "../sources/defender/alerts/alert.mapper";
import type { UserEvidenceItem } from "../sources/defender/alerts/evidence-book";
import type { DefenderUserDto } from "../sources/defender/dto";
import type { EsetUserDto } from "../sources/eset/dto";
import { toDefenderUser } from "../sources/defender/users/user.mapper";
import type { DefenderUser } from "../sources/defender/users/user.type";
import { LinkRule } from "./link-rule.enum";
import { toEsetUser } from "../sources/eset/users/user.mapper";
import type { EsetUser } from "../sources/eset/users/user.type";
import { isValidDefenderId } from "../sources/defender/id-rules";
import type { UserLink } from "./link.type";

/**
 * Defender has no search: every candidate id is one GET. An ESET user typically yields two to four
 * (`domain\user` from each identity and address, the bare UPN prefix); beyond this many the weakest are
 * dropped (candidates come strongest first). The operation cost counts link fields at this fan-out.
 */
export const MAX_DEFENDER_CANDIDATES = 8;

/** What a person lookup found on each side, or why a side could not be read. */
export interface PersonFound {
  defenderUsers: DefenderUser[] | Error;
  esetUsers: EsetUser[] | Error;
  links: UserLink[] | Error;
}

const finders = new WeakMap<Context, LinkFinder>();

/** The request's link finder: link fields asked several times in one request (aliases, lists, person) are computed once. */
export function linkFinderFor(ctx: Context): LinkFinder {
  let finder = finders.get(ctx);
  if (finder === undefined) finders.set(ctx, (finder = new LinkFinder(ctx)));
  return finder;
}

/**
 * Finds the other product's side of a person through the request's loaders, so every vendor call is
 * deduplicated within the request, served from the entity cache when fresh, single-flight across requests,
 * rate limited and circuit-broken like any lookup; then keeps only what the rules in src/linking confirm
 * exactly. Scopes are the callers' business (the resolvers check them first).
 */
export class LinkFinder {
  private readonly ofEset = new Map<string, Promise<UserLink[]>>();
  private readonly ofDefender = new Map<string, Promise<UserLink[]>>();

  constructor(private readonly ctx: Context) {}

  /** ESET → Defender: one Defender GET per candidate id derived from the user's identities and addresses. */
  linksOfEsetUser(user: EsetUser): Promise<UserLink[]> {
    let links = this.ofEset.get(user.uuid);
    if (links === undefined) {
      links = this.evidenceAtHand().then((evidence) =>
        this.defenderAccounts(defenderCandidates(user, evidence)).then((accounts) =>
          sortLinks(accounts.flatMap((a) => link(user, a, evidence))),
        ),
      );
      this.ofEset.set(user.uuid, links);
    }
    return links;
  }

  /**
   * What Defender's alerts prove (LinkRule.ALERT_EVIDENCE): User evidence pairing an account with its UPN.
   * No vendor call: the alerts this request asked for with evidence, and the evidence of alerts read with
   * evidence lately by any request of the credentials (kept for the TTL), so while a listing is fresh the
   * answer does not depend on what else the query selects.
   */
  private async evidenceAtHand(): Promise<AccountEvidence[]> {
    if (!hasScope(this.ctx, "DEFENDER")) return [];
    const relations = this.ctx.loaders.defenderRelations;
    const atHand = accountEvidence(userEvidence(await relations.alertsAtHand()));
    const kept = keptAccountEvidence(relations.keptEvidence());
    if (kept.length === 0) return atHand;
    if (atHand.length === 0) return kept;
    return [...new Map([...atHand, ...kept].map((e) => [`${e.domainUser} ${e.upn}`, e] as const)).values()];
  }

  /**
   * Defender → ESET: one ESET list call per search term (`user@domain.`, `user@`), answered by ESET as a
   * substring match on e-mail addresses; only users whose identities or addresses match exactly are kept.
   */
  linksOfDefenderUser(account: DefenderUser): Promise<UserLink[]> {
    const key = fold(account.id);
    let links = this.ofDefender.get(key);
    if (links === undefined) {
      links = this.evidenceAtHand().then((evidence) =>
        this.esetUsers(esetSearchTerms(account, evidence)).then((users) => sortLinks(users.flatMap((u) => link(u, account, evidence)))),
      );
      this.ofDefender.set(key, links);
    }
    return links;
  }

  /**
   * `person(ref:)`: the accounts and users the reference names directly, then one hop of links from each
   * of them to the other side, then every link among all of them. A side the caller may not read (its
   * MissingScopeError in `forbidden`) is not looked at. Null when no side the caller may read knows the person.
   */
  async person(ref: string, forbidden: { defender?: Error; eset?: Error }): Promise<PersonFound | null> {
    const probe = probeFor(ref) as RefProbe;
    const [defenderDirect, esetDirect] = await Promise.all([
      forbidden.defender ?? settle(this.defenderAccounts(probe.defenderCandidates).then((all) => all.filter(probe.isDefenderMatch))),
      forbidden.eset ?? settle(this.esetUsers(probe.esetSearchTerms).then((all) => all.filter(probe.isEsetMatch))),
    ]);
    // One hop across: the ESET users' Defender accounts cost Defender calls, and the other way round.
    const [defenderLinked, esetLinked] = await Promise.all([
      forbidden.defender ??
        settle(linksFrom(esetDirect, (u) => this.linksOfEsetUser(u))).then((links) => mapSide(links, (l) => l.defenderUser)),
      forbidden.eset ??
        settle(linksFrom(defenderDirect, (a) => this.linksOfDefenderUser(a))).then((links) => mapSide(links, (l) => l.esetUser)),
    ]);
    const defenderUsers = union(defenderDirect, defenderLinked, (a) => fold(a.id));
    const esetUsers = union(esetDirect, esetLinked, (u) => u.uuid);
    if (defenderUsers instanceof Error || esetUsers instanceof Error) {
      // A side that failed (not merely one the caller may not read) might have known the person: answer with its error.
      const known = !(defenderUsers instanceof Error) ? defenderUsers.length > 0 : !(esetUsers instanceof Error) && esetUsers.length > 0;
      const vendorFailed = [defenderUsers, esetUsers].some(
        (side) => side instanceof Error && side !== forbidden.defender && side !== forbidden.eset,
      );
      if (!known && !vendorFailed) return null;
      return { defenderUsers, esetUsers, links: firstError(defenderUsers, esetUsers)! };
    }
    if (defenderUsers.length === 0 && esetUsers.length === 0) return null;
    // The same evidence the hops used, so a link and its reasons do not depend on which hop found it.
    const evidence = await this.evidenceAtHand();
    return {
      defenderUsers,
      esetUsers,
      links: sortLinks(esetUsers.flatMap((u) => defenderUsers.flatMap((a) => link(u, a, evidence)))),
    };
  }

  /** Loads candidate Defender ids (those that are valid ids, at most MAX_DEFENDER_CANDIDATES); unknown ids drop out. */
  private async defenderAccounts(candidates: string[]): Promise<DefenderUser[]> {
    const ids = candidates.filter(isValidDefenderId).slice(0, MAX_DEFENDER_CANDIDATES);
    const dtos = await Promise.all(ids.map((id) => this.ctx.loaders.defenderUser.load(id)));
    const accounts = dtos.filter((d): d is DefenderUserDto => d !== null).map(toDefenderUser);
    return uniqueBy(accounts, (a) => fold(a.id));
  }

  /** The users ESET lists for each search term, without repeats, in ESET's order. */
  private async esetUsers(terms: string[]): Promise<EsetUser[]> {
    const lists = await Promise.all(terms.map((term) => this.ctx.loaders.esetUserSearch.load(term)));
    const dtos = lists.flatMap((list) => list ?? []).filter((d): d is EsetUserDto => d !== null);
    return uniqueBy(
      dtos.map((d) => toEsetUser(d, this.ctx.reportUnknownEnum)),
      (u) => u.uuid,
    );
  }
}

/** Parsed once per kept set (the book hands out the same array until it changes), not once per link field. */
const parsedKept = new WeakMap<readonly UserEvidenceItem[], AccountEvidence[]>();
function keptAccountEvidence(items: readonly UserEvidenceItem[]): AccountEvidence[] {
  let parsed = parsedKept.get(items);
  if (parsed === undefined) parsedKept.set(items, (parsed = accountEvidence(items)));
  return parsed;
}

/** The link between two users if any rule matches them (as a zero- or one-element list, for flatMap). */
function link(esetUser: EsetUser, defenderUser: DefenderUser, evidence: readonly AccountEvidence[] = []): UserLink[] {
  const reasons = matchReasons(esetUser, defenderUser, evidence);
  if (reasons.length === 0) return [];
  const matchedOn = reasons.map((r) => ({ ...r, rule: LinkRule[r.rule] }));
  return [{ esetUser, defenderUser, strongestRule: matchedOn[0]!.rule, matchedOn }];
}

const RANK = Object.values(LinkRule);

/** Strongest link first; ties keep the order they were found in (candidate order, or ESET's list order). */
function sortLinks(links: UserLink[]): UserLink[] {
  return links.sort((a, b) => RANK.indexOf(a.strongestRule) - RANK.indexOf(b.strongestRule));
}

function uniqueBy<T>(items: T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const k = key(item);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The links of every entity a side found; nothing when that side failed (its own error reports it). */
async function linksFrom<T>(side: T[] | Error, links: (item: T) => Promise<UserLink[]>): Promise<UserLink[]> {
  return side instanceof Error ? [] : (await Promise.all(side.map(links))).flat();
}

function mapSide<T, R>(side: T[] | Error, fn: (item: T) => R): R[] | Error {
  return side instanceof Error ? side : side.map(fn);
}

/** Both lists without repeats, first one first; or the first error. */
function union<T>(a: T[] | Error, b: T[] | Error, key: (item: T) => string): T[] | Error {
  return firstError(a, b) ?? uniqueBy([...(a as T[]), ...(b as T[])], key);
}

function settle<T>(promise: Promise<T>): Promise<T | Error> {
  return promise.catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
}

function firstError(...values: unknown[]): Error | undefined {
  return values.find((v): v is Error => v instanceof Error);
}
