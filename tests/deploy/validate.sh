#!/usr/bin/env bash
# Offline validation of deploy/: render the kustomization and check every object against the
# Kubernetes and prometheus-operator schemas, with no cluster and no network beyond the first npm ci.
#
# Usage: tests/deploy/validate.sh
#
#   1. node packages (kubernetes-models, @kubernetes-models/prometheus-operator, yaml; pinned by
#      tests/deploy/package-lock.json) are installed into a cache outside the repository
#      (/var/cache/io_uring_exporter/deploy-tests/HASH, or IOU_DEPLOY_TEST_CACHE);
#   2. `kubectl kustomize deploy` renders the base (or `kustomize build`; on a machine with neither, as
#      on a fresh Debian 12, the repository's minimal renderer tests/deploy/render.mjs, which refuses any
#      kustomization feature it does not implement). When kubectl is present, render.mjs's output must
#      equal kubectl's, so the fallback is proven on every run here;
#   3. validate.mjs checks every rendered object: JSON schema (types, required fields, enums,
#      patterns), unknown fields (as the API server's strict validation would), and the deployment
#      policy deploy/README.md promises (not privileged, caps drop ALL + only BPF/PERFMON/SYS_RESOURCE,
#      read-only root and host mounts, probes, resources, wiring of Service/ServiceMonitor/DaemonSet,
#      three dashboard ConfigMaps);
#   4. negative controls: deliberately broken copies of deploy/ in a temp dir (a wrong type, a typo'd
#      field, a missing required field, a privileged container, a broken CRD field) must each FAIL.
set -euo pipefail
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$(readlink -f "$0")")/lib.sh"

t0=$SECONDS
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "  ok    $*"; }
ko() { failed=$((failed + 1)); echo "  FAIL  $*"; }

ensure_node_tools
tmp="$(mktemp -d /tmp/iou-deploy-validate.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT

# --- render and validate the real base
render_kustomization "$repo/deploy" "$tmp/rendered.yaml"
log "rendered deploy/ with $renderer: $(grep -c '^kind:' "$tmp/rendered.yaml") objects"
if node "$node_dir/validate.mjs" validate "$tmp/rendered.yaml" >"$tmp/validate.log" 2>&1; then
    ok "every object of deploy/ validates ($(tail -n1 "$tmp/validate.log"))"
else
    cat "$tmp/validate.log"
    ko "deploy/ does not validate (details above)"
fi

if [[ "$renderer" == kubectl* ]]; then
    node "$node_dir/render.mjs" "$repo/deploy" >"$tmp/mini.yaml"
    if node "$node_dir/validate.mjs" compare "$tmp/rendered.yaml" "$tmp/mini.yaml" >"$tmp/compare.log"; then
        ok "fallback renderer render.mjs gives the same objects as kubectl kustomize ($(tail -n1 "$tmp/compare.log"))"
    else
        cat "$tmp/compare.log"
        ko "render.mjs and kubectl kustomize disagree: fix render.mjs or avoid the feature"
    fi
fi

# --- negative controls: each broken copy must fail validation (or rendering)
# break NAME FILE PERL-EXPRESSION EXPECTED-MESSAGE
break_copy() {
    local name="$1" file="$2" expr="$3" expect="$4" work="$tmp/broken-$1"
    mkdir -p "$work"
    cp -r "$repo/deploy" "$repo/dashboards" "$work/"
    perl -0pi -e "$expr" "$work/deploy/$file"
    if cmp -s "$work/deploy/$file" "$repo/deploy/$file"; then
        ko "negative control '$name': the edit did not change deploy/$file (update the test)"
        return
    fi
    if ! render_kustomization "$work/deploy" "$work/rendered.yaml" 2>"$work/render.err"; then
        ok "negative control '$name' fails to render: $(head -n1 "$work/render.err")"
        return
    fi
    if node "$node_dir/validate.mjs" validate "$work/rendered.yaml" >"$work/validate.log" 2>&1; then
        ko "negative control '$name' PASSED validation: the test cannot see this breakage"
    elif grep -q -- "$expect" "$work/validate.log"; then
        ok "negative control '$name' is rejected: $(grep -m1 -- "$expect" "$work/validate.log" | sed 's/^ *//')"
    else
        sed 's/^/    /' "$work/validate.log" | grep -v '  ok  ' || true
        ko "negative control '$name' failed, but not with '$expect'"
    fi
}
break_copy wrong-type daemonset.yaml 's/containerPort: 9773/containerPort: "9773"/' \
    'containerPort must be integer'
break_copy unknown-field daemonset.yaml 's/readOnlyRootFilesystem: true/readOnlyRootFilesytem: true/' \
    'readOnlyRootFilesytem: unknown field'
break_copy missing-selector daemonset.yaml 's/\nspec:\n  selector:\n    matchLabels:\n(      [^\n]*\n)+/\nspec:\n/' \
    "must have required property 'selector'\|must have required property selector"
break_copy privileged daemonset.yaml 's/privileged: false/privileged: true/' \
    'privileged must be false'
break_copy bad-enum daemonset.yaml 's/type: Unconfined\n            # The runtime/type: Unconfinned\n            # The runtime/' \
    'must be equal to one of the allowed values'
break_copy crd-field servicemonitor.yaml 's/interval: 30s/interval: 30 seconds/' \
    'interval must match pattern'
break_copy crd-unknown-field servicemonitor.yaml 's/scrapeTimeout: 10s/scrapeTimout: 10s/' \
    'scrapeTimout: unknown field'

echo "validate.sh: ${passed} passed, ${failed} failed in $((SECONDS - t0)) s"
echo "${passed} passed, ${failed} failed"
((failed == 0))
