import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { activeProductsOf, DEMO, demoData, type WireObject } from "./demo-data";
import { benchMachineId, benchRelations, demoRelations, type DefenderRelations } from "./defender-relations";
import { woodgroveData } from "./woodgrove-data";
import type { ActiveFault, Fault, FaultTarget } from "./faults";
import { matches, ODataError, parseFilter, type FilterNode } from "./odata";
import { stringifyWire } from "./wire-json";

/** The Entra app and ESET API user a simulator accepts (one customer's credentials). */
export interface SimulatorCredentials {
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scope: string;
  readonly esetUsername: string;
  readonly esetPassword: string;
}

/** Credentials the simulator accepts by default; demo mode configures the clients with them. */
export const SIMULATOR_CREDENTIALS = {
  tenantId: "00000000-0000-4000-8000-00000000d3e0",
  clientId: "usergraph-demo-client",
  clientSecret: "demo-client-secret-not-for-production",
  scope: "https://api.securitycenter.microsoft.com/.default",
  esetUsername: "usergraph-demo@example.com",
  esetPassword: "demo-eset-password-not-for-production",
} as const satisfies SimulatorCredentials;

/** The demo's second customer (dataset "woodgrove"): its own Entra tenant, app and ESET API user. */
export const WOODGROVE_CREDENTIALS = {
  tenantId: "00000000-0000-4000-8000-0000000a3e0b",
  clientId: "usergraph-demo-client-woodgrove",
  clientSecret: "woodgrove-client-secret-not-for-production",
  scope: "https://api.securitycenter.microsoft.com/.default",
  esetUsername: "usergraph-demo@woodgrove.example",
  esetPassword: "woodgrove-eset-password-not-for-production",
} as const satisfies SimulatorCredentials;

/**
 * Which customer's data a simulator serves: `demo` (Contoso: the README's users, machines and alerts) or
 * `woodgrove` (the demo's second tenant, src/simulator/woodgrove-data.ts: a few people of another company).
 */
export type SimulatorDataset = "demo" | "woodgrove";

export interface SimulatorOptions {
  port?: number;
  host?: string;
  /** Added before every API answer (not token answers). */
  latencyMs?: number;
  /** Lifetime of issued access tokens. */
  tokenTtlSec?: number;
  /** Extra generated ESET users beyond the demo set, for paging and load. */
  extraEsetUsers?: number;
  /** Extra generated Defender users (`bench\user000000`, …), for load. */
  extraDefenderUsers?: number;
  /** Answer any `bench\\userN` id with a generated user, without storing it (soak tests over a million ids). */
  synthesizeDefenderUsers?: boolean;
  /**
   * Extra generated Defender machines (`bench-000000.bench.local`, …): machine i has bench user `i % extraDefenderUsers`
   * logged on, and that user's mostPrevalentMachineId points at machine `i % extraDefenderMachines`.
   */
  extraDefenderMachines?: number;
  /** Extra generated Defender alerts, spread over the last 7 days, on the generated machines and users. */
  extraDefenderAlerts?: number;
  /** The app roles (permissions) of the Defender tokens the simulator issues; default DEFAULT_DEFENDER_ROLES. */
  defenderRoles?: readonly string[];
  /**
   * Most machines or alerts one list page holds whatever `$top` asks (an OData server may page on its own,
   * with `@odata.nextLink`): lets a test follow many pages without generating 10,000 entities a page.
   */
  defenderPageSize?: number;
  /** Whose data it serves (default `demo`); the generated extras (extraEsetUsers, …) come on top of either. */
  dataset?: SimulatorDataset;
  /** The credentials it accepts; default SIMULATOR_CREDENTIALS (WOODGROVE_CREDENTIALS for the `woodgrove` dataset). */
  credentials?: SimulatorCredentials;
}

/** What usergraph's Entra app is granted in the simulator by default: every read permission it uses. */
export const DEFAULT_DEFENDER_ROLES: readonly string[] = ["User.Read.All", "Machine.Read.All", "Alert.Read.All"];

/** The Defender endpoints the simulator serves (all GET). */
export type DefenderEndpoint =
  | "users.get"
  | "users.machines"
  | "users.alerts"
  | "machines.list"
  | "machines.get"
  | "machines.logonusers"
  | "machines.alerts"
  | "alerts.list"
  | "alerts.get"
  | "alerts.user"
  | "alerts.machine";

/** The entity an endpoint answers with; fault targets "defender-users", "defender-machines", "defender-alerts". */
export type DefenderFamily = "users" | "machines" | "alerts";

const DEFENDER_ENDPOINTS: Record<DefenderEndpoint, { family: DefenderFamily; roles: readonly string[] }> = {
  // UPSTREAMS.md §1.1 and §5.1; a ReadWrite permission includes its Read.
  "users.get": { family: "users", roles: ["User.Read.All"] },
  "machines.logonusers": { family: "users", roles: ["User.Read.All"] },
  "alerts.user": { family: "users", roles: ["User.Read.All"] },
  "machines.list": { family: "machines", roles: ["Machine.Read.All", "Machine.ReadWrite.All"] },
  "machines.get": { family: "machines", roles: ["Machine.Read.All", "Machine.ReadWrite.All"] },
  "alerts.machine": { family: "machines", roles: ["Machine.Read.All", "Machine.ReadWrite.All"] },
  // The current docs list only Machine.ReadWrite.All; older revisions also Machine.Read.All (see
  // Simulator.userMachinesNeedReadWrite).
  "users.machines": { family: "machines", roles: ["Machine.Read.All", "Machine.ReadWrite.All"] },
  "alerts.list": { family: "alerts", roles: ["Alert.Read.All", "Alert.ReadWrite.All"] },
  "alerts.get": { family: "alerts", roles: ["Alert.Read.All", "Alert.ReadWrite.All"] },
  "users.alerts": { family: "alerts", roles: ["Alert.Read.All", "Alert.ReadWrite.All"] },
  "machines.alerts": { family: "alerts", roles: ["Alert.Read.All", "Alert.ReadWrite.All"] },
};

