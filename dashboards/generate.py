#!/usr/bin/env python3
"""Writes the Grafana dashboards in this folder (overview.json, security.json, workloads.json).

The JSON files are what Grafana provisions (deploy/ wraps them in ConfigMaps for the Grafana sidecar);
this script is their source, so that every panel gets the same datasource, variables, units and
selectors. Edit it, then run `python3 dashboards/generate.py` (stdlib only) and commit both;
tests/e2e/dashboards_lint.py fails when the JSON differs from what this script writes.

Conventions:
  - datasource: template variable `datasource` (type datasource, query prometheus); every panel and
    target uses {"type": "prometheus", "uid": "${datasource}"}. No hard-coded instance anywhere.
  - `node` and `instance` variables (multi, include All = .*) filter every exporter series with SEL.
  - rates use $__rate_interval; units: ops (per second), s (latency), percentunit (ratios), short.
  - dashboard uids are fixed (io-uring-overview, io-uring-security, io-uring-workloads): links and
    alerts may point at them.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DS = {"type": "prometheus", "uid": "${datasource}"}
SEL = 'node=~"$node", instance=~"$instance"'
NOT_OK = 'result!="ok"'
DENIED = 'result=~"EPERM|EACCES"'
SQPOLL = 'flag="sqpoll"'
OVERRIDE = 'hook="override_creds"'
URING_CMD = 'op="uring_cmd"'
NO_POD = 'pod_uid=""'
RI = "$__rate_interval"


def rate(metric, extra="", rng=RI):
    sel = SEL + (", " + extra if extra else "")
    return f"rate({metric}{{{sel}}}[{rng}])"


def target(expr, legend="", ref="A", instant=False, fmt="time_series"):
    t = {"datasource": DS, "expr": expr, "legendFormat": legend or "__auto", "refId": ref,
         "range": not instant, "instant": instant, "format": fmt, "editorMode": "code"}
    return t


class Layout:
    """Places panels left to right on Grafana's 24-column grid."""

    def __init__(self):
        self.x = 0
        self.y = 0
        self.row_h = 0
        self.next_id = 1
        self.panels = []

    def _place(self, w, h):
        if self.x + w > 24:
            self.x, self.y, self.row_h = 0, self.y + self.row_h, 0
        pos = {"x": self.x, "y": self.y, "w": w, "h": h}
        self.x += w
        self.row_h = max(self.row_h, h)
        return pos

    def row(self, title):
        if self.x:
            self.x, self.y, self.row_h = 0, self.y + self.row_h, 0
        self.panels.append({"id": self.next_id, "type": "row", "title": title, "collapsed": False,
                            "gridPos": {"x": 0, "y": self.y, "w": 24, "h": 1}, "panels": []})
        self.next_id += 1
        self.y += 1

    def add(self, panel, w=12, h=8):
        panel["id"] = self.next_id
        self.next_id += 1
        panel["gridPos"] = self._place(w, h)
        panel["datasource"] = DS
        self.panels.append(panel)


def timeseries(title, desc, targets, unit, stack=False, legend_calcs=("mean", "max")):
    return {
        "type": "timeseries", "title": title, "description": desc, "targets": targets,
        "fieldConfig": {
            "defaults": {
                "unit": unit, "min": 0,
                "custom": {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10 if not stack else 30,
                           "showPoints": "never", "spanNulls": False,
                           "stacking": {"mode": "normal" if stack else "none", "group": "A"}},
            },
            "overrides": [],
        },
        "options": {
            "legend": {"displayMode": "table", "placement": "right", "showLegend": True,
                       "calcs": list(legend_calcs), "sortBy": "Mean", "sortDesc": True},
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
    }


def stat(title, desc, expr, unit, thresholds=None, decimals=None):
    steps = thresholds or [{"color": "green", "value": None}]
    d = {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps}}
    if decimals is not None:
        d["decimals"] = decimals
    return {
        "type": "stat", "title": title, "description": desc, "targets": [target(expr)],
        "fieldConfig": {"defaults": d, "overrides": []},
        "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                    "colorMode": "value", "graphMode": "area", "textMode": "auto", "justifyMode": "auto",
                    "orientation": "auto"},
    }


