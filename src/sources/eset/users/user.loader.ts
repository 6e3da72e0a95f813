import DataLoader from "dataloader";
import type { Deadline } from "../../../upstream/deadline";
import { ESET_BATCH_LIMIT, type EsetClient } from "../client";
import type { EsetUserDto } from "../dto";
import { UpstreamError } from "../../../upstream/upstream-error";
import type { EntityStore, Outcome, StaleNote } from "../../../store/entity-store";
import { notConfigured } from "../../../upstream/not-configured";

/**
 * One batchGetUsers for the uuids (≤ 1000); a single uuid goes through GET /v1/users/{uuid}. When the
 * batch fails on unknown uuids, see `resolveInto`: n uuids cost at most n + ceil(log2 n) + 1 calls.
 */
export function fetchEsetUsers(client: EsetClient) {
  return async (uuids: string[], deadline: Deadline): Promise<Map<string, Outcome<EsetUserDto>>> => {
    const out = new Map<string, Outcome<EsetUserDto>>();
    await resolveInto(client, uuids, deadline, out, new MissBudget(Math.ceil(Math.log2(Math.max(1, uuids.length))) + 1));
    return out;
  };
}

/**
 * batchGetUsers is atomic: one unknown uuid fails the whole call with 404. Bisect until the unknown uuids
 * are isolated, so every known uuid still resolves and only unknown ones become null: with k unknown uuids
 * among n this costs about 2·k·log2(n/k) calls; with none it costs one.
 *
 * Bisection pays only while unknown uuids are few: n unknown uuids would cost 2n − 1 calls. So every batch
 * call that fails is paid from a budget (`MissBudget`): ceil(log2 n) + 1 to start with, plus what each
 * successful batch saved against single GETs (its size − 1). Once the budget is spent, what is left is
 * asked with single GETs. Every call but a failing batch settles uuids no other call asks for, so a fetch
 * of n uuids costs at most n + ceil(log2 n) + 1 calls whatever the mix, and few unknown uuids still bisect
 * at full speed. Unknown uuids are then remembered by the entity store's negative cache
 * (CACHE_NEGATIVE_TTL_SECONDS).
 */
async function resolveInto(
  client: EsetClient,
  uuids: readonly string[],
  deadline: Deadline,
  out: Map<string, Outcome<EsetUserDto>>,
  budget: MissBudget,
): Promise<void> {
  if (uuids.length === 1 || !(await budget.reserve())) {
    await Promise.all(uuids.map((uuid) => getOne(client, uuid, deadline, out)));
    return;
  }
  try {
    const found = await client.batchGetUsers(uuids, deadline);
    budget.settle(uuids.length);
    for (const uuid of uuids) out.set(uuid, found.get(uuid) ?? null);
  } catch (err) {
    if (err instanceof UpstreamError && err.kind === "http" && err.status === 404) {
      budget.settle(0);
      const mid = Math.ceil(uuids.length / 2);
      await Promise.all([
        resolveInto(client, uuids.slice(0, mid), deadline, out, budget),
        resolveInto(client, uuids.slice(mid), deadline, out, budget),
      ]);
      return;
    }
    budget.settle(uuids.length);
    for (const uuid of uuids) out.set(uuid, err as Error);
  }
}

/**
 * The batch calls one fetch may still afford to see fail. A batch call reserves one before it goes out;
 * when it settles its uuids (found, or an error other than 404) it hands back its reservation plus the
 * calls it saved (size − 1). With nothing left while other batch calls are out, a group waits for them:
 * they may bring credit back.
 */
class MissBudget {
  private outstanding = 0;
  private wake: Array<() => void> = [];

  constructor(private left: number) {}

  async reserve(): Promise<boolean> {
    while (this.left <= 0) {
      if (this.outstanding === 0) return false;
      await new Promise<void>((resolve) => this.wake.push(resolve));
    }
    this.left--;
    this.outstanding++;
    return true;
  }

  settle(credit: number): void {
    this.outstanding--;
    this.left += credit;
    for (const resolve of this.wake.splice(0)) resolve();
  }
}

async function getOne(client: EsetClient, uuid: string, deadline: Deadline, out: Map<string, Outcome<EsetUserDto>>): Promise<void> {
  try {
    out.set(uuid, await client.getUser(uuid, deadline));
  } catch (err) {
    out.set(uuid, err as Error);
  }
}

/** Per request: DataLoader cuts batches at ESET's 1000-uuid limit and dedups repeated uuids. */
export function createEsetUserLoader(
  store: EntityStore<EsetUserDto> | undefined,
  deadline: Deadline,
  onStale: (note: StaleNote) => void,
): DataLoader<string, EsetUserDto | null> {
  return new DataLoader<string, EsetUserDto | null>(
    async (uuids) => {
      if (!store) return uuids.map(() => notConfigured("ESET"));
      return store.loadMany(uuids, deadline, onStale);
    },
    { maxBatchSize: ESET_BATCH_LIMIT },
  );
}
