# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Phases 1.1 and 1.2 of the workstation plan: hardware-tuned system libraries.

One data table drives two overlays:

* NixOS (stage ``nixos``): glibc and zlib, bootstrap-critical, so CFLAGS only:
  no ``nativeBuildInputs``, no mold.
* home-manager (stages ``home`` and ``nixos``): the 30+ post-bootstrap libraries
  of the plan's table, each with optional extra flags, optionally linked with mold.

Every overlay entry is ``prev.<name>.overrideAttrs (old: { env = (old.env or
{ }) // { NIX_CFLAGS_COMPILE = "<flags>"; }; })``; names come from the table
only, flags are escaped Nix strings.  Correction to the plan: ``-fuse-ld=mold``
in ``NIX_LDFLAGS`` without mold in ``nativeBuildInputs`` fails (the linker is not
on the build's PATH); the mold opt-in adds ``final.mold`` to
``nativeBuildInputs`` of the home-manager packages, never of bootstrap ones.
"""
from __future__ import annotations

from typing import Any, Dict, List

from ansible_collections.nixperf.tuning.plugins.module_utils.compiler import cflags
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixRaw, attr_name, to_nix
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import Inputs, Phase, PhasePlan, Setting

STAGES = ("none", "home", "nixos")
BOOTSTRAP = ["glibc", "zlib"]
# Packages the final stdenv of nixpkgs takes from its bootstrap stages: an overlay on one of them changes stdenv
# itself, so every package of that package set is rebuilt (the apply engine's build-cost gate names them).
STDENV_BOOTSTRAP = frozenset(["glibc", "zlib", "xz", "bzip2", "pcre2"])
# nixpkgs attribute -> (category, extra CFLAGS, may use mold)
TABLE: Dict[str, tuple] = {
    "zstd": ("compression", [], False), "bzip2": ("compression", [], False), "xz": ("compression", [], False),
    "lz4": ("compression", [], True), "snappy": ("compression", [], True), "brotli": ("compression", [], True),
    "lzo": ("compression", [], True),
    "openssl": ("crypto", [], True), "libgcrypt": ("crypto", [], True), "libsodium": ("crypto", [], True),
    "sqlite": ("database", ["-DSQLITE_ENABLE_FTS5", "-DSQLITE_ENABLE_RTREE"], True),
    "curl": ("network", [], True), "nghttp2": ("network", [], True), "libssh2": ("network", [], True),
    "c-ares": ("network", [], True),
    "pcre2": ("text", [], True),
    "libevent": ("async-io", [], True), "libuv": ("async-io", [], True),
    "libjpeg_turbo": ("image", [], True), "libpng": ("image", [], True), "libwebp": ("image", [], True),
    "giflib": ("image", [], True), "libtiff": ("image", [], True), "lcms2": ("image", [], True),
    "freetype": ("font", [], True), "harfbuzz": ("font", [], True), "fontconfig": ("font", [], True),
    "expat": ("xml-json", [], True), "libxml2": ("xml-json", [], True), "libxslt": ("xml-json", [], True),
    "jansson": ("xml-json", [], True), "json_c": ("xml-json", [], True), "libyaml": ("xml-json", [], True),
}


def overlay(entries: Dict[str, Dict[str, Any]]) -> NixRaw:
    """``final: prev: { name = prev.name.overrideAttrs (old: ...); ... }`` from checked names and data."""
    body = {}
    for name, spec in sorted(entries.items()):
        env = to_nix({"NIX_CFLAGS_COMPILE": spec["cflags"]}, indent=1)
        inputs = ""
        if spec.get("mold"):
            env = to_nix({"NIX_CFLAGS_COMPILE": spec["cflags"], "NIX_CFLAGS_LINK": "-fuse-ld=mold"}, indent=1)
            inputs = "\n  nativeBuildInputs = (old.nativeBuildInputs or [ ]) ++ [ final.mold ];"
        body[name] = NixRaw("prev.%s.overrideAttrs (old: {\n  env = (old.env or { }) // %s;%s\n})"
                            % (attr_name(name), env, inputs))
    return NixRaw("final: prev:\n" + to_nix(body))


def _names(inp: Inputs, name: str, value: Any) -> List[str]:
    bad = [n for n in value if n not in TABLE]
    if bad:
        raise inp.fail(inp.prefix + name, "names libraries not in the table: %s (known: %s)"
                       % (", ".join(map(str, bad)), ", ".join(sorted(TABLE))))
    return list(value)


def build_libs(inp: Inputs) -> PhasePlan:
    stage = inp["stage"]
    family = inp.fact("cpu.family")
    opt = inp["optimization_level"]
    mold = inp["mold"]
    wanted = sorted(TABLE) if inp["packages"] is None else _names(inp, "packages", inp["packages"])
    excluded = _names(inp, "exclude", inp["exclude"])
    extra = inp["extra_cflags"]
    _names(inp, "extra_cflags", list(extra))
    for name, flags in extra.items():
        if not isinstance(flags, list) or not all(isinstance(f, str) and f.startswith("-") and " " not in f
                                                  for f in flags):
            raise inp.fail(inp.prefix + "extra_cflags", "%s: give a list of single flags like -DNDEBUG, got %r"
                           % (name, flags))
    chosen = [n for n in wanted if n not in excluded]
    home_entries = {n: {"cflags": cflags(family, opt, TABLE[n][1] + extra.get(n, [])),
                        "mold": mold and TABLE[n][2]} for n in chosen}
    nixos_entries = {n: {"cflags": cflags(family, opt, [])} for n in BOOTSTRAP}
    config: Dict[str, Any] = {}
    if stage == "nixos":
        config = {"nixpkgs": {"overlays": [overlay(nixos_entries)]}}
    home = {"nixpkgs": {"overlays": [overlay(home_entries)]}} if stage != "none" else {}
    rebuilt = sorted(set(chosen if stage != "none" else []) | set(BOOTSTRAP if stage == "nixos" else []))
    return PhasePlan(
        phase="system_libs", config=config, home_config=home, enable=inp["enable"],
        march=[family] if stage != "none" else [],
        # per target: at stage nixos the system's overlay and the users' overlay rebuild different packages
        rebuilds={"packages": {"nixos": BOOTSTRAP if stage == "nixos" else [], "home": chosen},
                  "bootstrap": sorted(STDENV_BOOTSTRAP.intersection(rebuilt))} if rebuilt else None,
        derived={"stage": stage, "cflags": cflags(family, opt, []), "home_packages": chosen,
                 "nixos_packages": BOOTSTRAP if stage == "nixos" else [], "mold": mold},
        description="hardware-tuned system libraries (staged: %s)" % stage,
        note="Stage %s: %s. CFLAGS %s." % (
            stage, {"none": "nothing rebuilt", "home": "%d home-manager libraries" % len(chosen),
                    "nixos": "glibc and zlib system-wide, %d home-manager libraries" % len(chosen)}[stage],
            cflags(family, opt, [])),
    )


PHASE = Phase(
    name="system_libs",
    order=40,
    title="Hardware-tuned system libraries, NixOS and home-manager overlays (workstation plan, phases 1.1, 1.2)",
    description=(
        "Generates a home-manager module per user with an overlay rebuilding 30+ libraries with the host's "
        "C(-march), and (stage V(nixos)) a NixOS module with a CFLAGS-only overlay for glibc and zlib.",
        "An overlay on a package of stdenv's bootstrap (glibc, zlib, xz, bzip2, pcre2, ...) rebuilds every package "
        "of that package set; the apply engine counts the builds first and refuses a switch above "
        "C(nixos_apply_max_builds).",
    ),
    facts=("cpu.family", "cpu.x86_64_level"),
    users=True,
    tags=("nixos", "home-manager", "overlay", "march"),
    build=build_libs,
    settings=(
        Setting("enable", "bool", True, "Default of C(nixperf.system_libs.enable) in the generated modules."),
        Setting("stage", "str", "home", "V(none): nothing; V(home): the home-manager libraries only (default); "
                "V(nixos): also glibc and zlib system-wide (high risk, rebuilds everything).", choices=STAGES),
        Setting("packages", "list", None, "Libraries of the table to rebuild; null = all of them.",
                elements="str"),
        Setting("exclude", "list", [], "Libraries of the table to leave alone.", elements="str"),
        Setting("extra_cflags", "dict", {}, "Extra CFLAGS per library, e.g. C({curl: [-DNDEBUG]})."),
        Setting("mold", "bool", False, "Link the home-manager libraries with mold (never the bootstrap ones)."),
        Setting("optimization_level", "int", 3, "C(-O) level (1-3).", choices=(1, 2, 3)),
    ),
)
