#!/usr/bin/env python3
"""Static checks of dashboards/*.json (no Prometheus, no Grafana needed).

  - each JSON file is exactly what dashboards/generate.py writes (the generator is the source);
  - stable uids (io-uring-overview, io-uring-security, io-uring-workloads), unique; schemaVersion 39;
  - a `datasource` variable of type datasource / prometheus, and `node` + `instance` query variables;
  - every panel and every target uses the datasource variable ${datasource};
  - every data panel sets a unit (ops, s, percentunit, short...) and has a description;
  - no hard-coded instance: every io_uring_* selector filters on instance=~"$instance", and no
    expression names an address (IP or host:port);
  - panel ids unique, grid positions inside the 24-column grid;
  - metric names are in the catalogue (tests/e2e/check_queries.py --catalogue-only).
Prints one line per check and "N passed, M failed".
"""
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DASH = os.path.join(REPO, "dashboards")
UIDS = {"overview.json": "io-uring-overview", "security.json": "io-uring-security",
        "workloads.json": "io-uring-workloads"}
passed = failed = 0


def check(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"  ok    {what}")
    else:
        failed += 1
        print(f"  FAIL  {what}" + (f": {detail}" if detail else ""))


def walk(panels):
    for p in panels:
        yield p
        yield from walk(p.get("panels", []))


with tempfile.TemporaryDirectory() as tmp:
    subprocess.run([sys.executable, os.path.join(DASH, "generate.py"), tmp], check=True)
    for name in UIDS:
        same = open(os.path.join(tmp, name)).read() == open(os.path.join(DASH, name)).read()
        check(same, f"{name} matches dashboards/generate.py", "run python3 dashboards/generate.py")

seen_uids = set()
for name, uid in UIDS.items():
    d = json.load(open(os.path.join(DASH, name)))
    check(d.get("uid") == uid and uid not in seen_uids, f"{name}: uid {d.get('uid')}")
    seen_uids.add(d.get("uid"))
    check(d.get("schemaVersion") == 39, f"{name}: schemaVersion {d.get('schemaVersion')}")
    check(d.get("id") is None, f"{name}: id is null (provisioning assigns it)")
    variables = {v["name"]: v for v in d["templating"]["list"]}
    ds = variables.get("datasource", {})
    check(ds.get("type") == "datasource" and ds.get("query") == "prometheus", f"{name}: datasource variable")
    for v in ("node", "instance"):
        check(variables.get(v, {}).get("type") == "query", f"{name}: {v} variable")
    ids, bad_ds, no_unit, no_desc, hard, no_filter, grid = set(), [], [], [], [], [], []
    for p in walk(d["panels"]):
        check_id = p["id"] not in ids
        ids.add(p["id"])
        if not check_id:
            grid.append(f"duplicate id {p['id']}")
        gp = p.get("gridPos", {})
        if gp.get("x", 0) + gp.get("w", 0) > 24:
            grid.append(f"{p.get('title')} exceeds 24 columns")
        if p["type"] == "row":
            continue
        title = p.get("title")
        if p.get("datasource", {}).get("uid") != "${datasource}":
            bad_ds.append(title)
        if not p.get("fieldConfig", {}).get("defaults", {}).get("unit"):
            no_unit.append(title)
        if not p.get("description"):
            no_desc.append(title)
        for t in p.get("targets", []):
            if t.get("datasource", {}).get("uid") != "${datasource}":
                bad_ds.append(f"{title}/{t.get('refId')}")
            e = t.get("expr", "")
            if re.search(r"\b\d{1,3}(\.\d{1,3}){3}\b|:\d{2,5}\b|instance\s*=\s*\"", e):
                hard.append(f"{title}: {e[:60]}")
            for sel in re.findall(r"(io_uring_[a-z0-9_]+)\{([^}]*)\}", e):
                if 'instance=~"$instance"' not in sel[1]:
                    no_filter.append(f"{title}: {sel[0]}")
            if re.search(r"io_uring_[a-z0-9_]+(\[|\)|\s|$)", e):
                no_filter.append(f"{title}: bare selector in {e[:60]}")
    check(not bad_ds, f"{name}: every panel/target uses ${{datasource}}", ", ".join(bad_ds))
    check(not no_unit, f"{name}: every panel sets a unit", ", ".join(no_unit))
    check(not no_desc, f"{name}: every panel has a description", ", ".join(no_desc))
    check(not hard, f"{name}: no hard-coded instance or address", "; ".join(hard))
    check(not no_filter, f"{name}: every io_uring selector filters on $instance", "; ".join(no_filter))
    check(not grid, f"{name}: panel ids unique, grid fits", "; ".join(grid))

r = subprocess.run([sys.executable, os.path.join(HERE, "check_queries.py"), "--catalogue-only",
                    "--dashboards", DASH, "--rules", os.path.join(REPO, "deploy/alerts/io_uring_alerts.rules.yml")],
                   capture_output=True, text=True)
check(r.returncode == 0, "metric names are in the catalogue", r.stdout.strip().splitlines()[-1] if r.stdout else r.stderr)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
