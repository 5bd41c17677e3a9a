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

from ansible_collections.nixperf.tuning.plugins.module_utils.compiler import goamd64
from ansible_collections.nixperf.tuning.plugins.module_utils.hardware import MARCH
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixRaw
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import Inputs, Phase, PhasePlan, Setting

PROFILE = "profile/hardware.nix"


def build_profile(inp: Inputs) -> PhasePlan:
    family = inp.fact("cpu.family")
    level = inp.fact("cpu.x86_64_level")
    march = inp["march"] or family
    mtune = inp["mtune"] or (march if march in MARCH else "generic")
    opt = inp["optimization_level"]
    needs = MARCH[march][0]
    if needs > level:
        raise inp.fail(inp.prefix + "march", "(%s) needs x86-64-v%d, but nixperf_hardware.cpu.x86_64_level is %d: "
                       "code built for it would crash this CPU with illegal instructions" % (march, needs, level))
    gpu = inp.hardware.get("gpu") or {}
    profile: Dict[str, Any] = {
        "cpu": {
            "vendor": inp.fact("cpu.vendor"),
            "family": family,
            "cores": inp.fact("cpu.cores"),
            "threads": inp.fact("cpu.threads"),
            "x86_64_level": level,
        },
        "build": {"compiler": {"march": march, "mtune": mtune, "optimizationLevel": opt,
                               "goamd64": goamd64(level)}},
        "gpu": {"vendor": gpu.get("vendor", "none"), "model": gpu.get("model"),
                "decode": list(gpu.get("decode") or [])},
        "memory": {"total_mib": inp.fact("memory.total_mib")},
    }
    return PhasePlan(
        phase="hardware_profile",
        config={},
        always={"_module": {"args": {"currentHardwareProfile": NixRaw("import ./" + PROFILE)}}},
        data_files={PROFILE: profile},
        enable=inp["enable"],
        derived={"march": march, "mtune": mtune, "optimization_level": opt, "profile": PROFILE},
        march=[march],
        goamd64=[goamd64(level)],
        description="the hardware profile (exposed as currentHardwareProfile)",
        note="-march=%s -mtune=%s -O%d (x86-64-v%d CPU)" % (march, mtune, opt, level),
    )


MARCH_NAMES = tuple(sorted(MARCH))

PHASE = Phase(
    name="hardware_profile",
    order=30,
    title="The hardware profile every optimisation derives from (workstation plan, phase 1.3)",
    description=(
        "Writes C(nixperf/profile/hardware.nix) (data) and C(nixperf/hardware_profile.nix), a module that exposes it "
        "to every NixOS module as C(currentHardwareProfile).",
        "Refuses a C(-march) beyond the host's x86-64 level; in apply mode the write step also reads the live CPU "
        "with M(nixperf.tuning.hardware_facts) and refuses every C(-march) and C(GOAMD64) of the run whose "
        "instruction sets it lacks.",
    ),
    facts=("cpu.vendor", "cpu.family", "cpu.x86_64_level", "cpu.cores", "cpu.threads", "memory.total_mib"),
    tags=("nixos", "hardware", "march", "performance"),
    build=build_profile,
    settings=(
        Setting("enable", "bool", True, "Default of C(nixperf.hardware_profile.enable) (the profile itself is "
                "always exposed: it is data)."),
        Setting("march", "str", None, "GCC C(-march); null = C(nixperf_hardware.cpu.family).",
                choices=MARCH_NAMES),
        Setting("mtune", "str", None, "GCC C(-mtune); null = the C(-march) value.",
                choices=MARCH_NAMES + ("generic",)),
        Setting("optimization_level", "int", 3, "C(-O) level used by the overlays (1, 2 or 3; the plan uses 3).",
                choices=(1, 2, 3)),
    ),
)
