#!/usr/bin/env python3
"""Evaluates every dashboard query and every rule of the repository against a live Prometheus.

Usage: check_queries.py --prom http://127.0.0.1:PORT --dashboards DIR --job JOB [--expect-firing ALERT...]
       check_queries.py --catalogue-only --dashboards DIR --rules FILE

Checks (each printed as "ok"/"FAIL" with the query; the last line is "N passed, M failed"):
  catalogue   every io_uring_* metric named by a dashboard or a rule is in the metric catalogue below
              (typos fail here even for metrics the exporter does not serve yet);
  panels      every panel target's expr, with the Grafana variables substituted ($__rate_interval -> 1m,
              $__interval -> 15s, $__range -> 5m, every dashboard variable such as $node, $instance,
              $op -> .*), parses and evaluates (/api/v1/query status success); a panel whose targets all
              use only CORE metrics (served by the exporter today) must also return data (non-empty);
  variables   every label_values(SELECTOR, LABEL) variable query parses (/api/v1/series); the node and
              instance variables must find values;
  rules       every rule Prometheus loaded from the rules file has health "ok" after an evaluation, and
              its expression parses through /api/v1/query;
  alerts      each --expect-firing alert is firing (proof that a rule sees real exporter data);
  target      up{job=JOB} == 1.
"""
import argparse
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

# Served on every host with the e2e workload: panels using only these must return data.
CORE = {
    "io_uring_sqes_submitted_total", "io_uring_completions_total", "io_uring_denials_total",
    "io_uring_multishot_cqes_total", "io_uring_async_punts_total", "io_uring_requests_failed_total",
    "io_uring_completion_latency_seconds", "io_uring_cqes_without_request_total",
    "io_uring_rings_created_total", "io_uring_rings_created_by_flag_total", "io_uring_cq_overflows_total",
    "io_uring_cqes_dropped_total", "io_uring_short_writes_total",
    "io_uring_exporter_build_info", "io_uring_exporter_probe_attached",
    "io_uring_exporter_bpf_recursion_misses_total", "io_uring_exporter_map_read_errors_total",
    "io_uring_exporter_latency_untracked_total", "io_uring_exporter_collector_duration_seconds",
    "io_uring_exporter_collector_success", "io_uring_exporter_scrape_duration_seconds",
    "io_uring_setup_calls_total", "io_uring_setup_refusals_total",
    "io_uring_disabled_sysctl", "io_uring_group_sysctl", "io_uring_lsm_active", "io_uring_bpf_lsm_active",
    "io_uring_audit_enabled", "io_uring_kernel_info",
    "io_uring_workload_sqes_submitted_total", "io_uring_workload_completions_total",
    "io_uring_workload_denials_total", "io_uring_workload_completion_latency_seconds",
    "io_uring_workload_rings_created_total", "io_uring_workload_sqpoll_rings_created_total",
    "io_uring_exporter_attribution_dropped_series_total", "io_uring_exporter_attribution_dropped_events_total",
    "io_uring_exporter_cgroup_resolution_failures_total", "io_uring_exporter_attribution_cgroups",
    "io_uring_exporter_attribution_budget_cgroups",
}
# Served only where the kernel allows the probe (fexit/lsm are refused on some hosts) or after
# the matching activity: queries must parse, data may be absent.
NEXT = {
    "io_uring_lsm_hook_calls_total", "io_uring_lsm_hook_denials_total", "io_uring_lsm_hook_latency_seconds",
    "io_uring_audit_calls_total", "io_uring_audit_latency_seconds", "io_uring_audit_unaudited_ops_total",
    "io_uring_setup_calls_total", "io_uring_setup_refusals_total", "io_uring_register_calls_total",
    "io_uring_register_refusals_total", "io_uring_personalities_registered_total",
    "io_uring_personality_requests_total", "io_uring_uring_cmd_requests_total",
    "io_uring_restrictions_registered_total",
}
HISTOGRAMS = {"io_uring_completion_latency_seconds", "io_uring_lsm_hook_latency_seconds",
              "io_uring_audit_latency_seconds", "io_uring_workload_completion_latency_seconds"}
# Series from other jobs that the dashboards and rules join with.
FOREIGN = {"up", "kube_pod_info", "kube_node_labels"}

