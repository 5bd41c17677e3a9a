# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Phases 1.1 and 1.2 of the workstation plan: hardware-tuned system libraries.

One data table drives two overlays:

* NixOS (stage ``nixos``): glibc and zlib, CFLAGS only (no ``nativeBuildInputs``, no mold).  Both are packages of
  the stdenv bootstrap, so this stage rebuilds every package of the system: choosing the stage is the opt-in.
* home-manager (stages ``home`` and ``nixos``): the libraries of the plan's table, each with optional extra flags,
  optionally linked with mold.  The four libraries of the table that the stdenv bootstrap builds (bzip2, expat,
  pcre2, xz) rebuild every package of the users' package set; they are left out unless
  ``system_libs_allow_bootstrap`` is true, and naming one in ``system_libs_packages`` without it fails.

Every overlay entry appends the host's flags to the package's own (``overlays.override_attrs``), in ``env`` or at
the top level, wherever the package keeps them.  mold: ``-fuse-ld=mold`` in ``NIX_CFLAGS_LINK`` with the wrapped
linker (``final.mold-wrapped``) in ``nativeBuildInputs``, and never for a library in mold's own build closure (the
overlay would not evaluate: infinite recursion) or of the bootstrap (mold is built with that stdenv).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Tuple

from ansible_collections.nixperf.tuning.plugins.module_utils.compiler import cflag_list, cflags
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixRaw
from ansible_collections.nixperf.tuning.plugins.module_utils.overlays import (
    append_list, bootstrap_reason, bootstrap_refusal, overlay, override_attrs, package)
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import Inputs, Phase, PhasePlan, Setting

STAGES = ("none", "home", "nixos")
# The system overlay of stage nixos (plan 1.1). Both are stdenv bootstrap packages (overlays.STDENV_BOOTSTRAP).
SYSTEM = ("glibc", "zlib")


@dataclass(frozen=True)
class Library:
    """A library of the table: its category, the flags it gets beyond the host's, and whether the stdenv bootstrap
    builds it (then an overlay on it rebuilds every package of its package set; the reason is
    ``overlays.bootstrap_reason(name)``, and a unit test keeps the two in step)."""

    category: str
    cflags: Tuple[str, ...] = ()
    bootstrap: bool = False


# nixpkgs attribute -> library (plan 1.2, extended). bootstrap=True: see overlays.STDENV_BOOTSTRAP for the source.
TABLE: Dict[str, Library] = {
    "zstd": Library("compression"), "bzip2": Library("compression", bootstrap=True),
    "xz": Library("compression", bootstrap=True),
    "lz4": Library("compression"), "snappy": Library("compression"), "brotli": Library("compression"),
    "lzo": Library("compression"),
    "openssl": Library("crypto"), "libgcrypt": Library("crypto"), "libsodium": Library("crypto"),
    "sqlite": Library("database", ("-DSQLITE_ENABLE_FTS5", "-DSQLITE_ENABLE_RTREE")),
    "curl": Library("network"), "nghttp2": Library("network"), "libssh2": Library("network"),
    "c-ares": Library("network"),
    "pcre2": Library("text", bootstrap=True),
    "libevent": Library("async-io"), "libuv": Library("async-io"),
    "libjpeg_turbo": Library("image"), "libpng": Library("image"), "libwebp": Library("image"),
    "giflib": Library("image"), "libtiff": Library("image"), "lcms2": Library("image"),
    "freetype": Library("font"), "harfbuzz": Library("font"), "fontconfig": Library("font"),
    "expat": Library("xml-json", bootstrap=True), "libxml2": Library("xml-json"), "libxslt": Library("xml-json"),
    "jansson": Library("xml-json"), "json_c": Library("xml-json"), "libyaml": Library("xml-json"),
}

#: The libraries of the table that the stdenv bootstrap builds: bzip2, expat, pcre2, xz.
BOOTSTRAP_LIBRARIES = sorted(n for n, lib in TABLE.items() if lib.bootstrap)

_MOLD = "pkgs/by-name/mo/mold/package.nix"
_CMAKE = "cmake's buildInputs (pkgs/by-name/cm/cmake/package.nix; cmake is in mold's nativeBuildInputs)"
#: Libraries of the table in mold's own build closure: linking one with mold makes mold depend on itself, and the
#: overlay fails to evaluate (infinite recursion). Verified through these inputs; deeper ones are not listed.
MOLD_CLOSURE: Dict[str, str] = {
    "zstd": "mold's buildInputs (%s)" % _MOLD,
    "bzip2": _CMAKE, "expat": _CMAKE, "libuv": _CMAKE, "openssl": _CMAKE, "xz": _CMAKE,
    "nghttp2": "curlMinimal's propagatedBuildInputs (http2Support, pkgs/by-name/cu/curlMinimal/package.nix), "
               "a build input of cmake",
    "libssh2": "curlMinimal's propagatedBuildInputs (scpSupport), a build input of cmake",
    "lzo": "libarchive's buildInputs (pkgs/by-name/li/libarchive/package.nix), a build input of cmake",
    "libxml2": "libarchive's buildInputs (xarSupport), a build input of cmake",
    "sqlite": "python3's buildInputs (pkgs/development/interpreters/python/cpython/default.nix); python3 is in "
              "ninja's nativeBuildInputs (pkgs/by-name/ni/ninja/package.nix), ninja in mold's",
    "libxslt": "ninja's nativeBuildInputs (libxslt.bin, for its manual)",
}


