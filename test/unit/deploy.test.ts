import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DockerfileParser, type Copy, type Instruction } from "dockerfile-ast";
import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { Service, ServiceAccount } from "kubernetes-models/v1";
import { parse, parseAllDocuments } from "yaml";
import { loadConfig } from "../../src/config";
import { startStack, type Stack } from "../helpers/stack";

/**
 * The image and the manifests of deploy/ (docs/deploy.md), held true without a cluster or a Docker daemon:
 * they render, they are valid Kubernetes objects, their probes name what the server serves, their grace
 * periods outlast the drain, and every variable they set is one usergraph reads.
 */

const root = join(__dirname, "..", "..");
const read = (path: string) => readFileSync(join(root, path), "utf8");

// Kubernetes objects as plain data (parsed YAML); the models validate them, the assertions read them.
type K8sObject = { apiVersion: string; kind: string; metadata: { name: string }; spec?: any; [key: string]: any };

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  "apps/v1/Deployment": Deployment,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "v1/Service": Service,
  "v1/ServiceAccount": ServiceAccount,
};

const hasKubectl = spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" }).status === 0;

/**
 * `kubectl kustomize` where kubectl is installed (what `kubectl apply -k` sends). Without it, the base's
 * files as they are: the overlays need kustomize itself (their tests are skipped).
 */
