# Shared by tests/deploy/*.sh: node packages in a cache outside the repository, and rendering of a
# kustomization with whatever renderer this machine has.
# shellcheck shell=bash

deploy_tests_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$deploy_tests_dir/../.." && pwd)"

die() { echo "${0##*/}: $*" >&2; exit 1; }
log() { echo "${0##*/}: $*"; }

# ensure_node_tools: sets $node_dir, a cache directory holding node_modules (npm ci from
# tests/deploy/package-lock.json, which has no registry URLs: npm takes them from its own
# configuration) and copies of render.mjs / validate.mjs, so that their imports resolve there.
# The cache is keyed by the lockfile's hash; installs nodejs + npm with apt-get when missing.
ensure_node_tools() {
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        [[ $(id -u) -eq 0 ]] || die "node and npm are missing: apt-get install nodejs npm"
        log "installing nodejs and npm (apt-get)"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
    fi
    local base key
    if [[ -n "${IOU_DEPLOY_TEST_CACHE:-}" ]]; then
        base="$IOU_DEPLOY_TEST_CACHE"
    elif mkdir -p /var/cache/io_uring_exporter 2>/dev/null && [[ -w /var/cache/io_uring_exporter ]]; then
        base=/var/cache/io_uring_exporter/deploy-tests
    else
        base="${XDG_CACHE_HOME:-$HOME/.cache}/io_uring_exporter/deploy-tests"
    fi
    key="$(cat "$deploy_tests_dir/package.json" "$deploy_tests_dir/package-lock.json" | sha256sum | cut -c1-16)"
    node_dir="$base/$key"
    if [[ ! -f "$node_dir/.installed" ]]; then
        log "npm ci into $node_dir"
        rm -rf "$node_dir"
        mkdir -p "$node_dir"
        cp "$deploy_tests_dir/package.json" "$deploy_tests_dir/package-lock.json" "$node_dir/"
        (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error >npm.log 2>&1) \
            || { cat "$node_dir/npm.log" >&2; die "npm ci failed (log above)"; }
        touch "$node_dir/.installed"
    fi
    cp "$deploy_tests_dir/render.mjs" "$deploy_tests_dir/validate.mjs" "$node_dir/"
}

# render_kustomization DIR OUT: renders with `kubectl kustomize`, else `kustomize build`, else the
# repository's minimal renderer (tests/deploy/render.mjs; needs ensure_node_tools). Sets $renderer.
# IOU_DEPLOY_RENDERER=builtin forces render.mjs (what a machine without kubectl runs).
render_kustomization() {
    local dir="$1" out="$2"
    if [[ "${IOU_DEPLOY_RENDERER:-}" == builtin ]]; then   # forces the fallback, to test it
        renderer="tests/deploy/render.mjs (IOU_DEPLOY_RENDERER=builtin)"
        node "$node_dir/render.mjs" "$dir" >"$out"
    elif command -v kubectl >/dev/null && kubectl kustomize --help >/dev/null 2>&1; then
        renderer="kubectl kustomize ($(kubectl version --client 2>/dev/null | sed -n 's/^Client Version: //p' || true))"
        kubectl kustomize "$dir" >"$out"
    elif command -v kustomize >/dev/null; then
        renderer="kustomize build"
        kustomize build "$dir" >"$out"
    else
        renderer="tests/deploy/render.mjs (neither kubectl nor kustomize is installed)"
        node "$node_dir/render.mjs" "$dir" >"$out"
    fi
}
