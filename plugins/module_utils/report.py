# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark snapshots compared two labels at a time: rows per metric, a verdict per target, the Markdown report.

A snapshot (schema 1) is one host's measurements at one label (``baseline``, ``optimized``, ...): ``metrics`` is a
flat mapping of dotted names to numbers (``memory.used_mib``, ``startup.konsole.cold_ms``), ``details`` holds what a
number cannot say (top processes, boot blame, start-up samples, what could not be measured and why).

``compare`` lines up two snapshots of one host: one row per metric found in either (families memory, zram, pressure,
cpu, slices, boot, startup, compile, gpu, then any other), and one verdict per target of the plans that applies to the host
(``targets.TARGETS``) and per metric it speaks of.  ``markdown`` writes the report.  Everything here is pure and
deterministic: the same snapshots give the same text, byte for byte (no current time, sorted everywhere).
The charts are drawn by ``charts.py`` from the same comparison.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ansible_collections.nixperf.tuning.plugins.module_utils.targets import TARGETS, Target

SCHEMA = 1
# A label or host name becomes a file name: no separators, no leading dot (no "..").
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
CAPTURE = "ansible-playbook playbooks/benchmark.yml -e label=%s"

# (family, title, metric name prefixes); a metric no prefix claims is in "other".
FAMILIES: Tuple[Tuple[str, str, Tuple[str, ...]], ...] = (
    ("memory", "Memory", ("memory.", "swap.")),
    ("zram", "zram", ("zram.",)),
    ("pressure", "Pressure stall (PSI)", ("psi.",)),
    ("cpu", "CPU", ("cpu.",)),
    ("slices", "Slices (cgroup memory)", ("slice.",)),
    ("boot", "Boot", ("boot.",)),
    ("startup", "Program start-up", ("startup.",)),
    ("compile", "Compile scaling", ("compile.",)),
    ("gpu", "GPU", ("gpu.",)),
    ("other", "Other metrics", ()),
)
FAMILY_NAMES = tuple(f[0] for f in FAMILIES)
FAMILY_TITLES = {f[0]: f[1] for f in FAMILIES}

# The order rows take inside a family (the rest follow by name: processes, slices, programs).
ORDER = (
    "memory.total_mib", "memory.used_mib", "memory.available_mib", "memory.cached_mib", "swap.used_mib",
    "zram.orig_mib", "zram.compr_mib", "zram.ratio",
    "psi.cpu.some_avg10", "psi.memory.some_avg10", "psi.memory.full_avg10", "psi.io.some_avg10", "psi.io.full_avg10",
    "cpu.total.pct", "cpu.compositor.pct",
    "boot.firmware_s", "boot.loader_s", "boot.kernel_s", "boot.initrd_s", "boot.userspace_s", "boot.total_s",
    "boot.critical_chain_s",
    "gpu.util_pct", "gpu.memory_used_mib",
)
# Lower is better for every metric but these (and a build's speedup and parallel efficiency: ``higher_is_better``);
# for the neutral ones a change is neither better nor worse.
HIGHER_IS_BETTER = frozenset(("zram.ratio", "memory.available_mib"))
HIGHER_IS_BETTER_SUFFIXES = (".speedup", "efficiency_pct")
NEUTRAL = frozenset(("memory.total_mib", "compile.max_cores"))
# compile.cores_<N>.<what>: one core count's median build time, speedup and efficiency (module_utils/snapshot.py).
COMPILE_CORES = re.compile(r"compile\.cores_([0-9]+)\.(wall_s|speedup|efficiency_pct)\Z")

# Decimals per unit in the report: MiB and per cent 1, seconds 2, milliseconds 0, ratios 2; pressure stall
# averages 2, as the kernel writes them (0.12 and 0.05 would both read 0.1).
DIGITS = {"MiB": 1, "%": 1, "s": 2, "ms": 0, "x": 2}
DIGITS_BY_PREFIX = (("psi.", 2),)
VERDICTS = ("met", "missed", "unknown")
TOP = 10


class ReportError(ValueError):
    """A snapshot or a request the report cannot use; the message is meant for the user as it is."""


def check_name(value: Any, what: str = "label") -> str:
    """``value`` when it is a usable label (or host) name, else ReportError: it becomes part of a file name."""
    if not isinstance(value, str) or not NAME.match(value):
        raise ReportError("%s %r is not allowed: a %s is letters, digits, '.', '_' and '-', starting with a letter or "
                          "a digit (it names a file)" % (what, value, what))
    return value