function render(dir: string): K8sObject[] {
  if (hasKubectl) {
    const out = spawnSync("kubectl", ["kustomize", join(root, dir)], { encoding: "utf8" });
    if (out.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${out.stderr}`);
    return parseAllDocuments(out.stdout).map((d) => d.toJS() as K8sObject);
  }
  const base = join("deploy", "kubernetes", "base");
  const kustomization = parse(read(join(base, "kustomization.yaml"))) as { resources: string[] };
  return kustomization.resources.flatMap((file) => parseAllDocuments(read(join(base, file))).map((d) => d.toJS() as K8sObject));
}

const one = (objects: K8sObject[], kind: string): K8sObject => {
  const found = objects.filter((o) => o.kind === kind);
  expect(found).toHaveLength(1);
  return found[0]!;
};
const containerOf = (deployment: K8sObject) => deployment.spec.template.spec.containers[0];
const plainEnv = (deployment: K8sObject): Record<string, string> =>
  Object.fromEntries(
    (containerOf(deployment).env as Array<{ name: string; value?: string }>)
      .filter((e) => e.value !== undefined)
      .map((e) => [e.name, e.value!]),
  );

/** Values for what the Secrets hold, shaped as config.ts accepts them (never real ones). */
const SECRET_STAND_INS: Record<string, string> = {
  DEFENDER_TENANT_ID: "contoso.onmicrosoft.com",
  DEFENDER_CLIENT_ID: "00000000-0000-0000-0000-000000000001",
  DEFENDER_CLIENT_SECRET: "stand-in-client-secret",
  ESET_USERNAME: "api-user@example.com",
  ESET_PASSWORD: "stand-in-password",
  AUTH_API_KEYS: `sha256:${"ab".repeat(32)}`,
  REDIS_URL: "redis://redis.example.internal:6379/0",
};

/** Every variable loadConfig looks at when given `env`: a variable it never asks for is set in vain. */
function variablesRead(env: Record<string, string>): Set<string> {
  const seen = new Set<string>();
  const recording = new Proxy(env, {
    get(target, name) {
      if (typeof name === "string") seen.add(name);
      return target[name as string];
    },
  });
  loadConfig(recording);
  return seen;
}

/** The whole environment a container gets from a Deployment: plain values, and stand-ins for the Secrets. */
function deploymentEnv(deployment: K8sObject): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of containerOf(deployment).env as Array<{ name: string; value?: string; valueFrom?: any }>) {
    env[entry.name] = entry.value ?? SECRET_STAND_INS[entry.valueFrom?.secretKeyRef?.key] ?? "";
  }
  return env;
}

const dockerfile = DockerfileParser.parse(read("Dockerfile"));
const stages = (() => {
  const result: Array<{ name?: string; image: string; tag?: string; instructions: Instruction[] }> = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === "FROM") {
      const from = dockerfile.getFROMs().find((f) => f.getRange().start.line === instruction.getRange().start.line)!;
      result.push({
        name: from.getBuildStage() ?? undefined,
        image: from.getImageName() ?? "",
        tag: from.getImageTag() ?? undefined,
        instructions: [],
      });
    } else result.at(-1)?.instructions.push(instruction);
  }
  return result;
})();
const finalStage = stages.at(-1)!;
const args = (i: Instruction) => i.getArguments().map((a) => a.getValue());
/** ENV in the runtime stage: NAME=value pairs. */
const imageEnv: Record<string, string> = Object.fromEntries(
  finalStage.instructions
    .filter((i) => i.getKeyword() === "ENV")
    .flatMap(args)
    .map((pair) => pair.split("=") as [string, string]),
);

/** main.ts's hard stop after the grace period: the process is gone SHUTDOWN_GRACE_MS + this after SIGTERM. */
const EXIT_MARGIN_MS = (() => {
  const m = /const EXIT_MARGIN_MS = ([\d_]+);/.exec(read("src/main.ts"));
  if (!m) throw new Error("src/main.ts no longer defines EXIT_MARGIN_MS: update this test with what bounds the exit now");
  return Number(m[1]!.replace(/_/g, ""));
})();

const compose = parse(read("deploy/compose.yaml")) as { services: Record<string, any> };
const composeApp = compose.services.usergraph;
const envExample = Object.fromEntries(
  read("deploy/usergraph.env.example")
    .split("\n")
    .filter((line) => /^[A-Z_]+=/.test(line))
    .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
);

describe("Kubernetes manifests (deploy/kubernetes)", () => {
  const objects = render("deploy/kubernetes");
  const deployment = one(objects, "Deployment");
  const pod = deployment.spec.template.spec;
  const container = containerOf(deployment);

  it("render to valid Kubernetes API objects, with no Secret among them", () => {
    expect(objects.map((o) => o.kind).sort()).toEqual([
      "Deployment",
      "HorizontalPodAutoscaler",
      "NetworkPolicy",
      "PodDisruptionBudget",
      "Service",
      "ServiceAccount",
    ]);
    for (const object of objects) {
      const Model = MODELS[`${object.apiVersion}/${object.kind}`];
      expect(Model).toBeDefined();
      expect(() => new Model!(object).validate()).not.toThrow();
    }
    // The models catch a wrong type: the check itself can fail.
    const broken = structuredClone(deployment);
    broken.spec.template.spec.terminationGracePeriodSeconds = "35";
    expect(() => new Deployment(broken).validate()).toThrow(/terminationGracePeriodSeconds must be integer/);
  });

  it("probe readiness on /health/ready and liveness on /health/live, on the port usergraph listens on", () => {
    expect(container.readinessProbe.httpGet.path).toBe("/health/ready");
    expect(container.livenessProbe.httpGet.path).toBe("/health/live");
    const http = (container.ports as Array<{ name: string; containerPort: number }>).find(
      (p) => p.name === container.readinessProbe.httpGet.port,
    );
    expect(http?.containerPort).toBe(Number(plainEnv(deployment).PORT));
    expect(container.livenessProbe.httpGet.port).toBe(http?.name);
  });

  it("give the pod longer to stop than the preStop pause, the drain and the process's exit margin together", () => {
    const preStopMs = 1000 * container.lifecycle.preStop.sleep.seconds;
    expect(preStopMs).toBeGreaterThanOrEqual(3000);
    const killAfterMs = 1000 * pod.terminationGracePeriodSeconds;
    const setGraceMs = loadConfig(deploymentEnv(deployment)).shutdownGraceMs;
    expect(setGraceMs).toBe(Number(plainEnv(deployment).SHUTDOWN_GRACE_MS));
    expect(killAfterMs).toBeGreaterThan(preStopMs + setGraceMs + EXIT_MARGIN_MS);
    expect(killAfterMs).toBeGreaterThan(preStopMs + loadConfig({}).shutdownGraceMs + EXIT_MARGIN_MS);
    // The drain lets a request that has just arrived run to its deadline.
    expect(setGraceMs).toBeGreaterThanOrEqual(loadConfig(deploymentEnv(deployment)).requestDeadlineMs);
  });

  it("take every credential, the API keys and the Redis URL from Secrets, never as literal values", () => {
    const env = container.env as Array<{ name: string; value?: string; valueFrom?: any }>;
    const secret = /SECRET|PASSWORD|USERNAME|TENANT_ID|CLIENT_ID|API_KEYS|TOKEN|REDIS_URL/;
    const sensitive = env.filter((e) => secret.test(e.name));
    expect(sensitive.map((e) => e.name).sort()).toEqual(Object.keys(SECRET_STAND_INS).sort());
    for (const entry of sensitive) {
      expect(entry.value).toBeUndefined();
      expect(entry.valueFrom.secretKeyRef).toEqual(expect.objectContaining({ name: expect.any(String), key: entry.name }));
    }
    // Without vendor credentials (both vendors' keys are optional), start-up fails rather than serve the demo.
    expect(plainEnv(deployment).DEMO).toBe("0");
    expect(() =>
      loadConfig({
        ...deploymentEnv(deployment),
        DEFENDER_TENANT_ID: "",
        DEFENDER_CLIENT_ID: "",
        DEFENDER_CLIENT_SECRET: "",
        ESET_USERNAME: "",
        ESET_PASSWORD: "",
      }),
    ).toThrow(/DEMO=0/);
  });

  it("run as a non-root user on a read-only root filesystem with no capabilities and the default seccomp profile", () => {
    expect(pod.securityContext).toEqual(expect.objectContaining({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } }));
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toEqual(
      expect.objectContaining({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } }),
    );
    expect(pod.automountServiceAccountToken).toBe(false);
    // The image's own USER is the same unprivileged id.
    const user = finalStage.instructions.find((i) => i.getKeyword() === "USER")!;
    expect(args(user)[0]!.split(":")[0]).toBe(String(pod.securityContext.runAsUser));
  });

  it("expose GraphQL through the Service but not the metrics port", () => {
    const service = one(objects, "Service");
    const metricsPort = Number(plainEnv(deployment).METRICS_PORT);
    expect(metricsPort).toBeGreaterThan(0);
    const named = Object.fromEntries(
      (container.ports as Array<{ name: string; containerPort: number }>).map((p) => [p.name, p.containerPort]),
    );
    expect(named.metrics).toBe(metricsPort);
    expect(deployment.spec.template.metadata.annotations["prometheus.io/port"]).toBe(String(metricsPort));
    const targets = (service.spec.ports as Array<{ targetPort: string | number }>).map((p) =>
      typeof p.targetPort === "string" ? named[p.targetPort] : p.targetPort,
    );
    expect(targets).toEqual([Number(plainEnv(deployment).PORT)]);
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
  });

  it("keep two replicas at least, one of them through any voluntary disruption, with the count owned by the autoscaler", () => {
    const hpa = one(objects, "HorizontalPodAutoscaler");
    const pdb = one(objects, "PodDisruptionBudget");
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata.name });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(pdb.spec.minAvailable).toBeGreaterThanOrEqual(1);
    expect(pdb.spec.minAvailable).toBeLessThan(hpa.spec.minReplicas);
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    expect(deployment.spec.replicas).toBeUndefined();
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  it("let the pods reach only DNS, Redis and HTTPS on public addresses (no cluster, private or metadata address)", () => {
    const policy = one(objects, "NetworkPolicy");
    expect(policy.spec.podSelector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    expect(policy.spec.policyTypes).toEqual(expect.arrayContaining(["Ingress", "Egress"]));
    const ports = (policy.spec.egress as any[]).flatMap((rule) => (rule.ports as any[]).map((p) => `${p.port}/${p.protocol}`));
    expect(ports.sort()).toEqual(["443/TCP", "53/TCP", "53/UDP", "6379/TCP"]);
    const https = (policy.spec.egress as any[]).find((rule) => rule.ports.some((p: any) => p.port === 443));
    expect(https.to).toHaveLength(1);
    expect(https.to[0].ipBlock.cidr).toBe("0.0.0.0/0");
    expect(https.to[0].ipBlock.except).toEqual(expect.arrayContaining(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"]));
    // The DNS and Redis peers are not rewritten to select usergraph's own pods.
    const peers = (policy.spec.egress as any[]).flatMap((rule) => rule.to.map((to: any) => to.podSelector?.matchLabels)).filter(Boolean);
    expect(peers).toEqual([{ "k8s-app": "kube-dns" }, { "app.kubernetes.io/name": "redis" }]);
    // /metrics is admitted from the monitoring namespace only.
    const metricsRule = (policy.spec.ingress as any[]).find((rule) => rule.ports.some((p: any) => p.port === "metrics"));
    expect(metricsRule.from).toEqual([{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }]);
  });

  (hasKubectl ? it : it.skip)("with the egress-proxy overlay, send vendor calls through the proxy and allow no other HTTPS", () => {
    const proxied = render("deploy/kubernetes/overlays/egress-proxy");
    for (const object of proxied) expect(() => new MODELS[`${object.apiVersion}/${object.kind}`]!(object).validate()).not.toThrow();
    const proxiedDeployment = one(proxied, "Deployment");
    const proxyUrl = new URL(plainEnv(proxiedDeployment).HTTPS_PROXY!);
    const config = loadConfig(deploymentEnv(proxiedDeployment));
    expect(config.outboundProxy?.https?.display).toBe(`http://${proxyUrl.host}`);
    const policy = one(proxied, "NetworkPolicy");
    const ports = (policy.spec.egress as any[]).flatMap((rule) => (rule.ports as any[]).map((p) => p.port));
    expect(ports).not.toContain(443);
    expect(ports).toContain(Number(proxyUrl.port));
    expect(JSON.stringify(policy.spec.egress)).not.toContain("0.0.0.0/0");
  });

  it("set only variables that usergraph reads, with values it accepts", () => {
    const variants = [deployment, ...(hasKubectl ? [one(render("deploy/kubernetes/overlays/egress-proxy"), "Deployment")] : [])];
    for (const variant of variants) {
      const env = { ...imageEnv, ...deploymentEnv(variant) };
      const unread = Object.keys(env).filter((name) => !variablesRead(env).has(name));
      expect(unread).toEqual([]);
    }
    // The check can fail: a variable config.ts has never heard of is reported.
    const typo = { ...deploymentEnv(deployment), SHUTDOWN_GRACE_SECONDS: "20" };
    expect(variablesRead(typo).has("SHUTDOWN_GRACE_SECONDS")).toBe(false);
  });
});

