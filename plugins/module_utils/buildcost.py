# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a switch will cost: the derivations to build and the paths to fetch, read from a dry run.

Nix prints the plan of a dry run (``nix build --dry-run``, ``nix-build --dry-run``, ``nixos-rebuild dry-build``)
with ``printMissing`` (src/libmain/shared.cc)::

    this derivation will be built:
    these 742 derivations will be built:
      /nix/store/<hash>-glibc-2.40-66.drv
    this path will be fetched (0.2 MiB download, 1.1 MiB unpacked):
    these 12 paths will be fetched (240.5 MiB download, 1.2 GiB unpacked):
      /nix/store/<hash>-source
    don't know how to build these paths:

The sizes come from ``renderSize`` (``%.1f KiB`` ... ``TiB`` since Nix 2.20; ``%.2f MiB`` before). Everything
here is pure: text in, data out.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

_BUILD_HEAD = re.compile(r"^(?:this derivation|these (\d+) derivations) will be built:$")
_FETCH_HEAD = re.compile(r"^(?:this path|these (\d+) paths) will be fetched(?: \(([^)]*)\))?:$")
_UNKNOWN_HEAD = re.compile(r"^don't know how to build these paths")
_SIZES = re.compile(r"^(\S+ \S+) download, (\S+ \S+) unpacked$")
_ITEM = re.compile(r"^\s+(/\S+)$")
_STORE_NAME = re.compile(r"^[0-9a-z]{32}-(.+)$")
_UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40, "PiB": 1 << 50, "EiB": 1 << 60}

SHOWN = 6  # packages named per phase in a message; the rest are counted


def argument_spec() -> Dict[str, Any]:
    """The options of the ``nixperf.tuning.build_cost`` doc fragment, for a module's argument spec."""
    return dict(max_builds=dict(type="int", default=-1), max_builds_var=dict(type="str", default="max_builds"),
                rebuilds=dict(type="dict", default={}))


def store_name(path: str) -> str:
    """``/nix/store/<hash>-glibc-2.40-66.drv`` -> ``glibc-2.40-66``."""
    base = path.rstrip("/").rsplit("/", 1)[-1]
    m = _STORE_NAME.match(base)
    name = m.group(1) if m else base
    return name[:-4] if name.endswith(".drv") else name


def parse_drv_name(name: str) -> Tuple[str, str]:
    """Nix's ``builtins.parseDrvName``: the version starts at the first ``-`` not followed by a letter."""
    for i, c in enumerate(name):
        if c == "-" and i + 1 < len(name) and not name[i + 1].isalpha():
            return name[:i], name[i + 1:]
    return name, ""


def size_bytes(text: Optional[str]) -> Optional[int]:
    """``12.4 MiB`` -> bytes (None when not a size Nix prints)."""
    if not text:
        return None
    number, _sep, unit = text.partition(" ")
    try:
        return int(float(number) * _UNITS[unit])
    except (KeyError, ValueError):
        return None


def parse_missing(text: str) -> Dict[str, Any]:
    """The dry-run plan in ``text`` (a command's output, other lines ignored).

    ``builds``/``fetches`` are the store paths listed; ``download``/``unpacked`` the sizes as printed (None when
    nothing is fetched); ``*_bytes`` the same in bytes.
    """
    out: Dict[str, Any] = {"builds": [], "fetches": [], "unknown": [], "download": None, "unpacked": None}
    section: Optional[str] = None
    for raw in (text or "").splitlines():
        line = raw.rstrip()
        if _BUILD_HEAD.match(line.strip()):
            section = "builds"
            continue
        m = _FETCH_HEAD.match(line.strip())
        if m:
            section = "fetches"
            sizes = _SIZES.match(m.group(2) or "")
            if sizes:
                out["download"], out["unpacked"] = sizes.group(1), sizes.group(2)
            continue
        if _UNKNOWN_HEAD.match(line.strip()):
            section = "unknown"
            continue
        item = _ITEM.match(line)
        if item and section:
            out[section].append(item.group(1))
        else:
            section = None
    out["download_bytes"] = size_bytes(out["download"])
    out["unpacked_bytes"] = size_bytes(out["unpacked"])
    return out


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def matches(attr: str, drv: str) -> bool:
    """Whether the derivation name ``drv`` (``nodejs-24.11.0``) is the package attribute ``attr`` (``nodejs_24``).

    Attribute names use ``_`` where derivation names use ``-`` (``libjpeg_turbo`` / ``libjpeg-turbo-3.0.4``); a
    versioned attribute matches the versions it names (``nodejs_24`` is ``nodejs-24.*``, not ``nodejs-22.*``), and
    ``python313`` is ``python3-3.13.*``.
    """
    a_name, a_version = parse_drv_name(attr.replace("_", "-"))
    d_name, d_version = parse_drv_name(drv)
    if a_name == d_name and d_version.startswith(a_version):
        return True
    m = re.match(r"^([a-z][a-z-]*?)(\d+)$", a_name)
    if m and not a_version and d_name.startswith(m.group(1)) and d_name != a_name:
        # python313 -> "python" + "313": python3-3.13.1 (name python3, version digits 3131)
        return _digits(d_version).startswith(m.group(2)) and d_name[len(m.group(1)):].isdigit()
    return False


