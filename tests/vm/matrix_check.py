#!/usr/bin/env python3
"""Host side of the VM kernel matrix: parse one guest console log and assert exact deltas.

Usage: matrix_check.py --series SERIES --release UNAME_R --log CONSOLE.LOG [--n N] [--m M]
                       [--inflight K] [--verbose]

The guest (tests/vm/matrix-guest.sh) runs two exporters side by side and prints a scrape of each
after every step: "main" (default flags: tp_btf, fexit/fentry) and "fallback"
(--bpf.disable-program-type tp_btf, fexit and fentry: raw_tp and lsm/ programs). A step's delta
of a series is (value after the step) - (value after the previous step); 0 for a series absent
from both scrapes. Every expectation is derived from the kernel version (features()), so a new
kernel series only needs a line there. Prints each check that did not pass and a summary;
exit 1 if any check failed.

Checks with known_bug=V describe exporter behaviour that is wrong today: a delta equal to V (or
V(delta) true, for a callable) is reported as XFAIL, not as a failure; the correct value is
reported as XPASS (the bug was fixed: drop known_bug). Anything else fails.
"""
import argparse
import re
import sys

RESULTS = []  # (status, where, text); status in PASS FAIL XFAIL XPASS
VARIANTS = ("main", "fallback")


def features(series):
    """What the matrix expects of a kernel series, from its version (see tests/vm/KERNELS.md)."""
    major, minor = (int(x) for x in (series.split(".") + ["99"])[:2])
    v = (major, minor)
    return {
        # 5.10: io_uring_complete(ctx, user_data, res, cflags) names no request; only a tp_btf
        # variant exists for it (and for the 5.10 io_uring_queue_async_work).
        "legacy_complete": v < (5, 11),
        "submit_tp": "io_uring_submit_req" if v >= (6, 3) else "io_uring_submit_sqe",
        # io_uring_req_failed, io_uring_cqe_overflow, io_uring_short_write: 5.18+.
        "new_tracepoints": v >= (5, 18),
        # security_uring_{override_creds,sqpoll,cmd} and __audit_uring_*: 5.16+.
        "hooks": v >= (5, 16),
        "audit": v >= (5, 16),
        # security_uring_allowed: 6.16+ (absent in 6.12, present in 7.2).
        "allowed": v >= (6, 16),
        # /dev/ngXnY 5.13+, IORING_OP_URING_CMD 5.19+.
        "uring_cmd": v >= (5, 19),
        # kernel.io_uring_disabled: 6.6+.
        "sysctl": v >= (6, 6),
        # IORING_TIMEOUT_MULTISHOT: 6.4+.
        "multishot": v >= (6, 4),
        # trace_io_uring_complete fires only once a CQE slot is found (6.1+): requests whose CQE
        # overflows are never seen by the complete probe.
        "complete_after_cqe": v >= (6, 1),
    }


