# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Phase 3 of the workstation plan: Electron apps with GPU flags and cgroup limits.

A home-manager module (one per user) adds, per app, a wrapper script that
starts the app in its own transient scope::

    systemd-run --user --scope --quiet --collect --unit=app-<name>-$$-$EPOCHSECONDS
      -p MemoryHigh=... -p MemoryMax=... -p CPUQuota=...% --
      choom -n <oom score adjust> -- <package>/bin/<binary> <GPU flags> --js-flags=--max-old-space-size=<MiB> "$@"

The wrapper script is linked under the app's name *and* its real binary name
(``discord`` and ``Discord``) with ``lib.hiPrio``, so both the shell and the
package's desktop entry (which calls the real binary) go through the limits.

GPU flags come from the GPU facts and the session:

* NVIDIA on X11: the plan's set, with ``--use-gl=angle --use-angle=gl`` in place
  of ``--use-gl=desktop``, which Chromium 118+ (Electron 28+) no longer accepts
  (the GPU process falls back to software rendering), and
  ``VaapiVideoDecodeLinuxGL`` next to ``VaapiVideoDecoder`` (the name newer
  Chromium uses on Linux).
* AMD / Intel on X11: the same without the NVIDIA-only Vulkan and GPU-memory-buffer
  switches.
* Any GPU on Wayland: native Wayland (``--ozone-platform=wayland``) with
  window decorations and IME, ANGLE's default backend, VA-API.
* No GPU (a VM on llvmpipe): no GPU flags at all; forcing GPU paths onto a
  software rasteriser only costs CPU.

