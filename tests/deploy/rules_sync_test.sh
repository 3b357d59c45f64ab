#!/usr/bin/env bash
# The alert rules have one source, deploy/alerts/io_uring_alerts.rules.yml; this test proves that the
# PrometheusRule `kubectl kustomize deploy` renders carries exactly those rules.
#
#   1. deploy/prometheusrule.yaml is what deploy/generate-prometheusrule.sh writes now (not stale);
#   2. the rendered PrometheusRule's spec, parsed, equals the rules file, parsed (deep equality);
#   3. that spec, written back out as a rule file, passes `promtool check rules` (when promtool is
#      installed: Debian package prometheus) and gives the same rule count as the source.
set -euo pipefail
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$(readlink -f "$0")")/lib.sh"

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "  ok    $*"; }
ko() { failed=$((failed + 1)); echo "  FAIL  $*"; }

ensure_node_tools
tmp="$(mktemp -d /tmp/iou-rules-sync.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
rules="$repo/deploy/alerts/io_uring_alerts.rules.yml"

"$repo/deploy/generate-prometheusrule.sh" "$tmp/prometheusrule.yaml"
if cmp -s "$tmp/prometheusrule.yaml" "$repo/deploy/prometheusrule.yaml"; then
    ok "deploy/prometheusrule.yaml is up to date with the rules file"
else
    diff -u "$repo/deploy/prometheusrule.yaml" "$tmp/prometheusrule.yaml" | head -n 20 || true
    ko "deploy/prometheusrule.yaml is stale: run deploy/generate-prometheusrule.sh"
fi

render_kustomization "$repo/deploy" "$tmp/rendered.yaml"
node "$node_dir/validate.mjs" rules "$tmp/rendered.yaml" >"$tmp/rendered-spec.json"
node "$node_dir/validate.mjs" yaml2json "$rules" >"$tmp/source.json"
if cmp -s "$tmp/rendered-spec.json" "$tmp/source.json"; then
    ok "rendered PrometheusRule spec == $(basename "$rules") (parsed, $renderer)"
else
    ko "rendered PrometheusRule spec differs from the rules file"
fi

if command -v promtool >/dev/null; then
    cp "$tmp/rendered-spec.json" "$tmp/from-prometheusrule.rules.yml"
    if promtool check rules "$tmp/from-prometheusrule.rules.yml" >"$tmp/check.log" 2>&1; then
        n_rendered="$(grep -o '[0-9]* rules found' "$tmp/check.log")"
        n_source="$(promtool check rules "$rules" 2>&1 | grep -o '[0-9]* rules found')"
        if [[ "$n_rendered" == "$n_source" ]]; then
            ok "promtool check rules on the rendered PrometheusRule's spec: $n_rendered"
        else
            ko "rule count differs: rendered $n_rendered, source $n_source"
        fi
    else
        cat "$tmp/check.log"
        ko "promtool rejects the rendered PrometheusRule's spec"
    fi
else
    echo "  skip  promtool not installed (apt-get install prometheus): rendered spec not re-checked"
fi
echo "${passed} passed, ${failed} failed"
((failed == 0))