describe("deploy/compose.yaml", () => {
  it("runs two replicas on one Redis, with the demo or an env file, setting only variables usergraph reads", () => {
    expect(composeApp.deploy.replicas).toBe(2);
    expect(composeApp.environment.REDIS_URL).toBe("redis://redis:6379/0");
    expect(compose.services.redis).toBeDefined();
    expect(composeApp.env_file).toEqual([{ path: "usergraph.env", required: false }]);
    // Without the env file: the demo, which must start from these variables.
    const demoEnv = { ...imageEnv, ...composeApp.environment };
    expect(loadConfig(demoEnv).demo).toBe(true);
    expect([...Object.keys(demoEnv)].filter((name) => !variablesRead(demoEnv).has(name))).toEqual([]);
    // With it (filled in): the real vendors; DEMO=0 refuses to start while it is still empty.
    expect(() => loadConfig({ ...demoEnv, ...envExample })).toThrow(/DEMO=0/);
    const filled = {
      ...demoEnv,
      ...envExample,
      ...Object.fromEntries(
        Object.keys(envExample)
          .filter((k) => k in SECRET_STAND_INS)
          .map((k) => [k, SECRET_STAND_INS[k]!]),
      ),
    };
    expect(loadConfig(filled).demo).toBe(false);
    expect(Object.keys(filled).filter((name) => !variablesRead(filled).has(name))).toEqual([]);
  });

  it("gives each replica longer to stop than its drain and exit margin (Docker's default 10 s would cut it)", () => {
    const m = /^(\d+)s$/.exec(composeApp.stop_grace_period);
    expect(m).not.toBeNull();
    const graceMs = loadConfig({ ...imageEnv, ...composeApp.environment }).shutdownGraceMs;
    expect(1000 * Number(m![1])).toBeGreaterThan(graceMs + EXIT_MARGIN_MS);
    expect(composeApp.read_only).toBe(true);
    expect(composeApp.cap_drop).toEqual(["ALL"]);
  });

  it("believes X-Forwarded-For only from the load balancer's fixed address", () => {
    const lbAddress = compose.services.lb.networks.fleet.ipv4_address;
    expect(composeApp.environment.TRUST_PROXY).toBe(lbAddress);
    expect(loadConfig({ ...imageEnv, ...composeApp.environment }).trustProxy).toEqual([lbAddress]);
  });
});