def heatmap(title, desc, expr, unit="s"):
    return {
        "type": "heatmap", "title": title, "description": desc,
        "targets": [target(expr, "{{le}}", fmt="heatmap")],
        "fieldConfig": {"defaults": {"unit": unit, "custom": {"scaleDistribution": {"type": "linear"}}},
                        "overrides": []},
        "options": {
            "calculate": False, "cellGap": 1, "yAxis": {"axisPlacement": "left", "unit": unit},
            "rowsFrame": {"layout": "auto"}, "color": {"mode": "scheme", "scheme": "Oranges", "steps": 64,
                                                     "exponent": 0.5, "fill": "dark-orange", "scale": "exponential"},
            "cellValues": {"unit": "short"}, "tooltip": {"show": True, "yHistogram": True},
            "legend": {"show": True}, "filterValues": {"le": 1e-9},
        },
    }


def table(title, desc, targets, unit="short", transformations=None, overrides=None):
    return {
        "type": "table", "title": title, "description": desc, "targets": targets,
        "fieldConfig": {"defaults": {"unit": unit, "custom": {"align": "auto", "filterable": True}},
                        "overrides": overrides or []},
        "options": {"showHeader": True, "cellHeight": "sm", "footer": {"show": False}},
        "transformations": transformations or [],
    }


