# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nix profiles and generations, read from the file system.

A profile ``/nix/var/nix/profiles/system`` is a symlink to ``system-42-link``,
itself a symlink to a store path.  Everything here reads links and files only,
so it works the same for the system and for home-manager, on a real host or in
a test root.
"""
from __future__ import annotations

import datetime
import os
import re
from typing import Any, Dict, List, Optional

SYSTEM_PROFILE = "/nix/var/nix/profiles/system"
CURRENT_SYSTEM = "/run/current-system"
HOME_PROFILES = (
    "{home}/.local/state/nix/profiles/home-manager",  # home-manager >= 23.05 (XDG state)
    "/nix/var/nix/profiles/per-user/{user}/home-manager",  # older releases
)


def resolve(path: str) -> Optional[str]:
    """The store path a profile or link ends at, or None when it does not exist."""
    return os.path.realpath(path) if os.path.lexists(path) and os.path.exists(path) else None


def generation_number(profile: str) -> Optional[int]:
    """Number of the generation ``profile`` points at (``system -> system-42-link``)."""
    if not os.path.islink(profile):
        return None
    return generation_of_link(os.path.basename(profile), os.readlink(profile))


def generation_of_link(base: str, target: str) -> Optional[int]:
    """``system``, ``system-42-link`` -> 42 (None when the link is not a generation of ``base``)."""
    m = re.match(r"^%s-([0-9]+)-link$" % re.escape(base), os.path.basename(target or ""))
    return int(m.group(1)) if m else None


def _kernel_version(store_path: str) -> Optional[str]:
    kernel = os.path.join(store_path, "kernel")
    if not os.path.exists(kernel):
        return None
    m = re.search(r"-linux-([0-9][^/]*)$", os.path.dirname(os.path.realpath(kernel)))
    return m.group(1) if m else None


def _read(path: str) -> Optional[str]:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def list_generations(profile: str) -> List[Dict[str, Any]]:
    """Every generation of ``profile``, oldest first."""
    directory, base = os.path.split(profile)
    current = resolve(profile)
    pattern = re.compile(r"^%s-([0-9]+)-link$" % re.escape(base))
    out = []
    for name in os.listdir(directory) if os.path.isdir(directory) else []:
        m = pattern.match(name)
        if not m:
            continue
        link = os.path.join(directory, name)
        store = resolve(link)
        when = datetime.datetime.fromtimestamp(os.lstat(link).st_mtime, tz=datetime.timezone.utc)
        out.append({
            "generation": int(m.group(1)),
            "date": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "path": store,
            "link": link,
            "current": store is not None and store == current,
            "nixos_version": _read(os.path.join(store, "nixos-version")) if store else None,
            "kernel_version": _kernel_version(store) if store else None,
        })
    return sorted(out, key=lambda g: g["generation"])


def boot_differs(old: Optional[str], new: Optional[str]) -> Dict[str, bool]:
    """Which boot-relevant parts differ between two system closures."""
    if not old or not new:
        return {"kernel": bool(new) != bool(old), "initrd": False, "kernel_params": False}

    def part(root: str, name: str) -> Optional[str]:
        p = os.path.join(root, name)
        return os.path.realpath(p) if os.path.exists(p) else None

    return {
        "kernel": part(old, "kernel") != part(new, "kernel"),
        "initrd": part(old, "initrd") != part(new, "initrd"),
        "kernel_params": _read(os.path.join(old, "kernel-params")) != _read(os.path.join(new, "kernel-params")),
    }


def home_profile(home: str, user: str) -> str:
    """The home-manager profile that exists, newest layout first."""
    candidates = [c.format(home=home, user=user) for c in HOME_PROFILES]
    for c in candidates:
        if os.path.lexists(c):
            return c
    return candidates[0]


def previous_generation(profile: str, number: Optional[int] = None) -> Optional[Dict[str, Any]]:
    """The generation to roll back to: ``number`` if given, else the newest older than the current one."""
    gens = list_generations(profile)
    if number is not None:
        return next((g for g in gens if g["generation"] == number), None)
    cur = generation_number(profile)
    older = [g for g in gens if cur is None or g["generation"] < cur]
    return older[-1] if older else None


def switch_to_configuration(system: str, action: str) -> List[str]:
    """Activate ``system`` (a store path) with ``action``: what nixos-rebuild runs after building."""
    return [system.rstrip("/") + "/bin/switch-to-configuration", action]


def restore_steps(nix_env: str, profile: str, generation: Optional[int], profile_system: Optional[str],
                  running_system: Optional[str], profile_moved: bool = True,
                  running_moved: bool = True) -> List[List[str]]:
    """The commands that put a host back exactly where it was, using the previous systems' own store paths.

    ``generation`` / ``profile_system``: the system profile's generation and store path before; ``running_system``:
    ``/run/current-system`` before. A moved profile is pointed back (``nix-env --switch-generation``) and its
    system made the boot default again; a moved running system is activated again. When both were the same
    system, one ``switch`` does both.
    """
    steps: List[List[str]] = []
    boot = profile_moved and bool(profile_system)
    run = running_moved and bool(running_system)
    if profile_moved and generation is not None:
        steps.append([nix_env, "--profile", profile, "--switch-generation", str(int(generation))])
    if boot and run and profile_system == running_system:
        steps.append(switch_to_configuration(profile_system, "switch"))
        return steps
    if boot:
        steps.append(switch_to_configuration(profile_system, "boot"))
    if run:
        steps.append(switch_to_configuration(running_system, "test"))
    return steps


def generation_path(profile: str, generation: Optional[int]) -> Optional[str]:
    """The store path of generation ``generation`` of ``profile`` (None when it is not there)."""
    if generation is None:
        return None
    return resolve("%s-%d-link" % (profile, int(generation)))
