# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compile performance (the boot/startup/compile plan, section "Compile"): five opt-in features of one NixOS module.

* ``parallelism``: ``nix.settings.max-jobs`` and ``nix.settings.cores`` from the host's threads and RAM
  (``parallelism()``, a pure function; the role README tabulates it and a unit test keeps the two equal).
* ``ccache``: ``programs.ccache`` (nixpkgs ``nixos/modules/programs/ccache.nix``) with its cache directory in
  ``nix.settings.extra-sandbox-paths``; the packages named are rebuilt with ``ccacheStdenv``.
* ``sccache``: sccache as ``RUSTC_WRAPPER`` for the developers' own cargo builds (nixpkgs' Rust packages build in the
  sandbox with their own cargo set-up and do not use it).
* ``lto`` / ``pgo``: named packages rebuilt with link-time optimisation (flags appended through
  ``overlays.override_attrs_by_compiler``, the helper system_libs' overlays share) or with the profile-guided switch
  their nixpkgs expression has (``PGO``, a table of verified switches; ``overlays.override_args``).

Every feature is off unless the inventory switches it on (``build_perf_<feature>_enable: true``); each is declared as
``nixperf.build_perf.<feature>.enable`` in the module, so a host can also flip it there.  Every package a feature
rebuilds is listed in ``PhasePlan.rebuilds`` (when the feature is on), so the apply engine's build-cost count names
it and ``nixos_apply_max_builds`` can refuse the switch.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ansible_collections.nixperf.tuning.plugins.module_utils.facts import MAX_THREADS
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixOverride, NixRaw, feature_if, render
from ansible_collections.nixperf.tuning.plugins.module_utils.overlays import (
    bootstrap_reason, bootstrap_refusal, is_attribute, overlay, override_args, override_attrs_by_compiler)
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import Inputs, Phase, PhasePlan, Setting

# -------------------------------------------------------------------------------------------------- parallelism

#: RAM budgeted for one compiler process, in MiB. A C translation unit at -O2 takes 100-500 MiB in cc1; heavy C++
#: (Qt, LLVM, Chromium, boost-rich code) takes 1-2 GiB per cc1plus, and LTO link steps more. 1 GiB per process keeps
#: max-jobs x cores processes inside RAM for typical builds without idling a large machine; raise it
#: (build_perf_mib_per_job) on a host that builds heavy C++ or LTO packages.
MIB_PER_JOB = 1024


def parallelism(threads: int, memory_mib: int, mib_per_job: int = MIB_PER_JOB, max_jobs: Any = None,
                cores: Optional[int] = None) -> Dict[str, Any]:
    """``nix.settings.max-jobs`` and ``nix.settings.cores`` for a host.

    Nix runs up to ``max-jobs`` derivations at once, and hands each ``cores`` as ``NIX_BUILD_CORES`` (``make -j``);
    the worst case is ``max-jobs x cores`` compiler processes.  nixpkgs' defaults (``max-jobs = "auto"``: one job per
    thread, ``cores = 0``: every thread to each job; ``nixos/modules/config/nix.nix``) allow threads^2 of them.

    * the budget: ``slots = max(1, memory_mib // mib_per_job)`` compiler processes fit the RAM; the threads used are
      ``effective = min(threads, slots)``;
    * the split: ``max_jobs = isqrt(effective)``, ``cores = effective // max_jobs``.  A derivation spends much of
      its time in single-threaded phases (unpack, configure, install, fixup; many packages do not even set
      ``enableParallelBuilding``), so several jobs keep the CPU busy while each big compile still gets several
      threads; the square root balances the two levels, and the peak (``max_jobs x cores``) stays at about the
      thread count, never above it, never below 1.

    ``max_jobs`` (an integer or ``"auto"``) and ``cores`` given by the user are kept; the other one is derived from
    the same budget (``effective // given``; ``"auto"`` and ``cores = 0`` count as every thread).
    """
    slots = max(1, memory_mib // mib_per_job)
    effective = max(1, min(threads, slots))
    jobs = max(1, math.isqrt(effective))
    per_job = max(1, effective // jobs)
    if max_jobs is not None and cores is None:
        per_job = max(1, effective // (threads if max_jobs == "auto" else max_jobs))
    elif cores is not None and max_jobs is None:
        jobs = max(1, effective // (threads if cores == 0 else cores))
    if max_jobs is not None:
        jobs = max_jobs
    if cores is not None:
        per_job = cores
    peak = (threads if jobs == "auto" else jobs) * (threads if per_job == 0 else per_job)
    return {"threads": threads, "memory_mib": memory_mib, "mib_per_job": mib_per_job, "memory_slots": slots,
            "effective_threads": effective, "max_jobs": jobs, "cores": per_job, "peak_processes": peak,
            "given": {"max_jobs": max_jobs, "cores": cores}}


# ---------------------------------------------------------------------------------------------------- caches

#: programs.ccache.cacheDir's default in nixpkgs (nixos/modules/programs/ccache.nix).
CCACHE_DIR = "/var/cache/ccache"
# A directory for tmpfiles.d and nix.conf: absolute, no whitespace or quotes, no '%' (a tmpfiles.d specifier), no '='
# or '?' (nix.conf's sandbox-paths syntax for a mapping / an optional path), not the store.
_DIRECTORY = re.compile(r"/[A-Za-z0-9._+@/-]*[A-Za-z0-9._+@-]")
# sccache of nixpkgs: pkgs/by-name/sc/sccache/package.nix (meta.mainProgram "sccache"); the binary cargo runs as
# RUSTC_WRAPPER (sccache docs/Rust.md).
SCCACHE = NixRaw("pkgs.sccache")
SCCACHE_WRAPPER = NixRaw('"${pkgs.sccache}/bin/sccache"')

# -------------------------------------------------------------------------------------------------------- LTO

#: Link-time optimisation per compiler (overlays.override_attrs_by_compiler picks the set from the package's stdenv).
#: GCC (nixpkgs' default stdenv on Linux) has no ThinLTO: its parallel LTO is WHOPR, -flto=auto partitions the link
#: and runs the partitions in parallel (make's jobserver when there is one, else one per CPU thread; GCC manual,
#: -flto). -ffat-lto-objects keeps machine code beside the GIMPLE in every object, so a static archive built with a
#: plain ar (no linker plugin) still links (GCC manual, -ffat-lto-objects); it costs compile time. ThinLTO is LLVM's
#: (clang -flto=thin), used for packages built with a clang stdenv.
LTO_FLAGS: Dict[str, Dict[str, List[str]]] = {
    "gcc": {"NIX_CFLAGS_COMPILE": ["-flto=auto", "-ffat-lto-objects"], "NIX_CFLAGS_LINK": ["-flto=auto"]},
    "clang": {"NIX_CFLAGS_COMPILE": ["-flto=thin"], "NIX_CFLAGS_LINK": ["-flto=thin"]},
}

# -------------------------------------------------------------------------------------------------------- PGO


@dataclass(frozen=True)
class Pgo:
    """A package whose nixpkgs expression has a real profile-guided build: a training run inside the build, switched
    on by ``args`` (``prev.<name>.override args``)."""

    args: Tuple[Tuple[str, Any], ...]
    source: str
    training: str


#: Packages with a verified PGO switch. A generic -fprofile-use without a training run has no profile to use, so a
#: package not in the table is refused. Checked and left out: firefox (enablePGO / formerly pgoSupport in
#: pkgs/applications/networking/browsers/firefox/common.nix is already true on native Linux builds), gcc
#: (profiledCompiler in pkgs/development/compilers/gcc/default.nix: stdenv's own compiler, a bootstrap package),
#: x265 (pgoSupport is gone from pkgs/by-name/x2/x265/package.nix).
PGO: Dict[str, Pgo] = {
    # enableOptimizations ? false: "--enable-optimizations" (PGO + -fno-semantic-interposition); reproducibleBuild
    # (default false) must stay false (an assert). self: the interpreter's package set follows the overridden
    # interpreter (the nixpkgs manual's python3.override { ...; self = python; }, and cpython's own passthru).
    "python3": Pgo(args=(("enableOptimizations", True), ("self", NixRaw("final.python3"))),
                   source="pkgs/development/interpreters/python/cpython/default.nix",
                   training="CPython's own profile task (the regression test suite) runs inside the build"),
}


# -------------------------------------------------------------------------------------------------- the phase

FEATURES = ("parallelism", "ccache", "sccache", "lto", "pgo")
FEATURE_DOCS = {
    "parallelism": "nix.settings.max-jobs and cores from the host's threads and RAM",
    "ccache": "programs.ccache with its cache directory in the build sandbox",
    "sccache": "sccache as RUSTC_WRAPPER for the developers' own cargo builds",
    "lto": "link-time optimisation for the packages named in build_perf_lto_packages",
    "pgo": "profile-guided builds for the packages named in build_perf_pgo_packages",
}


def _names(inp: Inputs, name: str) -> List[str]:
    """A list setting of nixpkgs attribute names, checked."""
    var = inp.prefix + name
    value = inp[name]
    bad = [n for n in value if not is_attribute(n)]
    if bad:
        raise inp.fail(var, "names %s, not nixpkgs attribute names (a top-level attribute such as zstd or "
                       "libjpeg_turbo; no dotted paths, spaces or Nix code)" % ", ".join(repr(n) for n in bad))
    seen = sorted({n for n in value if value.count(n) > 1})
    if seen:
        raise inp.fail(var, "names %s more than once" % ", ".join(seen))
    return list(value)


def _directory(inp: Inputs, name: str) -> Optional[str]:
    value = inp[name]
    if value is None:
        return None
    if not _DIRECTORY.fullmatch(value) or "/../" in value + "/" or "/./" in value + "/" or "//" in value \
            or value == "/nix" or value.startswith(("/nix/store", "/proc", "/sys", "/dev")):
        raise inp.fail(inp.prefix + name, "must be an absolute directory outside /nix/store, /proc, /sys and /dev, of "
                       "letters, digits and ._+@- (no spaces, quotes, '%%', '=', '..' or trailing '/'), e.g. %s, got %r"
                       % (CCACHE_DIR, value))
    return value


def _max_jobs(inp: Inputs, threads: int) -> Any:
    """``build_perf_max_jobs``: None, ``"auto"`` or an integer from 1 to the host's threads (text from ``-e``
    converted)."""
    value = inp["max_jobs"]
    if value is None:
        return None
    if isinstance(value, str) and value.strip() == "auto":
        return "auto"
    if isinstance(value, str) and re.fullmatch(r"[0-9]+", value.strip()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= threads:
        raise inp.fail(inp.prefix + "max_jobs", "must be \"auto\" or an integer from 1 to %d (the host's "
                       "cpu.threads), got %r" % (threads, value))
    return value


def _refuse(inp: Inputs, name: str, names: List[str]) -> None:
    if not inp["allow_bootstrap"]:
        message = bootstrap_refusal(names, inp.prefix, "the system")
        if message:
            raise inp.fail(inp.prefix + name, message)


def _merge(values: List[Any]) -> Any:
    """One definition of an option from several feature-guarded ones (``lib.mkMerge [ ... ]``, rendered by the
    serializer); a single one stays as it is."""
    if len(values) == 1:
        return values[0]
    return NixRaw("lib.mkMerge " + render(values, markers=False)[0])


def build_perf(inp: Inputs) -> PhasePlan:
    threads = inp.fact("cpu.threads")
    memory = inp.fact("memory.total_mib")
    on = {f: inp[f + "_enable"] for f in FEATURES}

    # -- every input checked before anything is built
    max_jobs = _max_jobs(inp, threads)
    cores = inp["cores"]
    if cores is not None and cores > threads:
        raise inp.fail(inp.prefix + "cores", "must be an integer from 0 (every thread) to %d (the host's cpu.threads), "
                       "got %d" % (threads, cores))
    ccache_dir = _directory(inp, "ccache_dir")
    sccache_dir = _directory(inp, "sccache_dir")
    ccache_packages = _names(inp, "ccache_packages")
    lto_packages = _names(inp, "lto_packages")
    pgo_packages = _names(inp, "pgo_packages")
    unknown = [n for n in pgo_packages if n not in PGO]
    if unknown:
        raise inp.fail(inp.prefix + "pgo_packages", "names %s: only packages whose nixpkgs expression has a real "
                       "profile-guided build (a training run inside the build) can be listed: %s. Adding "
                       "-fprofile-use to another package does nothing useful: without a training run there is no "
                       "profile to use" % (", ".join(unknown), ", ".join(
                           "%s (%s in %s)" % (n, PGO[n].args[0][0], PGO[n].source) for n in sorted(PGO))))
    for name, names in (("ccache_packages", ccache_packages), ("lto_packages", lto_packages),
                        ("pgo_packages", pgo_packages)):
        _refuse(inp, name, names)

    # -- the values, each guarded by its feature's switch
    par = parallelism(threads, memory, inp["mib_per_job"], max_jobs, cores)
    settings: Dict[str, Any] = {
        "max-jobs": feature_if("parallelism", inp.owned(par["max_jobs"])),
        "cores": feature_if("parallelism", inp.owned(par["cores"])),
        # a list: merged with the host's own sandbox paths (no priority, which would drop theirs)
        "extra-sandbox-paths": feature_if("ccache", [ccache_dir]),
    }
    ccache: Dict[str, Any] = {"enable": feature_if("ccache", inp.owned(True)),
                              "cacheDir": feature_if("ccache", inp.owned(ccache_dir))}
    if ccache_packages:
        ccache["packageNames"] = feature_if("ccache", ccache_packages)
    # Nix code is a marker, which inp.owned() leaves alone: the priority is put on explicitly
    session: Dict[str, Any] = {"RUSTC_WRAPPER": feature_if("sccache", NixOverride(inp.priority, SCCACHE_WRAPPER))}
    if sccache_dir:
        session["SCCACHE_DIR"] = feature_if("sccache", inp.owned(sccache_dir))
    config: Dict[str, Any] = {
        "nix": {"settings": settings},
        "programs": {"ccache": ccache},
        # sessionVariables: set by PAM at login, so IDEs started from the desktop see them too, and merged into
        # environment.variables for shells (nixos/modules/config/system-environment.nix)
        "environment": {"systemPackages": feature_if("sccache", [SCCACHE]), "sessionVariables": session},
    }
    # one overlay per feature, each guarded by its own switch; nixpkgs applies them in turn, and a package in both
    # gets both (override keeps an earlier overrideAttrs: lib/customisation.nix, makeOverridable's overrideResult)
    guarded = []
    if lto_packages:
        lto_entries = {n: override_attrs_by_compiler(n, LTO_FLAGS["gcc"], LTO_FLAGS["clang"]) for n in lto_packages}
        guarded.append(feature_if("lto", [overlay(lto_entries)]))
    if pgo_packages:
        pgo_entries = {n: override_args(n, dict(PGO[n].args)) for n in pgo_packages}
        guarded.append(feature_if("pgo", [overlay(pgo_entries)]))
    if guarded:
        config["nixpkgs"] = {"overlays": _merge(guarded)}

    # -- what is rebuilt, for the build-cost count (only the features switched on)
    rebuilt = {"ccache": ccache_packages if on["ccache"] else [], "lto": lto_packages if on["lto"] else [],
               "pgo": pgo_packages if on["pgo"] else []}
    packages = sorted(set().union(*rebuilt.values()))
    bootstrap = [n for n in packages if bootstrap_reason(n)]
    derived = {
        "features": [f for f in FEATURES if on[f]],
        "parallelism": par,
        "ccache": {"dir": ccache_dir, "packages": ccache_packages},
        "sccache": {"dir": sccache_dir or "~/.cache/sccache (sccache's default, per user)"},
        "lto": {"packages": lto_packages, "flags": LTO_FLAGS},
        "pgo": {"packages": {n: {"switch": PGO[n].args[0][0], "source": PGO[n].source} for n in pgo_packages}},
        "rebuilt": rebuilt,
        "allow_bootstrap": inp["allow_bootstrap"],
        "bootstrap": bootstrap,
    }
    return PhasePlan(
        phase="build_perf", config=config, derived=derived, enable=inp["enable"],
        description="compile performance (build parallelism, compiler caches, LTO and PGO rebuilds)",
        note=_note(on, par, ccache_dir, ccache_packages, sccache_dir, lto_packages, pgo_packages, bootstrap),
        features={f: (on[f], FEATURE_DOCS[f]) for f in FEATURES},
        rebuilds={"packages": {"nixos": packages}, "bootstrap": bootstrap} if packages else None,
    )


def _note(on: Mapping[str, bool], par: Mapping[str, Any], ccache_dir: str, ccache_packages: List[str],
          sccache_dir: Optional[str], lto: List[str], pgo: List[str], bootstrap: List[str]) -> str:
    """What is switched on, in the generated file's header and the plan."""
    parts = []
    if on["parallelism"]:
        parts.append("parallelism: max-jobs %s x cores %s (%d threads, %d MiB RAM at %d MiB a compiler process)"
                     % (par["max_jobs"], par["cores"], par["threads"], par["memory_mib"], par["mib_per_job"]))
    if on["ccache"]:
        parts.append("ccache in %s (sandbox path)%s" % (ccache_dir, "; rebuilt with ccacheStdenv: " + ", ".join(
            ccache_packages) if ccache_packages else "; no package named, so no build uses it"))
    if on["sccache"]:
        parts.append("sccache as RUSTC_WRAPPER for the users' cargo builds (cache %s)"
                     % (sccache_dir or "~/.cache/sccache"))
    if on["lto"] and lto:
        parts.append("LTO rebuilds: " + ", ".join(lto))
    if on["pgo"] and pgo:
        parts.append("PGO rebuilds: " + ", ".join(pgo))
    if bootstrap:
        parts.append("bootstrap packages %s: every package of the system is rebuilt from source" % ", ".join(bootstrap))
    if not parts:
        return "Every feature is off (build_perf_<feature>_enable: true switches one on); the module sets nothing."
    return "On: " + "; ".join(parts) + "."


PHASE = Phase(
    name="build_perf",
    order=110,
    title="Compile performance: build parallelism, ccache / sccache, opt-in LTO and PGO rebuilds "
          "(boot/startup/compile plan, section Compile)",
    description=(
        "Generates C(nixperf/build_perf.nix), a NixOS module with five features, each off unless switched on: "
        "C(nix.settings.max-jobs) / C(cores) from the host's threads and RAM (V(parallelism)), C(programs.ccache) "
        "with its cache directory in the build sandbox (V(ccache)), sccache as C(RUSTC_WRAPPER) for the users' own "
        "cargo builds (V(sccache)), and named packages rebuilt with link-time optimisation (V(lto)) or their "
        "expression's profile-guided build (V(pgo)).",
        "Each feature is declared as C(nixperf.build_perf.<feature>.enable) (default from the inventory). Every "
        "package rebuilt (ccache, LTO, PGO) is reported to the apply engine, which counts the builds first and "
        "refuses a switch above C(nixos_apply_max_builds); stdenv bootstrap packages are refused unless "
        "C(build_perf_allow_bootstrap).",
    ),
    facts=("cpu.threads", "memory.total_mib"),
    tags=("nixos", "nix", "compile", "overlay", "performance"),
    build=build_perf,
    settings=(
        Setting("enable", "bool", True, "Default of C(nixperf.build_perf.enable) in the generated module."),
        Setting("parallelism_enable", "bool", False, "Set C(nix.settings.max-jobs) and C(nix.settings.cores) from the "
                "host's threads and RAM (feature V(parallelism))."),
        Setting("max_jobs", "raw", None, "C(nix.settings.max-jobs): an integer from 1 to the host's cpu.threads, or "
                "V(auto); null = derived: isqrt(min(threads, RAM / build_perf_mib_per_job)) (8 threads, 16 GiB -> "
                "2)."),
        Setting("cores", "int", None, "C(nix.settings.cores): 0 (every thread) to the host's cpu.threads; null = "
                "derived: min(threads, RAM / build_perf_mib_per_job) // max-jobs (8 threads, 16 GiB -> 4).",
                lo=0, hi=MAX_THREADS),
        Setting("mib_per_job", "int", MIB_PER_JOB, "RAM budgeted per compiler process (MiB, 128-65536): "
                "max-jobs x cores stays within RAM / this. 1024 suits C and most C++; raise it for heavy C++ or LTO.",
                lo=128, hi=65536),
        Setting("ccache_enable", "bool", False, "Enable C(programs.ccache) with its cache directory in "
                "C(nix.settings.extra-sandbox-paths) (feature V(ccache))."),
        Setting("ccache_dir", "str", CCACHE_DIR, "C(programs.ccache.cacheDir): an absolute directory (created by the "
                "nixpkgs module, mode 0770, group nixbld)."),
        Setting("ccache_packages", "list", [], "C(programs.ccache.packageNames): nixpkgs attributes rebuilt with "
                "ccacheStdenv (local rebuilds; later rebuilds of them hit the cache). Bootstrap packages need "
                "C(build_perf_allow_bootstrap).", elements="str"),
        Setting("sccache_enable", "bool", False, "Install sccache and set C(RUSTC_WRAPPER) for the users' own cargo builds "
                "(feature V(sccache)); nixpkgs' Rust packages do not use it."),
        Setting("sccache_dir", "str", None, "C(SCCACHE_DIR), an absolute directory each developer can write; null = "
                "sccache's default, C(~/.cache/sccache) per user (one sccache server per directory)."),
        Setting("lto_enable", "bool", False, "Rebuild C(build_perf_lto_packages) with link-time optimisation (feature "
                "V(lto))."),
        Setting("lto_packages", "list", [], "nixpkgs attributes rebuilt with LTO: C(-flto=auto -ffat-lto-objects) "
                "for GCC-built packages, C(-flto=thin) for clang-built ones, appended to each package's own flags. "
                "Bootstrap packages need C(build_perf_allow_bootstrap).", elements="str"),
        Setting("pgo_enable", "bool", False, "Rebuild C(build_perf_pgo_packages) with their expression's profile-guided "
                "build (feature V(pgo))."),
        Setting("pgo_packages", "list", [], "Packages with a verified PGO switch: V(python3) "
                "(C(enableOptimizations)). Any other name fails.", elements="str"),
        Setting("allow_bootstrap", "bool", False, "Allow stdenv bootstrap packages (glibc, zlib, xz, gcc, ...) in "
                "the ccache, LTO and PGO lists: each changes stdenv itself, so every package of the system is rebuilt "
                "from source."),
    ),
)