def mold_ok(name: str) -> bool:
    """Whether a library of the table may be linked with mold."""
    return name not in MOLD_CLOSURE and not TABLE[name].bootstrap


def entry(name: str, extra_cflags: List[str], mold: bool) -> NixRaw:
    """``prev.<name>.overrideAttrs (old: ...)`` appending the host's flags, then the library's own extra ones, to
    the package's; with mold, ``-fuse-ld=mold`` and the wrapped linker come along."""
    lib = TABLE.get(name, Library("system"))
    flags = {"NIX_CFLAGS_COMPILE": list(lib.cflags) + extra_cflags}
    if mold:
        flags["NIX_CFLAGS_LINK"] = ["-fuse-ld=mold"]
    extra = {"nativeBuildInputs": append_list("nativeBuildInputs", [NixRaw("final.mold-wrapped")])} if mold else None
    return override_attrs(package(name), flags, extra, host_flags=True)


def _names(inp: Inputs, name: str, value: Any) -> List[str]:
    bad = [n for n in value if n not in TABLE]
    if bad:
        raise inp.fail(inp.prefix + name, "names libraries not in the table: %s (known: %s)"
                       % (", ".join(map(str, bad)), ", ".join(sorted(TABLE))))
    return list(value)


def _refuse_bootstrap(inp: Inputs, names: List[str]) -> None:
    # TABLE[n].bootstrap and overlays.bootstrap_reason agree (a unit test keeps them in step)
    msg = bootstrap_refusal(names, inp.prefix, "the users' package set", ("library", "libraries"))
    if msg:
        raise inp.fail(inp.prefix + "packages", msg)


def build_libs(inp: Inputs) -> PhasePlan:
    stage = inp["stage"]
    family = inp.fact("cpu.family")
    opt = inp["optimization_level"]
    mold = inp["mold"]
    allow = inp["allow_bootstrap"]
    excluded = _names(inp, "exclude", inp["exclude"])
    if inp["packages"] is None:
        wanted = [n for n in sorted(TABLE) if allow or not TABLE[n].bootstrap]
        left_out = [] if allow else [n for n in BOOTSTRAP_LIBRARIES if n not in excluded]
    else:
        wanted = _names(inp, "packages", inp["packages"])
        if not allow:
            _refuse_bootstrap(inp, [n for n in wanted if n not in excluded])
        left_out = []
    extra = inp["extra_cflags"]
    _names(inp, "extra_cflags", list(extra))
    for name, flags in extra.items():
        if not isinstance(flags, list) or not all(isinstance(f, str) and f.startswith("-") and " " not in f
                                                  for f in flags):
            raise inp.fail(inp.prefix + "extra_cflags", "%s: give a list of single flags like -DNDEBUG, got %r"
                           % (name, flags))
    chosen = [n for n in wanted if n not in excluded]
    linked = [n for n in chosen if mold and mold_ok(n)]
    mold_skipped = {n: MOLD_CLOSURE.get(n, "a stdenv bootstrap library: mold is built with that stdenv")
                    for n in chosen if mold and not mold_ok(n)}
    host_flags = cflag_list(family, opt)
    home_entries = {n: entry(n, extra.get(n, []), n in linked) for n in chosen}
    nixos_packages = list(SYSTEM) if stage == "nixos" else []
    nixos_entries = {n: entry(n, [], False) for n in nixos_packages}
    config: Dict[str, Any] = {}
    if nixos_packages:
        config = {"nixpkgs": {"overlays": [overlay(nixos_entries, host_flags)]}}
    home = {"nixpkgs": {"overlays": [overlay(home_entries, host_flags)]}} if stage != "none" and chosen else {}
    home_rebuilt = chosen if stage != "none" else []
    bootstrap = {"nixos": [n for n in nixos_packages if bootstrap_reason(n)],
                 "home": [n for n in home_rebuilt if TABLE[n].bootstrap]}
    rebuilt = sorted(set(home_rebuilt) | set(nixos_packages))
    return PhasePlan(
        phase="system_libs", config=config, home_config=home, enable=inp["enable"], home_enable=inp["enable"],
        march=[family] if rebuilt else [],
        # per target: at stage nixos the system's overlay and the users' overlay rebuild different packages
        rebuilds={"packages": {"nixos": nixos_packages, "home": home_rebuilt},
                  "bootstrap": sorted(set(bootstrap["nixos"]) | set(bootstrap["home"]))} if rebuilt else None,
        derived={"stage": stage, "cflags": cflags(family, opt, []), "home_packages": chosen,
                 "nixos_packages": nixos_packages, "mold": mold, "mold_packages": linked if stage != "none" else [],
                 "mold_skipped": mold_skipped if stage != "none" else {},
                 "allow_bootstrap": allow, "bootstrap": bootstrap, "bootstrap_left_out": left_out},
        description="hardware-tuned system libraries (staged: %s)" % stage,
        note=_note(stage, home_rebuilt, bootstrap, left_out, cflags(family, opt, [])),
    )


