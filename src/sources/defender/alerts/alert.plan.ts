import { mapSettledWithLimit } from "../../../upstream/concurrency";
import type { Deadline } from "../../../upstream/deadline";
import type { EntityStore, Outcome } from "../../../store/entity-store";
import { DEFENDER_MAX_TOP, type DefenderClient } from "../client";
import type { DefenderAlertDto } from "../dto";
import { expectedPagesOf, listingPays, Listings, readPages, RequestSpend } from "../listings";
import { ALERT_LIST_MAX_PAGES } from "../prices";
import type { ListingBudget } from "../../../store/listing-budget";

export { ALERT_LIST_MAX_PAGES };
import { relatedUserKeys } from "./alert.mapper";
import type { EvidenceBook } from "./evidence-book";

/** Alert ids per evidence call (`$filter=id eq '…' or …&$expand=evidence`): keeps the URL well under 8 KB. */
export const EVIDENCE_CHUNK = 25;

/**
 * What an alert relation is keyed by in the entity store: whose alerts (`u:` a Defender user id, `m:` a
 * machine id, both without case), since when (the `since` argument rounded down to the hour, so requests
 * asking "the last 7 days" a few minutes apart share entries and listings; the resolver then applies the
 * exact `since`), and whether evidence is wanted.
 */
export interface AlertKey {
  kind: "u" | "m";
  subject: string;
  window: string;
  evidence: boolean;
}

const HOUR = 3_600_000;

/** `since` rounded down to the hour, as an OData DateTimeOffset literal; "all" without since. */
export function windowOf(since: Date | null | undefined): string {
  if (since === null || since === undefined) return "all";
  return new Date(Math.floor(since.getTime() / HOUR) * HOUR).toISOString().replace(".000Z", "Z");
}

export function alertKey(key: AlertKey): string {
  return `${key.kind}:${key.subject.toLowerCase()}|${key.window}|${key.evidence ? 1 : 0}`;
}

function parseKey(key: string): AlertKey {
  const parts = key.split("|");
  const evidence = parts.pop() === "1";
  const window = parts.pop()!;
  const whose = parts.join("|");
  return { kind: whose.startsWith("m:") ? "m" : "u", subject: whose.slice(2), window, evidence };
}

/**
 * An alert listing grouped by whose it is ("u:contoso\\alice", "u:alice", "m:<machine id>"). Whole (`byKey`)
 * for the request that listed it; while it stays fresh in process only whose alerts it held (`holders`):
 * each holder's alerts were primed into the entity store, so a holder reaching the plan again was evicted
 * there and is asked per key, and anyone else had none in the window.
 */
export interface AlertIndex {
  byKey?: Map<string, DefenderAlertDto[]>;
  holders: ReadonlySet<string>;
  count: number;
  pages: number;
  complete: boolean;
}

/** Alerts updated since the window's start (a list from a per-user or per-machine endpoint has them all). */
function inWindow(alerts: DefenderAlertDto[], window: string): DefenderAlertDto[] {
  if (window === "all") return alerts;
  const start = Date.parse(window);
  return alerts.filter((a) => typeof a.lastUpdateTime === "string" && Date.parse(a.lastUpdateTime) >= start);
}

/** An OData string literal: quotes doubled. */
export function odataString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** A window's alerts grouped by whose they are: "u:domain\\user", "u:user" (related user) and "m:<machine id>". */
export function groupAlerts(alerts: readonly DefenderAlertDto[]): Map<string, DefenderAlertDto[]> {
  const byKey = new Map<string, DefenderAlertDto[]>();
  const add = (key: string, alert: DefenderAlertDto) => {
    const list = byKey.get(key);
    if (list === undefined) byKey.set(key, [alert]);
    else list.push(alert);
  };
  for (const alert of alerts) {
    for (const user of relatedUserKeys(alert)) add(`u:${user}`, alert);
    if (typeof alert.machineId === "string" && alert.machineId !== "") add(`m:${alert.machineId.toLowerCase()}`, alert);
  }
  return byKey;
}

/** Primes the store with each holder's alerts of a complete window listing (with evidence: for both keys). */
export function primeWindow(
  store: EntityStore<DefenderAlertDto[]>,
  byKey: Map<string, DefenderAlertDto[]>,
  window: string,
  evidence: boolean,
) {
  const entries: Array<readonly [string, DefenderAlertDto[]]> = [];
  for (const [whose, list] of byKey) {
    entries.push([`${whose}|${window}|${evidence ? 1 : 0}`, list]);
    if (evidence) entries.push([`${whose}|${window}|0`, list]);
  }
  store.prime(entries);
}

