#!/usr/bin/env bash
# Static checks of the alert rules (no exporter, no root):
#   promtool check rules deploy/alerts/io_uring_alerts.rules.yml
#   promtool test rules  tests/e2e/alerts_test.yml   (every alert: a firing and a not-firing case)
# plus the dashboards' static lint (tests/e2e/dashboards_lint.py).
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "$0")")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
command -v promtool >/dev/null || { echo "rules_test: promtool missing (apt-get install prometheus)" >&2; exit 1; }
passed=0 failed=0
step() {
    local what="$1"; shift
    if "$@" >/tmp/iou-rules-test.$$ 2>&1; then passed=$((passed + 1)); echo "  ok    $what"
    else failed=$((failed + 1)); echo "  FAIL  $what"; sed 's/^/    /' /tmp/iou-rules-test.$$; fi
    rm -f /tmp/iou-rules-test.$$
}
step "promtool check rules deploy/alerts/io_uring_alerts.rules.yml" \
    promtool check rules "$repo/deploy/alerts/io_uring_alerts.rules.yml"
step "promtool test rules tests/e2e/alerts_test.yml" promtool test rules "$here/alerts_test.yml"
step "dashboards lint (tests/e2e/dashboards_lint.py)" python3 "$here/dashboards_lint.py"
echo "${passed} passed, ${failed} failed"
((failed == 0))
