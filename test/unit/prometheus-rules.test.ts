/**
 * The alert rules (config/prometheus/alerts.yml), their promtool unit tests (alerts.test.yml) and the Grafana
 * dashboard (config/grafana/call-reconciler.json) against the metric contract (docs/metrics-and-alerts.md).
 *
 * With `promtool` on PATH, `promtool check rules` and `promtool test rules` must pass. Without it the promtool
 * tests are skipped, except when CI is set: .ci/run installs it (Debian's `prometheus` package), so there a
 * missing promtool is a failure, not a skip. The checks of metric names need no promtool.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { collectDefaultMetrics, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createMetrics } from "../../src/metrics/metrics.js";
import { inCI, promtool, promtoolVersion } from "../helpers/promtool.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const RULES = "config/prometheus/alerts.yml";
const RULE_TESTS = "config/prometheus/alerts.test.yml";
const DASHBOARD = "config/grafana/call-reconciler.json";

const PREFIX = "call_reconciler_";
/** The metric contract (docs/metrics-and-alerts.md), without the prefix. */
const CONTRACT = [
  "zombie_calls",
  "calls_ended_total",
  "active_calls",
  "oldest_active_call_age_seconds",
  "unverified_calls",
  "provider_requests_total",
  "provider_request_duration_seconds",
  "circuit_breaker_state",
  "pass_duration_seconds",
  "passes_total",
  "last_success_timestamp_seconds",
  "is_leader",
  "realtime_hangups_total",
  // Liveness under partial failure.
  "seconds_since_progress",
  "row_check_failures_total",
  "circuit_breaker_transitions_total",
  // Realtime evidence that proves itself.
  "evidence_suspect",
  // Whether an index serves the listing of active calls.
  "listing_index_usable",
  // Why the ends were lost: the causes, how long zombies lived, the diagnoses still to read.
  "zombie_causes_total",
  "zombie_lifetime_seconds",
  "diagnoses_queued",
  // Twilio accounts whose StartTime filter honours the date only.
  "twilio_accounts_listed_by_date",
  "realtime_session_cap_disproved",
  // Event Streams: what the sink accepts, refuses and ends.
  "events_received_total",
  "event_batches_refused_total",
  "events_ignored_total",
  "events_duplicate_total",
  "events_queued_total",
  "event_ends_total",
  "event_end_lag_seconds",
  "last_event_timestamp_seconds",
  "events_sink_configured",
].map((name) => PREFIX + name);
const CONTRACT_HISTOGRAMS = [
  "provider_request_duration_seconds",
  "pass_duration_seconds",
  "zombie_lifetime_seconds",
  "event_end_lag_seconds",
].map((name) => PREFIX + name);
const HISTOGRAM_SUFFIXES = ["_bucket", "_sum", "_count"];
/** What every panel and target queries: the dashboard's data source variable. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JavaScript template.
const DATASOURCE = { type: "prometheus", uid: "${datasource}" };

/** The alerts on-call relies on (the optional ones may come and go). */
const REQUIRED_ALERTS = [
  "CallReconcilerZombiesPresent",
  "CallReconcilerNoSuccessfulPass",
  "CallReconcilerBreakerOpen",
  "CallReconcilerActiveCallOlderThanMax",
  "CallReconcilerAbsent",
  "CallReconcilerNoLeader",
  "CallReconcilerStalled",
];

/** prom-client's default process metrics, registered with the daemon's prefix (as createMetrics does). */
function defaultMetrics(): { names: string[]; histograms: string[] } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: PREFIX });
  const metrics = registry.getMetricsAsArray();
  return {
    names: metrics.map((m) => m.name),
    histograms: metrics.filter((m) => m instanceof Histogram).map((m) => m.name),
  };
}

const defaults = defaultMetrics();
const ALLOWED = new Set([...CONTRACT, ...defaults.names]);
const HISTOGRAMS = [...CONTRACT_HISTOGRAMS, ...defaults.histograms];
for (const h of HISTOGRAMS) for (const suffix of HISTOGRAM_SUFFIXES) ALLOWED.add(h + suffix);