/**
 * The alerts of users and machines for the entity store, choosing per window the plan that spends fewer
 * Defender calls:
 * - list: one `GET /api/alerts?$filter=lastUpdateTime ge <window>&$top=10000` (with `$expand=evidence`
 *   when evidence is wanted), grouped here by `relatedUser` and `machineId` — Defender filters alerts by
 *   neither (UPSTREAMS.md §5.1). Every user and machine it holds is primed into the store, and a complete
 *   listing also answers "none" for anyone it does not hold;
 * - per key: `GET /api/users/{id}/alerts` or `GET /api/machines/{id}/alerts` each (they have no filter and
 *   no $expand: the window is applied here, and evidence costs one more list call per 25 alerts).
 * The listing is chosen when it pays (listingPays), so a 50-user dashboard costs one call, not 50.
 */
export function alertPlan(
  client: DefenderClient,
  concurrency: number,
  ttlMs: number,
  store: () => EntityStore<DefenderAlertDto[]>,
  budget: ListingBudget,
  /** Where the User evidence of alerts read with evidence is recorded (for LinkRule.ALERT_EVIDENCE). */
  book?: EvidenceBook,
) {
  // Kept slim while fresh: a window's alerts (up to 20,000, with evidence) live in the entity store, per holder.
  const listings = new Listings<AlertIndex>({
    name: "alert-index",
    source: "DEFENDER",
    ttlMs,
    budget,
    maxKept: 8,
    keep: ({ byKey: _whole, ...slim }) => slim,
    bytes: (index) => 128 * index.holders.size + 256,
  });
  const spend = new RequestSpend();
  const lastCount = new Map<string, number>();
  const expectedPages = (window: string) => expectedPagesOf(lastCount.get(window));

  const list = async (window: string, evidence: boolean, deadline: Deadline): Promise<AlertIndex> => {
    const filter = window === "all" ? undefined : `lastUpdateTime ge ${window}`;
    const {
      items: alerts,
      pages,
      complete,
    } = await readPages(
      () => client.listAlerts({ filter, top: DEFENDER_MAX_TOP, expandEvidence: evidence }, deadline),
      (link) => client.nextAlerts(link, deadline),
      ALERT_LIST_MAX_PAGES,
    );
    lastCount.set(window, complete ? alerts.length : Infinity);
    if (evidence) book?.add(`window|${window}`, alerts);
    const byKey = groupAlerts(alerts);
    // Shared with later requests and other replicas: each user's and machine's alerts in this window.
    if (complete) primeWindow(store(), byKey, window, evidence);
    return { byKey, holders: new Set(byKey.keys()), count: alerts.length, pages, complete };
  };

  /** Evidence for alerts read from endpoints without $expand: one list call per EVIDENCE_CHUNK ids. */
  const withEvidence = async (alerts: DefenderAlertDto[], deadline: Deadline): Promise<Map<string, DefenderAlertDto>> => {
    const ids = [...new Set(alerts.map((a) => a.id))];
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += EVIDENCE_CHUNK) chunks.push(ids.slice(i, i + EVIDENCE_CHUNK));
    const pages = await Promise.all(
      chunks.map((chunk) =>
        client.listAlerts(
          { filter: chunk.map((id) => `id eq ${odataString(id)}`).join(" or "), top: chunk.length, expandEvidence: true },
          deadline,
        ),
      ),
    );
    return new Map(pages.flatMap((p) => p.items).map((a) => [a.id, a] as const));
  };

  /** Answers the members the listing can; returns those it cannot (holders whose entry the store evicted). */
  const answer = (index: AlertIndex, members: Array<[string, AlertKey]>, out: Map<string, Outcome<DefenderAlertDto[]>>) => {
    const rest: Array<[string, AlertKey]> = [];
    for (const member of members) {
      const whose = `${member[1].kind}:${member[1].subject}`;
      const list = index.byKey?.get(whose);
      if (list !== undefined) out.set(member[0], list);
      else if (index.holders.has(whose)) rest.push(member);
      else out.set(member[0], []);
    }
    return rest;
  };

  const fetchGroup = async (
    window: string,
    evidence: boolean,
    members: Array<[string, AlertKey]>,
    deadline: Deadline,
    out: Map<string, Outcome<DefenderAlertDto[]>>,
  ) => {
    const group = `${window}|${evidence ? 1 : 0}`;
    const n = members.length;
    const who = `${n} user${n === 1 ? "" : "s"}/machine${n === 1 ? "" : "s"}`;
    const cached = listings.peek(group) ?? (evidence ? undefined : listings.peek(`${window}|1`));
    let note = "";
    const pays = (keys: number) =>
      listingPays(expectedPages(window), ALERT_LIST_MAX_PAGES, spend.of(deadline, group), keys + (evidence ? 1 : 0));
    let relist = false;
    if (cached?.complete) {
      const rest = answer(cached, members, out);
      if (rest.length === 0) {
        deadline.notePlan(`alerts: cached list for ${who}`);
        return;
      }
      members = rest;
      note = ` (evicted from the cache; the cached list answered ${n - rest.length})`;
      // Holders the store evicted are asked like any keys: listed again when that pays (a small cache must
      // not turn a one-call dashboard into one call per user), so the kept slim listing is dropped.
      relist = pays(rest.length);
      if (relist) listings.forget(group);
    }
    // A listing another request is fetching is joined whatever the batch size: it costs this request nothing.
    if ((!cached?.complete || relist) && ((!relist && listings.fetching(group)) || pays(members.length))) {
      let index: AlertIndex;
      try {
        index = await listings.get(group, deadline, () => list(window, evidence, deadline));
      } catch (err) {
        for (const [key] of members) out.set(key, err instanceof Error ? err : new Error(String(err)));
        deadline.notePlan(`alerts: list failed for ${who}`);
        return;
      }
      if (index.complete) {
        // Whole when this request listed it or joined the listing; slim when another request's is fresh.
        const rest = answer(index, members, out);
        deadline.notePlan(`alerts: list, ${index.pages} call${index.pages === 1 ? "" : "s"} for ${who}${evidence ? " with evidence" : ""}`);
        if (rest.length === 0) return;
        members = rest;
        note = " (evicted from the cache)";
      } else {
        note = ` (the window holds more than ${ALERT_LIST_MAX_PAGES * DEFENDER_MAX_TOP} alerts)`;
      }
    }
    const m = members.length;
    const results = await mapSettledWithLimit(members, concurrency, async ([, k]) =>
      k.kind === "u" ? client.getUserAlerts(k.subject, deadline) : client.getMachineAlerts(k.subject, deadline),
    );
    spend.add(deadline, group, m);
    let evidenceCalls = 0;
    const lists = results.map((r) => (r instanceof Error || r === null ? r : inWindow(r, window)));
    if (evidence) {
      const all = lists.flatMap((l) => (Array.isArray(l) ? l : []));
      evidenceCalls = Math.ceil(new Set(all.map((a) => a.id)).size / EVIDENCE_CHUNK);
      if (all.length > 0) {
        try {
          const expanded = await withEvidence(all, deadline);
          lists.forEach((l, i) => {
            if (Array.isArray(l)) {
              lists[i] = l.map((a) => expanded.get(a.id) ?? a);
              const [, k] = members[i]!;
              book?.add(`${k.kind}:${k.subject}|${window}`, lists[i] as DefenderAlertDto[]);
            }
          });
        } catch (err) {
          lists.forEach((l, i) => {
            if (Array.isArray(l) && l.length > 0) lists[i] = err instanceof Error ? err : new Error(String(err));
          });
        }
        spend.add(deadline, group, evidenceCalls);
      }
    }
    members.forEach(([key], i) => out.set(key, lists[i]!));
    deadline.notePlan(
      `alerts: per ${members[0]![1].kind === "u" ? "user" : "machine"}, ${m + evidenceCalls} call${m + evidenceCalls === 1 ? "" : "s"} for ${m === n ? who : m}${note}`,
    );
  };

  return async (keys: string[], deadline: Deadline): Promise<Map<string, Outcome<DefenderAlertDto[]>>> => {
    const out = new Map<string, Outcome<DefenderAlertDto[]>>();
    const groups = new Map<string, Array<[string, AlertKey]>>();
    for (const key of keys) {
      const k = parseKey(key);
      const group = `${k.window}|${k.evidence ? 1 : 0}`;
      const members = groups.get(group);
      if (members === undefined) groups.set(group, [[key, k]]);
      else members.push([key, k]);
    }
    await Promise.all(
      [...groups.values()].map((members) => fetchGroup(members[0]![1].window, members[0]![1].evidence, members, deadline, out)),
    );
    return out;
  };
}