def packages(spec: Optional[Dict[str, Any]], target: Optional[str] = None) -> List[str]:
    """The packages a phase's overlays rebuild for ``target`` (None: for any target).

    ``packages`` is a list (for every target of the phase) or a mapping target -> list, for a phase whose NixOS
    and home-manager overlays override different packages (system_libs at stage nixos).
    """
    pk = (spec or {}).get("packages") or []
    if isinstance(pk, dict):
        if target is not None:
            return list(pk.get(target) or [])
        return sorted(set().union(*[set(v or []) for v in pk.values()]))
    return list(pk)


def attribute(builds: Sequence[str], rebuilds: Dict[str, Any],
              target: Optional[str] = None) -> Dict[str, Dict[str, List[str]]]:
    """The phases whose overridden packages (for ``target``, None: any) appear among ``builds`` (store paths of
    derivations).

    ``rebuilds`` is ``plan.rebuilds``: phase -> {packages, bootstrap, target}. Returns phase -> {packages: the
    matched ones, bootstrap: the matched bootstrap ones}, phases without a match left out.
    """
    names = [store_name(p) for p in builds]
    out: Dict[str, Dict[str, List[str]]] = {}
    for phase in sorted(rebuilds or {}):
        spec = rebuilds[phase] or {}
        hit = [pkg for pkg in packages(spec, target) if any(matches(pkg, n) for n in names)]
        if hit:
            bootstrap = set(spec.get("bootstrap", []))
            out[phase] = {"packages": hit, "bootstrap": [p for p in hit if p in bootstrap]}
    return out


def targets(spec: Optional[Dict[str, Any]]) -> List[str]:
    """The configurations a phase's overlays act on: ``target`` is ``nixos``, ``home`` or a list of both; with
    ``packages`` per target, its keys (missing: both)."""
    pk = (spec or {}).get("packages")
    if isinstance(pk, dict):
        return [t for t in ("nixos", "home") if pk.get(t)]
    t = (spec or {}).get("target")
    if t is None:
        return ["nixos", "home"]
    return [t] if isinstance(t, str) else list(t)


def cost(text: str, rebuilds: Optional[Dict[str, Any]] = None, target: Optional[str] = None) -> Dict[str, Any]:
    """The build cost of a dry run's output, attributed to the phases of ``rebuilds`` whose overlays act on
    ``target`` (``nixos`` or ``home``; None: every phase)."""
    missing = parse_missing(text)
    scoped = {k: v for k, v in (rebuilds or {}).items() if target is None or target in targets(v)}
    phases = attribute(missing["builds"], scoped, target)
    return {
        "builds": len(missing["builds"]),
        "fetches": len(missing["fetches"]),
        "download": missing["download"],
        "unpacked": missing["unpacked"],
        "download_bytes": missing["download_bytes"],
        "unpacked_bytes": missing["unpacked_bytes"],
        "derivations": [store_name(p) for p in missing["builds"]],
        "phases": phases,
        "world": any(v["bootstrap"] for v in phases.values()),
    }


def _names(packages: Sequence[str]) -> str:
    shown = ", ".join(packages[:SHOWN])
    return shown if len(packages) <= SHOWN else "%s and %d more" % (shown, len(packages) - SHOWN)


def _phase_text(phases: Dict[str, Dict[str, List[str]]]) -> str:
    parts = []
    for phase, hit in phases.items():
        text = "%s (%s)" % (phase, _names(hit["packages"]))
        if hit["bootstrap"]:
            text += ": an overlay on a bootstrap package (%s) rebuilds every package" % ", ".join(hit["bootstrap"])
        parts.append(text)
    return "; ".join(parts)


def summary(c: Dict[str, Any]) -> str:
    """``742 derivations to build (system_libs (glibc): ...), 3 paths to fetch (12.4 MiB download, ...)``."""
    builds = "nothing to build" if not c["builds"] else "%d derivation%s to build" % (
        c["builds"], "" if c["builds"] == 1 else "s")
    if c["phases"]:
        builds += ", caused by " + _phase_text(c["phases"])
    fetches = "nothing to fetch" if not c["fetches"] else "%d path%s to fetch" % (
        c["fetches"], "" if c["fetches"] == 1 else "s")
    if c["download"]:
        fetches += " (%s download, %s unpacked)" % (c["download"], c["unpacked"])
    return "%s; %s" % (builds, fetches)


def over_limit(c: Dict[str, Any], limit: int) -> bool:
    """A limit of -1 means none."""
    return limit >= 0 and c["builds"] > limit


def refusal(c: Dict[str, Any], limit: int, subject: str, variable: str, what: str = "the new system") -> str:
    """The message refusing a switch over the limit, naming the phases that cause the builds."""
    msg = "Refusing to switch %s: %s needs %d local builds, more than %s (%d). " % (
        subject, what, c["builds"], variable, limit)
    if c["phases"]:
        msg += "They come from the phases %s. " % _phase_text(c["phases"])
        msg += "Switch a phase off (nixperf_phase_<phase>: false), or "
    else:
        first = ", ".join(c["derivations"][:5])
        msg += "No phase of this run overrides them (first: %s). Fix the configuration, or " % (
            first or "none listed")
    msg += "raise %s (-1: no limit) to build them anyway." % variable
    return msg[0].upper() + msg[1:]