Corrections to the plan: ``-p OOMScoreAdjust=-100`` cannot work in a user
scope: scope units have no exec settings, and an unprivileged user may not lower
the score below the 100 the user manager starts with (``CAP_SYS_RESOURCE``).  The
wrapper instead raises the app's score with ``choom`` (default 300), so under
memory pressure the kernel kills a greedy Electron app before the desktop.
Unit names get the launch's PID and time, so two launches never collide.
"""
from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from typing import Any, Dict, List

from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixRaw, attr_name, to_nix
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import Inputs, Phase, PhasePlan, Setting
from ansible_collections.nixperf.tuning.plugins.module_utils.phases.resource_slices import user_limits
from ansible_collections.nixperf.tuning.plugins.module_utils.sizes import fmt, parse_mib

SESSIONS = ("x11", "wayland")
# wrapper name -> nixpkgs attribute, real binary, V8 heap MiB, MemoryHigh, MemoryMax, CPUQuota %
KNOWN: Dict[str, Dict[str, Any]] = {
    "discord": {"package": "discord", "binary": "Discord", "v8_heap_mib": 1024,
                "memory_high": "2G", "memory_max": "3G", "cpu_quota": 150},
    "signal": {"package": "signal-desktop", "binary": "signal-desktop", "v8_heap_mib": 768,
               "memory_high": "1.5G", "memory_max": "2G", "cpu_quota": 100},
    "teams": {"package": "teams-for-linux", "binary": "teams-for-linux", "v8_heap_mib": 1536,
              "memory_high": "2.5G", "memory_max": "4G", "cpu_quota": 200},
    "codium": {"package": "vscodium", "binary": "codium", "v8_heap_mib": 2048,
               "memory_high": "4G", "memory_max": "5G", "cpu_quota": 200},
    "zoom": {"package": "zoom-us", "binary": "zoom", "v8_heap_mib": 1024,
             "memory_high": "2.5G", "memory_max": "4G", "cpu_quota": 250},
    "spotify": {"package": "spotify", "binary": "spotify", "v8_heap_mib": 512,
                "memory_high": "2G", "memory_max": "3G", "cpu_quota": 100},
    "obsidian": {"package": "obsidian", "binary": "obsidian", "v8_heap_mib": 1024,
                 "memory_high": "2G", "memory_max": "3G", "cpu_quota": 150},
    # not in nixpkgs: the attribute must come from an overlay (e.g. a community flake)
    "claude": {"package": "claude-desktop", "binary": "claude-desktop", "v8_heap_mib": 2048,
               "memory_high": "4G", "memory_max": "6G", "cpu_quota": 200},
}
DEFAULTS = {"v8_heap_mib": 1024, "memory_high": "2G", "memory_max": "3G", "cpu_quota": 150, "oom_score_adjust": 300}
KEYS = {"name", "package", "binary", "v8_heap_mib", "memory_high", "memory_max", "cpu_quota", "oom_score_adjust",
        "extra_flags", "gpu"}

_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_BINARY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}")
_ATTR = re.compile(r"[A-Za-z_][A-Za-z0-9_'-]*(\.[A-Za-z_][A-Za-z0-9_'-]*)*")
_FLAG = re.compile(r"--[a-z0-9][a-z0-9-]*(=[A-Za-z0-9_.,:/=+-]*)?")

_X11_COMMON = ["--ozone-platform=x11", "--use-gl=angle", "--use-angle=gl", "--enable-gpu-rasterization",
               "--enable-zero-copy", "--ignore-gpu-blocklist"]
_VAAPI = ["VaapiVideoDecoder", "VaapiVideoDecodeLinuxGL"]


def gpu_flags(vendor: str, session: str) -> List[str]:
    """The Chromium switches for this GPU vendor and display session."""
    if vendor == "none":
        return []
    if session == "wayland":
        return ["--ozone-platform=wayland", "--enable-wayland-ime",
                "--enable-features=" + ",".join(_VAAPI + ["WaylandWindowDecorations", "CanvasOopRasterization"]),
                "--enable-gpu-rasterization", "--ignore-gpu-blocklist"]
    if vendor == "nvidia":
        return _X11_COMMON + [
            "--enable-features=" + ",".join(_VAAPI + ["VaapiIgnoreDriverChecks", "Vulkan", "CanvasOopRasterization"]),
            "--enable-hardware-overlays", "--enable-native-gpu-memory-buffers"]
    return _X11_COMMON + ["--enable-features=" + ",".join(_VAAPI + ["CanvasOopRasterization"])]


def _pkg(attr: str) -> str:
    return "pkgs." + ".".join(attr_name(part) for part in attr.split("."))


def _exe(package: str, binary: str) -> NixRaw:
    return NixRaw("lib.getExe' %s %s" % (package, to_nix(binary)))


def wrapper_words(app: Dict[str, Any], flags: List[str]) -> List[Any]:
    """The wrapper's command line: literal shell words (str, already quoted) and store paths (NixRaw)."""
    unit = "--unit=app-%s-$$-$EPOCHSECONDS" % app["name"]  # name checked: [a-z0-9_.-] only
    words: List[Any] = ["exec", _exe("pkgs.systemd", "systemd-run"), "--user", "--scope", "--quiet", "--collect",
                        unit, shlex.quote("--description=%s (nixperf.tuning electron_apps)" % app["name"]),
                        "-p", "MemoryHigh=%s" % fmt(app["memory_high_mib"]),
                        "-p", "MemoryMax=%s" % fmt(app["memory_max_mib"]),
                        "-p", "CPUQuota=%d%%" % app["cpu_quota"], "--",
                        _exe("pkgs.util-linux", "choom"), "-n", str(app["oom_score_adjust"]), "--",
                        _exe(_pkg(app["package"]), app["binary"])]
    words += [shlex.quote(f) for f in flags + ["--js-flags=--max-old-space-size=%d" % app["v8_heap_mib"]]]
    words += [shlex.quote(f) for f in app["extra_flags"]]
    words.append('"$@"')
    return words


def wrapper(app: Dict[str, Any], flags: List[str], commands: List[str]) -> NixRaw:
    """One script, linked into ``bin/`` under every command name, with priority over the package's own."""
    links = "lib.concatMapStrings (c: \"ln -s ${script} $out/bin/${c}\\n\") %s" % to_nix(commands)
    return NixRaw("let\n  script = pkgs.writeShellScript %s (lib.concatStringsSep \" \" %s);\nin\n"
                  "lib.hiPrio (pkgs.runCommand %s { passthru.script = script; } (\"mkdir -p $out/bin\\n\" + %s))"
                  % (to_nix("nixperf-" + app["name"]), to_nix(wrapper_words(app, flags), indent=1),
                     to_nix("nixperf-electron-" + app["name"]), links))


