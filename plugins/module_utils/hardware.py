# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a CPU can run: GCC -march names, the instruction sets they need, and a
reader of /proc/cpuinfo and /sys that reports the live hardware.

A system built with ``-march=skylake`` on a CPU without AVX2 dies with illegal
instructions at boot, so ``missing_flags`` guards every use of ``-march``.
"""
from __future__ import annotations

import os
import re
from typing import Dict, List, Optional

# /proc/cpuinfo flag names (Linux spelling) each x86-64 micro-architecture level needs.
LEVELS: Dict[int, List[str]] = {
    1: ["cmov", "cx8", "fpu", "fxsr", "mmx", "sse", "sse2"],
    2: ["cx16", "lahf_lm", "popcnt", "sse4_1", "sse4_2", "ssse3"],
    3: ["avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"],
    4: ["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"],
}

# GCC -march values: (x86-64 level, extra flags beyond the level).
MARCH: Dict[str, tuple] = {
    "x86-64": (1, []), "x86-64-v2": (2, []), "x86-64-v3": (3, []), "x86-64-v4": (4, []),
    "nehalem": (2, []), "westmere": (2, ["pclmulqdq", "aes"]),
    "sandybridge": (2, ["avx", "pclmulqdq", "aes"]), "ivybridge": (2, ["avx", "f16c", "rdrand"]),
    "haswell": (3, []), "broadwell": (3, ["adx", "rdseed"]), "skylake": (3, ["adx", "rdseed", "clflushopt"]),
    "skylake-avx512": (4, ["adx", "rdseed"]), "icelake-client": (4, ["vaes", "sha_ni"]),
    "alderlake": (3, ["vaes", "sha_ni"]), "znver1": (3, ["sha_ni", "clzero"]), "znver2": (3, ["sha_ni", "clwb"]),
    "znver3": (3, ["sha_ni", "vaes"]), "znver4": (4, ["sha_ni", "vaes"]),
}
PCI_VENDORS = {"0x10de": "nvidia", "0x1002": "amd", "0x8086": "intel"}


def required_flags(march: str) -> List[str]:
    if march not in MARCH:
        raise ValueError("-march=%s is not one this collection knows (known: %s)" % (march, ", ".join(sorted(MARCH))))
    level, extra = MARCH[march]
    needed: List[str] = []
    for lvl in range(1, level + 1):
        needed += LEVELS[lvl]
    return needed + list(extra)


def missing_flags(march: str, flags: List[str]) -> List[str]:
    have = set(flags)
    return [f for f in required_flags(march) if f not in have]


def x86_64_level(flags: List[str]) -> int:
    have = set(flags)
    level = 0
    for lvl in sorted(LEVELS):
        if all(f in have for f in LEVELS[lvl]):
            level = lvl
        else:
            break
    return level


def parse_cpuinfo(text: str) -> Dict[str, object]:
    model, flags, threads, cores = None, [], 0, set()
    for line in text.splitlines():
        key, _sep, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key == "processor":
            threads += 1
        elif key == "model name" and model is None:
            model = value
        elif key == "flags" and not flags:
            flags = value.split()
        elif key == "core id":
            cores.add(value)
    return {"model": model, "flags": flags, "threads": threads, "cores": len(cores) or None}


def read(path: str) -> Optional[str]:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def gather(root: str = "/") -> Dict[str, object]:
    """Live hardware facts below ``root`` (``/`` on a real host)."""
    def p(*parts: str) -> str:
        return os.path.join(root, *parts)

    cpu = parse_cpuinfo(read(p("proc/cpuinfo")) or "")
    mem = re.search(r"^MemTotal:\s+([0-9]+) kB", read(p("proc/meminfo")) or "", re.M)
    gpus = []
    drm = p("sys/class/drm")
    for card in sorted(os.listdir(drm)) if os.path.isdir(drm) else []:
        if re.fullmatch(r"card[0-9]+", card):
            vendor = (read(os.path.join(drm, card, "device", "vendor")) or "").strip()
            gpus.append(PCI_VENDORS.get(vendor, "other"))
    nvme = sorted(os.listdir(p("sys/class/nvme"))) if os.path.isdir(p("sys/class/nvme")) else []
    sys_vendor = (read(p("sys/class/dmi/id/sys_vendor")) or "").strip()
    product = (read(p("sys/class/dmi/id/product_name")) or "").strip()
    flags = list(cpu["flags"])
    return {
        "cpu": {"model": cpu["model"], "threads": cpu["threads"], "cores": cpu["cores"],
                "x86_64_level": x86_64_level(flags), "flags": flags},
        "memory": {"total_mib": int(mem.group(1)) // 1024 if mem else None},
        "gpu": {"vendors": gpus},
        "storage": {"nvme": nvme},
        "virtualization": {"guest": "hypervisor" in flags, "vendor": sys_vendor or None, "product": product or None},
    }
