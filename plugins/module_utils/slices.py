# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Phase 0.2 of the workstation plan: systemd resource slices.

Every login's ``user-$UID.slice`` gets limits through a drop-in on the
``user-.slice`` template (``systemd.slices."user-"`` with
``overrideStrategy = "asDropin"``; ``"user-.slice"`` would become
``user-.slice.slice``).  Derived from the host's facts:

* ``MemoryHigh = 75 % of RAM`` (throttling starts; 16 GiB -> 12G)
* ``MemoryMax = RAM - max(1 GiB, RAM / 8)`` (hard cap leaving room for the
  system; 16 GiB -> 14G, 32 GiB -> 28G)
* ``CPUQuota = (threads - max(1, threads / 4)) x 100 %`` (a quarter of the
  threads stay for the OS and the compositor; 8 threads -> 600 %)

The display manager is protected (OOMScoreAdjust -900, its own memory bounds),
nix-daemon builds yield to the desktop (low CPU / IO weight, memory bounds), and
systemd-oomd watches the root, system and user slices with current option names
(``settings.OOM``, ``enableUserSlices``).
"""
from __future__ import annotations

import re
from typing import Any, Dict

from ansible_collections.nixperf.tuning.plugins.module_utils.phase import Inputs, PhasePlan, register

_SIZE = re.compile(r"([0-9]+)(?:\.([0-9]{1,3}))?([KMGT])")
_UNIT_MIB = {"K": 1.0 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024}


def size_mib(inp: Inputs, name: str, value: Any) -> int:
    if not isinstance(value, str) or not _SIZE.fullmatch(value):
        raise inp.fail(inp.prefix + name, "must be a size such as 512M, 2.5G or 12G, got %r" % (value,))
    m = _SIZE.fullmatch(value)
    whole, frac, unit = m.group(1), m.group(2) or "", m.group(3)
    return int((int(whole) + (int(frac) / 10 ** len(frac) if frac else 0)) * _UNIT_MIB[unit])


def fmt(mib: int) -> str:
    """A systemd size: whole GiB as G, otherwise M."""
    return "%dG" % (mib // 1024) if mib % 1024 == 0 else "%dM" % mib


def user_limits(total_mib: int, threads: int) -> Dict[str, Any]:
    high = int(round(total_mib * 0.75))
    reserve = max(1024, total_mib // 8)
    return {
        "memory_high_mib": high,
        "memory_max_mib": total_mib - reserve,
        "cpu_quota_percent": (threads - max(1, threads // 4)) * 100,
    }


def _size_setting(inp: Inputs, name: str, derived: int) -> int:
    value = inp.setting(name, None)
    return derived if value is None else size_mib(inp, name, value)


@register("resource_slices", "resource_slices_")
def build_slices(inp: Inputs) -> PhasePlan:
    total = inp.fact("memory.total_mib", lo=512, hi=64 * 1024 * 1024, hint="total RAM in MiB, e.g. 16384")
    threads = inp.fact("cpu.threads", lo=1, hi=4096, hint="hardware threads, e.g. 8")
    enable = inp.bool_setting("enable", True)
    derived = user_limits(total, threads)
    high = _size_setting(inp, "user_memory_high", derived["memory_high_mib"])
    hard = _size_setting(inp, "user_memory_max", derived["memory_max_mib"])
    quota = inp.int_setting("user_cpu_quota_percent", 1, threads * 100, None)
    quota = derived["cpu_quota_percent"] if quota is None else quota
    if high >= hard:
        raise inp.fail(inp.prefix + "user_memory_high", "(%s) must be below %suser_memory_max (%s)"
                       % (fmt(high), inp.prefix, fmt(hard)))
    if hard > total:
        raise inp.fail(inp.prefix + "user_memory_max", "(%s) is more than the host's RAM (%s)"
                       % (fmt(hard), fmt(total)))
    dm_high = _size_setting(inp, "display_manager_memory_high", 512)
    dm_max = _size_setting(inp, "display_manager_memory_max", 1024)
    if dm_high >= dm_max:
        raise inp.fail(inp.prefix + "display_manager_memory_high", "(%s) must be below %sdisplay_manager_memory_max"
                       " (%s)" % (fmt(dm_high), inp.prefix, fmt(dm_max)))
    dm_oom = inp.int_setting("display_manager_oom_score_adjust", -1000, 1000, -900)
    nix_high = int(round(total * 0.5))
    nix_max = int(round(total * 0.75))
    pressure = inp.setting("oomd_pressure_duration", "20s")
    if not isinstance(pressure, str) or not re.fullmatch(r"[0-9]+(ms|s|min)", pressure):
        raise inp.fail(inp.prefix + "oomd_pressure_duration", "must be a duration such as 20s, got %r" % (pressure,))

    config: Dict[str, Any] = {
        "systemd": {
            "slices": {
                "user-": {
                    "overrideStrategy": "asDropin",
                    "sliceConfig": {"MemoryHigh": fmt(high), "MemoryMax": fmt(hard), "CPUQuota": "%d%%" % quota},
                },
            },
            "services": {
                "display-manager": {"serviceConfig": {
                    "OOMScoreAdjust": dm_oom, "MemoryHigh": fmt(dm_high), "MemoryMax": fmt(dm_max)}},
                "nix-daemon": {"serviceConfig": {
                    "CPUWeight": 20, "IOWeight": 20, "OOMScoreAdjust": 350,
                    "MemoryHigh": fmt(nix_high), "MemoryMax": fmt(nix_max)}},
            },
            "oomd": {
                "enable": True, "enableRootSlice": True, "enableSystemSlice": True, "enableUserSlices": True,
                "settings": {"OOM": {"DefaultMemoryPressureDurationSec": pressure}},
            },
        },
    }
    out = {"user_memory_high": fmt(high), "user_memory_max": fmt(hard), "user_cpu_quota": "%d%%" % quota,
           "nix_daemon_memory_high": fmt(nix_high), "nix_daemon_memory_max": fmt(nix_max)}
    return PhasePlan(
        phase="resource_slices", config=config, derived=out, enable=enable,
        description="systemd resource slices, protected display manager and systemd-oomd",
        note="Derived from %d MiB RAM and %d threads: every user slice MemoryHigh %s, MemoryMax %s, CPUQuota %d%%."
        % (total, threads, fmt(high), fmt(hard), quota),
    )
