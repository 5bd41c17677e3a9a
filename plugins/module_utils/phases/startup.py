# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Program start-up of the boot-startup-compile plan: one XDG cache home, caches moved into it, LD_PRELOAD checks.

A home-manager module per user, every change opt-in (``PhasePlan.features``, each off unless the inventory says so):

* ``xdgCache`` (``startup_xdg_cache_enable``): ``XDG_CACHE_HOME`` set once for the session through home-manager's own xdg
  module (nix-community/home-manager ``modules/misc/xdg.nix``): ``xdg.enable = true`` exports ``xdg.cacheHome``
  (with ``xdg.configHome``, ``xdg.dataHome`` and ``xdg.stateHome``, at the XDG spec's defaults unless set) as
  ``XDG_*_HOME`` into ``home.sessionVariables`` (shells, through ``hm-session-vars.sh``) and
  ``systemd.user.sessionVariables`` (``~/.config/environment.d/10-home-manager.conf``: every systemd user unit,
  the Plasma session's services among them). ``xdg.cacheHome`` is ``$HOME/<startup_cache_dir>``.
* ``cacheRedirects`` (``startup_cache_redirects_enable``): the programs of ``CACHE_PROGRAMS`` that write their caches
  outside ``XDG_CACHE_HOME`` unless told get the variable that tells them, in the same two places home-manager's
  xdg module uses. The value is Nix code the phase builds (never inventory text): ``config.xdg.cacheHome + "/npm"``
  while ``xdgCache`` is on, ``"$HOME/<startup_cache_dir>/npm"`` otherwise (both shells and ``environment.d(5)``
  expand ``$HOME``).

The read-only checks (``module_utils/checks.py`` ``startup_checks``, run by the ``validate`` role whatever the
features) report caches of the table found outside the cache home and every ``LD_PRELOAD`` entry: the preload list
files, the session environment, environment files, and wrapper scripts in the profiles' ``bin`` directories.
``startup_ld_preload_allow`` exempts the intended ones. Nothing here removes or rewrites anything on the host.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Tuple

from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixOverride, NixRaw, escape_string, feature_if
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import Inputs, Phase, PhasePlan, Setting


@dataclass(frozen=True)
class CacheProgram:
    """A program that keeps its cache outside ``XDG_CACHE_HOME`` unless ``variable`` says where.

    ``legacy``: where it writes without the variable, relative to ``$HOME``; ``subdir``: where the redirect puts it,
    below the cache home; ``source``: the program's own documentation of the variable and the default.
    """

    variable: str
    subdir: str
    legacy: Tuple[str, ...]
    source: str


# Only caches (safe to delete, rebuilt on demand) whose program ignores XDG_CACHE_HOME by default. Left out on
# purpose: pip, yarn 1, Go's build cache (GOCACHE), Mesa, ccache 4, deno and NVIDIA's OpenGL shader cache already
# follow XDG_CACHE_HOME; Gradle, Cargo, rustup and Maven keep configuration or installed tools beside their caches.
CACHE_PROGRAMS: Dict[str, CacheProgram] = {
    "npm": CacheProgram(
        "NPM_CONFIG_CACHE", "npm", (".npm/_cacache",),
        "docs.npmjs.com/cli/using-npm/config#cache: default ~/.npm on POSIX; every npm_config_* variable "
        "(case-insensitive) sets the option of that name"),
    "cuda": CacheProgram(
        "CUDA_CACHE_PATH", "nvidia/ComputeCache", (".nv/ComputeCache",),
        "NVIDIA CUDA Programming Guide, CUDA Environment Variables: CUDA_CACHE_PATH, the JIT compiler's cache, "
        "default ~/.nv/ComputeCache on Linux"),
    "go": CacheProgram(
        "GOMODCACHE", "go-mod", ("go/pkg/mod",),
        "go.dev/ref/mod#module-cache and cmd/go testdata/script/mod_gomodcache.txt: default $GOPATH/pkg/mod, "
        "$HOME/go/pkg/mod without GOPATH; its files are read-only, remove it with go clean -modcache"),
    "bundler": CacheProgram(
        "BUNDLE_USER_CACHE", "bundle", (".bundle/cache",),
        "rubygems/rubygems bundler/lib/bundler.rb user_bundle_path: BUNDLE_USER_CACHE, default ~/.bundle/cache"),
    "nuget": CacheProgram(
        "NUGET_PACKAGES", "nuget/packages", (".nuget/packages",),
        "learn.microsoft.com/nuget/consume-packages/managing-the-global-packages-and-cache-folders: the "
        "global-packages folder, default ~/.nuget/packages on Linux, NUGET_PACKAGES wins over the configuration"),
}

# a directory below the home: words of letters, digits and ._+- joined by single slashes ("." and ".." refused)
_CACHE_DIR = re.compile(r"[A-Za-z0-9._+-]+(/[A-Za-z0-9._+-]+)*")
# an allow-list entry: an absolute path or a basename, fnmatch patterns allowed; ld.so separates LD_PRELOAD entries
# with spaces and colons, so an entry holds neither
_ALLOW = re.compile(r"[^\s:]+")


def cache_dir(inp: Inputs) -> str:
    value = inp["cache_dir"]
    var = inp.prefix + "cache_dir"
    if not _CACHE_DIR.fullmatch(value) or any(part in (".", "..") for part in value.split("/")):
        raise inp.fail(var, "must be a directory relative to the home such as .cache: words of letters, digits and "
                            "._+- joined by single slashes, no leading slash, no . or .. part, no spaces; got %r"
                       % (value,))
    return value


def redirects(inp: Inputs) -> List[str]:
    """The programs of ``CACHE_PROGRAMS`` to redirect, in the table's order."""
    names = inp["cache_redirects"]
    var = inp.prefix + "cache_redirects"
    if names is None:
        return list(CACHE_PROGRAMS)
    bad = [n for n in names if not isinstance(n, str) or n not in CACHE_PROGRAMS]
    if bad:
        raise inp.fail(var, "names programs not in the table: %s (known: %s)"
                       % (", ".join(map(repr, bad)), ", ".join(CACHE_PROGRAMS)))
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise inp.fail(var, "names %s more than once" % ", ".join(twice))
    if not names and inp["cache_redirects_enable"]:
        raise inp.fail(var, "is empty while %scache_redirects_enable is true: name programs of the table (%s), leave it "
                            "null for all of them, or switch the redirects off" % (inp.prefix, ", ".join(CACHE_PROGRAMS)))
    return [n for n in CACHE_PROGRAMS if n in names]


def ld_preload_allow(inp: Inputs) -> List[str]:
    var = inp.prefix + "ld_preload_allow"
    out = []
    for i, entry in enumerate(inp["ld_preload_allow"]):
        if not isinstance(entry, str) or not _ALLOW.fullmatch(entry):
            raise inp.fail("%s[%d]" % (var, i), "must be a library path or basename pattern without spaces or "
                                                ":, got %r" % (entry,))
        if "/" in entry and not entry.startswith("/"):
            raise inp.fail("%s[%d]" % (var, i), "must be an absolute path (/nix/store/*-mimalloc-*/lib/libmimalloc.so) "
                                                "or a basename pattern without a slash (libmimalloc.so*), got %r"
                           % (entry,))
        out.append(entry)
    return out


def redirect_value(directory: str, program: CacheProgram) -> NixRaw:
    """Where the program's cache goes: below ``xdg.cacheHome`` while the xdgCache feature is on (so it follows a
    ``xdg.cacheHome`` the host sets itself), else below ``$HOME/<directory>``. Only escaped string literals enter
    the code."""
    return NixRaw("if cfg.xdgCache.enable then config.xdg.cacheHome + %s else %s" % (
        escape_string("/" + program.subdir), escape_string("$HOME/%s/%s" % (directory, program.subdir))))


def build_startup(inp: Inputs) -> PhasePlan:
    directory = cache_dir(inp)
    chosen = redirects(inp)
    allow = ld_preload_allow(inp)
    xdg_on, redirect_on = inp["xdg_cache_enable"], inp["cache_redirects_enable"]
    # home-manager modules/misc/xdg.nix: xdg.enable exports xdg.cacheHome (types.path, apply = toString) as
    # XDG_CACHE_HOME into home.sessionVariables and systemd.user.sessionVariables
    home: Dict[str, Any] = {"xdg": {
        "enable": feature_if("xdgCache", inp.owned(True)),
        "cacheHome": feature_if("xdgCache", NixOverride(inp.priority, NixRaw(
            "config.home.homeDirectory + %s" % escape_string("/" + directory)))),
    }}
    # at the nixperf priority (inp.owned keeps a marker as it is, so the code gets its lib.mkOverride here): a
    # host's plain definition of the same variable gives way, its lib.mkForce wins
    variables = {CACHE_PROGRAMS[n].variable: feature_if("cacheRedirects", NixOverride(inp.priority, redirect_value(
        directory, CACHE_PROGRAMS[n]))) for n in chosen}
    if variables:
        # home-manager modules/home-environment.nix (home.sessionVariables: hm-session-vars.sh, for shells) and
        # modules/systemd.nix (systemd.user.sessionVariables: environment.d/10-home-manager.conf, for the user
        # manager and the session it starts), the two places modules/misc/xdg.nix writes XDG_CACHE_HOME to
        home["home"] = {"sessionVariables": dict(variables)}
        home["systemd"] = {"user": {"sessionVariables": dict(variables)}}
    # what the host must show, for the checks: paths relative to the user's $HOME
    session_paths: Dict[str, str] = {}
    if xdg_on:
        session_paths["XDG_CACHE_HOME"] = directory
    if redirect_on:
        session_paths.update({CACHE_PROGRAMS[n].variable: "%s/%s" % (directory, CACHE_PROGRAMS[n].subdir)
                              for n in chosen})
    programs = {n: {"variable": p.variable, "subdir": p.subdir, "legacy": list(p.legacy),
                    "redirected": redirect_on and n in chosen} for n, p in CACHE_PROGRAMS.items()}
    return PhasePlan(
        phase="startup",
        config=None,
        home_config=home,
        enable=inp["enable"],
        home_enable=inp["enable"],
        features={
            "xdgCache": (xdg_on, "Whether to set XDG_CACHE_HOME for the session through home-manager's xdg module "
                                 "(xdg.enable, xdg.cacheHome = $HOME/%s)." % directory),
            "cacheRedirects": (redirect_on, "Whether to point the caches of %s into the XDG cache home."
                               % (", ".join(chosen) or "no program")),
        },
        derived={"xdg_cache_enable": xdg_on, "cache_redirects_enable": redirect_on, "cache_dir": directory,
                 "cache_redirects": chosen if redirect_on else [], "session_paths": session_paths,
                 "cache_programs": programs, "ld_preload_allow": allow},
        description="program start-up: one XDG cache home, caches redirected into it",
        note=_note(xdg_on, redirect_on, directory, chosen, allow),
    )


def _note(xdg_on: bool, redirect_on: bool, directory: str, chosen: List[str], allow: List[str]) -> str:
    parts = ["XDG_CACHE_HOME=$HOME/%s (xdg.enable)" % directory if xdg_on else "XDG_CACHE_HOME not set (xdgCache off)"]
    parts.append("caches of %s redirected into it" % ", ".join(chosen) if redirect_on else "no cache redirected "
                 "(cacheRedirects off)")
    parts.append("LD_PRELOAD checks read-only%s" % (", allowed: " + ", ".join(allow) if allow else ""))
    return "; ".join(parts) + "."


PHASE = Phase(
    name="startup",
    order=105,
    title="Program start-up: one XDG cache home, caches redirected into it, LD_PRELOAD checks (boot-startup-compile "
          "plan)",
    description=(
        "Generates a home-manager module per user. Every change is a feature of its own, off unless switched on: "
        "C(startup_xdg_cache_enable) sets C(XDG_CACHE_HOME) once for the session through home-manager's xdg module; "
        "C(startup_cache_redirects_enable) points the caches of programs that ignore it (npm, CUDA's JIT cache, the Go "
        "module cache, Bundler, NuGet) into it. With both off the module is written and sets nothing.",
        "The C(validate) role checks, read-only and whatever the features, the session's C(XDG_CACHE_HOME) and "
        "redirect variables, the known caches left outside the cache home, and every C(LD_PRELOAD) entry: "
        "C(/etc/ld-nix.so.preload), C(/etc/ld.so.preload), the session environment, environment files and "
        "wrapper scripts in the profiles' C(bin) directories (C(startup_ld_preload_allow) exempts intended ones).",
    ),
    users=True,
    tags=("home-manager", "xdg", "startup", "performance"),
    build=build_startup,
    settings=(
        Setting("enable", "bool", True, "Default of C(nixperf.startup.enable) in the generated modules."),
        Setting("xdg_cache_enable", "bool", False, "Feature C(xdgCache): C(xdg.enable = true) and C(xdg.cacheHome = "
                "$HOME/<startup_cache_dir>) (home-manager exports C(XDG_CACHE_HOME), and the other three "
                "C(XDG_*_HOME) at their XDG defaults, to shells and the systemd user session)."),
        Setting("cache_dir", "str", ".cache", "The cache home relative to the home directory (words of letters, "
                "digits and C(._+-) joined by single slashes; no leading slash, no C(.) or C(..) part)."),
        Setting("cache_redirects_enable", "bool", False, "Feature C(cacheRedirects): set the variables of the programs in "
                "C(startup_cache_redirects) so that their caches go below the cache home."),
        Setting("cache_redirects", "list", None, "Programs of the table to redirect (V(npm) C(NPM_CONFIG_CACHE), "
                "V(cuda) C(CUDA_CACHE_PATH), V(go) C(GOMODCACHE), V(bundler) C(BUNDLE_USER_CACHE), V(nuget) "
                "C(NUGET_PACKAGES)); null = all of them.", elements="str"),
        Setting("ld_preload_allow", "list", [], "Preloaded libraries the LD_PRELOAD check accepts: absolute paths "
                "or basename patterns (fnmatch), e.g. C(libmimalloc.so*) for "
                "C(environment.memoryAllocator.provider). Missing files are reported even when allowed.",
                elements="str"),
    ),
)
