# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The workstation plan's monitoring commands as shell aliases, opt-in.

A home-manager module (one per user) sets ``home.shellAliases`` (home-manager's
``modules/home-environment.nix``, ``attrsOf str``), which home-manager hands on to
``programs.bash``, ``programs.zsh`` and ``programs.fish`` (and nushell): each writes
``alias <name>=<lib.escapeShellArg command>`` into the shell's start-up file.  The
values here are plain command lines, written as Nix strings by the serializer like
every other string: nothing in the inventory becomes Nix code.

The phase writes nothing unless asked: ``monitoring_aliases`` names the aliases
(``sysmon``, ``appmon``, ``crashmon``, ``mempress``, ``memtop``) and
``monitoring_extra`` adds the user's own.  Each alias is defined at the nixperf
priority (``lib.mkOverride``), so an alias of the same name in the user's own
``home.shellAliases`` gives way and a ``lib.mkForce`` one wins.

Corrections to the plan:

* ``sysmon``: the GPU part follows the host.  ``nvidia-smi`` only on NVIDIA's own
  driver; amdgpu's busy percentage and VRAM use from sysfs
  (``/sys/class/drm/card*/device/gpu_busy_percent``, ``mem_info_vram_used``); no GPU
  part for other GPUs (Intel, nouveau, radeon, a VM's llvmpipe).  The parts are
  joined with ``;`` instead of ``&&``, so a failing ``nvidia-smi`` (driver and
  library versions differ until the next reboot after an update) no longer hides
  the process list.
* ``appmon``: the plan's ``app-*`` also lists the desktop's own units (XDG
  autostart ``app-*@autostart.service``, the scopes KDE and GNOME start apps in).
  The wrappers of ``electron_apps`` start each app in
  ``systemd-run --user --scope --unit=app-<name>-$$-$EPOCHSECONDS``: the unit
  ``app-<name>-<pid>-<seconds>.scope``, which ``UNIT_GLOB`` matches and the desktop's
  units do not.
* ``crashmon``: ``journalctl -b -p err -n 20 -x``: this boot's last 20 entries of
  priority err or worse with their explanations; the plan's ``| tail -20`` cut the
  ``-x`` explanations (several lines each) in the middle of an entry.
* ``memtop``: the command column last (``pid,ppid,%mem,%cpu,cmd``): in the middle, ps
  cuts it to its header's width, which on NixOS is little more than the store path's
  hash.
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

from ansible_collections.nixperf.tuning.plugins.module_utils.phase import Inputs, Phase, PhasePlan, Setting

# The transient scopes of the electron_apps wrappers: app-<name>-<pid>-<seconds>.scope (electron_apps.wrapper_words).
UNIT_GLOB = "app-*-[0-9]*-[0-9]*.scope"
NVIDIA_SMI = "nvidia-smi --query-gpu=memory.used,utilization.gpu --format=csv"
AMDGPU_SYSFS = "grep -H . /sys/class/drm/card*/device/gpu_busy_percent /sys/class/drm/card*/device/mem_info_vram_used"
# drivers a GPU vendor's part needs (an absent nixperf_hardware.gpu.driver is the vendor's usual one)
GPU_PARTS: Dict[str, Tuple[str, str, str]] = {
    # vendor: (driver, command, what it shows)
    "nvidia": ("nvidia", NVIDIA_SMI, "nvidia-smi (NVIDIA's driver)"),
    "amd": ("amdgpu", AMDGPU_SYSFS, "amdgpu sysfs (gpu_busy_percent, mem_info_vram_used)"),
}
FIXED: Dict[str, str] = {
    "appmon": "systemctl --user list-units --no-pager '%s'" % UNIT_GLOB,
    "crashmon": "journalctl -b -p err -n 20 -x --no-pager",
    "mempress": "cat /proc/pressure/memory",
    "memtop": "ps -eo pid,ppid,%mem,%cpu,cmd --sort=-%mem | head -20",
}
KNOWN = ("sysmon", "appmon", "crashmon", "mempress", "memtop")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def gpu_part(vendor: str, driver: Optional[str]) -> Tuple[Optional[str], str]:
    """The GPU command of ``sysmon`` for the host's GPU, or None; and what it is (for the note)."""
    part = GPU_PARTS.get(vendor)
    if part is None:
        return None, "no GPU part (GPU vendor %s)" % vendor
    needs, command, what = part
    if driver is not None and driver != needs:
        return None, "no GPU part (%s GPU on the %s driver, not %s)" % (vendor, driver, needs)
    return command, what


def sysmon(gpu: Optional[str]) -> str:
    """The plan's ``sysmon``: memory, the GPU part when there is one, the biggest processes, every 2 s."""
    parts = ["free -h"] + ([gpu] if gpu else []) + ["ps aux --sort=-%mem | head -10"]
    return 'watch -n 2 "%s"' % "; echo; ".join(parts)


def _chosen(inp: Inputs) -> List[str]:
    var = inp.prefix + "aliases"
    names: List[str] = []
    for i, name in enumerate(inp["aliases"]):
        if not isinstance(name, str) or name not in KNOWN:
            raise inp.fail("%s[%d]" % (var, i), "is %r, not an alias this role knows (known: %s; your own go in %s)"
                           % (name, ", ".join(KNOWN), inp.prefix + "extra"))
        if name in names:
            raise inp.fail(var, "names %s twice" % name)
        names.append(name)
    return names


def _extra(inp: Inputs, chosen: List[str]) -> Dict[str, str]:
    var = inp.prefix + "extra"
    out: Dict[str, str] = {}
    for name, command in inp["extra"].items():
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise inp.fail(var, "has the alias name %r: names are a letter or '_', then letters, digits, '_' or '-'"
                           % (name,))
        if name in chosen:
            raise inp.fail("%s.%s" % (var, name), "is also in %s: an alias is defined once (drop it from one of them)"
                           % (inp.prefix + "aliases"))
        if not isinstance(command, str) or not command.strip():
            raise inp.fail("%s.%s" % (var, name), "must be a command line (a non-empty string), got %r" % (command,))
        if "\0" in command:
            raise inp.fail("%s.%s" % (var, name), "holds a NUL character, which no shell and no Nix string can hold")
        out[name] = command
    return out


def build(inp: Inputs) -> PhasePlan:
    vendor = inp.fact("gpu.vendor")
    gpu, gpu_what = gpu_part(vendor, inp.fact("gpu.driver", None))
    chosen = _chosen(inp)
    extra = _extra(inp, chosen)
    aliases = {name: sysmon(gpu) if name == "sysmon" else FIXED[name] for name in chosen}
    aliases.update(extra)
    home = {"home": {"shellAliases": {name: inp.owned(command) for name, command in aliases.items()}}}
    return PhasePlan(
        phase="monitoring", config=None, home_config=home if aliases else None,
        enable=inp["enable"], home_enable=inp["enable"],
        derived={"aliases": aliases, "gpu": gpu_what if "sysmon" in chosen else None, "extra": sorted(extra)},
        description="the monitoring shell aliases",
        note="Aliases: %s%s." % (", ".join(sorted(aliases)) or "none",
                                 "; sysmon with %s" % gpu_what if "sysmon" in chosen else ""),
    )


PHASE = Phase(
    name="monitoring",
    order=90,
    title="The workstation plan's monitoring commands (sysmon, appmon, crashmon, mempress, memtop) as shell aliases, "
          "opt-in",
    description=(
        "Generates a home-manager module per user (C(~/.config/home-manager/nixperf/monitoring.nix)) setting "
        "C(home.shellAliases) for the aliases named in O(monitoring_aliases) and O(monitoring_extra); with both "
        "empty (the default) it writes nothing.",
        "V(sysmon) shows memory, the GPU (C(nvidia-smi) on NVIDIA's driver, amdgpu's sysfs counters, nothing for "
        "other GPUs) and the biggest processes; V(appmon) the scopes of the C(electron_apps) wrappers "
        "(C(app-<name>-<pid>-<seconds>.scope)); V(crashmon) this boot's errors; V(mempress) the memory pressure; "
        "V(memtop) the processes by memory.",
    ),
    facts=("gpu.vendor",),
    users=True,
    tags=("home-manager", "monitoring", "shell"),
    build=build,
    settings=(
        Setting("enable", "bool", True, "Default of C(nixperf.monitoring.enable) in the generated home-manager "
                "module."),
        Setting("aliases", "list", [], "The plan's aliases to define, among %s; empty (and no "
                "O(monitoring_extra)): no file at all." % ", ".join("V(%s)" % n for n in KNOWN), elements="str"),
        Setting("extra", "dict", {}, "Aliases of your own: name (a letter or C(_), then letters, digits, C(_) or "
                "C(-)) to command line, a plain string (never Nix code)."),
    ),
)
