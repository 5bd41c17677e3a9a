# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Phase 0 of the workstation plan (v2.1): zram swap and kernel memory sysctls.

Values the plan fixes for a 16 GiB machine are derived from the host's RAM so
that another machine gets its own, equally reasoned, numbers:

* zram size: the plan's 12 GiB on 16 GiB is 75 % of RAM.  We keep 75 % but cap
  the device at 16 GiB (with zstd's ~3:1 ratio a full 16 GiB device already
  pins ~5 GiB of RAM; past that the pool competes with the page cache).
  ``memoryPercent = round(100 * min(0.75 * RAM, 16 GiB) / RAM)``
  -> 8 GiB: 75, 16 GiB: 75, 32 GiB: 50, 64 GiB: 25.
* dirty limits: the plan's 10 % / 5 % of 16 GiB are ~1.6 GiB / ~0.8 GiB of dirty
  page cache, about one second of NVMe write-back.  We keep those byte budgets:
  ``dirty_ratio = clamp(round(100 * 1.6 GiB / RAM), 2, 20)`` and
  ``dirty_background_ratio = max(1, dirty_ratio // 2)``
  -> 8 GiB: 20/10, 16 GiB: 10/5, 32 GiB: 5/2, 64 GiB: 2/1.

Corrections to the plan (see the role README): ``vm.overcommit_ratio`` only
matters when ``vm.overcommit_memory = 2``, so it is written only then; the
plan's comment "allow 50% overcommit" describes mode 2, not the heuristic mode 0
it selects.
"""
from __future__ import annotations

import re
from typing import Any, Dict


from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixMarker
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import Inputs, Phase, PhasePlan, Setting

# nixos/modules/config/zram.nix: types.enum [ "842" "lzo" "lzo-rle" "lz4" "lz4hc" "zstd" ]
ZRAM_ALGORITHMS = ("842", "lzo", "lzo-rle", "lz4", "lz4hc", "zstd")
# swapon(8): priority -1 .. 32767
SWAP_PRIORITY = (-1, 32767)
GIB = 1024
ZRAM_SHARE = 0.75
ZRAM_CAP_MIB = 16 * GIB
DIRTY_BUDGET_MIB = 1.6 * GIB
# Keys this phase writes itself; sysctl_extra may not redefine them.
MANAGED_SYSCTLS = ("vm.swappiness", "vm.vfs_cache_pressure", "vm.dirty_ratio", "vm.dirty_background_ratio",
                   "vm.overcommit_memory", "vm.overcommit_ratio", "vm.panic_on_oom")
SYSCTL_KEY = re.compile(r"^[a-z0-9_]+(\.[A-Za-z0-9_:@/-]+)+$")


def zram_percent(total_mib: int) -> int:
    """zramSwap.memoryPercent for a machine with ``total_mib`` of RAM."""
    size = min(ZRAM_SHARE * total_mib, ZRAM_CAP_MIB)
    return max(1, min(100, int(round(100.0 * size / total_mib))))


def dirty_ratios(total_mib: int) -> Dict[str, int]:
    ratio = max(2, min(20, int(round(100.0 * DIRTY_BUDGET_MIB / total_mib))))
    return {"dirty_ratio": ratio, "dirty_background_ratio": max(1, ratio // 2)}


def _sysctl_extra(inp: Inputs) -> Dict[str, Any]:
    extra = inp["sysctl_extra"]
    var = inp.prefix + "sysctl_extra"
    out = {}
    for key, value in extra.items():
        if not isinstance(key, str) or not SYSCTL_KEY.fullmatch(key):
            raise inp.fail(var, "key %r is not a sysctl name (dotted words such as vm.max_map_count, "
                                "no spaces; pattern %s)" % (key, SYSCTL_KEY.pattern))
        if key in MANAGED_SYSCTLS:
            raise inp.fail(var, "key %s is managed by its own variable (%s%s)"
                           % (key, inp.prefix, key.split(".", 1)[1]))
        if isinstance(value, bool) or not isinstance(value, (int, str, NixMarker)):
            raise inp.fail(var, "value of %s must be an integer, a string or a Nix marker, got %r" % (key, value))
        out[key] = value
    return out


def build_memory(inp: Inputs) -> PhasePlan:
    total = inp.fact("memory.total_mib")
    zram = inp["zram_enable"]
    algorithm = inp["zram_algorithm"]
    percent = inp["zram_memory_percent"]
    percent = zram_percent(total) if percent is None else percent
    priority = inp["zram_priority"]
    swappiness = inp["swappiness"]
    vfs = inp["vfs_cache_pressure"]
    derived_dirty = dirty_ratios(total)
    dirty = inp["dirty_ratio"] or derived_dirty["dirty_ratio"]
    background = inp["dirty_background_ratio"]
    if background is None:
        background = max(1, dirty // 2)
    if background >= dirty:
        raise inp.fail(inp.prefix + "dirty_background_ratio",
                       "(%d) must be below %sdirty_ratio (%d): the kernel starts background write-back "
                       "before it throttles writers" % (background, inp.prefix, dirty))
    overcommit = inp["overcommit_memory"]
    overcommit_ratio = inp["overcommit_ratio"]
    panic = inp["panic_on_oom"]
    extra = _sysctl_extra(inp)
    # zram makes swapping cheap, so the plan (v2.1) swaps earlier (67) and reclaims dentries/inodes a bit harder
    # (125). Every key at the nixperf priority (inp.owned): a host module that sets one too (the plan's
    # aggressive-ram-optimization.nix forces four with lib.mkForce, sets two plainly) never makes evaluation fail
    # with "defined multiple times"; its lib.mkForce wins, its plain values give way to ours.
    sysctl: Dict[str, Any] = {
        "vm.swappiness": swappiness,
        "vm.vfs_cache_pressure": vfs,
        "vm.dirty_ratio": dirty,
        "vm.dirty_background_ratio": background,
        "vm.overcommit_memory": overcommit,
        "vm.panic_on_oom": panic,
    }
    if overcommit == 2:
        sysctl["vm.overcommit_ratio"] = overcommit_ratio
    sysctl.update(extra)
    sysctl = {k: inp.owned(v) for k, v in sysctl.items()}
    config: Dict[str, Any] = {"boot": {"kernel": {"sysctl": sysctl}}}
    derived: Dict[str, Any] = {
        "total_mib": total, "swappiness": swappiness, "vfs_cache_pressure": vfs,
        "dirty_ratio": dirty, "dirty_background_ratio": background, "overcommit_memory": overcommit,
        "panic_on_oom": panic, "zram_enable": zram,
    }
    if zram:
        zram_values = {"enable": True, "algorithm": algorithm, "memoryPercent": percent, "priority": priority}
        config["zramSwap"] = {k: inp.owned(v) for k, v in zram_values.items()}
        derived.update(zram_algorithm=algorithm, zram_memory_percent=percent, zram_priority=priority,
                       zram_size_mib=total * percent // 100)
    else:
        config["zramSwap"] = {"enable": inp.owned(False)}
    return PhasePlan(
        phase="memory",
        config=config,
        derived=derived,
        enable=inp["enable"],
        description="zram swap and kernel memory tuning",
        note="zram %s, %d MiB RAM: %s" % (
            "%s %d%% (%d MiB) priority %d" % (algorithm, percent, total * percent // 100, priority) if zram
            else "off", total, "dirty %d/%d%%, swappiness %d, vfs_cache_pressure %d"
            % (dirty, background, swappiness, vfs)),
    )


PHASE = Phase(
    name="memory",
    order=10,
    title="zram swap and kernel memory tuning (workstation plan, phase 0)",
    description=(
        "Generates C(nixperf/memory.nix), a NixOS module setting C(zramSwap) and C(boot.kernel.sysctl) from the "
        "host's RAM size, and wires it into the generated C(nixperf/default.nix).",
        "Range and cross-field checks (memory percent 1-100, priority -1..32767, background ratio below dirty "
        "ratio, sysctl key syntax) run in the C(nixperf.tuning.phase) action before any file is written.",
    ),
    facts=("memory.total_mib",),
    tags=("nixos", "zram", "sysctl", "performance"),
    build=build_memory,
    settings=(
        Setting("enable", "bool", True, "Default of C(nixperf.memory.enable) in the generated module (false keeps "
                "the file, inert)."),
        Setting("zram_enable", "bool", True, "zram compressed swap in RAM."),
        Setting("zram_algorithm", "str", "zstd", "Compression algorithm (zram.nix enum): zstd compresses best, lz4 "
                "is fastest.", choices=ZRAM_ALGORITHMS),
        Setting("zram_memory_percent", "int", None, "zram device size in % of RAM (1-100); null = min(75 % of RAM, "
                "16 GiB) (16 GiB RAM -> 75).", lo=1, hi=100),
        Setting("zram_priority", "int", 100, "Swap priority of zram, above any disk swap (-1 .. 32767).",
                lo=SWAP_PRIORITY[0], hi=SWAP_PRIORITY[1]),
        Setting("swappiness", "int", 67, "C(vm.swappiness) (0-200): 67 is the plan's v2.1 value for zram "
                "(swap to zram is cheap).", lo=0, hi=200),
        Setting("vfs_cache_pressure", "int", 125, "C(vm.vfs_cache_pressure) (1-1000): 125 reclaims "
                "dentries/inodes a bit sooner on a zram desktop.", lo=1, hi=1000),
        Setting("dirty_ratio", "int", None, "C(vm.dirty_ratio) (1-100); null = keep ~1.6 GiB of dirty "
                "pages (16 GiB RAM -> 10).", lo=1, hi=100),
        Setting("dirty_background_ratio", "int", None, "C(vm.dirty_background_ratio) (1-100, below the dirty "
                "ratio); null = half of the dirty ratio (16 GiB RAM -> 5).", lo=1, hi=100),
        Setting("overcommit_memory", "int", 0, "C(vm.overcommit_memory): 0 heuristic (plan), 1 always, 2 strict.",
                choices=(0, 1, 2)),
        Setting("overcommit_ratio", "int", 50, "C(vm.overcommit_ratio), written only with overcommit_memory 2 "
                "(ignored by the kernel otherwise).", lo=0, hi=1000),
        Setting("panic_on_oom", "int", 0, "C(vm.panic_on_oom): 0 lets the OOM killer work (plan).",
                choices=(0, 1, 2)),
        Setting("sysctl_extra", "dict", {}, "More sysctls, key -> integer, string or Nix code marker (this "
                "variable takes Nix code: C({_nix: ...}) and the C(nix_*) filters). Keys must be dotted sysctl "
                "names without spaces and may not redefine the keys above.", nix_code=True),
    ),
)