def _note(stage: str, home: List[str], bootstrap: Dict[str, List[str]], left_out: List[str], flags: str) -> str:
    """What the user signs up for, in the generated files' header and the plan."""
    parts = []
    if stage == "nixos":
        parts.append("glibc and zlib system-wide: both are stdenv bootstrap packages, so every package of the "
                     "system is rebuilt from source")
    if stage == "none" or not home:
        parts.append("no home-manager library" if stage != "none" else "nothing rebuilt")
    else:
        text = "%d home-manager librar%s" % (len(home), "y" if len(home) == 1 else "ies")
        if bootstrap["home"]:
            text += " including the bootstrap librar%s %s (every package of the users' package set is rebuilt " \
                    "from source)" % ("y" if len(bootstrap["home"]) == 1 else "ies", ", ".join(bootstrap["home"]))
        parts.append(text)
    if left_out and stage != "none":
        parts.append("bootstrap libraries left out (system_libs_allow_bootstrap is false): %s" % ", ".join(left_out))
    return "Stage %s: %s. CFLAGS %s (appended to each package's own)." % (stage, "; ".join(parts), flags)


PHASE = Phase(
    name="system_libs",
    order=40,
    title="Hardware-tuned system libraries, NixOS and home-manager overlays (workstation plan, phases 1.1, 1.2)",
    description=(
        "Generates a home-manager module per user with an overlay rebuilding the libraries of the table with the "
        "host's C(-march) (29 by default), and (stage V(nixos)) a NixOS module with a CFLAGS-only overlay for glibc "
        "and zlib. The flags are appended to each package's own C(NIX_CFLAGS_COMPILE), never replace it.",
        "An overlay on a package the stdenv bootstrap builds (glibc, zlib, and of the table bzip2, expat, pcre2, xz) "
        "rebuilds every package of that package set: stage V(nixos) is that choice for the system, "
        "C(system_libs_allow_bootstrap) for the users' libraries. The apply engine counts the builds first and "
        "refuses a switch above C(nixos_apply_max_builds).",
    ),
    facts=("cpu.family", "cpu.x86_64_level"),
    users=True,
    tags=("nixos", "home-manager", "overlay", "march"),
    build=build_libs,
    settings=(
        Setting("enable", "bool", True, "Default of C(nixperf.system_libs.enable) in the generated modules."),
        Setting("stage", "str", "home", "V(none): nothing; V(home): the home-manager libraries only (default); "
                "V(nixos): also glibc and zlib system-wide. Both are stdenv bootstrap packages, so choosing "
                "V(nixos) is the opt-in to rebuilding every package of the system from source (hours).",
                choices=STAGES),
        Setting("packages", "list", None, "Libraries of the table to rebuild; null = every library of the table "
                "that the stdenv bootstrap does not build (29), plus bzip2, expat, pcre2 and xz when "
                "C(system_libs_allow_bootstrap) is true. Naming one of those four without it fails.",
                elements="str"),
        Setting("exclude", "list", [], "Libraries of the table to leave alone.", elements="str"),
        Setting("allow_bootstrap", "bool", False, "Let the users' overlay rebuild the libraries of the table that "
                "the stdenv bootstrap builds (bzip2, expat, pcre2, xz). Each changes stdenv itself, so every package "
                "of the users' package set is rebuilt from source. V(false) (default): they are left out of the "
                "default selection and naming one in C(system_libs_packages) fails. Stage V(nixos) needs no opt-in "
                "beyond the stage itself."),
        Setting("extra_cflags", "dict", {}, "Extra CFLAGS per library, e.g. C({curl: [-DNDEBUG]}), appended after "
                "the host's."),
        Setting("mold", "bool", False, "Link the home-manager libraries with mold (C(-fuse-ld=mold) and the wrapped "
                "linker C(mold-wrapped)); never the bootstrap ones nor those in mold's own build closure (zstd, "
                "bzip2, expat, libuv, openssl, xz, nghttp2, libssh2, lzo, libxml2, sqlite, libxslt)."),
        Setting("optimization_level", "int", 3, "C(-O) level (1-3).", choices=(1, 2, 3)),
    ),
)