/** Every `call_reconciler_…` token of a PromQL expression. */
function metricNames(expr: string): string[] {
  return expr.match(/call_reconciler_[a-z0-9_]+/g) ?? [];
}

/** The tokens of the given expressions that are not metrics of the contract, as "token (in: expr)". */
function unknownNames(exprs: string[]): string[] {
  return exprs.flatMap((expr) =>
    metricNames(expr)
      .filter((name) => !ALLOWED.has(name))
      .map((name) => `${name} (in: ${expr.trim()})`),
  );
}

const read = (path: string) => readFileSync(resolve(ROOT, path), "utf8");

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML/JSON documents, checked field by field below.
type Doc = any;

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

function alertRules(): { groups: Doc[]; rules: AlertRule[] } {
  const doc: Doc = parse(read(RULES));
  const groups: Doc[] = doc?.groups ?? [];
  return { groups, rules: groups.flatMap((g) => g.rules ?? []) };
}

/** Every `expr` in the dashboard (panels, rows' nested panels) and every templating query. */
function dashboardQueries(dashboard: Doc): string[] {
  const out: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const v of node) walk(v);
    } else if (node !== null && typeof node === "object") {
      for (const [key, value] of Object.entries(node)) {
        if (key === "expr" && typeof value === "string") out.push(value);
        else walk(value);
      }
    }
  };
  walk(dashboard.panels);
  for (const v of dashboard.templating?.list ?? []) {
    if (v.type !== "query") continue;
    out.push(typeof v.query === "string" ? v.query : String(v.query?.query ?? ""));
  }
  return out;
}

/** Panels, with the panels of collapsed rows. */
function allPanels(dashboard: Doc): Doc[] {
  return (dashboard.panels ?? []).flatMap((p: Doc) => [p, ...(p.panels ?? [])]);
}

describe("metric names", () => {
  it("the daemon registers every metric of the contract", () => {
    const registered = new Set(
      createMetrics(new Registry())
        .registry.getMetricsAsArray()
        .map((m) => m.name),
    );
    expect(CONTRACT.filter((name) => !registered.has(name))).toEqual([]);
  });

  it("the extraction finds names, histogram series and default metrics, and flags the rest", () => {
    expect(
      unknownNames([
        "histogram_quantile(0.95, sum by (le) (rate(call_reconciler_pass_duration_seconds_bucket[5m])))",
        "call_reconciler_nodejs_eventloop_lag_p99_seconds + call_reconciler_process_resident_memory_bytes",
        'call_reconciler_zombie_calls and on(job, instance) (call_reconciler_is_leader{job="call-reconciler"} == 1)',
      ]),
    ).toEqual([]);
    expect(unknownNames(["call_reconciler_zombies", "call_reconciler_passes_total_bucket"])).toEqual([
      "call_reconciler_zombies (in: call_reconciler_zombies)",
      "call_reconciler_passes_total_bucket (in: call_reconciler_passes_total_bucket)",
    ]);
  });
});