def _app(inp: Inputs, index: int, raw: Any, total_mib: int, threads: int) -> Dict[str, Any]:
    var = "%sapps[%d]" % (inp.prefix, index)
    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, Mapping):
        raise inp.fail(var, "must be an app name or a mapping with name, got %r" % (raw,))
    unknown = sorted(set(raw) - KEYS)
    if unknown:
        raise inp.fail(var, "has unknown keys %s (known: %s)" % (", ".join(map(str, unknown)), ", ".join(sorted(KEYS))))
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise inp.fail(var + ".name", "must be a lower-case name of letters, digits, '.', '_' or '-' (it becomes "
                       "the command and the systemd unit app-<name>-<pid>-<time>.scope), got %r" % (name,))
    var = "%sapps[%d] (%s)" % (inp.prefix, index, name)
    known = KNOWN.get(name, {})
    if not known and (raw.get("binary") is None or raw.get("package") is None):
        raise inp.fail(var, "is not an app this role knows (%s): give its nixpkgs attribute as package and its "
                       "executable as binary" % ", ".join(sorted(KNOWN)))
    given = {k: v for k, v in raw.items() if v is not None}
    app: Dict[str, Any] = dict(DEFAULTS, **known)
    app.update(given)
    if not isinstance(app["package"], str) or not _ATTR.fullmatch(app["package"]):
        raise inp.fail(var + ".package", "must be a nixpkgs attribute path such as signal-desktop, got %r"
                       % (app["package"],))
    if not isinstance(app["binary"], str) or not _BINARY.fullmatch(app["binary"]):
        raise inp.fail(var + ".binary", "must be an executable name in the package's bin/ (no '/'), got %r"
                       % (app["binary"],))

    def size(key: str) -> int:
        mib = parse_mib(app[key])
        if mib is None:
            raise inp.fail(var + "." + key, "must be a size of at least 1M such as 512M, 2.5G or 12G, got %r"
                           % (app[key],))
        return mib

    # Values the user did not give fit the host: a small host gets smaller limits, never an error about a
    # variable nobody set.  Values the user gave are checked as they are.
    slice_max = user_limits(total_mib, threads)["memory_max_mib"]
    hard = size("memory_max")
    if "memory_max" not in given:
        hard = min(hard, slice_max)
    high = size("memory_high")
    if "memory_high" not in given and high > hard:
        high = max(1, hard * 3 // 4)
    heap = inp.as_int(var + ".v8_heap_mib", app["v8_heap_mib"], 128, 65536)
    if "v8_heap_mib" not in given and heap >= hard:
        heap = max(128, hard // 2)
    quota = inp.as_int(var + ".cpu_quota", app["cpu_quota"], 1, 100000)
    if "cpu_quota" not in given:
        quota = min(quota, threads * 100)
    oom = inp.as_int(var + ".oom_score_adjust", app["oom_score_adjust"], -1000, 1000)
    if oom < 100:
        raise inp.fail(var + ".oom_score_adjust", "(%d) must be 100 or more: a user's apps start at 100 and may not "
                       "lower it without CAP_SYS_RESOURCE (the plan's -100 fails)" % oom)
    if high > hard:
        raise inp.fail(var + ".memory_high", "(%s) must not be above memory_max (%s)" % (fmt(high), fmt(hard)))
    if hard > total_mib:
        raise inp.fail(var + ".memory_max", "(%s) is more than the host's RAM (%s)" % (fmt(hard), fmt(total_mib)))
    if heap >= hard:
        raise inp.fail(var + (".v8_heap_mib" if "v8_heap_mib" in given else ".memory_max"),
                       "(%d MiB heap) must be below memory_max (%s): the V8 heap has to fit in "
                       "the app's memory with room for the renderer and GPU processes" % (heap, fmt(hard)))
    if quota > threads * 100:
        raise inp.fail(var + ".cpu_quota", "(%d %%) is more than the host's %d threads can give (%d %%)"
                       % (quota, threads, threads * 100))
    extra = app.get("extra_flags") or []
    if not isinstance(extra, list) or not all(isinstance(f, str) and _FLAG.fullmatch(f) for f in extra):
        raise inp.fail(var + ".extra_flags", "must be a list of switches like --force-dark-mode, got %r" % (extra,))
    gpu = inp.as_bool(var + ".gpu", app.get("gpu", True))
    return {"name": name, "package": app["package"], "binary": app["binary"], "v8_heap_mib": heap,
            "memory_high_mib": high, "memory_max_mib": hard, "cpu_quota": quota, "oom_score_adjust": oom,
            "extra_flags": list(extra), "gpu": gpu}


def build_electron(inp: Inputs) -> PhasePlan:
    vendor = inp.fact("gpu.vendor")
    total = inp.fact("memory.total_mib")
    threads = inp.fact("cpu.threads")
    session = inp["session"] or inp.desktop.get("session")
    if session is None:
        raise inp.fail(inp.prefix + "session", "is not set and nixperf_desktop.session is missing: set one of them "
                       "to x11 or wayland (it picks the GPU flags)")
    raw_apps = inp["apps"]
    apps = [_app(inp, i, raw, total, threads) for i, raw in enumerate(raw_apps)]
    commands: Dict[str, str] = {}
    for app in apps:
        for command in dict.fromkeys([app["name"], app["binary"]]):
            if command in commands:
                raise inp.fail(inp.prefix + "apps", "install %s twice (%s and %s): names and binaries must be unique"
                               % (command, commands[command], app["name"]))
            commands[command] = app["name"]
    flags = gpu_flags(vendor, session)
    packages: List[NixRaw] = []
    for app in apps:
        packages.append(wrapper(app, flags if app["gpu"] else [], list(dict.fromkeys([app["name"], app["binary"]]))))
    home: Dict[str, Any] = {"home": {"packages": packages}} if packages else {}
    return PhasePlan(
        phase="electron_apps", config=None, home_config=home, enable=inp["enable"],
        derived={"gpu_flags": flags, "session": session, "vendor": vendor,
                 "apps": {a["name"]: {"binary": a["binary"], "package": a["package"],
                                      "memory_high": fmt(a["memory_high_mib"]), "memory_max": fmt(a["memory_max_mib"]),
                                      "cpu_quota": "%d%%" % a["cpu_quota"], "v8_heap_mib": a["v8_heap_mib"],
                                      "commands": list(dict.fromkeys([a["name"], a["binary"]]))} for a in apps}},
        description="Electron app wrappers (GPU flags, V8 heap, cgroup limits)",
        note="%d apps; GPU %s on %s: %s." % (
            len(apps), vendor, session, "%d GPU flags" % len(flags) if flags else "no GPU flags"),
    )


PHASE = Phase(
    name="electron_apps",
    order=60,
    title="Electron apps with GPU flags, a V8 heap cap and systemd cgroup limits (workstation plan, phase 3)",
    description=(
        "Generates a home-manager module per user (C(~/.config/home-manager/nixperf/electron_apps.nix)) that "
        "installs, for each app, a wrapper under the app's name and its real binary name. The wrapper starts the app "
        "in a transient C(systemd-run --user --scope) unit C(app-<name>-<pid>-<time>.scope) with C(MemoryHigh), "
        "C(MemoryMax) and C(CPUQuota), raises its OOM score with C(choom), and passes the GPU flags of the host's "
        "GPU vendor and session and C(--js-flags=--max-old-space-size).",
        "Known apps bring their package, binary and the plan's limits; other apps must name C(package) and "
        "C(binary). Limits you do not set fit the host (never above the user slice's C(MemoryMax) or the host's "
        "threads); limits you set are checked as they are.",
    ),
    facts=("gpu.vendor", "memory.total_mib", "cpu.threads"),
    users=True,
    tags=("home-manager", "electron", "chromium", "cgroups"),
    build=build_electron,
    settings=(
        Setting("enable", "bool", True, "Default of C(nixperf.electron_apps.enable) in the generated home-manager "
                "module."),
        Setting("session", "str", None, "Display session, V(x11) or V(wayland) (picks the GPU flag set); null = "
                "C(nixperf_desktop.session).", choices=SESSIONS),
        Setting("apps", "list", [], "Apps to wrap: names the role knows (%s) or mappings with C(name), C(package) "
                "(nixpkgs attribute path), C(binary), and optional C(v8_heap_mib), C(memory_high), C(memory_max) "
                "(sizes like V(2.5G)), C(cpu_quota) (percent of one thread), C(oom_score_adjust) (100 to 1000), "
                "C(extra_flags) (list of C(--switches)) and C(gpu) (false drops the GPU flags for this app)."
                % ", ".join(sorted(KNOWN)), elements="raw"),
    ),
)