def family_of(metric: str) -> str:
    for name, _title, prefixes in FAMILIES:
        if any(metric.startswith(p) for p in prefixes):
            return name
    return "other"


def higher_is_better(metric: str) -> bool:
    return metric in HIGHER_IS_BETTER or metric.endswith(HIGHER_IS_BETTER_SUFFIXES)


def unit_of(metric: str) -> str:
    """The unit a metric's name says: ``_mib`` MiB, ``_pct`` / ``.pct`` / ``psi.*`` per cent, ``_s`` s, ``_ms`` ms,
    ``ratio`` and ``.speedup`` x; "" when the name says none."""
    if metric.endswith("_mib"):
        return "MiB"
    if metric.endswith("_pct") or metric.endswith(".pct") or metric.startswith("psi."):
        return "%"
    if metric.endswith("_ms"):
        return "ms"
    if metric.endswith("_s"):
        return "s"
    if metric.endswith("ratio") or metric.endswith(".speedup"):
        return "x"
    return ""


def digits_of(metric: str) -> Optional[int]:
    """Decimals the report shows for ``metric`` (None: as few as ``%g`` needs)."""
    for prefix, digits in DIGITS_BY_PREFIX:
        if metric.startswith(prefix):
            return digits
    return DIGITS.get(unit_of(metric))


def fmt_number(value: Optional[float], unit: str, digits: Optional[int] = None) -> str:
    """``3712.4`` for 3712.44 MiB; ``n/a`` for a missing value; never ``-0.0``.  ``digits`` default: the unit's."""
    if value is None:
        return "n/a"
    if digits is None:
        digits = DIGITS.get(unit)
    if digits is None:
        return "%g" % value
    text = "%.*f" % (digits, value)
    return text[1:] if re.match(r"-0\.?0*\Z", text) else text


def fmt_value(value: Optional[float], unit: str, digits: Optional[int] = None) -> str:
    """``3712.4 MiB``, ``5.1 %``, ``1.25 s``, ``812 ms``, ``4.17 x``; ``n/a`` when missing."""
    text = fmt_number(value, unit, digits)
    return text if value is None or not unit else "%s %s" % (text, unit)


def fmt_delta(value: float, unit: str, digits: Optional[int] = None) -> str:
    """``-608.4 MiB``, ``+0.3 s``; a change of a per cent value is in percentage points (``-5.5 pp``)."""
    text = fmt_number(value, unit, digits)
    if not text.startswith("-"):
        text = "+" + text
    unit = "pp" if unit == "%" else unit
    return "%s %s" % (text, unit) if unit else text


# ---------------------------------------------------------------------------------------------------- snapshots


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_details(where: str, details: Any) -> Dict[str, Any]:
    """The ``details`` of a snapshot, its known parts checked (what the report reads); other keys are kept."""
    if details is None:
        return {}
    if not isinstance(details, Mapping):
        raise ReportError("%s: details must be a mapping, not %s" % (where, type(details).__name__))

    def bad(path: str, what: str) -> ReportError:
        return ReportError("%s: details.%s must be %s" % (where, path, what))

    for i, p in enumerate(details.get("top_processes") or ()):
        if not isinstance(p, Mapping) or not isinstance(p.get("comm"), str) or not _number(p.get("rss_mib")):
            raise bad("top_processes[%d]" % i, "a mapping with comm (text) and rss_mib (number)")
    for i, b in enumerate(details.get("blame") or ()):
        if not isinstance(b, (list, tuple)) or len(b) != 2 or not isinstance(b[0], str) or not _number(b[1]):
            raise bad("blame[%d]" % i, "a pair [unit, seconds]")
    for i, c in enumerate(details.get("critical_chain") or ()):
        if not isinstance(c, Mapping) or not isinstance(c.get("unit"), str):
            raise bad("critical_chain[%d]" % i, "a mapping with unit, at_s, took_s, depth")
        for key in ("at_s", "took_s"):
            if c.get(key) is not None and not _number(c[key]):
                raise bad("critical_chain[%d].%s" % (i, key), "a number or null")
    startup = details.get("startup") or {}
    if not isinstance(startup, Mapping):
        raise bad("startup", "a mapping program -> {cold_ms, warm_ms}")
    for program, runs in startup.items():
        if not isinstance(runs, Mapping):
            raise bad("startup.%s" % program, "a mapping {cold_ms: [...], warm_ms: [...]}")
        for key, samples in runs.items():
            if not isinstance(samples, (list, tuple)) or not all(_number(s) for s in samples):
                raise bad("startup.%s.%s" % (program, key), "a list of numbers")
    unavailable = details.get("unavailable") or {}
    if not isinstance(unavailable, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in unavailable.items()):
        raise bad("unavailable", "a mapping of what -> why (text)")
    slices = details.get("slices") or {}
    if not isinstance(slices, Mapping) or not all(_number(v) for v in slices.values()):
        raise bad("slices", "a mapping unit -> MiB")
    build = details.get("compile")
    if build is not None:
        if not isinstance(build, Mapping):
            raise bad("compile", "a mapping (installable, file, threads, cores, runs_s, nondeterministic)")
        for key in ("installable", "file"):
            if build.get(key) is not None and not isinstance(build[key], str):
                raise bad("compile.%s" % key, "text")
        runs = build.get("runs_s") or {}
        if not isinstance(runs, Mapping) or not all(isinstance(k, str) and k.isdigit() for k in runs):
            raise bad("compile.runs_s", "a mapping core count -> [seconds]")
        for cores, samples in runs.items():
            if not isinstance(samples, (list, tuple)) or not all(_number(x) for x in samples):
                raise bad("compile.runs_s.%s" % cores, "a list of numbers")
        if build.get("nondeterministic") not in (None, True, False):
            raise bad("compile.nondeterministic", "true or false")
    return dict(details)


