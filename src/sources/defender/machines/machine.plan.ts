import { mapSettledWithLimit } from "../../../upstream/concurrency";
import type { Deadline } from "../../../upstream/deadline";
import type { Outcome } from "../../../store/entity-store";
import { DEFENDER_MAX_TOP, type DefenderClient } from "../client";
import type { DefenderMachineDto } from "../dto";
import { expectedPagesOf, listingPays, Listings, readPages, RequestSpend } from "../listings";
import { FLEET_MAX_PAGES } from "../prices";
import { approximateBytes, type ListingBudget } from "../../../store/listing-budget";
import type { SharedListings } from "../../../store/shared-listings";

export { FLEET_MAX_PAGES };

/** The fleet as listed: machines by id, by computer DNS name, and by computer name where that is unambiguous. */
export interface FleetIndex {
  byKey: Map<string, DefenderMachineDto>;
  /** Every machine, in Defender's order (defenderMachines filters and orders these). */
  machines: DefenderMachineDto[];
  /** When the listing was read (ms since the epoch). */
  listedAt: number;
  /** Views of this listing by filter and order, computed once each while the listing is kept (fleet-view.ts). */
  views: Map<string, unknown>;
  count: number;
  pages: number;
  /** Every page was read (the fleet fits in FLEET_MAX_PAGES). */
  complete: boolean;
}

/** The key a machine is asked by: its id or computer name, without case (Defender compares them so). */
export function machineKey(idOrName: string): string {
  return idOrName.toLowerCase();
}

/**
 * Machines by id (or computer name) for the entity store: from the fleet listing when it is fresh in
 * process, or when listing costs fewer calls than asking per id (a dashboard's 50 most prevalent machines:
 * 1 call instead of 50); otherwise one `GET /api/machines/{id}` each. Ids the listing does not hold (the
 * listing shows only recent machines) are asked per id. The choice goes on the request's log line.
 * `wholeFleet` hands the same listing to defenderMachines.
 */
export function machinePlan(client: DefenderClient, concurrency: number, ttlMs: number, budget: ListingBudget, shared?: SharedListings) {
  const fleet = new Listings<FleetIndex>({
    name: "fleet",
    source: "DEFENDER",
    ttlMs,
    budget,
    maxKept: 1,
    // Sized with its index, rows and views: about 3 entries per machine besides the machine itself.
    bytes: (f) => approximateBytes(f.machines, 400),
    shared: shared && {
      store: shared,
      toWire: ({ machines, listedAt, pages, complete }) => ({ machines, listedAt, pages, complete }),
      fromWire: (wire) => {
        const { machines, listedAt, pages, complete } = wire as Pick<FleetIndex, "machines" | "listedAt" | "pages" | "complete">;
        return { byKey: indexFleet(machines), machines, listedAt, views: new Map(), count: machines.length, pages, complete };
      },
    },
  });
  const spend = new RequestSpend();
  let lastCount: number | undefined;
  const expectedPages = () => expectedPagesOf(lastCount);

  const listFleet = async (deadline: Deadline): Promise<FleetIndex> => {
    const {
      items: machines,
      pages,
      complete,
    } = await readPages(
      () => client.listMachines({ top: DEFENDER_MAX_TOP }, deadline),
      (link) => client.nextMachines(link, deadline),
      FLEET_MAX_PAGES,
    );
    lastCount = complete ? machines.length : Infinity;
    return { byKey: indexFleet(machines), machines, listedAt: Date.now(), views: new Map(), count: machines.length, pages, complete };
  };

  const fetchMany = async (keys: string[], deadline: Deadline): Promise<Map<string, Outcome<DefenderMachineDto>>> => {
    const out = new Map<string, Outcome<DefenderMachineDto>>();
    let index = fleet.peek("fleet") ?? (await fleet.ofRequest("fleet", deadline)?.catch(() => undefined));
    let plan = index ? `machines: cached fleet list for ${keys.length} ids` : "";
    // A fleet listing another request is fetching is joined whatever the batch size: it costs this request nothing.
    if (!index && (fleet.fetching("fleet") || listingPays(expectedPages(), FLEET_MAX_PAGES, spend.of(deadline, "fleet"), keys.length))) {
      try {
        index = await fleet.get("fleet", deadline, () => listFleet(deadline));
        plan = fleet.readFromRedis(index)
          ? `machines: fleet list from Redis (listed by another replica) for ${keys.length} ids`
          : `machines: fleet list, ${index.pages} call${index.pages === 1 ? "" : "s"} for ${keys.length} ids`;
      } catch (err) {
        for (const key of keys) out.set(key, err instanceof Error ? err : new Error(String(err)));
        deadline.notePlan(`machines: fleet list failed for ${keys.length} ids`);
        return out;
      }
    }
    const missing: string[] = [];
    for (const key of keys) {
      const hit = index?.byKey.get(key);
      if (hit !== undefined) out.set(key, hit);
      else missing.push(key);
    }
    if (missing.length > 0) {
      const results = await mapSettledWithLimit(missing, concurrency, (key) => client.getMachine(key, deadline));
      missing.forEach((key, i) => out.set(key, results[i]!));
      spend.add(deadline, "fleet", missing.length);
      plan = `${plan === "" ? "machines:" : `${plan},`} per id, ${missing.length} call${missing.length === 1 ? "" : "s"}`;
    }
    deadline.notePlan(plan);
    return out;
  };

  /**
   * The whole fleet listing, for defenderMachines: the one the machines by id use (kept while fresh, shared
   * by every request of these credentials, joined while another request lists it).
   */
  const wholeFleet = async (deadline: Deadline): Promise<FleetIndex> => {
    const kept = fleet.peek("fleet") !== undefined || fleet.ofRequest("fleet", deadline) !== undefined;
    const index = await fleet.get("fleet", deadline, () => listFleet(deadline));
    deadline.notePlan(
      kept
        ? "machines: cached fleet list for defenderMachines"
        : fleet.readFromRedis(index)
          ? "machines: fleet list from Redis (listed by another replica) for defenderMachines"
          : `machines: fleet list, ${index.pages} call${index.pages === 1 ? "" : "s"} for defenderMachines${fleet.tooLarge.has("fleet") ? " (not kept: larger than LISTINGS_MAX_MB)" : ""}`,
    );
    return index;
  };

  return { fetchMany, wholeFleet };
}

function indexFleet(machines: DefenderMachineDto[]): Map<string, DefenderMachineDto> {
  const byKey = new Map<string, DefenderMachineDto>();
  const labels = new Map<string, DefenderMachineDto | null>();
  for (const m of machines) {
    byKey.set(machineKey(m.id), m);
    if (typeof m.computerDnsName === "string" && m.computerDnsName !== "") {
      const dns = machineKey(m.computerDnsName);
      byKey.set(dns, m);
      const label = dns.split(".")[0]!;
      // Two machines called alike in different domains: the short name is ambiguous, ask Defender.
      labels.set(label, labels.has(label) && labels.get(label) !== m ? null : m);
    }
  }
  for (const [label, m] of labels) if (m !== null && !byKey.has(label)) byKey.set(label, m);
  return byKey;
}