GRAFANA_GLOBALS = {"__rate_interval": "1m", "__interval": "15s", "__range": "5m"}
METRIC_RE = re.compile(r"\b((?:io_uring|kube)_[a-z0-9_]+)\b")


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print(f"  ok    {what}")
        else:
            self.failed += 1
            print(f"  FAIL  {what}" + (f"\n        {detail}" if detail else ""))
        return ok


def metric_base(name):
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[: -len(suffix)] in HISTOGRAMS:
            return name[: -len(suffix)]
    return name


def metrics_of(expr):
    # Strip quoted strings first so label values (e.g. "kube-system") are not taken for names.
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    return {metric_base(m) for m in METRIC_RE.findall(bare)}


def walk_panels(panels):
    for p in panels:
        yield p
        yield from walk_panels(p.get("panels", []))


def load_dashboards(directory):
    out = []
    for name in sorted(os.listdir(directory)):
        if name.endswith(".json"):
            with open(os.path.join(directory, name), encoding="utf-8") as f:
                out.append((name, json.load(f)))
    return out


def substitute(expr, var_names):
    def repl(m):
        name = m.group(1) or m.group(2)
        if name in GRAFANA_GLOBALS:
            return GRAFANA_GLOBALS[name]
        if name in var_names:
            return ".*"
        return m.group(0)  # e.g. "$1" in label_replace
    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", repl, expr)


def rule_exprs(path):
    """The expr: values of a Prometheus rule file (block scalars and one-line values)."""
    exprs, lines, i = [], open(path, encoding="utf-8").read().split("\n"), 0
    while i < len(lines):
        m = re.match(r"^(\s*)expr:\s*(.*)$", lines[i])
        if m:
            indent, rest = len(m.group(1)), m.group(2).strip()
            if rest in ("|", "|-", ">", ">-"):
                block = []
                i += 1
                while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
                    block.append(lines[i].strip())
                    i += 1
                exprs.append(" ".join(b for b in block if b))
                continue
            exprs.append(rest)
        i += 1
    return exprs


def check_catalogue(res, dashboards, rules_files):
    known = CORE | NEXT | FOREIGN
    print("catalogue: every metric named by a dashboard or rule is in the catalogue")
    seen = {}
    for name, d in dashboards:
        for p in walk_panels(d.get("panels", [])):
            for t in p.get("targets", []):
                for m in metrics_of(t.get("expr", "")):
                    seen.setdefault(m, f"{name}: {p.get('title')}")
        for v in d.get("templating", {}).get("list", []):
            q = v.get("query")
            q = q.get("query", "") if isinstance(q, dict) else (q or "")
            if v.get("type") == "query":
                for m in metrics_of(q):
                    seen.setdefault(m, f"{name}: variable {v.get('name')}")
    for path in rules_files:
        for e in rule_exprs(path):
            for m in metrics_of(e):
                seen.setdefault(m, f"{os.path.basename(path)}: {e[:60]}")
    for m in sorted(seen):
        res.check(m in known or m == "up", f"{m} ({seen[m]})", "not in the metric catalogue")


class Prom:
    def __init__(self, base):
        self.base = base.rstrip("/")

    def get(self, path, params):
        url = f"{self.base}{path}?{urllib.parse.urlencode(params, doseq=True)}"
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:  # 400 on a parse error: the body says why
            try:
                return json.load(e)
            except ValueError:
                return {"status": "error", "error": f"HTTP {e.code}"}
        except (urllib.error.URLError, OSError) as e:
            return {"status": "error", "error": str(e)}

    def query(self, q):
        return self.get("/api/v1/query", {"query": q})


def check_panels(res, prom, dashboards):
    for name, d in dashboards:
        var_names = {v["name"] for v in d.get("templating", {}).get("list", [])}
        print(f"panels: {name} ({d.get('title')})")
        for p in walk_panels(d.get("panels", [])):
            targets = [t for t in p.get("targets", []) if t.get("expr")]
            if not targets:
                continue
            core = all(metrics_of(t["expr"]) <= (CORE | {"up"}) for t in targets)
            for t in targets:
                q = substitute(t["expr"], var_names)
                r = prom.query(q)
                label = f"[{'core' if core else 'next'}] {p.get('title')} / {t.get('refId')}"
                if not res.check(r.get("status") == "success", label + " parses",
                                 f"{r.get('errorType', '')}: {r.get('error', '')}\n        query: {q}"):
                    continue
                if core:
                    n = len(r["data"]["result"]) if isinstance(r["data"]["result"], list) else 1
                    res.check(n > 0, label + f" returns data ({n} series)", f"empty result\n        query: {q}")


