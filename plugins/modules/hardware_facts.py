#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: hardware_facts
short_description: Read the live hardware and refuse a -march the CPU cannot run
version_added: 0.1.0
description:
  - Reads C(/proc/cpuinfo), C(/proc/meminfo) and C(/sys) on the target and returns the CPU model, threads, cores,
    flags and x86-64 level, total RAM, GPU vendors (PCI ids), NVMe controllers and whether it is a virtual machine.
  - With O(march), checks that the CPU has every instruction set each GCC C(-march) value needs (for C(skylake)
    AVX2, BMI2, FMA, ADX and more); with O(goamd64), that its x86-64 level is at least each C(GOAMD64) level
    (C(v3) needs level 3). It fails naming every value the CPU cannot run and the flags it lacks. A system built
    for a CPU it does not run on dies with illegal instructions at boot; this is the guard before any C(-march)
    is used. M(nixperf.tuning.write_files) runs it before writing an apply-mode plan with C(live_cpu).
  - With O(expected), compares the inventory's facts (RAM, threads, GPU vendor) with the live ones and returns the
    differences.
author:
  - nixperf.tuning contributors (@nixperf)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.facts
options:
  march:
    description:
      - GCC C(-march) values to check against the live CPU. A single string is accepted (a list of one), as in
        version 0.1.0.
    type: list
    elements: str
  goamd64:
    description: C(GOAMD64) levels to check against the live CPU's x86-64 level.
    type: list
    elements: str
    choices: [v1, v2, v3, v4]
  expected:
    description: The inventory's C(nixperf_hardware), to compare with what the host has.
    type: dict
  root:
    description: Root of the file system to read (tests point it at a fixture tree).
    type: path
    default: /
attributes:
  check_mode:
    support: full
    details: Read-only.
  diff_mode:
    support: none
  facts:
    support: full
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Refuse to build for Skylake on a CPU without its instruction sets
  nixperf.tuning.hardware_facts:
    march: "{{ nixperf_hardware.cpu.family }}"
    expected: "{{ nixperf_hardware }}"

- name: Check every target a plan writes
  nixperf.tuning.hardware_facts:
    march: [skylake, x86-64-v3]
    goamd64: [v3]
"""

RETURN = r"""
ansible_facts:
  description: C(nixperf_live_hardware) with C(cpu), C(memory), C(gpu), C(storage), C(virtualization).
  returned: always
  type: dict
march_ok:
  description: Whether the CPU runs every value of O(march).
  returned: when O(march) is given
  type: bool
goamd64_ok:
  description: Whether the CPU's x86-64 level reaches every level of O(goamd64).
  returned: when O(goamd64) is given
  type: bool
cpu_problems:
  description: One entry per value the CPU cannot run, C(kind) (C(march) or C(goamd64)), C(value), C(missing) flags.
  returned: when O(march) or O(goamd64) is given
  type: list
  elements: dict
  sample: [{kind: march, value: skylake, missing: [avx2, bmi2, fma]}]
mismatches:
  description: Inventory facts that differ from the live host (C(name), C(inventory), C(live)).
  returned: when O(expected) is given
  type: list
  elements: dict
"""

from typing import Any, Dict, List  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.nixperf.tuning.plugins.module_utils.hardware import gather, missing_flags  # noqa: E402


def compare(expected: dict, live: dict) -> list:
    out = []
    checks = [
        ("memory.total_mib", (expected.get("memory") or {}).get("total_mib"), live["memory"]["total_mib"],
         lambda a, b: b is not None and abs(a - b) <= max(512, a // 10)),
        ("cpu.threads", (expected.get("cpu") or {}).get("threads"), live["cpu"]["threads"], lambda a, b: a == b),
        ("gpu.vendor", (expected.get("gpu") or {}).get("vendor"), live["gpu"]["vendors"],
         lambda a, b: (a == "none" and not [v for v in b if v != "other"]) or a in b),
    ]
    for name, want, have, ok in checks:
        if want is not None and not ok(want, have):
            out.append({"name": name, "inventory": want, "live": have})
    return out


def problems(march: List[str], goamd64: List[str], flags: List[str]) -> List[Dict[str, Any]]:
    """Each -march / GOAMD64 value the CPU with ``flags`` cannot run, with the flags it lacks (ValueError: unknown)."""
    out = []
    # GOAMD64=vN needs x86-64 level N, as GCC's -march=x86-64-vN (v1 is plain x86-64)
    level_march = {"v1": "x86-64", "v2": "x86-64-v2", "v3": "x86-64-v3", "v4": "x86-64-v4"}
    for kind, values, as_march in (("march", march, lambda v: v), ("goamd64", goamd64, level_march.get)):
        for value in values:
            missing = missing_flags(as_march(value), flags)
            if missing:
                out.append({"kind": kind, "value": value, "missing": missing})
    return out


def main() -> None:
    module = AnsibleModule(argument_spec=dict(
        march=dict(type="list", elements="str"),
        goamd64=dict(type="list", elements="str", choices=["v1", "v2", "v3", "v4"]),
        expected=dict(type="dict"), root=dict(type="path", default="/"),
    ), supports_check_mode=True)
    p = module.params
    march, goamd64 = p["march"] or [], p["goamd64"] or []
    live = gather(p["root"])
    result: Dict[str, Any] = dict(changed=False, ansible_facts={"nixperf_live_hardware": live})
    if p["expected"] is not None:
        result["mismatches"] = compare(p["expected"], live)
    if not (march or goamd64):
        module.exit_json(**result)
    cpu = live["cpu"]
    targets = ", ".join(["-march=%s" % m for m in march] + ["GOAMD64=%s" % g for g in goamd64])
    if not cpu["flags"]:
        module.fail_json(msg="Cannot check %s: no CPU flags in %s/proc/cpuinfo" % (targets, p["root"].rstrip("/")),
                         **result)
    try:
        found = problems(march, goamd64, cpu["flags"])
    except ValueError as exc:
        module.fail_json(msg=str(exc), **result)
    if march:
        result["march_ok"] = not [x for x in found if x["kind"] == "march"]
    if goamd64:
        result["goamd64_ok"] = not [x for x in found if x["kind"] == "goamd64"]
    result["cpu_problems"] = found
    if found:
        what = "; ".join("%s=%s: it lacks %s" % ("-march" if x["kind"] == "march" else "GOAMD64", x["value"],
                                                 ", ".join(x["missing"])) for x in found)
        msg = ("The CPU (%s) cannot run code built with %s. A system built for it would die with illegal "
               "instructions; choose targets it supports (its x86-64 level is %d)." % (cpu["model"], what,
                                                                                       cpu["x86_64_level"]))
        module.fail_json(msg=msg, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
