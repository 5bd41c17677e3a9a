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
  - With O(march), checks that the CPU has every instruction set GCC's C(-march) value needs (for C(skylake) AVX2,
    BMI2, FMA, ADX and more) and fails naming the missing flags. A system built for a CPU it does not run on dies
    with illegal instructions at boot; this is the guard before any C(-march) is used.
  - With O(expected), compares the inventory's facts (RAM, threads, GPU vendor) with the live ones and returns the
    differences.
author:
  - nixperf.tuning contributors (@nixperf)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.facts
options:
  march:
    description: A GCC C(-march) value to check against the live CPU.
    type: str
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
"""

RETURN = r"""
ansible_facts:
  description: C(nixperf_live_hardware) with C(cpu), C(memory), C(gpu), C(storage), C(virtualization).
  returned: always
  type: dict
march_ok:
  description: Whether the CPU runs O(march).
  returned: when O(march) is given
  type: bool
mismatches:
  description: Inventory facts that differ from the live host (C(name), C(inventory), C(live)).
  returned: when O(expected) is given
  type: list
  elements: dict
"""

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


def main() -> None:
    module = AnsibleModule(argument_spec=dict(
        march=dict(type="str"), expected=dict(type="dict"), root=dict(type="path", default="/"),
    ), supports_check_mode=True)
    p = module.params
    live = gather(p["root"])
    result = dict(changed=False, ansible_facts={"nixperf_live_hardware": live})
    if p["expected"] is not None:
        result["mismatches"] = compare(p["expected"], live)
    if p["march"] and not live["cpu"]["flags"]:
        module.fail_json(msg="Cannot check -march=%s: no CPU flags in %s/proc/cpuinfo" % (
            p["march"], p["root"].rstrip("/")), **result)
    if p["march"]:
        try:
            missing = missing_flags(p["march"], live["cpu"]["flags"])
        except ValueError as exc:
            module.fail_json(msg=str(exc), **result)
        result["march_ok"] = not missing
        if missing:
            cpu = live["cpu"]
            msg = ("The CPU (%s) cannot run code built with -march=%s: it lacks %s. A system built for it would die "
                   "with illegal instructions; choose a -march it supports (its x86-64 level is %d)."
                   % (cpu["model"], p["march"], ", ".join(missing), cpu["x86_64_level"]))
            module.fail_json(msg=msg, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
