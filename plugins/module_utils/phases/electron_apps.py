# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Phase 3 of the workstation plan: desktop apps with GPU flags and cgroup limits.

A home-manager module (one per user) adds, per app, a wrapper script that
starts the app in its own transient scope::

    [QTWEBENGINE_CHROMIUM_FLAGS=<GPU flags>] exec systemd-run --user --scope --quiet --collect
      --expand-environment=no --unit=app-<name>-$$-$EPOCHSECONDS -p MemoryHigh=... -p MemoryMax=... -p CPUQuota=...% --
      choom -n <oom score adjust> -- <package>/bin/<binary> [<GPU flags> --js-flags=--max-old-space-size=<MiB>] "$@"

The wrapper script is linked under the app's name *and* its real binary name
(``discord`` and ``Discord``) with ``lib.hiPrio``, so both the shell and the
package's desktop entry (which calls the real binary) go through the limits.

Every app has a kind (``KINDS``), from the nixpkgs package it runs
(``PACKAGE_KINDS``) unless the inventory sets ``kind``, and gets only what that
kind reads: ``electron`` and ``cef`` take Chromium switches and ``--js-flags``
on their command line, ``qt`` (Qt WebEngine) takes Chromium switches from
``QTWEBENGINE_CHROMIUM_FLAGS`` and has no V8 heap switch, ``native`` gets no
flags.  Every kind keeps the scope and its limits.

GPU flags come from one table with its upstream sources
(``module_utils/chromium.py``), chosen by the GPU vendor, the display session
and the kind; a host without a GPU (a VM on llvmpipe) gets none.  The VA-API
feature names Chromium renamed in M131 are written in both spellings, so apps on
an older Chromium (bundled Electron or CEF, Qt WebEngine) understand them too;
``VaapiOnNvidiaGPUs`` is added on NVIDIA, without which Chromium skips the
``nvidia-drm`` device.  An app's own ``--enable-features`` extra flags are merged
into the same switch: Chromium reads only the last one.

