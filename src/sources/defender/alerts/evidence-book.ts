import type { DefenderAlertDto } from "../dto";
import { userEvidence } from "./alert.mapper";

export type UserEvidenceItem = { accountName: string; domainName: string; userPrincipalName: string };

/** Most sources of evidence kept at once (an alert window, or one user's or machine's alerts): each holds a few pairs, not alerts. */
const MAX_ENTRIES = 1_000;

/**
 * The `User` evidence (account + UPN pairs) of the alerts with evidence Defender gave usergraph lately: the
 * alert windows listed (for DefenderUser.alerts, defenderUsersAtRisk, peopleAtRisk) and per-key alert
 * reads. Kept for the Defender cache TTL, like the alerts themselves, so a link field (LinkRule.ALERT_EVIDENCE)
 * gets the same answer whether or not its request also selects alerts with evidence. Pairs only: small.
 */
export class EvidenceBook {
  private readonly entries = new Map<string, { until: number; items: UserEvidenceItem[] }>();
  private cached: UserEvidenceItem[] | undefined;
  private cachedUntil = 0;

  constructor(private readonly ttlMs: number) {}

  /** Records what `alerts` prove, under `key` (a newer record of the same key replaces it). */
  add(key: string, alerts: readonly DefenderAlertDto[]): void {
    if (this.ttlMs <= 0) return;
    const unique = new Map<string, UserEvidenceItem>();
    for (const e of userEvidence(alerts)) unique.set(`${e.domainName}\\${e.accountName}|${e.userPrincipalName}`.toLowerCase(), e);
    this.entries.delete(key);
    if (unique.size === 0) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { until: Date.now() + this.ttlMs, items: [...unique.values()] });
    this.cached = undefined;
  }

  /** Every pair still fresh (computed again only after an addition or an expiry). */
  all(): readonly UserEvidenceItem[] {
    const now = Date.now();
    if (this.cached !== undefined && now < this.cachedUntil) return this.cached;
    const items: UserEvidenceItem[] = [];
    let until = Infinity;
    for (const [key, entry] of this.entries) {
      if (now >= entry.until) this.entries.delete(key);
      else {
        items.push(...entry.items);
        until = Math.min(until, entry.until);
      }
    }
    this.cached = items;
    this.cachedUntil = until;
    return items;
  }
}