export type SimSource = "DEFENDER" | "ESET";

export interface RecordedRequest {
  source: SimSource;
  kind: "token" | "api";
  method: string;
  /** The raw path as it arrived (still percent-encoded). */
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
  /** The decoded id, for single-user GETs and the Defender `{id}` paths. */
  id?: string;
  /** Which Defender endpoint answered (undefined for tokens, ESET and unknown paths). */
  endpoint?: DefenderEndpoint;
  family?: DefenderFamily;
  status?: number;
  at: number;
}

interface PendingAnswer {
  key: string;
  remaining: number;
}

/**
 * A real HTTP server that speaks both vendor APIs as UPSTREAMS.md describes them, with their token
 * endpoints, error bodies and quirks, and with faults that tests inject. Demo mode, tests and benchmarks
 * all run against it.
 */
export class Simulator {
  readonly requests: RecordedRequest[] = [];
  readonly defenderUsers = new Map<string, WireObject>();
  readonly esetUsers = new Map<string, WireObject>();
  /** Defender machines by id, with their full documented shape. */
  readonly defenderMachines = new Map<string, WireObject>();
  /** Defender alerts by id, with their full evidence (sent only with `$expand=evidence`). */
  readonly defenderAlerts = new Map<string, WireObject>();
  /** Machine id → ids of the Defender users logged on to it. */
  readonly defenderLogons = new Map<string, string[]>();
  /** When the simulator was created: the demo alerts' and machines' times are relative to it. */
  readonly startedAt: number;
  /** Follow the current docs: `GET /api/users/{id}/machines` needs Machine.ReadWrite.All (default: Read is enough). */
  userMachinesNeedReadWrite = false;
  latencyMs: number;
  tokenTtlSec: number;
  /** Send int64 fields as JSON strings (protojson's default) instead of numbers. */
  int64AsString = false;
  /** Most items of a Defender list page, whatever `$top` asks (SimulatorOptions.defenderPageSize). */
  defenderPageSize: number;
  /** The most API requests of one source that were in flight at once since the last reset. */
  readonly peakInFlight: Record<SimSource, number> = { DEFENDER: 0, ESET: 0 };
  /** Every access and refresh token handed out, so tests can check none of them leaks. */
  readonly issuedTokens: string[] = [];
  /** The Entra app and ESET API user whose token requests it grants. */
  readonly credentials: SimulatorCredentials;

  private readonly faults: ActiveFault[] = [];
  /** While set (`holdApi`), API requests wait for it before they are answered. */
  private gate?: Promise<void>;
  private readonly tokens = new Map<string, { source: SimSource; expiresAt: number; roles: readonly string[] }>();
  private defenderRoles: readonly string[];
  private readonly refreshTokens = new Set<string>();
  private readonly pending = new Map<string, PendingAnswer>();
  private readonly sockets = new Set<Socket>();
  private readonly inFlight: Record<SimSource, number> = { DEFENDER: 0, ESET: 0 };
  private server?: Server;
  private baseUrl = "";

  constructor(private readonly options: SimulatorOptions = {}) {
    this.latencyMs = options.latencyMs ?? 0;
    this.tokenTtlSec = options.tokenTtlSec ?? 3599;
    this.defenderPageSize = options.defenderPageSize ?? MAX_PAGE;
    this.defenderRoles = options.defenderRoles ?? DEFAULT_DEFENDER_ROLES;
    this.credentials = options.credentials ?? (options.dataset === "woodgrove" ? WOODGROVE_CREDENTIALS : SIMULATOR_CREDENTIALS);
    this.startedAt = Date.now();
    this.loadDemoData();
  }

  get url(): string {
    return this.baseUrl;
  }

  /** The Entra token endpoint for the simulator's tenant. */
  get defenderTokenUrl(): string {
    return `${this.baseUrl}/${this.credentials.tenantId}/oauth2/v2.0/token`;
  }

