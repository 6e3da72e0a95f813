import { createHash } from "node:crypto";
import DataLoader from "dataloader";
import { withCacheFastPath, type EntityLoader } from "../../store/entity-loader";
import { EntityStore, type EntityStoreOptions, type StaleNote } from "../../store/entity-store";
import type { ListingBudget } from "../../store/listing-budget";
import type { RedisLink } from "../../store/redis-link";
import { SharedListings } from "../../store/shared-listings";
import { SharedEntities } from "../../store/shared-entities";
import { mapSettledWithLimit } from "../../upstream/concurrency";
import type { Deadline } from "../../upstream/deadline";
import { notConfigured } from "../../upstream/not-configured";
import { alertCountListings, type AlertCounts } from "./alerts/alert-count.listing";
import type { DefenderAlertFilter } from "./alerts/alert-filter.input";
import { alertPlan, groupAlerts, primeWindow } from "./alerts/alert.plan";
import { EvidenceBook, type UserEvidenceItem } from "./alerts/evidence-book";
import type { DefenderClient } from "./client";
import type { DefenderAlertDto, DefenderMachineDto, DefenderUserDto } from "./dto";
import { machineKey, machinePlan, type FleetIndex } from "./machines/machine.plan";
import { riskListings, type RiskReader } from "./risk/risk.listing";

/**
 * The stores of Defender's relations beyond the user, created once at start-up: each one an entity store
 * (cache, single flight across requests, the shared Redis tier) whose fetch is a vendor plan.
 */
export interface DefenderRelationStores {
  /** Machines by id or computer name (folded): the fleet listing or per id (machine.plan.ts). */
  machines: EntityStore<DefenderMachineDto>;
  /** `GET /api/users/{id}/machines` by user id (folded); the machines found are primed as machines. */
  userMachines: EntityStore<DefenderMachineDto[]>;
  /** `GET /api/machines/{id}/logonusers` by machine id; the users found are primed as users. */
  logonUsers: EntityStore<DefenderUserDto[]>;
  /** Alerts of a user or machine in a window (alert.plan.ts keys): the alert listing or per key. */
  alerts: EntityStore<DefenderAlertDto[]>;
  /** The fleet listing the machines by id use (machine.plan.ts), for defenderMachines. */
  fleet: (deadline: Deadline) => Promise<FleetIndex>;
  /** The filtered alert sets behind defenderAlerts' counts, kept per filter (alert-count.listing.ts). */
  alertCounts: AlertCountReader;
  /** The alert window behind defenderUsersAtRisk and peopleAtRisk, kept whole while fresh (risk/risk.listing.ts). */
  risk: RiskReader;
  /** User evidence of the alerts read lately with evidence, kept for the TTL (for LinkRule.ALERT_EVIDENCE). */
  evidence: EvidenceBook;
  client: DefenderClient;
  /** Signs defenderAlerts and defenderMachines cursors. */
  cursorKey: Buffer;
}

export type AlertCountReader = (
  filter: string,
  input: DefenderAlertFilter | null | undefined,
  evidence: boolean,
  deadline: Deadline,
  report: (enumName: string, wireValue: string) => void,
) => Promise<AlertCounts>;

export interface DefenderRelationOptions {
  client: DefenderClient;
  identity: string;
  /** The client secret: with the identity, it keys the signatures of alert-list cursors (never stored or logged). */
  secret: string;
  concurrency: number;
  ttlMs: number;
  /** The store of users, primed with the users a machine's log-on list holds. */
  users: EntityStore<DefenderUserDto>;
  common: Pick<EntityStoreOptions<unknown>, "cache" | "negativeMs" | "staleIfErrorMs" | "observe">;
  keyPrefix: string;
  redis?: RedisLink;
  /** The bound of every listing kept in process (LISTINGS_MAX_MB). */
  budget: ListingBudget;
  /** ALERT_DELTA_SECONDS in ms (risk/risk.listing.ts). */
  alertDeltaMs: number;
}