def bargauge(title, desc, expr, legend, unit):
    return {
        "type": "bargauge", "title": title, "description": desc,
        "targets": [target(expr, legend, instant=True)],
        "fieldConfig": {"defaults": {"unit": unit, "min": 0,
                                     "thresholds": {"mode": "absolute",
                                                    "steps": [{"color": "blue", "value": None}]}},
                        "overrides": []},
        "options": {"displayMode": "basic", "orientation": "horizontal", "showUnfilled": True,
                    "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}},
    }


def query_var(name, label, query, multi=True, include_all=True, hide=0):
    return {
        "type": "query", "name": name, "label": label, "datasource": DS,
        "query": {"query": query, "refId": f"{name}-var"}, "definition": query,
        "refresh": 2, "sort": 1, "multi": multi, "includeAll": include_all, "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]}, "options": [], "hide": hide,
        "regex": "",
    }


def base_vars():
    return [
        {"type": "datasource", "name": "datasource", "label": "Data source", "query": "prometheus",
         "current": {}, "hide": 0, "refresh": 1, "regex": "", "options": []},
        query_var("node", "Node", "label_values(io_uring_exporter_build_info, node)"),
        query_var("instance", "Instance", 'label_values(io_uring_exporter_build_info{node=~"$node"}, instance)'),
    ]


def dashboard(uid, title, description, layout, variables):
    return {
        "id": None, "uid": uid, "title": title, "description": description,
        "tags": ["io_uring", "io_uring_exporter"], "timezone": "browser", "editable": True,
        "graphTooltip": 1, "schemaVersion": 39, "version": 1, "refresh": "30s",
        "time": {"from": "now-1h", "to": "now"}, "timepicker": {}, "fiscalYearStartMonth": 0,
        "liveNow": False, "weekStart": "",
        "annotations": {"list": [{
            "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True,
            "hide": True, "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts",
            "type": "dashboard"}]},
        "links": [{"type": "dashboards", "title": "io_uring", "tags": ["io_uring"], "asDropdown": True,
                   "includeVars": True, "keepTime": True, "icon": "external link", "targetBlank": False,
                   "tooltip": "", "url": ""}],
        "templating": {"list": variables},
        "panels": layout.panels,
    }


# ---------------------------------------------------------------------------------------- overview
def overview():
    L = Layout()
    op = 'op=~"$op"'
    L.row("Activity")
    L.add(stat("SQEs submitted", "io_uring requests submitted per second on the selected nodes.",
               f"sum(rate(io_uring_sqes_submitted_total{{{SEL}}}[{RI}]))", "ops"), w=6, h=4)
    L.add(stat("Completions", "CQEs posted per second (every result).",
               f"sum(rate(io_uring_completions_total{{{SEL}}}[{RI}]))", "ops"), w=6, h=4)
    L.add(stat("Error ratio", "Share of completions whose result is not ok.",
               f'sum(rate(io_uring_completions_total{{{SEL}, result!="ok"}}[{RI}])) / '
               f"sum(rate(io_uring_completions_total{{{SEL}}}[{RI}]))", "percentunit",
               [{"color": "green", "value": None}, {"color": "orange", "value": 0.05},
                {"color": "red", "value": 0.2}], decimals=2), w=6, h=4)
    L.add(stat("Rings created", "io_uring instances created per second.",
               f"sum(rate(io_uring_rings_created_total{{{SEL}}}[{RI}]))", "ops"), w=6, h=4)
    L.add(timeseries("SQEs submitted by opcode", "Requests submitted per second, by IORING_OP_*.",
                     [target(f"sum by (op) ({rate('io_uring_sqes_submitted_total', op)})", "{{op}}")],
                     "ops", stack=True))
    L.add(timeseries("Completions by opcode", "CQEs per second, by the opcode of the request.",
                     [target(f"sum by (op) ({rate('io_uring_completions_total', op)})", "{{op}}")],
                     "ops", stack=True))

    L.row("Latency (submit to completion)")
    L.add(heatmap("Completion latency heatmap",
                  "Submit-to-completion latency of the selected opcodes (log2 buckets).",
                  f"sum by (le) ({rate('io_uring_completion_latency_seconds_bucket', op)})"))
    L.add(timeseries("Completion latency p50 / p99 by opcode",
                     "Quantiles estimated from the histogram buckets with histogram_quantile.",
                     [target("histogram_quantile(0.5, sum by (op, le) "
                             f"({rate('io_uring_completion_latency_seconds_bucket', op)}))", "p50 {{op}}", "A"),
                      target("histogram_quantile(0.99, sum by (op, le) "
                             f"({rate('io_uring_completion_latency_seconds_bucket', op)}))", "p99 {{op}}", "B")],
                     "s", legend_calcs=("mean", "max")))
    L.add(timeseries("Mean completion latency by opcode", "Latency sum / count per opcode.",
                     [target(f"sum by (op) ({rate('io_uring_completion_latency_seconds_sum', op)}) / "
                             f"sum by (op) ({rate('io_uring_completion_latency_seconds_count', op)})", "{{op}}")],
                     "s"))
    L.add(timeseries("Untracked latency samples",
                     "Completions whose submit time was not in the in-flight table (table full or request "
                     "submitted before the exporter started); latency excludes them.",
                     [target(f"sum by (instance) ({rate('io_uring_exporter_latency_untracked_total')})",
                             "{{instance}}")], "ops"))

    L.row("Errors")
    L.add(timeseries("Errors by result", "Completions with a negative result, by errno name.",
                     [target(f"sum by (result) ({rate('io_uring_completions_total', NOT_OK + ', ' + op)})",
                             "{{result}}")], "ops", stack=True))
    L.add(timeseries("Errors by opcode and result", "Failing completions per opcode and errno.",
                     [target(f"sum by (op, result) ({rate('io_uring_completions_total', NOT_OK + ', ' + op)})",
                             "{{op}} {{result}}")], "ops"))
    L.add(timeseries("Error ratio by opcode", "Failing share of each opcode's completions.",
                     [target(f"sum by (op) ({rate('io_uring_completions_total', NOT_OK + ', ' + op)}) / "
                             f"sum by (op) ({rate('io_uring_completions_total', op)})", "{{op}}")],
                     "percentunit"))
    L.add(timeseries("Requests failed by opcode",
                     "Requests the kernel failed before issue (io_uring_req_failed: bad SQE, missing file...).",
                     [target(f"sum by (op) ({rate('io_uring_requests_failed_total', op)})", "{{op}}")], "ops"))

    L.row("Async punts and multishot")
    L.add(timeseries("Async punts by opcode",
                     "Requests that could not complete inline and went to io-wq worker threads.",
                     [target(f"sum by (op) ({rate('io_uring_async_punts_total', op)})", "{{op}}")], "ops",
                     stack=True))
    L.add(timeseries("Punt ratio by opcode", "Async punts / SQEs submitted.",
                     [target(f"sum by (op) ({rate('io_uring_async_punts_total', op)}) / "
                             f"sum by (op) ({rate('io_uring_sqes_submitted_total', op)})", "{{op}}")],
                     "percentunit"))
    L.add(timeseries("Multishot CQEs by opcode", "Extra CQEs posted by multishot requests.",
                     [target(f"sum by (op) ({rate('io_uring_multishot_cqes_total', op)})", "{{op}}")], "ops"))
    L.add(timeseries("CQEs without a request", "CQEs not tied to a tracked request, by kind.",
                     [target(f"sum by (kind) ({rate('io_uring_cqes_without_request_total')})", "{{kind}}")],
                     "ops"))

    L.row("Rings and overflows")
    L.add(timeseries("CQ overflows, dropped CQEs, short writes",
                     "Completion queue overflows (CQEs parked in the overflow list), CQEs dropped for good, "
                     "and short writes.",
                     [target(f"sum({rate('io_uring_cq_overflows_total')})", "CQ overflows", "A"),
                      target(f"sum({rate('io_uring_cqes_dropped_total')})", "CQEs dropped", "B"),
                      target(f"sum({rate('io_uring_short_writes_total')})", "short writes", "C")], "ops"))
    L.add(timeseries("Rings created by setup flag", "io_uring_setup() calls per second by IORING_SETUP_* flag.",
                     [target(f"sum by (flag) ({rate('io_uring_rings_created_by_flag_total')})", "{{flag}}")],
                     "ops"))
    L.add(bargauge("Rings created by flag (time range)", "Rings created in the dashboard's time range.",
                   "sort_desc(sum by (flag) (increase(io_uring_rings_created_by_flag_total"
                   f"{{{SEL}}}[$__range])))", "{{flag}}", "short"), w=12, h=10)
    L.add(timeseries("Rings created by node", "io_uring instances created per second, per node.",
                     [target(f"sum by (node, instance) ({rate('io_uring_rings_created_total')})",
                             "{{node}} {{instance}}")], "ops"), w=12, h=10)

    L.row("Exporter")
    L.add(table("Probes", "Each BPF probe and whether it is attached on each instance.",
                [target(f"io_uring_exporter_probe_attached{{{SEL}}}", instant=True, fmt="table")],
                transformations=[{"id": "organize", "options": {
                    "excludeByName": {"Time": True, "__name__": True, "job": True},
                    "renameByName": {"Value": "attached"}}}]), w=12, h=8)
    L.add(timeseries("Scrape and collector duration", "Time spent building /metrics, per collector.",
                     [target(f"max by (instance) (io_uring_exporter_scrape_duration_seconds{{{SEL}}})",
                             "scrape {{instance}}", "A"),
                      target(f"max by (collector) (io_uring_exporter_collector_duration_seconds{{{SEL}}})",
                             "{{collector}}", "B")], "s"))
    L.add(timeseries("Collector success", "1 when the collector's last run succeeded.",
                     [target(f"min by (collector) (io_uring_exporter_collector_success{{{SEL}}})",
                             "{{collector}}")], "short", legend_calcs=("min",)))
    L.add(timeseries("Map read errors and BPF recursion misses",
                     "Map reads that failed at scrape time; BPF program runs skipped by the kernel.",
                     [target(f"sum by (map) ({rate('io_uring_exporter_map_read_errors_total')})", "read {{map}}", "A"),
                      target(f"sum by (probe) ({rate('io_uring_exporter_bpf_recursion_misses_total')})",
                             "miss {{probe}}", "B")], "ops"))
    L.add(table("Build info", "Exporter version, revision and libbpf version per instance.",
                [target(f"io_uring_exporter_build_info{{{SEL}}}", instant=True, fmt="table")],
                transformations=[{"id": "organize", "options": {
                    "excludeByName": {"Time": True, "__name__": True, "Value": True, "job": True}}}]),
          w=24, h=6)

    variables = base_vars() + [query_var(
        "op", "Opcode", f'label_values(io_uring_sqes_submitted_total{{{SEL}}}, op)')]
    return dashboard("io-uring-overview", "io_uring / Overview",
                     "io_uring activity per opcode, latency, errors, async punts and ring creation.", L, variables)


# ---------------------------------------------------------------------------------------- security
def security():
    L = Layout()
    L.row("Posture per node")
    posture = [
        target(f"max by (node, instance) (io_uring_disabled_sysctl{{{SEL}}})", ref="A", instant=True, fmt="table"),
        target(f"max by (node, instance) (io_uring_group_sysctl{{{SEL}}})", ref="B", instant=True, fmt="table"),
        target(f"max by (node, instance) (io_uring_bpf_lsm_active{{{SEL}}})", ref="C", instant=True, fmt="table"),
        target(f"max by (node, instance) (io_uring_audit_enabled{{{SEL}}})", ref="D", instant=True, fmt="table"),
        target(f"max by (node, instance, release) (io_uring_kernel_info{{{SEL}}})", ref="E", instant=True,
               fmt="table"),
    ]
    L.add(table("io_uring posture", "kernel.io_uring_disabled (0 enabled, 1 group/CAP_SYS_ADMIN only, 2 disabled), "
                "kernel.io_uring_group (-1 unset), whether the bpf LSM and audit are active, and the kernel.",
                posture,
                transformations=[
                    {"id": "merge", "options": {}},
                    {"id": "organize", "options": {
                        "excludeByName": {"Time": True},
                        "renameByName": {"Value #A": "io_uring_disabled", "Value #B": "io_uring_group",
                                         "Value #C": "bpf LSM active", "Value #D": "audit enabled",
                                         "Value #E": "kernel_info"}}}],
                overrides=[{"matcher": {"id": "byName", "options": "io_uring_disabled"}, "properties": [
                    {"id": "custom.cellOptions", "value": {"type": "color-background"}},
                    {"id": "mappings", "value": [{"type": "value", "options": {
                        "0": {"text": "0 enabled", "color": "red"},
                        "1": {"text": "1 restricted", "color": "orange"},
                        "2": {"text": "2 disabled", "color": "green"}}}]}]}]),
          w=16, h=8)
    L.add(table("Active LSMs", "LSMs active per node (io_uring_lsm_active).",
                [target(f"io_uring_lsm_active{{{SEL}}} == 1", instant=True, fmt="table")],
                transformations=[{"id": "organize", "options": {
                    "excludeByName": {"Time": True, "__name__": True, "Value": True, "job": True}}}]),
          w=8, h=8)
    L.add(stat("Nodes with io_uring enabled for all",
               "Nodes where kernel.io_uring_disabled is 0.",
               f"count(io_uring_disabled_sysctl{{{SEL}}} == 0) or vector(0)", "short",
               [{"color": "green", "value": None}, {"color": "orange", "value": 1}]), w=8, h=4)
    L.add(stat("Nodes where the bpf LSM is inactive",
               "BPF LSM programs load there but never run.",
               f"count(io_uring_bpf_lsm_active{{{SEL}}} == 0) or vector(0)", "short",
               [{"color": "green", "value": None}, {"color": "orange", "value": 1}]), w=8, h=4)
    L.add(stat("Probes not attached", "Probes missing, refused or failed (disabled ones excluded).",
               f'count(io_uring_exporter_probe_attached{{{SEL}, state!="disabled"}} == 0) or vector(0)',
               "short", [{"color": "green", "value": None}, {"color": "red", "value": 1}]), w=8, h=4)

    L.row("Denials")
    L.add(timeseries("Denied requests by opcode",
                     "Completions with EPERM or EACCES (io_uring_denials_total), by opcode.",
                     [target(f"sum by (op) ({rate('io_uring_denials_total')})", "{{op}}")], "ops", stack=True))
    L.add(timeseries("EPERM / EACCES completions by opcode",
                     "The same denials split by errno.",
                     [target(f"sum by (op, result) ({rate('io_uring_completions_total', DENIED)})",
                             "{{op}} {{result}}")], "ops"))
    L.add(timeseries("LSM hook denials by hook", "security_uring_* hooks returning an error, by hook and errno.",
                     [target(f"sum by (hook, errno) ({rate('io_uring_lsm_hook_denials_total')})",
                             "{{hook}} {{errno}}")], "ops"))
    L.add(timeseries("Denial ratio by hook", "Denials / calls of each LSM hook.",
                     [target(f"sum by (hook) ({rate('io_uring_lsm_hook_denials_total')}) / "
                             f"sum by (hook) ({rate('io_uring_lsm_hook_calls_total')})", "{{hook}}")],
                     "percentunit"))

    L.row("Setup and register refusals")
    L.add(timeseries("io_uring_setup calls and refusals",
                     "io_uring_setup() calls, and the refused ones by reason (disabled, not_permitted, lsm, other).",
                     [target(f"sum({rate('io_uring_setup_calls_total')})", "calls", "A"),
                      target(f"sum by (reason) ({rate('io_uring_setup_refusals_total')})", "refused {{reason}}", "B")],
                     "ops"))
    L.add(timeseries("Setup refusal ratio", "Refused io_uring_setup() calls / all calls.",
                     [target(f"sum({rate('io_uring_setup_refusals_total')}) / "
                             f"sum({rate('io_uring_setup_calls_total')})", "refused")], "percentunit"))
    L.add(timeseries("io_uring_register calls by opcode", "io_uring_register() calls per IORING_REGISTER_* opcode.",
                     [target(f"sum by (opcode) ({rate('io_uring_register_calls_total')})", "{{opcode}}")], "ops"))
    L.add(timeseries("io_uring_register refusals", "Failed io_uring_register() calls by opcode and errno.",
                     [target(f"sum by (opcode, errno) ({rate('io_uring_register_refusals_total')})",
                             "{{opcode}} {{errno}}")], "ops"))

    L.row("LSM hook and audit latency")
    L.add(timeseries("LSM hook calls by hook", "security_uring_{override_creds,sqpoll,cmd,allowed} calls.",
                     [target(f"sum by (hook) ({rate('io_uring_lsm_hook_calls_total')})", "{{hook}}")], "ops"))
    L.add(timeseries("LSM hook latency p50 / p99", "Run time of the security_uring_* hooks.",
                     [target("histogram_quantile(0.5, sum by (hook, le) "
                             f"({rate('io_uring_lsm_hook_latency_seconds_bucket')}))", "p50 {{hook}}", "A"),
                      target("histogram_quantile(0.99, sum by (hook, le) "
                             f"({rate('io_uring_lsm_hook_latency_seconds_bucket')}))", "p99 {{hook}}", "B")], "s"))
    L.add(heatmap("LSM hook latency heatmap", "All hooks together.",
                  f"sum by (le) ({rate('io_uring_lsm_hook_latency_seconds_bucket')})"))
    L.add(timeseries("Audit calls by opcode", "io_uring requests that passed __audit_uring_entry.",
                     [target(f"sum by (op) ({rate('io_uring_audit_calls_total')})", "{{op}}")], "ops"))
    L.add(timeseries("Audit latency p99 by opcode and phase", "__audit_uring_entry / __audit_uring_exit run time.",
                     [target("histogram_quantile(0.99, sum by (op, phase, le) "
                             f"({rate('io_uring_audit_latency_seconds_bucket')}))", "{{op}} {{phase}}")], "s"))
    L.add(timeseries("Unaudited requests while audit is on",
                     "Requests run while audit was enabled that never passed the audit hook (audit_skip opcodes).",
                     [target(f"sum by (op) ({rate('io_uring_audit_unaudited_ops_total')})", "{{op}}")], "ops"))

    L.row("Privileged features: SQPOLL, personalities, uring_cmd")
    L.add(timeseries("SQPOLL rings created", "Rings created with IORING_SETUP_SQPOLL (a kernel submission thread).",
                     [target(f"sum by (node, instance) ({rate('io_uring_rings_created_by_flag_total', SQPOLL)})",
                             "{{node}} {{instance}}")], "ops"))
    L.add(timeseries("Personalities and credential overrides",
                     "IORING_REGISTER_PERSONALITY calls, requests run under a personality, and "
                     "security_uring_override_creds calls.",
                     [target(f"sum({rate('io_uring_personalities_registered_total')})", "personalities registered", "A"),
                      target(f"sum by (op) ({rate('io_uring_personality_requests_total')})", "requests {{op}}", "B"),
                      target(f"sum({rate('io_uring_lsm_hook_calls_total', OVERRIDE)})",
                             "override_creds hook", "C")], "ops"))
    L.add(timeseries("uring_cmd passthrough", "IORING_OP_URING_CMD requests by command and target, and all URING_CMD SQEs.",
                     [target(f"sum by (cmd_op, target) ({rate('io_uring_uring_cmd_requests_total')})",
                             "{{target}} {{cmd_op}}", "A"),
                      target(f"sum({rate('io_uring_sqes_submitted_total', URING_CMD)})", "URING_CMD SQEs", "B")],
                     "ops"))
    L.add(timeseries("Restrictions registered",
                     "IORING_REGISTER_RESTRICTIONS calls: rings that limit their own opcodes (a hardening signal).",
                     [target(f"sum by (node, instance) ({rate('io_uring_restrictions_registered_total')})",
                             "{{node}} {{instance}}")], "ops"))

    return dashboard("io-uring-security", "io_uring / Security",
                     "Denials, refusals, LSM hook and audit activity, privileged io_uring features and the "
                     "io_uring posture of every node.", L, base_vars())


# ---------------------------------------------------------------------------------------- workloads
def pod_join(inner, by):
    """Per-pod aggregation: the exporter's pod_uid joined to kube-state-metrics' kube_pod_info."""
    return (f"sum by ({by}) (\n  {inner}\n  * on (pod_uid) group_left (namespace, pod)\n"
            "    max by (pod_uid, namespace, pod) (label_replace("
            'kube_pod_info{namespace=~"$namespace", pod=~"$pod"}, "pod_uid", "$1", "uid", "(.+)"))\n)')


def workloads():
    L = Layout()
    L.row("Per pod (pod_uid joined with kube-state-metrics kube_pod_info)")
    L.add(timeseries("SQEs submitted by pod", "io_uring requests per second per pod (top 20).",
                     [target("topk(20, " + pod_join(rate("io_uring_workload_sqes_submitted_total"),
                                                    "namespace, pod") + ")", "{{namespace}}/{{pod}}")],
                     "ops"))
    L.add(timeseries("SQEs by pod and opcode", "Requests per second per pod and opcode (top 20).",
                     [target("topk(20, " + pod_join(rate("io_uring_workload_sqes_submitted_total"),
                                                    "namespace, pod, op") + ")", "{{namespace}}/{{pod}} {{op}}")],
                     "ops"))
    L.add(timeseries("Errors by pod", "Completions with a non-ok result per pod and errno.",
                     [target(pod_join(rate("io_uring_workload_completions_total", 'result!="ok"'),
                                      "namespace, pod, result"), "{{namespace}}/{{pod}} {{result}}")], "ops"))
    L.add(timeseries("Error ratio by pod", "Failing share of each pod's completions.",
                     [target(pod_join(rate("io_uring_workload_completions_total", 'result!="ok"'), "namespace, pod")
                             + " / " + pod_join(rate("io_uring_workload_completions_total"), "namespace, pod"),
                             "{{namespace}}/{{pod}}")], "percentunit"))
    L.add(timeseries("Denials by pod", "EPERM/EACCES completions per pod.",
                     [target(pod_join(rate("io_uring_workload_denials_total"), "namespace, pod"),
                             "{{namespace}}/{{pod}}")], "ops"))
    L.add(timeseries("Completion latency p99 by pod", "Submit-to-completion p99 per pod (all opcodes).",
                     [target("histogram_quantile(0.99, " + pod_join(
                         rate("io_uring_workload_completion_latency_seconds_bucket"), "namespace, pod, le") + ")",
                         "{{namespace}}/{{pod}}")], "s"))
    L.add(timeseries("Rings created by pod", "io_uring_setup() per pod.",
                     [target(pod_join(rate("io_uring_workload_rings_created_total"), "namespace, pod"),
                             "{{namespace}}/{{pod}}")], "ops"))
    L.add(timeseries("SQPOLL rings by pod", "Rings with IORING_SETUP_SQPOLL per pod.",
                     [target(pod_join(rate("io_uring_workload_sqpoll_rings_created_total"),
                                      "namespace, pod"), "{{namespace}}/{{pod}}")], "ops"))
    L.add(table("Pods using io_uring", "Pods that submitted io_uring requests in the time range, with their node.",
                [target(pod_join(f"increase(io_uring_workload_sqes_submitted_total{{{SEL}}}[$__range])",
                                 "namespace, pod, node") + " > 0", instant=True, fmt="table")],
                transformations=[{"id": "organize", "options": {
                    "excludeByName": {"Time": True}, "renameByName": {"Value": "SQEs in range"}}}]), w=24, h=8)

    L.row("Attribution health")
    L.add(timeseries("Requests not attributed to a pod",
                     "Requests from host processes or cgroups outside the kubelet's pod hierarchy (pod_uid empty).",
                     [target(f"sum by (node, instance) ({rate('io_uring_workload_sqes_submitted_total', NO_POD)})",
                             "{{node}} {{instance}}")], "ops"))
    L.add(timeseries("Attributed share of node SQEs", "Per-workload SQEs / node total SQEs, per instance.",
                     [target(f"sum by (instance) ({rate('io_uring_workload_sqes_submitted_total')}) / "
                             f"sum by (instance) ({rate('io_uring_sqes_submitted_total')})", "{{instance}}")],
                     "percentunit"))
    L.add(timeseries("Dropped series and cgroup resolution failures",
                     "Per-workload series dropped because the attribution table is full; cgroups the exporter "
                     "could not map to a pod or container.",
                     [target(f"sum by (instance) ({rate('io_uring_exporter_attribution_dropped_series_total')})",
                             "dropped {{instance}}", "A"),
                      target(f"sum by (instance) ({rate('io_uring_exporter_cgroup_resolution_failures_total')})",
                             "unresolved {{instance}}", "B")], "ops"))

    variables = base_vars() + [
        query_var("namespace", "Namespace", "label_values(kube_pod_info, namespace)"),
        query_var("pod", "Pod", 'label_values(kube_pod_info{namespace=~"$namespace"}, pod)'),
    ]
    return dashboard("io-uring-workloads", "io_uring / Workloads",
                     "io_uring use per pod: the exporter's pod_uid label joined with kube-state-metrics' "
                     "kube_pod_info to get namespace and pod names.", L, variables)


DASHBOARDS = {"overview.json": overview, "security.json": security, "workloads.json": workloads}


def render():
    return {name: json.dumps(fn(), indent=2, sort_keys=False) + "\n" for name, fn in DASHBOARDS.items()}


def main(argv):
    out_dir = argv[1] if len(argv) > 1 else HERE
    for name, text in render().items():
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
