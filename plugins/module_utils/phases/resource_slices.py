# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Phase 0.2 of the workstation plan: systemd resource slices.

Every login's ``user-$UID.slice`` gets limits through a drop-in on the
``user-.slice`` template (``systemd.slices."user-"`` with
``overrideStrategy = "asDropin"``; ``"user-.slice"`` would become
``user-.slice.slice``).  Derived from the host's facts:

* ``MemoryMax = RAM - reserve``, ``reserve = max(RAM / 8, min(1 GiB, RAM / 4))``
  (hard cap leaving room for the system; 16 GiB -> 14G, 32 GiB -> 28G,
  1 GiB -> 768M)
* ``MemoryHigh = min(75 % of RAM, MemoryMax - max(RAM / 16, 64M))``
  (throttling starts; 16 GiB -> 12G, 4 GiB -> 2816M, 1 GiB -> 704M)
* ``CPUQuota = (threads - max(1, threads / 4)) x 100 %`` from 4 threads on (a
  quarter of the threads stay for the OS and the compositor; 8 threads ->
  600 %), and 75 % of each thread below that (1 -> 75 %, 2 -> 150 %, 3 -> 225 %),
  never 0.
* display manager, by session (``nixperf_desktop.session``):

  - X11 (or not known): SDDM starts the X server itself, as a child of the
    daemon, and an X11 login reuses it, so the whole session's X server lives in
    ``display-manager.service`` and holds memory for every client (pixmaps, the
    NVIDIA driver's allocations).  A ``MemoryMax`` there is a limit on the
    session: ``MemoryHigh = RAM / 4``, ``MemoryMax = RAM / 2`` (16 GiB -> 4G /
    8G), and ``ManagedOOMPreference = avoid`` so that systemd-oomd, watching
    ``system.slice``, picks any other service first.
  - Wayland: the compositor runs in the user's session scope (sddm-helper opens
    the PAM session, pam_systemd moves it there); the service keeps the daemon
    and, with the default X11 greeter, the greeter's X server:
    ``MemoryHigh = min(512M, RAM / 4)``, ``MemoryMax = min(1G, RAM / 2)``.