  get esetTokenUrl(): string {
    return `${this.baseUrl}/oauth/token`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 60_000;
    this.server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(this.options.port ?? 0, this.options.host ?? "127.0.0.1", () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  inject(fault: Fault): void {
    this.faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  /**
   * The app roles of the Defender tokens from now on, and of those already issued (as if they had been
   * re-issued after an admin changed the app's permissions), so a test can flip it without a token refresh.
   */
  setDefenderRoles(roles: readonly string[]): void {
    this.defenderRoles = [...roles];
    for (const token of this.tokens.values()) if (token.source === "DEFENDER") token.roles = this.defenderRoles;
  }

  /** Forget faults, recorded requests and pending answers, and restore the Defender roles; keep data and tokens. */
  reset(): void {
    this.setDefenderRoles(this.options.defenderRoles ?? DEFAULT_DEFENDER_ROLES);
    this.userMachinesNeedReadWrite = false;
    this.faults.length = 0;
    this.requests.length = 0;
    this.pending.clear();
    this.int64AsString = false;
    this.latencyMs = this.options.latencyMs ?? 0;
    this.defenderPageSize = this.options.defenderPageSize ?? MAX_PAGE;
    this.peakInFlight.DEFENDER = 0;
    this.peakInFlight.ESET = 0;
  }

  /**
   * API requests (not token requests) wait, unanswered, until the returned function is called: a test can
   * keep a fetch in flight until a condition holds, instead of guessing a latency long enough for it.
   */
  holdApi(): () => void {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    this.gate = gate;
    return () => {
      if (this.gate === gate) this.gate = undefined;
      release();
    };
  }

  /** Every access token issued so far (only `source`'s, when given) stops working (the next API call gets 401). */
  revokeTokens(source?: SimSource): void {
    for (const [token, held] of this.tokens) if (source === undefined || held.source === source) this.tokens.delete(token);
  }

  /** Every refresh token issued so far stops working (the next refresh grant gets 400 invalid_grant). */
  revokeRefreshTokens(): void {
    this.refreshTokens.clear();
  }

  /** The form fields of each token request so far (never includes the response). */
  tokenRequests(source: SimSource): URLSearchParams[] {
    return this.requests.filter((r) => r.source === source && r.kind === "token").map((r) => new URLSearchParams(r.body));
  }

  /** Recorded requests matching a filter. */
  count(
    filter: Partial<Pick<RecordedRequest, "source" | "kind" | "method" | "endpoint" | "family">> & { pathIncludes?: string } = {},
  ): number {
    return this.requests.filter(
      (r) =>
        (filter.source === undefined || r.source === filter.source) &&
        (filter.endpoint === undefined || r.endpoint === filter.endpoint) &&
        (filter.family === undefined || r.family === filter.family) &&
        (filter.kind === undefined || r.kind === filter.kind) &&
        (filter.method === undefined || r.method === filter.method) &&
        (filter.pathIncludes === undefined || r.path.includes(filter.pathIncludes)),
    ).length;
  }

  private loadDemoData(): void {
    if (this.options.dataset === "woodgrove") {
      const data = woodgroveData(this.startedAt);
      for (const u of data.defender) this.defenderUsers.set(u.id as string, u);
      for (const u of data.eset) this.esetUsers.set(u.uuid as string, u);
      this.addRelations(data.relations);
    } else {
      const data = demoData();
      for (const u of data.defender) this.defenderUsers.set(u.id as string, u);
      for (const u of data.eset) this.esetUsers.set(u.uuid as string, u);
      this.addRelations(demoRelations(data.defender, this.startedAt));
    }
    const benchUsers = this.options.extraDefenderUsers ?? 0;
    this.addRelations(
      benchRelations(this.options.extraDefenderMachines ?? 0, this.options.extraDefenderAlerts ?? 0, benchUsers, this.startedAt),
    );
    for (let i = 0; i < benchUsers; i++) {
      const user = benchDefenderUser(`user${String(i).padStart(6, "0")}`, i, this.options.extraDefenderMachines ?? 0);
      this.defenderUsers.set(user.id as string, user);
    }
    for (let i = 0; i < (this.options.extraEsetUsers ?? 0); i++) {
      const n = String(i).padStart(6, "0");
      this.esetUsers.set(`00000000-0000-4000-8000-000000${n}`, {
        uuid: `00000000-0000-4000-8000-000000${n}`,
        displayName: `Generated User ${n}`,
        primaryEmailAddress: `user${i}@generated.example`,
        protectionStatus: i % 2 === 0 ? "PROTECTION_STATUS_UNPROTECTED" : "PROTECTION_STATUS_FULLY_PROTECTED",
        // Enough variety for every list filter to select a different share of the generated users.
        userGroupUuids: [GENERATED_GROUPS[i % GENERATED_GROUPS.length]],
        cloudOffice: { hasMsLicense: i % 5 !== 0, tenantReference: i % 7 === 0 ? "C03generated" : DEMO.tenant },
        activeProductIds: i % 3 === 0 ? [112n] : [],
      });
    }
  }

  private addRelations(relations: DefenderRelations): void {
    for (const m of relations.machines) this.defenderMachines.set(m.id as string, m);
    for (const a of relations.alerts) this.defenderAlerts.set(a.id as string, a);
    for (const [id, users] of relations.logons) this.defenderLogons.set(id, users);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const path = req.url ?? "/";
    const route = this.route(req.method ?? "GET", path);
    const record: RecordedRequest = {
      source: route.source,
      kind: route.kind,
      method: req.method ?? "GET",
      path,
      headers: req.headers,
      body,
      at: Date.now(),
      ...(route.endpoint ? { endpoint: route.endpoint.name, family: DEFENDER_ENDPOINTS[route.endpoint.name].family } : {}),
    };
    this.requests.push(record);
    if (route.kind === "api") {
      const source = route.source;
      this.inFlight[source]++;
      this.peakInFlight[source] = Math.max(this.peakInFlight[source], this.inFlight[source]);
      res.once("close", () => this.inFlight[source]--);
    }
    const send = (status: number, payload: string, headers: Record<string, string> = {}): void => {
      record.status = status;
      res.writeHead(status, {
        "content-type": headers["content-type"] ?? "application/json; charset=utf-8",
        ...(route.source === "ESET" ? { "request-id": randomUUID() } : {}),
        ...headers,
      });
      res.end(payload);
    };

    if (route.kind === "api" && this.gate) await this.gate;
    const fault = this.takeFault(route, path, req.headers["response-id"] !== undefined);
    if (fault?.kind === "delay" || (route.kind === "api" && this.latencyMs > 0)) {
      await sleep((fault?.kind === "delay" ? (fault.delayMs ?? 0) : 0) + (route.kind === "api" ? this.latencyMs : 0));
    }
    if (fault && fault.kind !== "delay") {
      switch (fault.kind) {
        case "reset":
          req.socket.destroy();
          return;
        case "hang":
          return; // the socket is destroyed on close()
        case "bad-json":
          return send(200, "<html><body>Service temporarily unavailable</body></html>", { "content-type": "text/html" });
        case "wrong-shape":
          return send(200, JSON.stringify({ value: "not what the documentation describes" }));
        case "status": {
          const status = fault.status ?? 500;
          return send(status, fault.body ?? this.errorBody(route.source, route.kind, status), fault.headers);
        }
        case "pending": {
          const responseId = randomUUID();
          this.pending.set(responseId, { key: requestKey(req.method, path, body), remaining: Math.max(0, (fault.polls ?? 1) - 1) });
          return send(202, "", { "response-id": responseId });
        }
      }
    }

    try {
      const answer = this.answer(route, req, path, body, record);
      send(answer.status, answer.body, answer.headers);
    } catch (err) {
      send(500, JSON.stringify({ code: 13, message: `simulator error: ${(err as Error).message}` }));
    }
  }

  private route(method: string, path: string): SimRoute {
    if (method === "POST" && /^\/[^/]+\/oauth2\/v2\.0\/token$/.test(path))
      return { source: "DEFENDER", kind: "token", target: "defender-token" };
    if (path.startsWith("/api/"))
      return { source: "DEFENDER", kind: "api", target: "defender", endpoint: method === "GET" ? defenderEndpoint(path) : undefined };
    if (path === "/oauth/token") return { source: "ESET", kind: "token", target: "eset-token" };
    return { source: "ESET", kind: "api", target: "eset" };
  }

  private takeFault(route: SimRoute, path: string, isPoll: boolean): ActiveFault | undefined {
    const endpoint = route.endpoint?.name;
    const family = endpoint ? `defender-${DEFENDER_ENDPOINTS[endpoint].family}` : undefined;
    const index = this.faults.findIndex(
      (f) =>
        (f.target === route.target || (family !== undefined && f.target === family)) &&
        (f.endpoint === undefined || f.endpoint === endpoint) &&
        (f.pathIncludes === undefined || path.includes(f.pathIncludes)) &&
        !(isPoll && f.kind === "pending"),
    );
    if (index < 0) return undefined;
    const fault = this.faults[index]!;
    fault.remaining--;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return fault;
  }

  private answer(
    route: SimRoute,
    req: IncomingMessage,
    path: string,
    body: string,
    record: RecordedRequest,
  ): { status: number; body: string; headers?: Record<string, string> } {
    if (route.kind === "token") return route.source === "DEFENDER" ? this.entraToken(path, body) : this.esetToken(body);

    const auth = req.headers.authorization ?? "";
    const token = this.tokens.get(auth.replace(/^Bearer /, ""));
    if (!auth.startsWith("Bearer ") || !token || token.source !== route.source || token.expiresAt <= Date.now()) {
      return { status: 401, body: this.errorBody(route.source, "api", 401) };
    }
    if (route.source === "DEFENDER") return this.defender(route.endpoint, path, record, token.roles);

    const responseId = req.headers["response-id"];
    if (typeof responseId === "string") {
      const pending = this.pending.get(responseId);
      if (!pending) return { status: 404, body: this.errorBody("ESET", "api", 404) };
      if (pending.key !== requestKey(req.method, path, body)) {
        return { status: 400, body: JSON.stringify({ code: 3, message: "response-id belongs to a different request", details: [] }) };
      }
      if (pending.remaining > 0) {
        pending.remaining--;
        return { status: 202, body: "", headers: { "response-id": responseId } };
      }
      // ESET: once the valid response is retrieved the cache is cleared.
      this.pending.delete(responseId);
    }
    return this.eset(req.method ?? "GET", path, body, record);
  }

  private entraToken(path: string, body: string) {
    const form = new URLSearchParams(body);
    const tenant = path.split("/")[1];
    const correlation = randomUUID();
    const fail = (status: number, error: string, description: string) => ({
      status,
      body: JSON.stringify({
        error,
        error_description: description,
        error_codes: [7000215],
        correlation_id: correlation,
        trace_id: randomUUID(),
      }),
    });
    if (tenant !== this.credentials.tenantId) return fail(400, "invalid_request", "AADSTS90002: Tenant not found.");
    if (form.get("grant_type") !== "client_credentials")
      return fail(400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.");
    if (form.get("client_id") !== this.credentials.clientId)
      return fail(400, "unauthorized_client", "AADSTS700016: Application not found in the directory.");
    if (form.get("client_secret") !== this.credentials.clientSecret)
      return fail(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.");
    if (!(form.get("scope") ?? "").endsWith("/.default"))
      return fail(400, "invalid_scope", "AADSTS1002012: The provided value for scope is not valid.");
    const accessToken = this.issue("DEFENDER");
    return {
      status: 200,
      body: JSON.stringify({ token_type: "Bearer", expires_in: this.tokenTtlSec, ext_expires_in: 0, access_token: accessToken }),
    };
  }

  private esetToken(body: string) {
    const form = new URLSearchParams(body);
    const grant = form.get("grant_type");
    const invalid = (description: string) => ({
      status: 400,
      body: JSON.stringify({ error: "invalid_grant", error_description: description }),
    });
    if (grant === "password") {
      if (form.get("username") !== this.credentials.esetUsername || form.get("password") !== this.credentials.esetPassword) {
        return invalid("Invalid username or password");
      }
    } else if (grant === "refresh_token") {
      const refresh = form.get("refresh_token") ?? "";
      // Refresh tokens rotate: each works once.
      if (!this.refreshTokens.delete(refresh)) return invalid("Invalid or already used refresh token");
    } else {
      return { status: 400, body: JSON.stringify({ error: "unsupported_grant_type" }) };
    }
    const refreshToken = `sim-eset-refresh-${randomUUID()}`;
    this.refreshTokens.add(refreshToken);
    this.issuedTokens.push(refreshToken);
    return {
      status: 200,
      body: JSON.stringify({
        access_token: this.issue("ESET"),
        refresh_token: refreshToken,
        token_type: "Bearer",
        expires_in: this.tokenTtlSec,
      }),
    };
  }

  private issue(source: SimSource): string {
    const token = `sim-${source.toLowerCase()}-${randomUUID()}`;
    this.issuedTokens.push(token);
    this.tokens.set(token, {
      source,
      expiresAt: Date.now() + this.tokenTtlSec * 1000,
      roles: source === "DEFENDER" ? this.defenderRoles : [],
    });
    return token;
  }

  private defender(endpoint: SimRoute["endpoint"], path: string, record: RecordedRequest, roles: readonly string[]): Answer {
    if (!endpoint) return { status: 404, body: this.errorBody("DEFENDER", "api", 404) };
    const { name, id: rawId } = endpoint;
    const needed = name === "users.machines" && this.userMachinesNeedReadWrite ? ["Machine.ReadWrite.All"] : DEFENDER_ENDPOINTS[name].roles;
    if (!needed.some((r) => roles.includes(r))) {
      return defenderError(
        403,
        "Forbidden",
        `The application does not have any of the required application permissions (${[...needed].reverse().join(", ")}) to access the resource.`,
      );
    }
    const id = rawId === undefined ? undefined : safeDecode(rawId);
    record.id = id;
    if (rawId !== undefined && id === undefined)
      return defenderError(
        404,
        "ResourceNotFound",
        `${name.startsWith("users") ? "User" : name.startsWith("machines") ? "Machine" : "Alert"}  was not found`,
      );
    const query = path.includes("?") ? path.slice(path.indexOf("?") + 1) : "";
    const params = new URLSearchParams(query);
    switch (name) {
      case "users.get":
        return this.defenderUser(id!);
      case "users.machines": {
        // Defender: the id is "only the user name" (user1 for user1@contoso.com); domain\user also answers.
        const machines = [...this.defenderMachines.values()].filter((m) =>
          (this.defenderLogons.get(m.id as string) ?? []).some((u) => sameUser(u, id!)),
        );
        return this.collection("Machines", machines);
      }
      case "users.alerts": {
        const alerts = this.sortedAlerts().filter((a) => {
          const related = a.relatedUser as { userName?: string; domainName?: string } | null;
          return related?.userName !== undefined && sameUser(`${related.domainName ?? ""}\\${related.userName}`, id!);
        });
        return this.collection(
          "Alerts",
          alerts.map((a) => withEvidence(a, false)),
        );
      }
      case "machines.list":
        // Defender: "If there are no recent machines, you see 404 Not Found."
        if (this.defenderMachines.size === 0) return defenderError(404, "ResourceNotFound", "No recent machines were found");
        return this.odataList("Machines", [...this.defenderMachines.values()], params, query, path);
      case "alerts.list":
        return this.odataList("Alerts", this.sortedAlerts(), params, query, path);
      case "machines.get":
      case "machines.logonusers":
      case "machines.alerts": {
        const machine = this.findMachine(id!);
        if (!machine) return defenderError(404, "ResourceNotFound", `Machine ${id!} was not found`);
        if (name === "machines.get") return this.entity("Machines", machine);
        if (name === "machines.alerts") {
          return this.collection(
            "Alerts",
            this.sortedAlerts()
              .filter((a) => a.machineId === machine.id)
              .map((a) => withEvidence(a, false)),
          );
        }
        const users = (this.defenderLogons.get(machine.id as string) ?? [])
          .map((u) => this.lookupDefenderUser(u))
          .filter((u) => u !== undefined);
        return this.collection("Users", users);
      }
      case "alerts.get":
      case "alerts.user":
      case "alerts.machine": {
        const alert = this.defenderAlerts.get(id!);
        if (!alert) return defenderError(404, "ResourceNotFound", `Alert ${id!} was not found`);
        if (name === "alerts.get") {
          const expand = params.get("$expand");
          if (expand !== null && expand.toLowerCase() !== "evidence")
            return defenderError(
              400,
              "ODataError",
              `The query specified in the URI is not valid. Could not find a property named '${expand}' on type 'Alert'.`,
            );
          return this.entity("Alerts", withEvidence(alert, expand !== null));
        }
        if (name === "alerts.machine") {
          const machine = typeof alert.machineId === "string" ? this.defenderMachines.get(alert.machineId) : undefined;
          return machine
            ? this.entity("Machines", machine)
            : defenderError(404, "ResourceNotFound", `Machine ${String(alert.machineId)} was not found`);
        }
        const related = alert.relatedUser as { userName?: string; domainName?: string } | null;
        const user =
          related?.userName === undefined
            ? undefined
            : this.lookupDefenderUser(`${related.domainName ?? ""}\\${related.userName}`.toLowerCase());
        return user ? this.entity("Users", user) : defenderError(404, "ResourceNotFound", `User of alert ${id!} was not found`);
      }
    }
  }

  private defenderUser(id: string): Answer {
    const user = this.lookupDefenderUser(id);
    if (!user) {
      return {
        status: 404,
        body: JSON.stringify({ error: { code: "ResourceNotFound", message: `User ${id} was not found`, target: randomUUID() } }),
      };
    }
    return {
      status: 200,
      body: JSON.stringify({ "@odata.context": `${this.baseUrl}/api/$metadata#Users/$entity`, ...user }),
    };
  }

  private lookupDefenderUser(id: string): WireObject | undefined {
    let user = this.defenderUsers.get(id);
    if (!user && this.options.synthesizeDefenderUsers) {
      const m = /^bench\\(user(\d+))$/.exec(id);
      if (m) user = benchDefenderUser(m[1]!, Number(m[2]), this.options.extraDefenderMachines ?? 0);
    }
    return user;
  }

  /** Device id, computer DNS name or computer name (its first label), case-insensitively. */
  private findMachine(key: string): WireObject | undefined {
    const byId = this.defenderMachines.get(key.toLowerCase());
    if (byId) return byId;
    const k = key.toLowerCase();
    for (const m of this.defenderMachines.values()) {
      const dns = typeof m.computerDnsName === "string" ? m.computerDnsName.toLowerCase() : undefined;
      if (dns !== undefined && (dns === k || dns.split(".")[0] === k)) return m;
    }
    return undefined;
  }

  /** Newest update first, then by id: a stable order for $skip paging. */
  private sortedAlerts(): WireObject[] {
    return [...this.defenderAlerts.values()].sort(
      (a, b) => Date.parse(String(b.lastUpdateTime)) - Date.parse(String(a.lastUpdateTime)) || String(a.id).localeCompare(String(b.id)),
    );
  }

  private entity(set: "Machines" | "Alerts" | "Users", value: WireObject): Answer {
    return { status: 200, body: stringifyWire({ "@odata.context": `${this.baseUrl}/api/$metadata#${set}/$entity`, ...value }) };
  }

  private collection(set: "Machines" | "Alerts" | "Users", value: WireObject[], nextLink?: string): Answer {
    return {
      status: 200,
      body: stringifyWire({
        "@odata.context": `${this.baseUrl}/api/$metadata#${set}`,
        value,
        ...(nextLink ? { "@odata.nextLink": nextLink } : {}),
      }),
    };
  }

  /**
   * `GET /api/machines` and `GET /api/alerts` with the documented OData options: `$filter` on the documented
   * properties, `$top` (≤ 10,000, the page size when absent), `$skip`, and `$expand=evidence` on alerts.
   * When more items remain after the page, `@odata.nextLink` is this URL with `$skip` moved on.
   */
  private odataList(set: "Machines" | "Alerts", items: WireObject[], params: URLSearchParams, query: string, path: string): Answer {
    const entity = set === "Machines" ? "microsoft.windowsDefenderATP.api.PublicMachine" : "microsoft.windowsDefenderATP.api.PublicAlert";
    try {
      for (const key of params.keys()) {
        if (key.startsWith("$") && !["$filter", "$top", "$skip", ...(set === "Alerts" ? ["$expand"] : [])].includes(key)) {
          throw new ODataError(`The query specified in the URI is not valid. Query option '${key}' is not allowed.`);
        }
      }
      const expand = params.get("$expand");
      if (expand !== null && expand.toLowerCase() !== "evidence") {
        throw new ODataError(
          `The query specified in the URI is not valid. Could not find a property named '${expand}' on type '${entity}'.`,
        );
      }
      const whole = (name: string, fallback: number, max = Number.MAX_SAFE_INTEGER) => {
        const raw = params.get(name);
        if (raw === null) return fallback;
        if (!/^\d+$/.test(raw)) throw new ODataError(`The query specified in the URI is not valid. Invalid value '${raw}' for ${name}.`);
        const n = Number(raw);
        if (n > max)
          throw new ODataError(`The query specified in the URI is not valid. The limit of '${max}' for Top query has been exceeded.`);
        return n;
      };
      const top = whole("$top", MAX_PAGE, MAX_PAGE);
      const skip = whole("$skip", 0);
      const filterText = params.get("$filter");
      let filter: FilterNode | undefined;
      if (filterText !== null) filter = parseFilter(filterText, set === "Machines" ? MACHINE_FILTERS : ALERT_FILTERS, entity);
      const dates = set === "Machines" ? MACHINE_DATES : ALERT_DATES;
      const selected = filter ? items.filter((item) => matches(filter, item, dates)) : items;
      const size = Math.min(top, this.defenderPageSize);
      const page = selected.slice(skip, skip + size).map((item) => (set === "Alerts" ? withEvidence(item, expand !== null) : item));
      let nextLink: string | undefined;
      if (size > 0 && skip + size < selected.length) {
        // The same query (as it was encoded) with $skip moved on.
        const kept = query.split("&").filter((part) => part !== "" && safeDecode(part.split("=")[0]!) !== "$skip");
        nextLink = `${this.baseUrl}${path.split("?")[0]}?${[...kept, `$skip=${skip + size}`].join("&")}`;
      }
      return this.collection(set, page, nextLink);
    } catch (err) {
      if (err instanceof ODataError) return defenderError(400, "ODataError", err.message);
      throw err;
    }
  }

  private eset(method: string, path: string, body: string, record: RecordedRequest) {
    const [pathname, query = ""] = path.split("?", 2) as [string, string?];
    const notFound = { status: 404, body: this.errorBody("ESET", "api", 404) };
    const invalid = (message: string, code = 3) => ({ status: 400, body: JSON.stringify({ code, message, details: [] }) });

    if (method === "POST" && pathname === "/v1/users:batchGetUsers") {
      let uuids: unknown;
      try {
        uuids = (JSON.parse(body) as { usersUuids?: unknown }).usersUuids;
      } catch {
        return invalid("request body is not JSON");
      }
      if (!Array.isArray(uuids) || uuids.length === 0) return invalid("usersUuids must not be empty");
      if (uuids.length > 1000) return invalid("the size of the batch is limited to 1000 users", 11);
      const users = uuids.map((u) => this.esetUsers.get(String(u)));
      // Atomic: one unknown uuid fails the whole call.
      if (users.some((u) => u === undefined)) return notFound;
      return { status: 200, body: stringifyWire({ users }, this.int64AsString) };
    }
    const one = /^\/v1\/users\/([^/]+)$/.exec(pathname);
    if (method === "GET" && one) {
      const uuid = safeDecode(one[1]!);
      record.id = uuid;
      const user = uuid === undefined ? undefined : this.esetUsers.get(uuid);
      return user ? { status: 200, body: stringifyWire({ user }, this.int64AsString) } : notFound;
    }
    if (method === "GET" && pathname === "/v1/users") return this.listUsers(new URLSearchParams(query));
    return notFound;
  }

  private listUsers(params: URLSearchParams) {
    const get = (camel: string, snake: string) => params.get(camel) ?? params.get(snake) ?? undefined;
    const requested = Number(get("pageSize", "page_size") ?? 0);
    const pageSize = requested <= 0 ? 50 : Math.min(requested, 1000);
    const token = get("pageToken", "page_token") ?? "";
    const offset =
      token === ""
        ? 0
        : Number(
            Buffer.from(token, "base64url")
              .toString("utf8")
              .replace(/^offset:/, ""),
          );
    if (!Number.isInteger(offset) || offset < 0) {
      return { status: 400, body: JSON.stringify({ code: 3, message: "invalid page token", details: [] }) };
    }
    const displayName = get("displayName", "display_name")?.toLowerCase();
    const product = {
      id: get("activeProduct.id", "active_product.id"),
      name: get("activeProduct.name", "active_product.name"),
      autoActivated: get("activeProduct.autoActivated", "active_product.auto_activated"),
      base: get("activeProduct.autoActivationDetails.base", "active_product.auto_activation_details.base"),
      group: get("activeProduct.autoActivationDetails.userGroupUuid", "active_product.auto_activation_details.user_group_uuid"),
      subscription: get("activeProduct.subscriptionUuid", "active_product.subscription_uuid"),
      unitPool: get("activeProduct.unitPoolUuid", "active_product.unit_pool_uuid"),
    };
    const productFiltered = Object.values(product).some((v) => v !== undefined);
    // ESET: the activeProduct.* parameters describe one product, and the user must have one matching all of them.
    const hasProduct = (u: WireObject) =>
      activeProductsOf(u).some(
        (p) =>
          (product.id === undefined || p.id === product.id) &&
          (product.name === undefined || p.name === product.name) &&
          (product.autoActivated === undefined || String(p.autoActivated) === product.autoActivated) &&
          (product.base === undefined || product.base === "PRODUCT_AUTO_ACTIVATION_BASE_UNSPECIFIED" || p.base === product.base) &&
          (product.group === undefined || p.userGroupUuid === product.group) &&
          (product.subscription === undefined || p.subscriptionUuid === product.subscription) &&
          (product.unitPool === undefined || p.unitPoolUuid === product.unitPool),
      );
    const email = get("email", "email")?.toLowerCase();
    const status = get("protectionStatus", "protection_status");
    const group = get("userGroupUuid", "user_group_uuid");
    const tenant = get("cloudOfficeTenantReference", "cloud_office_tenant_reference");
    const license = get("hasCloudOfficeMsLicense", "has_cloud_office_ms_license");
    const all = [...this.esetUsers.values()].filter((u) => {
      const cloud = (u.cloudOffice ?? {}) as WireObject;
      const emails = [u.primaryEmailAddress, ...((u.proxyEmailAddresses as unknown[]) ?? [])].map((e) => String(e ?? "").toLowerCase());
      return (
        (displayName === undefined ||
          String(u.displayName ?? "")
            .toLowerCase()
            .includes(displayName)) &&
        (email === undefined || emails.some((e) => e.includes(email))) &&
        // ESET: UNSPECIFIED (the zero value) means no filter.
        (status === undefined ||
          status === "PROTECTION_STATUS_UNSPECIFIED" ||
          (u.protectionStatus ?? "PROTECTION_STATUS_UNSPECIFIED") === status) &&
        (group === undefined || ((u.userGroupUuids as unknown[]) ?? []).includes(group)) &&
        (tenant === undefined || cloud.tenantReference === tenant) &&
        (license === undefined || String(cloud.hasMsLicense ?? false) === license) &&
        (!productFiltered || hasProduct(u))
      );
    });
    const page = all.slice(offset, offset + pageSize);
    const next = offset + pageSize < all.length ? Buffer.from(`offset:${offset + pageSize}`).toString("base64url") : "";
    return { status: 200, body: stringifyWire({ users: page, nextPageToken: next, totalSize: BigInt(all.length) }, this.int64AsString) };
  }

  /** The vendor's error body for a status: Defender's `{error:{code,message,target}}`, ESET's rpcStatus. */
  private errorBody(source: SimSource, kind: "token" | "api", status: number): string {
    if (kind === "token") return JSON.stringify({ error: status >= 500 ? "temporarily_unavailable" : "invalid_request" });
    if (source === "DEFENDER") {
      const code = DEFENDER_CODES[status] ?? "InternalServerError";
      return JSON.stringify({ error: { code, message: `Simulated ${code}`, target: randomUUID() } });
    }
    const code = ESET_GRPC_CODES[status] ?? 13;
    return JSON.stringify({ code, message: `simulated HTTP ${status}`, details: [] });
  }
}

/** User groups of the generated ESET users (extraEsetUsers), one in three each. */
const GENERATED_GROUPS = [
  "a1b2c3d4-0000-4000-8000-0000000000a1",
  "a1b2c3d4-0000-4000-8000-0000000000a2",
  "a1b2c3d4-0000-4000-8000-0000000000a3",
];

const DEFENDER_CODES: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "ResourceNotFound",
  429: "TooManyRequests",
  500: "InternalServerError",
};

interface SimRoute {
  source: SimSource;
  kind: "token" | "api";
  target: FaultTarget;
  /** For Defender API GETs: which endpoint, and the raw (still encoded) `{id}` of the path. */
  endpoint?: { name: DefenderEndpoint; id?: string };
}

interface Answer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

/** Defender's documented page size limit: `$top` max 10,000, and the page size when `$top` is absent. */
const MAX_PAGE = 10_000;

/** Filterable properties (lower-case → wire name), from the List machines page [D:get-machines.md]. */
const MACHINE_FILTERS = new Map(
  [
    "computerDnsName",
    "id",
    "version",
    "deviceValue",
    "aadDeviceId",
    "machineTags",
    "lastSeen",
    "exposureLevel",
    "onboardingStatus",
    "lastIpAddress",
    "healthStatus",
    "osPlatform",
    "riskScore",
    "rbacGroupId",
  ].map((f) => [f.toLowerCase(), f] as [string, string]),
);
const MACHINE_DATES: ReadonlySet<string> = new Set(["lastSeen"]);

/** Filterable properties of the List alerts page [D:get-alerts.md], with its "asssignedTo" (sic) and the plain spelling. */
const ALERT_FILTERS = new Map<string, string>([
  ...[
    "alertCreationTime",
    "lastUpdateTime",
    "incidentId",
    "investigationId",
    "id",
    "assignedTo",
    "detectionSource",
    "lastEventTime",
    "status",
    "severity",
    "category",
  ].map((f) => [f.toLowerCase(), f] as [string, string]),
  ["asssignedto", "assignedTo"],
]);
const ALERT_DATES: ReadonlySet<string> = new Set(["alertCreationTime", "lastUpdateTime", "lastEventTime"]);

/** Which Defender endpoint a GET path names, and its raw `{id}`; undefined for any other path. */
function defenderEndpoint(path: string): SimRoute["endpoint"] {
  const pathname = path.split("?")[0]!.replace(/\/$/, "");
  const m = /^\/api\/(users|machines|alerts)(?:\/([^/]+)(?:\/([^/]+))?)?$/.exec(pathname);
  if (!m) return undefined;
  const [, set, id, sub] = m as unknown as [string, "users" | "machines" | "alerts", string | undefined, string | undefined];
  if (id === undefined) return set === "users" ? undefined : { name: `${set}.list` };
  if (sub === undefined) return { name: `${set}.get`, id };
  const name = `${set}.${sub}`;
  return ["users.machines", "users.alerts", "machines.logonusers", "machines.alerts", "alerts.user", "alerts.machine"].includes(name)
    ? { name: name as DefenderEndpoint, id }
    : undefined;
}

/** Defender's error body (UPSTREAMS.md §1.6): `target` is the request's correlation id. */
function defenderError(status: number, code: string, message: string): Answer {
  return { status, body: JSON.stringify({ error: { code, message, target: randomUUID() } }) };
}

/** An alert as the API sends it: `evidence` is empty unless the request asked for `$expand=evidence`. */
function withEvidence(alert: WireObject, expand: boolean): WireObject {
  return expand ? alert : { ...alert, evidence: [] };
}

/** Whether a `domain\\user` logon matches a path id: the same `domain\\user`, or only the user name. */
function sameUser(account: string, id: string): boolean {
  const a = account.toLowerCase();
  const k = id.toLowerCase();
  return a === k || (!k.includes("\\") && a.slice(a.indexOf("\\") + 1) === k);
}

const ESET_GRPC_CODES: Record<number, number> = { 400: 3, 401: 16, 403: 7, 404: 5, 429: 8, 500: 13, 501: 12, 502: 14, 503: 14, 504: 4 };

function benchDefenderUser(name: string, i: number, machines = 0): WireObject {
  return {
    id: `bench\\${name}`,
    ...(machines > 0
      ? { mostPrevalentMachineId: benchMachineId(i % machines), leastPrevalentMachineId: benchMachineId(i % machines) }
      : {}),
    accountName: name,
    accountDomain: "bench",
    firstSeen: "2025-01-01T00:00:00Z",
    lastSeen: "2026-11-01T00:00:00Z",
    logonTypes: "Network, Interactive",
    logOnMachinesCount: 1 + (i % 5),
    isDomainAdmin: false,
    isOnlyNetworkUser: false,
  };
}

/** Environment variables that point both usergraph sources at a simulator, with the credentials it accepts. */
export function simulatorEnv(sim: Simulator): Record<string, string> {
  return {
    DEFENDER_TENANT_ID: sim.credentials.tenantId,
    DEFENDER_CLIENT_ID: sim.credentials.clientId,
    DEFENDER_CLIENT_SECRET: sim.credentials.clientSecret,
    DEFENDER_API_URL: sim.url,
    DEFENDER_TOKEN_URL: sim.defenderTokenUrl,
    ESET_USERNAME: sim.credentials.esetUsername,
    ESET_PASSWORD: sim.credentials.esetPassword,
    ESET_API_URL: sim.url,
    ESET_TOKEN_URL: sim.esetTokenUrl,
  };
}

/** The most requests that arrived within any window of `windowMs`: what a vendor counting arrivals would see. */
export function peakInWindow(requests: readonly RecordedRequest[], windowMs: number): number {
  const times = requests.map((r) => r.at).sort((a, b) => a - b);
  let peak = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= windowMs) j++;
    peak = Math.max(peak, i - j + 1);
  }
  return peak;
}

/** Starts a simulator on loopback. */
export function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  return new Simulator(options).start();
}

function requestKey(method: string | undefined, path: string, body: string): string {
  return `${method} ${path}\n${body}`;
}

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
