# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Phase 1.3 of the workstation plan: the hardware profile every optimisation derives from.

Writes ``nixperf/profile/hardware.nix`` (data: cpu, build.compiler, gpu, memory)
and a module that hands it to every NixOS module as ``currentHardwareProfile``
through ``_module.args``, so no flake has to be edited for NixOS modules.  The
compiler flags are checked here against the host's x86-64 level from the
inventory, and in apply mode against the live CPU (``hardware_facts``).
"""
from __future__ import annotations

from typing import Any, Dict

from ansible_collections.nixperf.tuning.plugins.module_utils.hardware import MARCH
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixRaw
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import Inputs, PhasePlan, register

PROFILE = "profile/hardware.nix"


@register("hardware_profile", "hardware_profile_")
def build_profile(inp: Inputs) -> PhasePlan:
    family = inp.fact("cpu.family", kind=str, choices=sorted(MARCH), hint="GCC -march name, e.g. skylake")
    level = inp.fact("cpu.x86_64_level", lo=1, hi=4, hint="1-4, e.g. 3 for AVX2")
    march = inp.choice("march", sorted(MARCH), family)
    mtune = inp.choice("mtune", sorted(MARCH) + ["generic"], march if march in MARCH else "generic")
    opt = inp.choice("optimization_level", [1, 2, 3], 3)
    needs = MARCH[march][0]
    if needs > level:
        raise inp.fail(inp.prefix + "march", "(%s) needs x86-64-v%d, but nixperf_hardware.cpu.x86_64_level is %d: "
                       "code built for it would crash this CPU with illegal instructions" % (march, needs, level))
    gpu = inp.hardware.get("gpu") or {} if inp.hardware else {}
    profile: Dict[str, Any] = {
        "cpu": {
            "vendor": inp.fact("cpu.vendor", kind=str, choices=["intel", "amd"]),
            "family": family,
            "cores": inp.fact("cpu.cores", lo=1, hi=4096),
            "threads": inp.fact("cpu.threads", lo=1, hi=4096),
            "x86_64_level": level,
        },
        "build": {"compiler": {"march": march, "mtune": mtune, "optimizationLevel": opt,
                               "goamd64": "v%d" % level}},
        "gpu": {"vendor": gpu.get("vendor", "none"), "model": gpu.get("model"),
                "decode": list(gpu.get("decode") or [])},
        "memory": {"total_mib": inp.fact("memory.total_mib", lo=512, hi=64 * 1024 * 1024)},
    }
    return PhasePlan(
        phase="hardware_profile",
        config={},
        always={"_module": {"args": {"currentHardwareProfile": NixRaw("import ./" + PROFILE)}}},
        data_files={PROFILE: profile},
        enable=inp.bool_setting("enable", True),
        derived={"march": march, "mtune": mtune, "optimization_level": opt, "profile": PROFILE},
        description="the hardware profile (exposed as currentHardwareProfile)",
        note="-march=%s -mtune=%s -O%d (x86-64-v%d CPU)" % (march, mtune, opt, level),
    )