describe(RULES, () => {
  const { groups, rules } = alertRules();

  it("is one group, call-reconciler, of alerts with a severity, a summary, a description and an action", () => {
    expect(groups.map((g) => g.name)).toEqual(["call-reconciler"]);
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      expect(rule.alert, JSON.stringify(rule)).toMatch(/^CallReconciler[A-Za-z]+$/);
      expect(typeof rule.expr, rule.alert).toBe("string");
      expect(rule.labels?.severity, rule.alert).toMatch(/^(critical|warning|info)$/);
      for (const key of ["summary", "description", "action"]) {
        expect(rule.annotations?.[key], `${rule.alert}: annotation ${key}`).toMatch(/\S/);
      }
    }
    const names = rules.map((r) => r.alert);
    expect(new Set(names).size, "alert names are unique").toBe(names.length);
    expect(REQUIRED_ALERTS.filter((name) => !names.includes(name))).toEqual([]);
  });

  it("uses only metrics of the contract", () => {
    const exprs = rules.map((r) => r.expr);
    expect(exprs.flatMap(metricNames).length).toBeGreaterThan(0);
    expect(unknownNames(exprs)).toEqual([]);
  });

  it("has, in alerts.test.yml, a firing and a non-firing test case for every alert", () => {
    const doc: Doc = parse(read(RULE_TESTS));
    expect(doc.rule_files).toEqual(["alerts.yml"]);
    const cases: Doc[] = (doc.tests ?? []).flatMap((t: Doc) => t.alert_rule_test ?? []);
    const missing: string[] = [];
    for (const { alert } of rules) {
      const mine = cases.filter((c) => c.alertname === alert);
      if (!mine.some((c) => (c.exp_alerts ?? []).length > 0)) missing.push(`${alert}: no firing case`);
      if (!mine.some((c) => (c.exp_alerts ?? []).length === 0)) missing.push(`${alert}: no non-firing case`);
    }
    expect(missing).toEqual([]);
    const known = new Set(rules.map((r) => r.alert));
    expect(cases.map((c) => c.alertname).filter((name) => !known.has(name))).toEqual([]);
  });
});

describe(DASHBOARD, () => {
  const dashboard: Doc = JSON.parse(read(DASHBOARD));
  const queries = dashboardQueries(dashboard);
  const panels = allPanels(dashboard).filter((p) => p.type !== "row");

  it("is the call-reconciler dashboard with a Prometheus data source variable used by every panel", () => {
    expect(dashboard.uid).toBe("call-reconciler");
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    const variables: Doc[] = dashboard.templating?.list ?? [];
    expect(variables.find((v) => v.name === "datasource")).toMatchObject({
      type: "datasource",
      query: "prometheus",
    });
    const ids = allPanels(dashboard).map((p) => p.id);
    expect(new Set(ids).size, "panel ids are unique").toBe(ids.length);
    expect(panels.length).toBeGreaterThan(0);
    for (const panel of panels) {
      expect(panel.datasource, panel.title).toEqual(DATASOURCE);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets) {
        expect(target.datasource, panel.title).toEqual(DATASOURCE);
        expect(target.expr, panel.title).toMatch(/\S/);
      }
    }
  });

  it("uses only metrics of the contract", () => {
    expect(queries.flatMap(metricNames).length).toBeGreaterThan(0);
    expect(unknownNames(queries)).toEqual([]);
  });

  it("shows every metric of the contract", () => {
    const used = new Set(queries.flatMap(metricNames));
    const shown = (name: string) =>
      used.has(name) || HISTOGRAM_SUFFIXES.some((suffix) => used.has(name + suffix));
    expect(CONTRACT.filter((name) => !shown(name))).toEqual([]);
  });
});

// ---- promtool ----------------------------------------------------------------------------------------------

describe("promtool", () => {
  const version = promtoolVersion();

  if (version === null && !inCI) {
    it.skip("check rules and test rules: skipped, promtool is not on PATH (apt-get install --no-install-recommends prometheus, or a Prometheus release tarball); with CI set this fails instead", () => {});
    return;
  }

  it("is on PATH (required when CI is set: .ci/run installs Debian's prometheus package)", () => {
    expect(version, "promtool not found on PATH").not.toBeNull();
  });

  for (const args of [
    ["check", "rules", RULES],
    ["test", "rules", RULE_TESTS],
  ]) {
    it(`promtool ${args.join(" ")}`, () => {
      expect(version, "promtool not found on PATH").not.toBeNull();
      const { status, output } = promtool(args, { cwd: ROOT });
      expect(status, `promtool ${args.join(" ")} (${version}) exited ${status}:\n${output}`).toBe(0);
    });
  }

  it("promtool check metrics: every metric the daemon registers (prom-client's defaults included)", async () => {
    expect(version, "promtool not found on PATH").not.toBeNull();
    const { status, output } = promtool(["check", "metrics"], {
      input: await createMetrics().registry.metrics(),
    });
    expect(status, `promtool check metrics exited ${status}:\n${output}`).toBe(0);
  });
});
