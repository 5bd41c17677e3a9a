# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plans' measurable targets, declared once.

The ``validate`` checks (idle memory) and the benchmark report (verdict per target, the target line drawn in the
charts) both read them from here; no second copy of a number exists.  A target compares a snapshot metric
(``module_utils/snapshot.py`` names them, e.g. ``memory.used_mib``) in one of four ways:

``max``            the metric after tuning must be at most ``value``
``min``            the metric after tuning must be at least ``value``
``reduction_pct``  the metric must fall by at least ``value`` per cent from the first label to the second
``decrease``       the metric must fall by at least ``value`` (in the metric's unit) from the first to the second

``metric`` may end in a ``*`` pattern part (``startup.*.warm_ms``): the target then applies to every matching metric.
``hosts`` says where the plan sets it: ``all``, ``workstation`` (``nixperf_hardware.virtualization.guest`` false) or
``vm`` (guest true).
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

KINDS = ("max", "min", "reduction_pct", "decrease")
HOSTS = ("all", "workstation", "vm")


@dataclass(frozen=True)
class Target:
    name: str
    metric: str
    kind: str
    value: float
    unit: str
    title: str
    source: str
    hosts: str = "all"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError("target %s: kind must be one of %s" % (self.name, ", ".join(KINDS)))
        if self.hosts not in HOSTS:
            raise ValueError("target %s: hosts must be one of %s" % (self.name, ", ".join(HOSTS)))

    @property
    def needs_baseline(self) -> bool:
        """Whether the target compares two snapshots (a reduction) rather than one value against a bound."""
        return self.kind in ("reduction_pct", "decrease")

    def applies(self, guest: Optional[bool]) -> bool:
        """Whether the plan sets this target for a host (``guest``: the host is a VM; None: unknown)."""
        if self.hosts == "all":
            return True
        if guest is None:
            return False
        return guest == (self.hosts == "vm")

    def metrics(self, names: Any) -> List[str]:
        """The metric names among ``names`` this target speaks of (its pattern, or its one name)."""
        if "*" not in self.metric:
            return [self.metric] if self.metric in names else []
        return sorted(n for n in names if fnmatch.fnmatchcase(n, self.metric))

    def describe(self) -> str:
        """``< 4096 MiB``, ``-20 %``, ... : the target as the report and the checks print it."""
        number = "%g" % self.value
        if self.kind == "max":
            return "<= %s %s" % (number, self.unit)
        if self.kind == "min":
            return ">= %s %s" % (number, self.unit)
        if self.kind == "reduction_pct":
            return "-%s %%" % number
        return "-%s %s" % (number, self.unit)

    def verdict(self, before: Optional[float], after: Optional[float]) -> Tuple[str, str]:
        """``("met" | "missed" | "unknown", why)`` for the metric's values at the two labels."""
        if after is None:
            return "unknown", "no value at the second label"
        if self.kind == "max":
            return ("met" if after <= self.value else "missed"), "%g %s (target %s)" % (after, self.unit, self.describe())
        if self.kind == "min":
            return ("met" if after >= self.value else "missed"), "%g %s (target %s)" % (after, self.unit, self.describe())
        if before is None:
            return "unknown", "no value at the first label"
        if self.kind == "decrease":
            delta = before - after
            return ("met" if delta >= self.value else "missed"), "%+g %s (target %s)" % (-delta, self.unit, self.describe())
        if before <= 0:
            return "unknown", "the first label's value is %g: no reduction can be computed" % before
        pct = 100.0 * (before - after) / before
        return ("met" if pct >= self.value else "missed"), "%+.1f %% (target %s)" % (-pct, self.describe())


TARGETS: Tuple[Target, ...] = (
    Target("idle_ram", "memory.used_mib", "max", 4096, "MiB", "Idle RAM",
           "workstation plan, Resource Targets: RAM (Idle) < 4GB; Validation Checklist: Idle memory < 4GB",
           hosts="workstation"),
    Target("idle_ram_decrease", "memory.used_mib", "decrease", 1024, "MiB", "Idle RAM decrease",
           "KubeVirt plan, Success Metrics (secondary): Idle RAM usage decreased by 1-2GB", hosts="vm"),
    Target("compositor_cpu", "cpu.compositor.pct", "max", 20, "%", "Compositor CPU",
           "KubeVirt plan, Phase 2 success criteria and Success Metrics: Compositor CPU usage < 20%"),
    Target("background_cpu", "cpu.total.pct", "max", 5, "%", "Background CPU",
           "KubeVirt plan, Success Metrics (secondary): Background CPU usage < 5%", hosts="vm"),
    Target("boot_time", "boot.total_s", "reduction_pct", 20, "s", "Boot time",
           "boot / startup / compile plan, Section E: ~20% reduction in boot time"),
    Target("boot_critical_chain", "boot.critical_chain_s", "reduction_pct", 20, "s", "Boot critical chain",
           "boot / startup / compile plan, Section E: systemd-analyze critical-chain, ~20% reduction"),
    Target("startup_cold", "startup.*.cold_ms", "reduction_pct", 15, "ms", "Program start-up (cold)",
           "boot / startup / compile plan, Section E: ~15% improvement in load time"),
    Target("startup_warm", "startup.*.warm_ms", "reduction_pct", 15, "ms", "Program start-up (warm)",
           "boot / startup / compile plan, Section E: ~15% improvement in load time"),
    # "Linear scaling with cores" read as a bound on the second label alone: the parallel efficiency (speedup / N) at
    # the most cores measured.  80 % and not 100 %: by Amdahl's law a build whose serial part is s reaches
    # 1 / (N s + 1 - s) at N cores, and every nixpkgs build has serial phases (unpack, configure, install, fixup:
    # only buildPhase gets -j NIX_BUILD_CORES, pkgs/stdenv/generic/setup.sh); 80 % at 8 cores allows s <= 3.6 %.
    Target("compile_scaling", "compile.scaling_efficiency_pct", "min", 80, "%", "Compile scaling efficiency",
           "boot / startup / compile plan, Section E: nix build .#nixosConfigurations.<HOST>.config.system.build."
           "toplevel, expected linear scaling with cores"),
)


def get(name: str) -> Target:
    for t in TARGETS:
        if t.name == name:
            return t
    raise KeyError("no target %r (known: %s)" % (name, ", ".join(t.name for t in TARGETS)))


def for_metric(metric: str, guest: Optional[bool] = None) -> List[Target]:
    """The targets that speak of ``metric`` on a host (``guest`` as in ``Target.applies``)."""
    return [t for t in TARGETS if t.metrics([metric]) and t.applies(guest)]


def as_dicts(guest: Optional[bool] = None) -> List[Dict[str, Any]]:
    """Every target that applies, as plain data (for module arguments and JSON)."""
    return [{"name": t.name, "metric": t.metric, "kind": t.kind, "value": t.value, "unit": t.unit, "title": t.title,
             "source": t.source, "hosts": t.hosts} for t in TARGETS if t.applies(guest)]


def from_dict(data: Mapping[str, Any]) -> Target:
    return Target(name=data["name"], metric=data["metric"], kind=data["kind"], value=float(data["value"]),
                  unit=data["unit"], title=data["title"], source=data["source"], hosts=data.get("hosts", "all"))