The display manager is protected (OOMScoreAdjust -900, its own memory bounds),
nix-daemon builds yield to the desktop (low CPU / IO weight, memory bounds), and
systemd-oomd watches the root, system and user slices with current option names
(``settings.OOM``, ``enableUserSlices``).
"""
from __future__ import annotations

import re
from typing import Any, Dict, Optional

from ansible_collections.nixperf.tuning.plugins.module_utils.facts import SESSIONS
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import Inputs, Phase, PhasePlan, Setting
from ansible_collections.nixperf.tuning.plugins.module_utils.sizes import fmt, parse_mib

GIB = 1024


def user_limits(total_mib: int, threads: int) -> Dict[str, Any]:
    """MemoryHigh / MemoryMax (MiB) and CPUQuota (%) of every user slice on a host of this size."""
    reserve = max(total_mib // 8, min(GIB, total_mib // 4))
    hard = total_mib - reserve
    high = min(int(round(total_mib * 0.75)), hard - max(total_mib // 16, 64))
    if threads >= 4:
        quota = (threads - max(1, threads // 4)) * 100
    else:
        quota = 75 * threads
    return {"memory_high_mib": high, "memory_max_mib": hard, "cpu_quota_percent": quota}


def display_manager_limits(total_mib: int, session: Optional[str] = None) -> Dict[str, int]:
    """MemoryHigh / MemoryMax (MiB) of display-manager.service for a session type (None: not known).

    On X11 the session's X server runs inside the service (SDDM starts it and reuses it for the login), so the
    bounds scale with RAM like a session's; on Wayland the service holds the display manager alone.
    """
    if session == "wayland":
        return {"memory_high_mib": min(512, total_mib // 4), "memory_max_mib": min(GIB, total_mib // 2)}
    return {"memory_high_mib": total_mib // 4, "memory_max_mib": total_mib // 2}


def size_setting(inp: Inputs, name: str, derived: Optional[int] = None) -> Optional[int]:
    """A size variable (``512M``, ``2.5G``) in MiB; ``derived`` when it is null."""
    value = inp[name]
    if value is None:
        return derived
    mib = parse_mib(value)
    if mib is None:
        raise inp.fail(inp.prefix + name, "must be a size of at least 1M such as 512M, 2.5G or 12G, got %r"
                       % (value,))
    return mib


def build_slices(inp: Inputs) -> PhasePlan:
    total = inp.fact("memory.total_mib")
    threads = inp.fact("cpu.threads")
    derived = user_limits(total, threads)
    high = size_setting(inp, "user_memory_high", derived["memory_high_mib"])
    hard = size_setting(inp, "user_memory_max", derived["memory_max_mib"])
    quota = inp["user_cpu_quota_percent"]
    if quota is not None and quota > threads * 100:
        raise inp.fail(inp.prefix + "user_cpu_quota_percent", "(%d) is more than the host's %d threads can give "
                       "(at most %d)" % (quota, threads, threads * 100))
    quota = derived["cpu_quota_percent"] if quota is None else quota
    if high >= hard:
        if inp["user_memory_high"] is not None:
            raise inp.fail(inp.prefix + "user_memory_high", "(%s) must be below %suser_memory_max (%s)"
                           % (fmt(high), inp.prefix, fmt(hard)))
        raise inp.fail(inp.prefix + "user_memory_max", "(%s) must be above the derived user_memory_high (%s); set "
                       "%suser_memory_high too" % (fmt(hard), fmt(high), inp.prefix))
    if hard > total:
        raise inp.fail(inp.prefix + "user_memory_max", "(%s) is more than the host's RAM (%s)"
                       % (fmt(hard), fmt(total)))
    session = inp["session"] or inp.desktop.get("session")
    x_in_dm = session != "wayland"
    dm = display_manager_limits(total, session)
    dm_high = size_setting(inp, "display_manager_memory_high", dm["memory_high_mib"])
    dm_max = size_setting(inp, "display_manager_memory_max", dm["memory_max_mib"])
    if dm_high >= dm_max:
        raise inp.fail(inp.prefix + "display_manager_memory_high", "(%s) must be below %sdisplay_manager_memory_max"
                       " (%s)" % (fmt(dm_high), inp.prefix, fmt(dm_max)))
    if dm_max > total:
        raise inp.fail(inp.prefix + "display_manager_memory_max", "(%s) is more than the host's RAM (%s)"
                       % (fmt(dm_max), fmt(total)))
    dm_service: Dict[str, Any] = {
        "OOMScoreAdjust": inp["display_manager_oom_score_adjust"], "MemoryHigh": fmt(dm_high), "MemoryMax": fmt(dm_max)}
    if x_in_dm:
        # systemd.resource-control(5): oomd selects this cgroup only when no other candidate is left
        dm_service["ManagedOOMPreference"] = "avoid"
    nix_high = int(round(total * 0.5))
    nix_max = int(round(total * 0.75))
    pressure = inp["oomd_pressure_duration"]
    if not re.fullmatch(r"[0-9]+(ms|s|min)", pressure) or not re.search(r"[1-9]", pressure):
        raise inp.fail(inp.prefix + "oomd_pressure_duration", "must be a duration above 0 such as 20s, got %r"
                       % (pressure,))
    # Every value at the nixperf priority (inp.owned): the plan's host already sets the display manager's and
    # nix-daemon's limits and oomd in its own resource-control.nix, and a systemd unit option with two different
    # values at one priority fails evaluation (nixpkgs nixos/lib/systemd-unit-options.nix: mergeEqualOption).

    def own(values: Dict[str, Any]) -> Dict[str, Any]:
        return {k: inp.owned(v) for k, v in values.items()}

    config: Dict[str, Any] = {
        "systemd": {
            "slices": {
                "user-": {
                    "overrideStrategy": inp.owned("asDropin"),
                    "sliceConfig": own({"MemoryHigh": fmt(high), "MemoryMax": fmt(hard), "CPUQuota": "%d%%" % quota}),
                },
            },
            "services": {
                "display-manager": {"serviceConfig": own(dm_service)},
                "nix-daemon": {"serviceConfig": own({
                    "CPUWeight": 20, "IOWeight": 20, "OOMScoreAdjust": 350,
                    "MemoryHigh": fmt(nix_high), "MemoryMax": fmt(nix_max)})},
            },
            "oomd": dict(own({"enable": True, "enableRootSlice": True, "enableSystemSlice": True,
                              "enableUserSlices": True}),
                         settings={"OOM": own({"DefaultMemoryPressureDurationSec": pressure})}),
        },
    }
    out = {"user_memory_high": fmt(high), "user_memory_max": fmt(hard), "user_cpu_quota": "%d%%" % quota,
           "user_memory_high_mib": high, "user_memory_max_mib": hard, "user_cpu_quota_percent": quota,
           "display_manager_memory_high": fmt(dm_high), "display_manager_memory_max": fmt(dm_max),
           "session": session, "x_server_in_display_manager": x_in_dm,
           "nix_daemon_memory_high": fmt(nix_high), "nix_daemon_memory_max": fmt(nix_max)}
    return PhasePlan(
        phase="resource_slices", config=config, derived=out, enable=inp["enable"],
        description="systemd resource slices, protected display manager and systemd-oomd",
        note="Derived from %d MiB RAM and %d threads: every user slice MemoryHigh %s, MemoryMax %s, CPUQuota %d%%.\n"
        "Display manager (session %s): MemoryHigh %s, MemoryMax %s%s." % (
            total, threads, fmt(high), fmt(hard), quota, session or "not known, taken as x11", fmt(dm_high),
            fmt(dm_max), "; the X server runs inside it" if x_in_dm else ""),
    )


PHASE = Phase(
    name="resource_slices",
    order=20,
    title="systemd resource slices, a protected display manager and systemd-oomd (workstation plan, phase 0.2)",
    description=(
        "Generates C(nixperf/resource_slices.nix): a drop-in for every C(user-UID.slice) with C(MemoryHigh), "
        "C(MemoryMax) and C(CPUQuota) derived from the host's RAM and threads, display-manager protection "
        "(C(OOMScoreAdjust), memory bounds by session), nix-daemon builds that yield to the desktop, and "
        "systemd-oomd on the root, system and user slices.",
        "On X11 the session's X server runs inside C(display-manager.service) (SDDM starts it), so the display "
        "manager's bounds scale with RAM and systemd-oomd avoids it; on Wayland they stay small.",
        "Sizes are systemd sizes (C(512M), C(2.5G), C(12G)); high must be below max, max within RAM, the CPU quota "
        "within the host's threads.",
    ),
    facts=("memory.total_mib", "cpu.threads"),
    tags=("nixos", "systemd", "cgroups", "performance"),
    build=build_slices,
    settings=(
        Setting("enable", "bool", True, "Default of C(nixperf.resource_slices.enable) in the generated module."),
        Setting("user_memory_high", "str", None, "C(MemoryHigh) of every user slice (e.g. C(12G)); null = "
                "min(75 % of RAM, MemoryMax - max(RAM / 16, 64M))."),
        Setting("user_memory_max", "str", None, "C(MemoryMax) of every user slice; null = RAM - max(RAM / 8, "
                "min(1 GiB, RAM / 4))."),
        Setting("user_cpu_quota_percent", "int", None, "C(CPUQuota) of every user slice in percent (1 to 100 x "
                "threads); null = (threads - max(1, threads / 4)) x 100 from 4 threads on, 75 % per thread below.",
                lo=1, hi=409600),
        Setting("session", "str", None, "Display session, V(x11) or V(wayland): on X11 the session's X server runs "
                "inside C(display-manager.service) (SDDM starts it), so the display manager's bounds must fit the "
                "whole session; null = C(nixperf_desktop.session), and a host without it is taken as X11 (the safe "
                "choice for both).", choices=SESSIONS),
        Setting("display_manager_memory_high", "str", None, "C(MemoryHigh) of the display manager; null = RAM / 4 "
                "on X11, min(512M, RAM / 4) on Wayland."),
        Setting("display_manager_memory_max", "str", None, "C(MemoryMax) of the display manager; null = RAM / 2 on "
                "X11, min(1G, RAM / 2) on Wayland."),
        Setting("display_manager_oom_score_adjust", "int", -900, "C(OOMScoreAdjust) of the display manager "
                "(-1000 to 1000): how hard it is to OOM-kill.", lo=-1000, hi=1000),
        Setting("oomd_pressure_duration", "str", "20s", "systemd-oomd: how long a slice may stay above its "
                "memory-pressure limit (C(20s), C(500ms), C(1min))."),
    ),
)