Corrections to the plan: ``-p OOMScoreAdjust=-100`` cannot work in a user
scope: scope units have no exec settings, and an unprivileged user may not lower
the score below the 100 the user manager starts with (``CAP_SYS_RESOURCE``).  The
wrapper instead raises the app's score with ``choom`` (default 300), so under
memory pressure the kernel kills a greedy app before the desktop.
Unit names get the launch's PID and time, so two launches never collide.
"""
from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.nixperf.tuning.plugins.module_utils.chromium import KINDS, QT_ENV, gpu_flags, merge_features
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixRaw, attr_name, to_nix
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import Inputs, Phase, PhasePlan, Setting
from ansible_collections.nixperf.tuning.plugins.module_utils.phases.resource_slices import user_limits
from ansible_collections.nixperf.tuning.plugins.module_utils.sizes import fmt, parse_mib

SESSIONS = ("x11", "wayland")
V8_KINDS = ("electron", "cef")  # kinds that read --js-flags (a V8 heap cap)
# nixpkgs attribute -> (kind, where nixpkgs shows it); a custom app with one of these packages gets its kind too.
PACKAGE_KINDS: Dict[str, Tuple[str, str]] = {
    "discord": ("electron", "pkgs/applications/networking/instant-messengers/discord/linux.nix: Discord's own "
                "Electron build (resources/app.asar)"),
    "signal-desktop": ("electron", "pkgs/by-name/si/signal-desktop/package.nix: nixpkgs electron_40"),
    "teams-for-linux": ("electron", "pkgs/by-name/te/teams-for-linux/package.nix: nixpkgs electron_39"),
    "vscodium": ("electron", "pkgs/applications/editors/vscode/vscodium.nix: the VSCodium Electron build"),
    "vscode": ("electron", "pkgs/applications/editors/vscode/vscode.nix: the VS Code Electron build"),
    "obsidian": ("electron", "pkgs/by-name/ob/obsidian/package.nix: nixpkgs electron"),
    "element-desktop": ("electron", "pkgs/by-name/el/element-desktop/package.nix: nixpkgs electron_37"),
    "slack": ("electron", "pkgs/by-name/sl/slack/linux.nix: Slack's own Electron build (resources/app.asar)"),
    "claude-desktop": ("electron", "not in nixpkgs: community flakes repackage the Electron app"),
    "spotify": ("cef", "pkgs/by-name/sp/spotify/linux.nix: usr/share/spotify with libcef.so; nixpkgs passes "
                "Chromium switches on its command line"),
    "zoom-us": ("qt", "pkgs/by-name/zo/zoom-us/package.nix: a Qt application (Qt libraries in its FHS env; web "
                "views in a bundled cef/)"),
}
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
    # a Qt application: the plan's 1024 MiB V8 heap has no switch to go to
    "zoom": {"package": "zoom-us", "binary": "zoom",
             "memory_high": "2.5G", "memory_max": "4G", "cpu_quota": 250},
    "spotify": {"package": "spotify", "binary": "spotify", "v8_heap_mib": 512,
                "memory_high": "2G", "memory_max": "3G", "cpu_quota": 100},
    "obsidian": {"package": "obsidian", "binary": "obsidian", "v8_heap_mib": 1024,
                 "memory_high": "2G", "memory_max": "3G", "cpu_quota": 150},
    # not in nixpkgs: the attribute must come from an overlay (e.g. a community flake)
    "claude": {"package": "claude-desktop", "binary": "claude-desktop", "v8_heap_mib": 2048,
               "memory_high": "4G", "memory_max": "6G", "cpu_quota": 200},
}
DEFAULT_KIND = "electron"  # a package the table does not know: the role's historical assumption
DEFAULTS = {"v8_heap_mib": 1024, "memory_high": "2G", "memory_max": "3G", "cpu_quota": 150, "oom_score_adjust": 300}
KEYS = {"name", "package", "binary", "kind", "v8_heap_mib", "memory_high", "memory_max", "cpu_quota",
        "oom_score_adjust", "extra_flags", "gpu"}

_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_BINARY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}")
_ATTR = re.compile(r"[A-Za-z_][A-Za-z0-9_'-]*(\.[A-Za-z_][A-Za-z0-9_'-]*)*")
_FLAG = re.compile(r"--[a-z0-9][a-z0-9-]*(=[A-Za-z0-9_.,:/=+-]*)?")


def kind_of(package: str) -> str:
    """The kind of a nixpkgs package: from ``PACKAGE_KINDS``, else ``DEFAULT_KIND``."""
    return PACKAGE_KINDS.get(package, (DEFAULT_KIND, ""))[0]


def _pkg(attr: str) -> str:
    return "pkgs." + ".".join(attr_name(part) for part in attr.split("."))


def _exe(package: str, binary: str) -> NixRaw:
    return NixRaw("lib.getExe' %s %s" % (package, to_nix(binary)))


def app_flags(app: Dict[str, Any], vendor: str, session: str) -> Tuple[List[str], Optional[str]]:
    """What the app's kind reads: (command-line switches before ``"$@"``, ``QTWEBENGINE_CHROMIUM_FLAGS`` or None).

    electron and cef: the GPU switches, ``--js-flags`` and the extra flags, with every ``--enable-features`` merged
    into one; qt: the GPU switches in the environment and the extra flags on the command line; native: only the
    extra flags.
    """
    kind = app["kind"]
    gpu = gpu_flags(vendor, session, kind) if app["gpu"] else []
    if kind in V8_KINDS:
        return merge_features(gpu + ["--js-flags=--max-old-space-size=%d" % app["v8_heap_mib"]]
                              + app["extra_flags"]), None
    if kind == "qt":
        return list(app["extra_flags"]), " ".join(gpu) or None
    return list(app["extra_flags"]), None


def wrapper_words(app: Dict[str, Any], args: List[str], env: Optional[str] = None) -> List[Any]:
    """The wrapper's command line: literal shell words (str, already quoted) and store paths (NixRaw).

    ``env``, when given, becomes ``QTWEBENGINE_CHROMIUM_FLAGS`` for the app, followed by any value the caller's
    environment already has (Qt WebEngine reads the variable once, at start).
    """
    unit = "--unit=app-%s-$$-$EPOCHSECONDS" % app["name"]  # name checked: [a-z0-9_.-] only
    words: List[Any] = []
    if env is not None:
        words.append('%s=%s"${%s:+ $%s}"' % (QT_ENV, shlex.quote(env), QT_ENV, QT_ENV))
    # systemd-run (254+) expands $VAR in the command it runs, also in --scope mode: the app's arguments stay verbatim.
    words += ["exec", _exe("pkgs.systemd", "systemd-run"), "--user", "--scope", "--quiet", "--collect",
              "--expand-environment=no", unit, shlex.quote("--description=%s (nixperf.tuning electron_apps)" % app["name"]),
              "-p", "MemoryHigh=%s" % fmt(app["memory_high_mib"]),
              "-p", "MemoryMax=%s" % fmt(app["memory_max_mib"]),
              "-p", "CPUQuota=%d%%" % app["cpu_quota"], "--",
              _exe("pkgs.util-linux", "choom"), "-n", str(app["oom_score_adjust"]), "--",
              _exe(_pkg(app["package"]), app["binary"])]
    words += [shlex.quote(f) for f in args]
    words.append('"$@"')
    return words


def wrapper(app: Dict[str, Any], args: List[str], env: Optional[str], commands: List[str]) -> NixRaw:
    """One script, linked into ``bin/`` under every command name, with priority over the package's own."""
    links = "lib.concatMapStrings (c: \"ln -s ${script} $out/bin/${c}\\n\") %s" % to_nix(commands)
    return NixRaw("let\n  script = pkgs.writeShellScript %s (lib.concatStringsSep \" \" %s);\nin\n"
                  "lib.hiPrio (pkgs.runCommand %s { passthru.script = script; } (\"mkdir -p $out/bin\\n\" + %s))"
                  % (to_nix("nixperf-" + app["name"]), to_nix(wrapper_words(app, args, env), indent=1),
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
    kind = app.get("kind", kind_of(app["package"]))
    if not isinstance(kind, str) or kind not in KINDS:
        raise inp.fail(var + ".kind", "must be one of %s, got %r" % (", ".join(KINDS), kind))
    heap: Optional[int] = None
    if kind in V8_KINDS:
        heap = inp.as_int(var + ".v8_heap_mib", app["v8_heap_mib"], 128, 65536)
        if "v8_heap_mib" not in given and heap >= hard:
            heap = max(128, hard // 2)
    elif "v8_heap_mib" in given:
        raise inp.fail(var + ".v8_heap_mib", "applies only to apps of kind %s: this app is kind %s, which reads no "
                       "--js-flags (remove v8_heap_mib, or set kind if the app is really %s)"
                       % (" or ".join(V8_KINDS), kind, " or ".join(V8_KINDS)))
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
    if heap is not None and heap >= hard:
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
    return {"name": name, "package": app["package"], "binary": app["binary"], "kind": kind, "v8_heap_mib": heap,
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
    packages: List[NixRaw] = []
    for app in apps:
        args, env = app_flags(app, vendor, session)
        packages.append(wrapper(app, args, env, list(dict.fromkeys([app["name"], app["binary"]]))))
    home: Dict[str, Any] = {"home": {"packages": packages}} if packages else {}
    kinds = sorted({a["kind"] for a in apps})
    flags = {kind: gpu_flags(vendor, session, kind) for kind in kinds if kind != "native"}
    return PhasePlan(
        phase="electron_apps", config=None, home_config=home, enable=inp["enable"], home_enable=inp["enable"],
        derived={"gpu_flags": flags, "session": session, "vendor": vendor,
                 "apps": {a["name"]: {"binary": a["binary"], "package": a["package"], "kind": a["kind"],
                                      "memory_high": fmt(a["memory_high_mib"]), "memory_max": fmt(a["memory_max_mib"]),
                                      "cpu_quota": "%d%%" % a["cpu_quota"], "v8_heap_mib": a["v8_heap_mib"],
                                      "commands": list(dict.fromkeys([a["name"], a["binary"]]))} for a in apps}},
        description="App wrappers (GPU flags per app kind, V8 heap, cgroup limits)",
        note="%d apps (%s); GPU %s on %s: %s." % (
            len(apps), ", ".join("%d %s" % (sum(a["kind"] == k for a in apps), k) for k in kinds) or "none", vendor,
            session, ", ".join("%d GPU flags for %s" % (len(f), k) for k, f in flags.items() if f) or "no GPU flags"),
    )


PHASE = Phase(
    name="electron_apps",
    order=60,
    title="Desktop apps (Electron, CEF, Qt WebEngine, native) with GPU flags, a V8 heap cap and systemd cgroup "
          "limits (workstation plan, phase 3)",
    description=(
        "Generates a home-manager module per user (C(~/.config/home-manager/nixperf/electron_apps.nix)) that "
        "installs, for each app, a wrapper under the app's name and its real binary name. The wrapper starts the app "
        "in a transient C(systemd-run --user --scope) unit C(app-<name>-<pid>-<time>.scope) with C(MemoryHigh), "
        "C(MemoryMax) and C(CPUQuota) and raises its OOM score with C(choom), whatever the app's kind.",
        "Each app has a kind (V(electron), V(cef), V(qt) or V(native)), from its nixpkgs package or the app's "
        "C(kind), and gets only what that kind reads: V(electron) and V(cef) the Chromium GPU switches of the "
        "host's GPU vendor and session and C(--js-flags=--max-old-space-size) on the command line, V(qt) the GPU "
        "switches in C(QTWEBENGINE_CHROMIUM_FLAGS), V(native) neither.",
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
                "(nixpkgs attribute path), C(binary), and optional C(kind) (%s; default from the package, else "
                "V(%s)), C(v8_heap_mib) (kinds V(electron) and V(cef) only), C(memory_high), C(memory_max) "
                "(sizes like V(2.5G)), C(cpu_quota) (percent of one thread), C(oom_score_adjust) (100 to 1000), "
                "C(extra_flags) (list of C(--switches) for the app's command line) and C(gpu) (false drops the GPU "
                "flags for this app)." % (", ".join(sorted(KNOWN)), ", ".join(KINDS), DEFAULT_KIND), elements="raw"),
    ),
)