describe("Dockerfile", () => {
  it("builds on a Node.js LTS base pinned to a release, in every stage", () => {
    const bases = stages.filter((s) => !stages.some((other) => other.name !== undefined && other.name === s.image));
    expect(bases.length).toBeGreaterThan(0);
    for (const base of bases) {
      expect(base.image).toBe("node");
      const m = /^(\d+)\.(\d+)\.(\d+)-[a-z]+(?:-slim)?$/.exec(base.tag ?? "");
      expect(m).not.toBeNull();
      // LTS lines are the even majors; 20 left support in April 2026.
      expect(Number(m![1]) % 2).toBe(0);
      expect(Number(m![1])).toBeGreaterThanOrEqual(22);
    }
  });

  it("runs the final stage as a non-root user, with only production dependencies, dist/ and the explorer's files", () => {
    const user = finalStage.instructions.filter((i) => i.getKeyword() === "USER");
    expect(user).toHaveLength(1);
    expect(args(user[0]!)[0]).not.toMatch(/^(root|0)(:|$)/);
    const copies = finalStage.instructions.filter((i) => i.getKeyword() === "COPY");
    const copied = copies.map((i) => ({ from: (i as Copy).getFromFlag()?.getValue() ?? undefined, source: args(i)[0]! }));
    expect(copied).toEqual([
      { from: "deps", source: "/app/package.json" },
      { from: "deps", source: "/app/node_modules" },
      { from: "build", source: "/app/dist" },
      { from: undefined, source: "src/explorer/public" },
      { from: undefined, source: "schema/operations" },
    ]);
    // node_modules come from the stage that installs without devDependencies, and nothing installs here.
    const deps = stages.find((s) => s.name === "deps")!;
    const install = deps.instructions.filter((i) => i.getKeyword() === "RUN").map((i) => i.getArgumentsContent() ?? "");
    expect(install.some((cmd) => /npm ci\b.*--omit=dev/.test(cmd))).toBe(true);
    expect(install.some((cmd) => /npm (ci|install)\b(?!.*--omit=dev)/.test(cmd))).toBe(false);
    expect(
      finalStage.instructions.some(
        (i) => i.getKeyword() === "RUN" && /npm|yarn/.test(i.getArgumentsContent() ?? "") && !/rm -rf/.test(i.getArgumentsContent() ?? ""),
      ),
    ).toBe(false);
    const cmd = finalStage.instructions.find((i) => i.getKeyword() === "CMD")!;
    expect(JSON.parse(cmd.getArgumentsContent() ?? "[]")).toEqual(["node", "dist/main.js"]);
  });

  it("checks its health on /health/live with Node itself (the slim base has no curl)", () => {
    const healthcheck = finalStage.instructions.find((i) => i.getKeyword() === "HEALTHCHECK");
    expect(healthcheck).toBeDefined();
    const text = healthcheck!.getArgumentsContent() ?? "";
    expect(text).toMatch(/CMD \["node", "-e", .*\/health\/live/);
    expect(text).not.toMatch(/curl|wget/);
  });

  it("sends nothing to the build but what it copies (.dockerignore is an allowlist)", () => {
    const lines = read(".dockerignore")
      .split("\n")
      .filter((l) => l.trim() !== "" && !l.startsWith("#"));
    expect(lines[0]).toBe("*");
    expect(lines.slice(1).every((l) => l.startsWith("!"))).toBe(true);
    expect(lines.join("\n")).not.toMatch(/\.env|node_modules|dist/);
  });
});

describe("the endpoints the probes and the HEALTHCHECK name, on a gateway started with the Deployment's settings", () => {
  const deployment = one(render("deploy/kubernetes"), "Deployment");
  const container = containerOf(deployment);
  let stack: Stack;
  beforeAll(async () => {
    // The Deployment's environment, on loopback ports of this machine, its vendors the simulator, no Redis.
    const env = { ...imageEnv, ...deploymentEnv(deployment) };
    for (const name of Object.keys(SECRET_STAND_INS)) delete env[name];
    stack = await startStack({
      ...env,
      PORT: "0",
      HOST: "127.0.0.1",
      METRICS_PORT: "0",
      METRICS_HOST: "127.0.0.1",
      AUTH_MODE: "",
      AUTH_API_KEYS: SECRET_STAND_INS.AUTH_API_KEYS!,
    });
  });
  afterAll(() => stack?.close());

  it("serves every probe path with 200, and /metrics only on the metrics listener", async () => {
    const healthcheck = finalStage.instructions.find((i) => i.getKeyword() === "HEALTHCHECK")!.getArgumentsContent() ?? "";
    const paths = [
      container.readinessProbe.httpGet.path,
      container.livenessProbe.httpGet.path,
      container.startupProbe.httpGet.path,
      /\/health\/\w+/.exec(healthcheck)![0],
    ];
    for (const path of paths) {
      const res = await fetch(new URL(path, stack.gateway.url));
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
    }
    expect((await fetch(new URL("/health/unknown", stack.gateway.url))).status).toBe(404);
    expect(stack.gateway.config.production).toBe(true);
    expect((await fetch(new URL("/metrics", stack.gateway.url))).status).toBe(404);
    expect((await fetch(stack.gateway.metricsUrl!)).status).toBe(200);
  });
});