def check_snapshot(data: Any, where: str, host: Optional[str] = None, label: Optional[str] = None) -> Dict[str, Any]:
    """A snapshot's data checked (``where`` names it in errors), ``host`` / ``label`` when given must match."""
    if not isinstance(data, Mapping):
        raise ReportError("%s: a snapshot is a JSON object, not %s" % (where, type(data).__name__))
    schema = data.get("schema")
    if schema != SCHEMA:
        raise ReportError("%s: schema %r is not supported (this report reads schema %d snapshots)" % (where, schema, SCHEMA))
    for key in ("host", "label", "taken"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise ReportError("%s: %s must be a non-empty string, not %r" % (where, key, data.get(key)))
    if host is not None and data["host"] != host:
        raise ReportError("%s: the snapshot is of host %r, not %r" % (where, data["host"], host))
    if label is not None and data["label"] != label:
        raise ReportError("%s: the snapshot has label %r, not %r" % (where, data["label"], label))
    system = data.get("system") or {}
    if not isinstance(system, Mapping):
        raise ReportError("%s: system must be a mapping" % where)
    if system.get("guest") not in (None, True, False):
        raise ReportError("%s: system.guest must be true, false or null, not %r" % (where, system.get("guest")))
    metrics = data.get("metrics")
    if not isinstance(metrics, Mapping):
        raise ReportError("%s: metrics must be a mapping of names to numbers" % where)
    clean: Dict[str, float] = {}
    for name, value in metrics.items():
        if not isinstance(name, str) or not name or name != name.strip() or any(c in name for c in "|\n\r\t "):
            raise ReportError("%s: metric name %r is not allowed" % (where, name))
        if value is None:  # measured nothing: the same as absent
            continue
        if not _number(value):
            raise ReportError("%s: metric %s must be a finite number, not %r" % (where, name, value))
        clean[name] = value
    out = dict(data)
    out.update(system=dict(system), metrics=clean, details=_check_details(where, data.get("details")))
    return out


def load_snapshot(path: str, host: Optional[str] = None, label: Optional[str] = None) -> Dict[str, Any]:
    """The snapshot in ``path``, checked (ReportError naming the file and the problem)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise ReportError("%s: no such snapshot" % path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError("%s: cannot read the snapshot: %s" % (path, exc)) from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ReportError("%s: not valid JSON: %s" % (path, exc)) from None
    return check_snapshot(data, path, host=host, label=label)


# ---------------------------------------------------------------------------------------------------- comparison


def _sort_key(metric: str) -> Tuple[int, int, str]:
    """Known metrics in ORDER, then by name; a build's core counts by number (2 before 12)."""
    match = COMPILE_CORES.match(metric)
    cores = int(match.group(1)) if match else 0
    return (ORDER.index(metric) if metric in ORDER else len(ORDER), cores, metric)


def _row(metric: str, before: Optional[float], after: Optional[float]) -> Dict[str, Any]:
    unit, digits = unit_of(metric), digits_of(metric)
    row: Dict[str, Any] = dict(metric=metric, family=family_of(metric), unit=unit, digits=digits, before=before,
                               after=after, delta=None, delta_pct=None, change=None,
                               higher_is_better=higher_is_better(metric))
    if before is None or after is None:
        return row
    row["delta"] = after - before
    if before != 0:
        row["delta_pct"] = 100.0 * (after - before) / abs(before)
    if fmt_number(before, unit, digits) == fmt_number(after, unit, digits):
        row["change"] = "same"
    elif metric in NEUTRAL:
        row["change"] = "changed"
    else:
        row["change"] = "better" if (after > before) == row["higher_is_better"] else "worse"
    return row


def goal(target: Target, before: Optional[float]) -> Optional[float]:
    """The value the second label must reach for ``target``: its bound, or the first label's value reduced."""
    if target.kind in ("max", "min"):
        return target.value
    if before is None:
        return None
    if target.kind == "decrease":
        return before - target.value
    if before <= 0:
        return None
    return before * (1.0 - target.value / 100.0)


def _resolve_guest(guest: Optional[bool], before: Mapping[str, Any], after: Mapping[str, Any]) -> Tuple[Optional[bool], str]:
    if guest is not None:
        return bool(guest), "as the guest option says"
    for snap in (after, before):
        value = snap["system"].get("guest")
        if value is not None:
            return value, "system.guest of the %s snapshot" % snap["label"]
    return None, "unknown"


def _why_missing(snap: Mapping[str, Any], metric: str) -> str:
    """Why a label has no value for ``metric``, from its ``details.unavailable``: the entry for the metric, else for
    the longest dotted prefix of its name without the unit (``boot.critical_chain``, ``boot``), else its family."""
    unavailable = snap["details"].get("unavailable") or {}
    parts = re.sub(r"(_mib|_pct|\.pct|_ms|_s)\Z", "", metric).split(".")
    for key in [metric] + [".".join(parts[:n]) for n in range(len(parts), 0, -1)] + [family_of(metric)]:
        if key in unavailable:
            return "%s at %s: %s" % (key, snap["label"], unavailable[key])
    return ""


def _verdicts(before: Mapping[str, Any], after: Mapping[str, Any], guest: Optional[bool]) -> List[Dict[str, Any]]:
    bm, am = before["metrics"], after["metrics"]
    names = sorted(set(bm) | set(am))
    out: List[Dict[str, Any]] = []
    for t in TARGETS:
        if not t.applies(guest):
            continue
        for metric in t.metrics(names) or [t.metric]:
            b, a = bm.get(metric), am.get(metric)
            if metric not in bm and metric not in am:
                verdict, why = "unknown", "not measured at %s nor at %s" % (before["label"], after["label"])
            else:
                verdict, why = t.verdict(b, a)
            notes = [n for n in (_why_missing(s, metric) for s, v in ((before, b), (after, a)) if v is None) if n]
            if verdict == "unknown" and notes:
                why = "%s (%s)" % (why, "; ".join(dict.fromkeys(notes)))
            out.append(dict(target=t.name, title=t.title, metric=metric, kind=t.kind, describe=t.describe(),
                            unit=unit_of(metric) if "*" not in metric else t.unit, digits=digits_of(metric), before=b, after=a,
                            goal=goal(t, b), verdict=verdict, why=why, source=t.source, hosts=t.hosts))
    return out


def compare(before: Mapping[str, Any], after: Mapping[str, Any], guest: Optional[bool] = None) -> Dict[str, Any]:
    """Two checked snapshots of one host lined up: rows per metric by family, verdicts per target and metric.

    ``guest`` (the host is a VM) chooses the targets; None reads it from the snapshots' ``system.guest``."""
    before = check_snapshot(before, "first snapshot")
    after = check_snapshot(after, "second snapshot")
    if before["host"] != after["host"]:
        raise ReportError("the snapshots are of two hosts (%s at %s, %s at %s): compare one host's labels"
                          % (before["host"], before["label"], after["host"], after["label"]))
    resolved, guest_source = _resolve_guest(guest, before, after)
    bm, am = before["metrics"], after["metrics"]
    rows = [_row(m, bm.get(m), am.get(m)) for m in sorted(set(bm) | set(am), key=_sort_key)]
    families = [dict(name=name, title=title, rows=[r for r in rows if r["family"] == name])
                for name, title, _prefixes in FAMILIES]
    verdicts = _verdicts(before, after, resolved)
    counts = {v: sum(1 for x in verdicts if x["verdict"] == v) for v in VERDICTS}

    def side(snap: Mapping[str, Any]) -> Dict[str, Any]:
        return dict(label=snap["label"], taken=snap["taken"], system=snap["system"], details=snap["details"])

    return dict(host=before["host"], before=side(before), after=side(after), guest=resolved, guest_source=guest_source,
                rows=rows, families=[f for f in families if f["rows"]], verdicts=verdicts, counts=counts,
                summary=summary(counts),
                skipped=[dict(target=t.name, title=t.title, hosts=t.hosts) for t in TARGETS if not t.applies(resolved)])


def summary(counts: Mapping[str, int]) -> str:
    """``3 met, 1 missed, 2 unknown``."""
    return ", ".join("%d %s" % (counts.get(v, 0), v) for v in VERDICTS)


def chart_filename(comparison: Mapping[str, Any], family: str) -> str:
    """``baseline-vs-optimized-memory.png``: the chart of one family."""
    return "%s-vs-%s-%s.png" % (comparison["before"]["label"], comparison["after"]["label"], family)


def report_filename(before: str, after: str) -> str:
    return "%s-vs-%s.md" % (before, after)


# ---------------------------------------------------------------------------------------------------- Markdown


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return " ".join(text.split()).replace("|", "\\|")


def _table(header: Sequence[str], align: str, rows: Sequence[Sequence[Any]]) -> List[str]:
    """A Markdown table; ``align`` has one letter per column, ``l`` or ``r``."""
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |",
             "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _change(row: Mapping[str, Any], labels: Tuple[str, str]) -> str:
    if row["before"] is None:
        return "not measured at %s" % labels[0]
    if row["after"] is None:
        return "not measured at %s" % labels[1]
    if row["change"] == "same":
        return "same"
    text = fmt_delta(row["delta"], row["unit"], row["digits"])
    if row["delta_pct"] is not None:
        text += " (%s %%)" % fmt_delta(row["delta_pct"], "", 1)
    return "%s, %s" % (text, row["change"])


def _system_row(which: str, side: Mapping[str, Any]) -> List[Any]:
    system = side["system"]
    uptime = system.get("uptime_s")
    gen = system.get("generation")
    return [which, side["label"], side["taken"], system.get("kernel") or "n/a", system.get("nixos") or "n/a",
            "n/a" if gen is None else gen, "n/a" if not _number(uptime) else "%.0f s" % uptime]


def _side_by_side(left: Sequence[Sequence[Any]], right: Sequence[Sequence[Any]], width: int) -> List[List[Any]]:
    rows = []
    for i in range(max(len(left), len(right))):
        a = list(left[i]) if i < len(left) else [""] * width
        b = list(right[i]) if i < len(right) else [""] * width
        rows.append([i + 1] + a + b)
    return rows


def _top_processes(details: Mapping[str, Any]) -> List[List[Any]]:
    procs = sorted(details.get("top_processes") or (), key=lambda p: (-p["rss_mib"], p["comm"], p.get("pid") or 0))
    return [["%s (%s)" % (p["comm"], p["pid"]) if p.get("pid") is not None else p["comm"], fmt_value(p["rss_mib"], "MiB")]
            for p in procs[:TOP]]


def _blame(details: Mapping[str, Any]) -> List[List[Any]]:
    blame = sorted(details.get("blame") or (), key=lambda b: (-b[1], b[0]))
    return [[unit, fmt_value(seconds, "s")] for unit, seconds in blame[:TOP]]


def _chain(details: Mapping[str, Any]) -> List[List[Any]]:
    """The critical chain as systemd-analyze lists it: unit, when it was active, how long it took to start.  In the
    usual chain each unit waited for the next one; when it branches, units are indented by their depth."""
    chain = details.get("critical_chain") or ()
    depths = [c.get("depth") if isinstance(c.get("depth"), int) else 0 for c in chain]
    linear = depths == list(range(len(depths)))
    out = []
    for c, depth in zip(chain, depths):
        at = "@%s" % fmt_value(c.get("at_s"), "s") if c.get("at_s") is not None else ""
        took = "+%s" % fmt_value(c.get("took_s"), "s") if c.get("took_s") is not None else ""
        out.append([("" if linear else "&nbsp;&nbsp;" * depth) + c["unit"], " ".join(x for x in (at, took) if x)])
    return out


def _host_kind(comparison: Mapping[str, Any]) -> str:
    guest = comparison["guest"]
    if guest is None:
        kind = "unknown (no system.guest in the snapshots): only the targets for every host apply"
    else:
        kind = "%s (%s), the targets for %s hosts and for every host apply" % (
            "virtual machine" if guest else "workstation", comparison["guest_source"], "vm" if guest else "workstation")
    return kind


def markdown(comparison: Mapping[str, Any], charts: Optional[Mapping[str, str]] = None) -> str:
    """The report: host and labels, the verdicts, a table (and chart, when ``charts`` names one) per family, top
    processes and boot blame of both labels, what was not measured and why."""
    charts = charts or {}
    b, a = comparison["before"], comparison["after"]
    labels = (b["label"], a["label"])
    host = comparison["host"]
    out: List[str] = ["# Benchmark report: %s, %s vs %s" % (host, labels[0], labels[1]), ""]
    out += _table(["", "Label", "Taken", "Kernel", "NixOS", "Generation", "Uptime"], "lllllrr",
                  [_system_row("Before", b), _system_row("After", a)])
    out += ["", "Host: %s." % _host_kind(comparison), ""]

    out += ["## Targets", "", "%s." % comparison["summary"], ""]
    out += _verdict_table(comparison["verdicts"], labels)
    if comparison["skipped"]:
        out += ["", "Not set for this host: %s." % ", ".join(
            "%s (%s hosts)" % (s["title"], s["hosts"]) for s in comparison["skipped"])]
    out.append("")

    for family in comparison["families"]:
        out += ["## %s" % family["title"], ""]
        if family["name"] in charts:
            out += ["![%s: %s, %s vs %s](%s)" % (family["title"], host, labels[0], labels[1], charts[family["name"]]), ""]
        if family["name"] == "compile":
            out += _compile(comparison, family, labels)
            continue
        out += _table(["Metric", labels[0], labels[1], "Change"], "lrrl",
                      [[r["metric"], fmt_value(r["before"], r["unit"], r["digits"]), fmt_value(r["after"], r["unit"], r["digits"]),
                        _change(r, labels)] for r in family["rows"]])
        out.append("")
        if family["name"] == "startup":
            out += _startup_runs(comparison, labels)

    left, right = _top_processes(b["details"]), _top_processes(a["details"])
    if left or right:
        out += ["## Top processes (resident memory)", ""]
        out += _table(["#", labels[0], "RSS", labels[1], "RSS"], "rlrlr", _side_by_side(left, right, 2))
        out.append("")
    left, right = _blame(b["details"]), _blame(a["details"])
    if left or right:
        out += ["## Boot: slowest units (systemd-analyze blame, top %d)" % TOP, ""]
        out += _table(["#", labels[0], "Time", labels[1], "Time"], "rlrlr", _side_by_side(left, right, 2))
        out.append("")
    left, right = _chain(b["details"]), _chain(a["details"])
    if left or right:
        out += ["## Boot: critical chain", ""]
        out += _table(["#", labels[0], "At / took", labels[1], "At / took"], "rlrlr", _side_by_side(left, right, 2))
        out.append("")

    out += ["## Not measured", ""]
    missing = [[side["label"], what, why] for side in (b, a)
               for what, why in sorted((side["details"].get("unavailable") or {}).items())]
    if missing:
        out += _table(["Label", "What", "Why"], "lll", missing)
    else:
        out.append("Everything was measured at both labels.")
    return "\n".join(out).rstrip("\n") + "\n"


def _verdict_row(v: Mapping[str, Any]) -> List[Any]:
    unit, digits = v["unit"], v["digits"]
    return ["%s %s" % (v["title"], v["describe"]), v["metric"], fmt_value(v["before"], unit, digits),
            fmt_value(v["after"], unit, digits), "**%s**: %s" % (v["verdict"], v["why"]), v["source"]]


def _verdict_table(verdicts: Sequence[Mapping[str, Any]], labels: Tuple[str, str]) -> List[str]:
    return _table(["Target", "Metric", labels[0], labels[1], "Verdict", "Source in the plans"], "llrrll",
                  [_verdict_row(v) for v in verdicts])


def compile_cores(rows: Sequence[Mapping[str, Any]]) -> List[int]:
    """The core counts a family's rows (or any metric names' rows) measured a build at, ascending."""
    return sorted({int(m.group(1)) for m in (COMPILE_CORES.match(r["metric"]) for r in rows) if m})


def _compile(comparison: Mapping[str, Any], family: Mapping[str, Any], labels: Tuple[str, str]) -> List[str]:
    """The compile family: per core count the median build time, speedup and efficiency of both labels, the
    verdicts of the compile targets, what was built, and the runs behind the medians."""
    rows = {r["metric"]: r for r in family["rows"]}
    empty = dict(before=None, after=None, unit="", digits=None, change=None, delta=None, delta_pct=None)

    def cell(cores: int, what: str, side: str) -> str:
        row = rows.get("compile.cores_%d.%s" % (cores, what), empty)
        return fmt_value(row[side], row["unit"], row["digits"])

    table = []
    for cores in compile_cores(family["rows"]):
        wall = rows.get("compile.cores_%d.wall_s" % cores)
        table.append([cores] + [cell(cores, what, side) for side in ("before", "after")
                                for what in ("wall_s", "speedup", "efficiency_pct")]
                     + [_change(wall, labels) if wall else ""])
    out = ["Median wall time of `nix build --rebuild` of the same derivation with `--option cores N`; speedup = time "
           "at 1 core / time at N cores, efficiency = speedup / N (100 % is the plan's linear scaling).", ""]
    out += _table(["Cores", labels[0], "Speedup", "Efficiency", labels[1], "Speedup", "Efficiency", "Change"],
                  "rrrrrrrl", table)
    verdicts = [v for v in comparison["verdicts"] if v["metric"].startswith("compile.")]
    if verdicts:
        out += ["", "Against the plan (Amdahl's law: the serial unpack, configure, install and fixup phases keep a "
                "whole derivation under 100 %):", ""]
        out += _verdict_table(verdicts, labels)
    notes = []
    built = [(side["label"], side["details"].get("compile") or {}) for side in (comparison["before"], comparison["after"])]
    what = {label: (b.get("installable"), b.get("file")) for label, b in built if b.get("installable")}
    if len(set(what.values())) == 1:
        installable, path = next(iter(what.values()))
        notes.append("Built: `%s`%s at %s." % (installable, " of `%s`" % path if path else "", " and ".join(what)))
    elif what:
        notes.append("Built: %s; different derivations, their times do not compare." % ", ".join(
            "`%s`%s at %s" % (i, " of `%s`" % f if f else "", label) for label, (i, f) in what.items()))
    threads = {label: b["threads"] for label, b in built if b.get("threads")}
    if len(set(threads.values())) == 1:
        notes.append("CPU threads of the host: %s." % next(iter(threads.values())))
    elif threads:
        notes.append("CPU threads of the host: %s." % ", ".join("%s at %s" % (n, label) for label, n in threads.items()))
    differing = [label for label, b in built if b.get("nondeterministic")]
    if differing:
        notes.append("At %s a rebuild's output differed from the first build (Nix: \"may not be deterministic\"): "
                     "the times stand, the derivation is not reproducible." % " and ".join(differing))
    if notes:
        out += [""] + [" ".join(notes)]
    runs = []
    for label, b in built:
        for cores in sorted((b.get("runs_s") or {}), key=int):
            runs.append([cores, label, ", ".join(fmt_number(x, "s") for x in b["runs_s"][cores])])
    if runs:
        out += ["", "Runs behind the medians (s):", ""] + _table(["Cores", "Label", "Runs"], "rll",
                                                                 sorted(runs, key=lambda r: int(r[0])))
    return out + [""]


def _startup_runs(comparison: Mapping[str, Any], labels: Tuple[str, str]) -> List[str]:
    """The samples behind the start-up medians, so that their spread can be judged."""
    rows = []
    sides = (comparison["before"], comparison["after"])
    programs = sorted(set().union(*((s["details"].get("startup") or {}).keys() for s in sides)))
    for program in programs:
        for side in sides:
            runs = (side["details"].get("startup") or {}).get(program)
            if not runs:
                continue
            rows.append([program, side["label"]] + [", ".join(fmt_number(x, "ms") for x in runs.get(k) or ()) or "n/a"
                                                    for k in ("cold_ms", "warm_ms")])
    if not rows:
        return []
    return ["Runs behind the medians (ms):", ""] + _table(["Program", "Label", "Cold", "Warm"], "llll", rows) + [""]