def check_variables(res, prom, dashboards):
    for name, d in dashboards:
        var_names = {v["name"] for v in d.get("templating", {}).get("list", [])}
        for v in d.get("templating", {}).get("list", []):
            if v.get("type") != "query":
                continue
            q = v["query"]["query"] if isinstance(v.get("query"), dict) else v.get("query", "")
            m = re.match(r"^\s*label_values\((.*),\s*(\w+)\)\s*$", q, re.S)
            if not res.check(bool(m), f"{name}: variable {v['name']} is label_values(selector, label)", q):
                continue
            sel, label = substitute(m.group(1), var_names), m.group(2)
            r = prom.get(f"/api/v1/label/{label}/values",
                         {"match[]": sel, "start": int(time.time()) - 300, "end": int(time.time())})
            if not res.check(r.get("status") == "success", f"{name}: variable {v['name']} query parses",
                             str(r.get("error"))):
                continue
            if v["name"] in ("node", "instance"):
                res.check(len(r["data"]) > 0, f"{name}: variable {v['name']} finds values {r['data'][:3]}",
                          f"no values for {label} in {sel}")


def check_rules(res, prom, expect_firing, deadline):
    print("rules: loaded from the rules file, evaluated by Prometheus")
    groups = []
    while True:
        r = prom.get("/api/v1/rules", {})
        groups = r.get("data", {}).get("groups", []) if r.get("status") == "success" else []
        rules = [x for g in groups for x in g["rules"]]
        if rules and all(x.get("lastEvaluation", "").startswith("0001") is False for x in rules):
            break
        if time.time() > deadline:
            break
        time.sleep(0.5)
    rules = [x for g in groups for x in g["rules"]]
    res.check(len(rules) > 0, f"{len(rules)} rules loaded in {len(groups)} groups")
    for x in rules:
        what = x.get("name")
        res.check(x.get("health") == "ok", f"rule {what} health {x.get('health')}", x.get("lastError", ""))
        q = prom.query(x["query"])
        res.check(q.get("status") == "success", f"rule {what} expression parses via /api/v1/query",
                  q.get("error", ""))
    if expect_firing:
        print("alerts: expected to fire on real exporter data")
        firing = set()
        while True:
            a = prom.get("/api/v1/alerts", {})
            firing = {al["labels"]["alertname"] for al in a.get("data", {}).get("alerts", [])
                      if al.get("state") == "firing"}
            if set(expect_firing) <= firing or time.time() > deadline:
                break
            time.sleep(0.5)
        for name in expect_firing:
            res.check(name in firing, f"alert {name} is firing", f"firing: {sorted(firing)}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prom")
    ap.add_argument("--dashboards", required=True)
    ap.add_argument("--rules", action="append", default=[])
    ap.add_argument("--job", default="io_uring_exporter")
    ap.add_argument("--expect-firing", action="append", default=[])
    ap.add_argument("--catalogue-only", action="store_true")
    ap.add_argument("--timeout", type=float, default=30)
    args = ap.parse_args()
    deadline = time.time() + args.timeout

    res = Results()
    dashboards = load_dashboards(args.dashboards)
    res.check(len(dashboards) >= 3, f"{len(dashboards)} dashboards found in {args.dashboards}")
    check_catalogue(res, dashboards, args.rules)
    if not args.catalogue_only:
        prom = Prom(args.prom)
        print(f"target: up{{job=\"{args.job}\"}} == 1")
        r = prom.query(f'up{{job="{args.job}"}} == 1')
        res.check(r.get("status") == "success" and len(r["data"]["result"]) == 1,
                  f'up{{job="{args.job}"}} == 1', json.dumps(r)[:300])
        check_variables(res, prom, dashboards)
        check_panels(res, prom, dashboards)
        check_rules(res, prom, args.expect_firing, deadline)
    print(f"{res.passed} passed, {res.failed} failed")
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())