export function createDefenderRelationStores(o: DefenderRelationOptions): DefenderRelationStores {
  const store = <V>(kind: string, fetchMany: EntityStoreOptions<V>["fetchMany"]) => {
    const keyPrefix = `${o.keyPrefix}${kind}:`;
    return new EntityStore<V>({
      ...(o.common as Pick<EntityStoreOptions<V>, "cache" | "negativeMs" | "staleIfErrorMs" | "observe">),
      source: "DEFENDER",
      keyPrefix,
      shared: o.redis && new SharedEntities(o.redis, keyPrefix, "DEFENDER"),
      freshMs: o.ttlMs,
      fetchMany,
    });
  };
  const { client, concurrency } = o;
  // With Redis, the listings are shared across replicas under the same credentials' prefix as the entities.
  const sharedListings = o.redis && new SharedListings(o.redis, o.keyPrefix);
  const machinesPlan = machinePlan(client, concurrency, o.ttlMs, o.budget, sharedListings);
  const machines = store<DefenderMachineDto>("machine", machinesPlan.fetchMany);
  const userMachines = store<DefenderMachineDto[]>("user-machines", async (ids, deadline) => {
    const results = await mapSettledWithLimit(ids, concurrency, (id) => client.getUserMachines(id, deadline));
    deadline.notePlan(`user machines: per user, ${ids.length} call${ids.length === 1 ? "" : "s"}`);
    machines.prime(results.flatMap((r) => (Array.isArray(r) ? r.map((m) => [machineKey(m.id), m] as const) : [])));
    return new Map(ids.map((id, i) => [id, results[i]!]));
  });
  const logonUsers = store<DefenderUserDto[]>("logon-users", async (ids, deadline) => {
    const results = await mapSettledWithLimit(ids, concurrency, (id) => client.getMachineLogonUsers(id, deadline));
    deadline.notePlan(`logged-on users: per machine, ${ids.length} call${ids.length === 1 ? "" : "s"}`);
    o.users.prime(results.flatMap((r) => (Array.isArray(r) ? r.map((u) => [u.id, u] as const) : [])));
    return new Map(ids.map((id, i) => [id, results[i]!]));
  });
  let alerts: EntityStore<DefenderAlertDto[]> | undefined = undefined;
  const evidence = new EvidenceBook(o.ttlMs);
  alerts = store<DefenderAlertDto[]>(
    "alerts",
    alertPlan(client, concurrency, o.ttlMs, () => alerts!, o.budget, evidence),
  );
  // The users' and machines' alerts of a complete window go to the alert store too: their alerts fields are then warm.
  const risk = riskListings({
    client,
    ttlMs: o.ttlMs,
    deltaMs: o.alertDeltaMs,
    budget: o.budget,
    shared: sharedListings,
    onListed: (window, listed, complete) => {
      evidence.add(`risk|${window}`, listed);
      if (complete) primeWindow(alerts!, groupAlerts(listed), window, true);
    },
  });
  return {
    machines,
    userMachines,
    logonUsers,
    alerts,
    fleet: machinesPlan.wholeFleet,
    alertCounts: alertCountListings(client, o.ttlMs, risk, o.budget),
    risk,
    evidence,
    client,
    cursorKey: cursorKey(o.identity, o.secret),
  };
}

/** One-way from the Defender app's identity and secret, like ESET's list cursors: every replica agrees, nobody else can forge one. */
function cursorKey(identity: string, secret: string): Buffer {
  return createHash("sha256").update("usergraph:defender-alert-cursor:v1\0").update(identity).update("\0").update(secret).digest();
}

/** The request's loaders of Defender's relations (keys as the stores take them). */
export interface DefenderRelationLoaders {
  machine: EntityLoader<DefenderMachineDto>;
  userMachines: EntityLoader<DefenderMachineDto[]>;
  logonUsers: EntityLoader<DefenderUserDto[]>;
  alerts: EntityLoader<DefenderAlertDto[]>;
  /** For defenderAlerts and defenderMachines pages; undefined when Defender is not configured. */
  lists?: Pick<DefenderRelationStores, "client" | "cursorKey" | "fleet" | "alertCounts" | "risk">;
  /** Every alert list this request loaded or is loading (for the ALERT_EVIDENCE link rule). */
  alertsAtHand(): Promise<DefenderAlertDto[]>;
  /** User evidence (account + UPN) of alerts read lately with evidence by any request of these credentials, still fresh. */
  keptEvidence(): readonly UserEvidenceItem[];
  /** Alerts read by another path (a defenderAlerts page, held as soon as it is asked for), added to what is at hand. */
  holdAlerts(alerts: Promise<readonly DefenderAlertDto[]>): void;
}

export function createDefenderRelationLoaders(
  stores: DefenderRelationStores | undefined,
  deadline: Deadline,
  onStale: (note: StaleNote) => void,
): DefenderRelationLoaders {
  const loader = <V>(pick: (s: DefenderRelationStores) => EntityStore<V>, fold: (key: string) => string = (k) => k): EntityLoader<V> => {
    const store = stores && pick(stores);
    const inner = withCacheFastPath(
      store,
      deadline,
      () =>
        new DataLoader<string, V | null>(async (keys) =>
          store ? store.loadMany(keys, deadline, onStale) : keys.map(() => notConfigured("DEFENDER")),
        ),
    );
    return { load: (key) => inner.load(fold(key)) };
  };
  const held: Array<Promise<DefenderAlertDto[] | null> | DefenderAlertDto[] | null> = [];
  const alerts = loader((s) => s.alerts);
  return {
    machine: loader((s) => s.machines, machineKey),
    userMachines: loader(
      (s) => s.userMachines,
      (id) => id.toLowerCase(),
    ),
    logonUsers: loader((s) => s.logonUsers, machineKey),
    alerts: {
      load(key) {
        const value = alerts.load(key);
        if (held.length < 10_000) held.push(value);
        return value;
      },
    },
    lists: stores && {
      client: stores.client,
      cursorKey: stores.cursorKey,
      fleet: stores.fleet,
      alertCounts: stores.alertCounts,
      risk: stores.risk,
    },
    async alertsAtHand() {
      // Let sibling fields start their loads first: graphql-js calls every resolver of a selection set in
      // one go, but type-graphql validates arguments asynchronously, so a sibling with arguments (alerts)
      // reaches its loader some microtasks later. One macrotask is after all of them.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const settled = await Promise.all(held.map((h) => Promise.resolve(h).catch(() => null)));
      return settled.flatMap((list) => list ?? []);
    },
    keptEvidence: () => stores?.evidence.all() ?? [],
    holdAlerts(list) {
      // Its failure is the defenderAlerts field's to report; here it only means no evidence from it.
      if (held.length < 10_000)
        held.push(
          list.then(
            (l) => [...l],
            () => null,
          ),
        );
    },
  };
}