def parse_log(path):
    text = open(path, encoding="utf-8", errors="replace").read().replace("\r", "")
    scrapes = {v: {} for v in VARIANTS}
    order = {v: [] for v in VARIANTS}
    for m in re.finditer(r"@@SCRAPE-BEGIN (\S+)@@\n(.*?)@@SCRAPE-END \1 (\d+)@@", text, re.S):
        full, body, count = m.group(1), m.group(2), int(m.group(3))
        name, _, variant = full.partition("~")
        variant = variant or "main"
        lines = [l for l in body.split("\n") if l.strip()]
        series = {}
        bad = len(lines) != count
        for line in lines:
            mm = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$", line)
            if not mm:
                bad = True
                continue
            labels = tuple(sorted(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', mm.group(2) or "")))
            series[(mm.group(1), labels)] = float(mm.group(3))
        if bad:
            RESULTS.append(("FAIL", full, f"scrape garbled on the console ({len(lines)} lines, guest said {count})"))
        scrapes.setdefault(variant, {})[name] = series
        order.setdefault(variant, []).append(name)
    steps = {m.group(1): int(m.group(2)) for m in re.finditer(r"@@STEP (\S+) rc=(\d+)@@", text)}
    skips = {m.group(1): m.group(2) for m in re.finditer(r"@@SKIP (\S+) (.*?)@@", text)}
    facts = {m.group(1): m.group(2) for m in re.finditer(r"@@FACT (\S+) ?(.*?)@@", text)}
    failed = re.findall(r"@@EXPORTER-FAILED (\S+)@@", text)
    exits = dict(re.findall(r"@@EXPORTER-EXIT (\S+) (\d+)@@", text))
    return scrapes, order, steps, skips, facts, failed, exits


def fmt(v):
    if v is None:
        return "absent"
    if isinstance(v, float) and v == int(v):
        return str(int(v))
    return str(v)


def desc(name, labels):
    return name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else "")


class Checker:
    """Checks on the scrapes of one exporter (variant)."""

    def __init__(self, variant, scrapes, order):
        self.variant, self.scrapes, self.order = variant, scrapes, order
        self.checked = set()  # (step, series key) whose delta a check looked at

    def where(self, step):
        return step if self.variant == "main" else f"{self.variant}:{step}"

    def add(self, status, step, text):
        RESULTS.append((status, self.where(step), text))

    @staticmethod
    def key(name, labels):
        return (name, tuple(sorted(labels.items())))

    def value(self, scrape, name, **labels):
        return self.scrapes.get(scrape, {}).get(self.key(name, labels))

    def delta(self, step, name, **labels):
        i = self.order.index(step)
        after = self.value(step, name, **labels)
        before = self.value(self.order[i - 1], name, **labels) if i > 0 else None
        if after is None:
            return None if before is None else float("nan")
        return after - (before or 0)

    def record(self, ok, step, text, got, want, known_bug=None):
        if ok and known_bug is not None:
            self.add("XPASS", step, f"{text} == {fmt(want)}: the known bug is fixed, drop known_bug")
        elif ok:
            self.add("PASS", step, text)
        elif known_bug is not None and (known_bug(got) if callable(known_bug) else got == known_bug):
            self.add("XFAIL", step, f"{text}: got {fmt(got)} (known exporter bug), correct {fmt(want)}")
        else:
            self.add("FAIL", step, f"{text}: got {fmt(got)}, want {fmt(want)}")

    def eq(self, step, want, name, known_bug=None, **labels):
        """Delta of one series during `step` == want; want 0 also accepts an absent series."""
        if step not in self.scrapes:
            return  # the step did not run: reported once, by the step check
        got = self.delta(step, name, **labels)
        self.checked.add((step, self.key(name, labels)))
        ok = (got == want) or (want == 0 and got is None)
        self.record(ok, step, f"delta {desc(name, labels)}", got, want, known_bug)

    def total(self, step, want, name):
        """Sum of the deltas of every series of `name` during `step` == want."""
        if step not in self.scrapes:
            return
        keys = {k for k in self.scrapes[step] if k[0] == name}
        self.checked.update((step, k) for k in keys)
        got = sum(self.delta(step, name, **dict(k[1])) or 0 for k in keys)
        self.record(got == want, step, f"delta of all {name}", got, want)

    def unexpected(self, ignore):
        """Every counter that changed in a step must have been checked in that step."""
        for i, step in enumerate(self.order[1:], 1):
            prev = self.scrapes[self.order[i - 1]]
            for key, v in self.scrapes[step].items():
                name = key[0]
                if not (name.endswith("_total") or name.endswith("_count")) or ignore(name, dict(key[1])):
                    continue
                if v != prev.get(key, 0) and (step, key) not in self.checked:
                    self.add("FAIL", step, f"unexpected change of {desc(name, dict(key[1]))}: "
                             f"{fmt(prev.get(key))} -> {fmt(v)}")

    def absent(self, scrape, name, **labels):
        """No series of `name` (whose labels include these) in the scrape."""
        for (n, ls) in self.scrapes.get(scrape, {}):
            if n == name and all((k, v) in ls for k, v in labels.items()):
                self.add("FAIL", scrape, f"{desc(name, labels)} present, should be absent: {dict(ls)}")
                return
        self.add("PASS", scrape, f"{desc(name, labels)} absent")

    def gauge(self, scrape, want, name, **labels):
        if scrape in self.scrapes:
            got = self.value(scrape, name, **labels)
            self.record(got == want, scrape, f"value {desc(name, labels)}", got, want)


def expected_steps(f):
    """(steps that must run, steps whose io_uring_setup must be refused)."""
    s = ["nop", "openat", "openat_enoent", "openat_eacces", "timeout", "sqpoll", "punt", "fail",
         "overflow", "inflight", "personality"]
    if f["multishot"]:
        s.append("multishot")
    if f["uring_cmd"]:
        s.append("uring_cmd")
    if f["hooks"]:
        s += ["deny_sqpoll", "deny_personality"] + (["deny_uring_cmd"] if f["uring_cmd"] else [])
    if f["allowed"]:
        s.append("deny_allowed")
    refused = []
    if f["sysctl"]:
        refused = ["sysctl_disabled", "sysctl_not_permitted"]
        s += refused + ["sysctl_root_allowed"]
    return s, refused


def check_common(f, release, steps, skips, facts, failed, exits):
    def add(status, where, text):
        RESULTS.append((status, where, text))

    if facts.get("release") != release:
        add("FAIL", "boot", f"guest runs {facts.get('release')}, expected {release}")
    for v in failed:
        add("FAIL", "boot", f"exporter {v} never became ready (its log is in the console log)")
    for v in VARIANTS:
        if v not in failed and exits.get(v) != "0":
            add("FAIL", "end", f"exporter {v} did not exit 0 on SIGTERM (status {exits.get(v)})")
    want_steps, refused = expected_steps(f)
    for s in want_steps:
        if s not in steps:
            add("FAIL", s, f"step did not run ({'skipped: ' + skips[s] if s in skips else 'missing from the log'})")
        elif (steps[s] != 0) != (s in refused):
            add("FAIL", s, f"exit status {steps[s]}, want {'non-zero (setup refused)' if s in refused else 0}")
        else:
            add("PASS", s, "exit status")
    for s in steps:
        if s not in want_steps:
            add("FAIL", s, "step ran, but this kernel was not expected to support it (update features())")
    for key, want in (("deny_lsm", "1" if f["hooks"] else "0"),
                      ("ng", "/dev/ng0n1" if f["uring_cmd"] else "none")):
        got = facts.get(key)
        add("PASS" if got == want else "FAIL", "boot", f"fact {key}: got {got}, want {want}")


def check_variant(c, f, release, n, m, inflight, facts):
    fb = c.variant == "fallback"
    if "base" not in c.scrapes:
        c.add("FAIL", "base", "no scrape at all")
        return
    order = c.order
    last = order[-1]
    broken = sorted(dict(k[1]).get("map", "?") for k, v in c.scrapes[last].items()
                    if k[0] == "io_uring_exporter_map_read_errors_total" and v)
    if broken:
        c.add("FAIL", last, f"the exporter cannot read its BPF maps ({', '.join(broken)}: "
              f"io_uring_exporter_map_read_errors_total > 0; kernel.unprivileged_bpf_disabled="
              f"{facts.get('unprivileged_bpf_disabled')}): its counters are missing, delta checks skipped")
        return

    # --- probes chosen for this kernel (first scrape)
    probes = {}
    for (name, labels), v in c.scrapes["base"].items():
        if name == "io_uring_exporter_probe_attached":
            d = dict(labels)
            probes[d["probe"]] = (d["program"], d["state"])

    def probe(p, program, state=None):
        want = (program, "attached") if program else ("", state or "missing")
        got = probes.get(p)
        c.record(got == want, "base", f"probe {p}", got, want)

    tp = "raw_tp/" if fb else "tp_btf/"
    probe("submit", tp + f["submit_tp"])
    # 5.10's complete and queue_async_work prototypes only have a tp_btf variant.
    legacy_only_btf = fb and f["legacy_complete"]
    probe("complete", None if legacy_only_btf else tp + "io_uring_complete", "disabled")
    probe("async_punt", None if legacy_only_btf else tp + "io_uring_queue_async_work", "disabled")
    probe("create", tp + "io_uring_create")
    for p, name in (("req_failed", "io_uring_req_failed"), ("cqe_overflow", "io_uring_cqe_overflow"),
                    ("short_write", "io_uring_short_write")):
        probe(p, tp + name if f["new_tracepoints"] else None)
    for hook in ("override_creds", "sqpoll", "cmd", "allowed"):
        have = f["allowed"] if hook == "allowed" else f["hooks"]
        if fb:  # fexit refused by flag: the lsm/ program counts calls; fentry-only latency is off
            probe("hook_" + hook, "lsm/uring_" + hook if have else None)
            probe("hook_" + hook + "_latency", None, "disabled" if have else "missing")
        else:
            probe("hook_" + hook, "fexit/security_uring_" + hook if have else None)
            probe("hook_" + hook + "_latency", "fentry/security_uring_" + hook if have else None)
    for p, kind, fn in (("audit_entry", "fexit", "__audit_uring_entry"),
                        ("audit_entry_latency", "fentry", "__audit_uring_entry"),
                        ("audit_exit", "fexit", "__audit_uring_exit"),
                        ("audit_exit_latency", "fentry", "__audit_uring_exit")):
        if fb:
            probe(p, None, "disabled" if f["audit"] else "missing")
        else:
            probe(p, f"{kind}/{fn}" if f["audit"] else None)
    probe("setup_exit", "tracepoint/syscalls/sys_exit_io_uring_setup")
    probe("register_enter", "tracepoint/syscalls/sys_enter_io_uring_register")
    probe("register_exit", "tracepoint/syscalls/sys_exit_io_uring_register")

    # --- posture gauges
    c.gauge("base", 1, "io_uring_kernel_info", release=release)
    c.gauge("base", 1, "io_uring_bpf_lsm_active")
    c.gauge("base", 1, "io_uring_audit_enabled")
    if f["sysctl"]:
        c.gauge("base", 0, "io_uring_disabled_sysctl")
    else:
        c.absent("base", "io_uring_disabled_sysctl")
    if not f["hooks"]:
        for name in ("io_uring_lsm_hook_calls_total", "io_uring_lsm_hook_denials_total"):
            c.absent(last, name)
    if not f["allowed"]:
        c.absent(last, "io_uring_lsm_hook_calls_total", hook="allowed")
    if fb or not f["audit"]:
        for name in ("io_uring_lsm_hook_latency_seconds_count", "io_uring_audit_calls_total",
                     "io_uring_audit_unaudited_ops_total", "io_uring_audit_latency_seconds_count"):
            c.absent(last, name)

    counts_completions = not legacy_only_btf
    cop = (lambda op: "unknown") if f["legacy_complete"] else (lambda op: op)
    lat = not f["legacy_complete"]
    hooks, audit = f["hooks"], f["audit"] and not fb
    allowed_per_setup = 1 if f["allowed"] else 0

    def completions(step, op, result, want, latency=None):
        """Final CQEs; each submitted request also gives one latency sample (none on 5.10)."""
        if not counts_completions:
            c.total(step, 0, "io_uring_completions_total")
            return
        c.eq(step, want, "io_uring_completions_total", op=cop(op), result=result)
        if lat:
            c.eq(step, want if latency is None else latency, "io_uring_completion_latency_seconds_count", op=op)

    def denied(step, hook, errno, want):
        """Hook refusals: fexit sees them; the lsm/ fallback only counts calls."""
        c.eq(step, 0 if fb else want, "io_uring_lsm_hook_denials_total", hook=hook, errno=errno)

    def hook_calls(step, hook, want):
        c.eq(step, want, "io_uring_lsm_hook_calls_total", hook=hook)
        if not fb:
            c.eq(step, want, "io_uring_lsm_hook_latency_seconds_count", hook=hook)

    def setups(step, calls, rings, refused=None, flags=(), allowed=None):
        """io_uring_setup calls, rings created (with flags), refusals by reason, and on 7.x the
        uring_allowed hook (called by every setup that passes the sysctl)."""
        c.eq(step, calls, "io_uring_setup_calls_total")
        c.eq(step, rings, "io_uring_rings_created_total")
        for r in ("disabled", "not_permitted", "lsm", "other"):
            c.eq(step, 1 if r == refused else 0, "io_uring_setup_refusals_total", reason=r)
        for flag in flags:
            c.eq(step, rings, "io_uring_rings_created_by_flag_total", flag=flag)
        if f["allowed"]:
            hook_calls(step, "allowed", calls if allowed is None else allowed)

    def one_ring(step, *flags):
        setups(step, 1, 1, flags=flags)

    def audit_skipped(step, op, want):
        """Opcodes the kernel marks audit_skip (nop, read, timeout): eligible, never audited."""
        if audit:
            c.eq(step, want, "io_uring_audit_unaudited_ops_total", op=op)
            c.eq(step, 0, "io_uring_audit_calls_total", op=op)

    def audited(step, op, want, **known):
        if audit:
            c.eq(step, want, "io_uring_audit_calls_total", op=op, **known)
            for phase in ("entry", "exit"):
                c.eq(step, want, "io_uring_audit_latency_seconds_count", op=op, phase=phase, **known)

    # Every step below is checked for every counter it changes: matrix_check fails on a counter
    # that moved in a step without a check saying by how much (Checker.unexpected).

    # --- core counts
    s = "nop"
    c.eq(s, n, "io_uring_sqes_submitted_total", op="nop")
    completions(s, "nop", "ok", n)
    if not lat:  # 5.10: no request at completion, so no latency sample can ever be taken
        c.total(s, 0, "io_uring_completion_latency_seconds_count")
    one_ring(s)
    audit_skipped(s, "nop", n)

    s = "openat"  # an existing file: the open succeeds inline, no io-wq punt
    c.eq(s, m, "io_uring_sqes_submitted_total", op="openat")
    completions(s, "openat", "ok", m)
    one_ring(s)
    audited(s, "openat", m)
    if audit:
        c.eq(s, 0, "io_uring_audit_unaudited_ops_total", op="openat")

    s = "openat_enoent"
    c.eq(s, m, "io_uring_sqes_submitted_total", op="openat")
    completions(s, "openat", "ENOENT", m)
    c.eq(s, 0, "io_uring_denials_total", op=cop("openat"))
    one_ring(s)
    # The root file system keeps no negative dentries: the cached lookup misses (-EAGAIN inline),
    # io-wq retries it and the retry passes the audit hook again.
    if not legacy_only_btf:
        c.eq(s, m, "io_uring_async_punts_total", op="openat")
    audited(s, "openat", 2 * m)

    s = "openat_eacces"
    c.eq(s, m, "io_uring_sqes_submitted_total", op="openat")
    completions(s, "openat", "EACCES", m)
    if counts_completions:
        c.eq(s, m, "io_uring_denials_total", op=cop("openat"))
    one_ring(s)
    audited(s, "openat", m)

    s = "timeout"
    c.eq(s, m, "io_uring_sqes_submitted_total", op="timeout")
    completions(s, "timeout", "ETIME", m)
    one_ring(s)
    audit_skipped(s, "timeout", m)

    s = "sqpoll"
    c.eq(s, m, "io_uring_sqes_submitted_total", op="nop")
    completions(s, "nop", "ok", m)
    one_ring(s, "sqpoll")
    if hooks:
        hook_calls(s, "sqpoll", 1)
        denied(s, "sqpoll", "EPERM", 0)
    if audit:
        # The SQPOLL thread calls audit_uring_entry(IORING_OP_NOP) once at start to set up its
        # audit context (CVE-2024-41001 fix): no NOP request is audited.
        audited(s, "nop", 0)
        c.eq(s, m, "io_uring_audit_unaudited_ops_total", op="nop")

    s = "punt"
    c.eq(s, m, "io_uring_sqes_submitted_total", op="read")
    if not legacy_only_btf:
        c.eq(s, m, "io_uring_async_punts_total", op="read")
    completions(s, "read", "ok", m)
    one_ring(s)
    audit_skipped(s, "read", m)

    # Invalid SQE flags: the request fails at init, before the submit tracepoint (no latency).
    s = "fail"
    c.eq(s, 0, "io_uring_sqes_submitted_total", op="nop")
    completions(s, "nop", "EINVAL", m, latency=0)
    if f["new_tracepoints"]:
        c.eq(s, m, "io_uring_requests_failed_total", op="nop")
    one_ring(s)

    # One multishot timeout firing 5 times: 4 CQEs flagged F_MORE are posted without a request
    # (the kernel's aux CQE path), the final one ends the request.
    if f["multishot"]:
        s = "multishot"
        c.eq(s, 1, "io_uring_sqes_submitted_total", op="timeout")
        completions(s, "timeout", "ETIME", 1)
        c.eq(s, 4, "io_uring_cqes_without_request_total", kind="multishot")
        c.eq(s, 0, "io_uring_cqes_without_request_total", kind="aux")
        c.eq(s, 0, "io_uring_multishot_cqes_total", op="timeout")
        one_ring(s)
        audit_skipped(s, "timeout", 1)

    # --- personalities (uring_override_creds at request init)
    s = "personality"
    c.eq(s, 1, "io_uring_personalities_registered_total")
    c.eq(s, 1, "io_uring_register_calls_total", opcode="register_personality")
    c.eq(s, m, "io_uring_sqes_submitted_total", op="nop")
    completions(s, "nop", "ok", m)
    c.eq(s, m, "io_uring_personality_requests_total", op="nop")
    one_ring(s)
    audit_skipped(s, "nop", m)
    if hooks:
        hook_calls(s, "override_creds", m)
        denied(s, "override_creds", "EACCES", 0)

    # --- NVMe passthrough by an unmarked task
    if f["uring_cmd"]:
        s = "uring_cmd"
        c.eq(s, m, "io_uring_uring_cmd_requests_total", cmd_op="nvme_io", target="char")
        c.eq(s, m, "io_uring_sqes_submitted_total", op="uring_cmd")
        completions(s, "uring_cmd", "ok", m)
        one_ring(s, "sqe128", "cqe32")
        hook_calls(s, "cmd", m)
        denied(s, "cmd", "EPERM", 0)
        audited(s, "uring_cmd", m)

    # --- the test LSM denies the marked comm
    if hooks:
        s = "deny_sqpoll"
        setups(s, 1, 0, refused="lsm")
        hook_calls(s, "sqpoll", 1)
        denied(s, "sqpoll", "EPERM", 1)

        s = "deny_personality"  # refused at request init: never submitted, failed, no latency
        hook_calls(s, "override_creds", 5)
        denied(s, "override_creds", "EACCES", 5)
        completions(s, "nop", "EACCES", 5, latency=0)
        c.eq(s, 5, "io_uring_denials_total", op="nop")
        c.eq(s, 5, "io_uring_requests_failed_total", op="nop")
        c.eq(s, 0, "io_uring_sqes_submitted_total", op="nop")
        c.eq(s, 0, "io_uring_personality_requests_total", op="nop")
        c.eq(s, 1, "io_uring_personalities_registered_total")
        c.eq(s, 1, "io_uring_register_calls_total", opcode="register_personality")
        one_ring(s)

        if f["uring_cmd"]:
            s = "deny_uring_cmd"  # refused at issue: submitted, audited, completed with EPERM
            hook_calls(s, "cmd", 5)
            denied(s, "cmd", "EPERM", 5)
            c.eq(s, 5, "io_uring_sqes_submitted_total", op="uring_cmd")
            completions(s, "uring_cmd", "EPERM", 5)
            c.eq(s, 5, "io_uring_denials_total", op="uring_cmd")
            c.eq(s, 5, "io_uring_uring_cmd_requests_total", cmd_op="nvme_io", target="char")
            one_ring(s, "sqe128", "cqe32")
            audited(s, "uring_cmd", 5)

    if f["allowed"]:
        s = "deny_allowed"
        setups(s, 1, 0, refused="lsm")
        denied(s, "allowed", "EPERM", 1)

    # --- 12 NOPs into an 8-entry CQ without reaping: 4 CQEs go to the overflow list.
    s = "overflow"
    c.eq(s, 12, "io_uring_sqes_submitted_total", op="nop")
    one_ring(s, "cqsize")
    audit_skipped(s, "nop", 12)
    if f["new_tracepoints"]:
        c.eq(s, 4, "io_uring_cq_overflows_total")
        c.eq(s, 0, "io_uring_cqes_dropped_total")
    if f["complete_after_cqe"]:
        # Documented: CQEs that overflow never reach io_uring_complete on 6.1+; they are
        # counted in io_uring_cq_overflows_total instead.
        c.eq(s, 8, "io_uring_completions_total", op="nop", result="ok")
        c.eq(s, 8, "io_uring_completion_latency_seconds_count", op="nop")
    else:
        completions(s, "nop", "ok", 12)

    # More NOPs than the in-flight table has entries: every entry is removed at completion, so
    # none is lost (5.10: the completion names no request, latency cannot be measured at all).
    s = "inflight"
    c.eq(s, inflight, "io_uring_sqes_submitted_total", op="nop")
    completions(s, "nop", "ok", inflight)
    c.eq(s, 0, "io_uring_exporter_latency_untracked_total")
    one_ring(s)
    audit_skipped(s, "nop", inflight)

    # --- kernel.io_uring_disabled
    if f["sysctl"]:
        for s, value, reason in (("sysctl_disabled", 2, "disabled"), ("sysctl_not_permitted", 1, "not_permitted")):
            c.gauge(s, value, "io_uring_disabled_sysctl")
            setups(s, 1, 0, refused=reason, allowed=0)
        s = "sysctl_root_allowed"  # =1 still lets CAP_SYS_ADMIN in
        c.eq(s, 1, "io_uring_sqes_submitted_total", op="nop")
        completions(s, "nop", "ok", 1)
        one_ring(s)
        audit_skipped(s, "nop", 1)
        c.gauge("sysctl_restored", 0, "io_uring_disabled_sysctl")

    c.unexpected(lambda name, labels: name.startswith(("io_uring_exporter_", "io_uring_workload_")))

    # --- exporter health over the whole run
    for (name, labels), v in c.scrapes[last].items():
        if name == "io_uring_exporter_collector_success" and v != 1:
            c.add("FAIL", last, f"collector {dict(labels)} reported failure")
        if name in ("io_uring_exporter_map_read_errors_total", "io_uring_exporter_bpf_recursion_misses_total") and v:
            c.add("FAIL", last, f"{name}{dict(labels)} = {fmt(v)}")


def check_inflight_table(f, facts):
    """The in-flight tables (the entries in use in both exporters' ops_inflight maps, counted by
    bpftool) must be empty once every request has completed, except that on 6.1+ each exporter
    keeps the 4 entries of the overflowed CQEs (never seen by io_uring_complete) until a later
    request that hashes to the same entry reuses it; on 5.10 the table is not used."""
    got = facts.get("inflight_after_overflow")
    if got in (None, "none"):
        return
    got = int(got)
    # 5.10: the table is not used at all. 6.1+: the 4 overflowed requests of each exporter keep
    # their entry (documented; recycled request addresses overwrite them).
    want = 0 if f["legacy_complete"] else 4 * len(VARIANTS)
    c = Checker("main", {}, [])
    c.record(got == want, "overflow", "entries left in the in-flight tables after the overflow step",
             got, want)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--series", required=True)
    ap.add_argument("--release", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--m", type=int, default=20)
    ap.add_argument("--inflight", type=int, default=1536, help="NOPs of the inflight step")
    ap.add_argument("--verbose", action="store_true", help="also print passing checks")
    a = ap.parse_args()

    f = features(a.series)
    scrapes, order, steps, skips, facts, failed, exits = parse_log(a.log)
    check_common(f, a.release, steps, skips, facts, failed, exits)
    for v in VARIANTS:
        if v not in failed:
            check_variant(Checker(v, scrapes[v], order[v]), f, a.release, a.n, a.m, a.inflight, facts)
    check_inflight_table(f, facts)

    counts = {k: sum(1 for r in RESULTS if r[0] == k) for k in ("PASS", "FAIL", "XFAIL", "XPASS")}
    for status, where, text in RESULTS:
        if status != "PASS" or a.verbose:
            print(f"  {a.series}: {status} [{where}] {text}")
    print(f"  {a.series}: {counts['PASS']} passed, {counts['FAIL']} failed, {counts['XFAIL']} known bugs (xfail), "
          f"{counts['XPASS']} fixed bugs (xpass)")
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
