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

from typing import Any, Dict, List, Tuple

from ansible_collections.nixperf.tuning.plugins.module_utils.hardware import MARCH
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixRaw, attr_name, to_nix
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import Inputs, PhasePlan, register

STAGES = ["none", "home", "nixos"]
BASE_FLAGS = ["-pipe", "-fno-semantic-interposition", "-fno-plt"]
BOOTSTRAP = ["glibc", "zlib"]
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


def cpu_target(inp: Inputs) -> Tuple[str, int]:
    """The host's ``cpu.family`` (a GCC -march name) and x86-64 level, checked against each other."""
    family = inp.fact("cpu.family", kind=str, choices=sorted(MARCH), hint="GCC -march name, e.g. skylake")
    level = inp.fact("cpu.x86_64_level", lo=1, hi=4)
    if MARCH[family][0] > level:
        raise inp.fail("nixperf_hardware.cpu.family", "(%s) needs x86-64-v%d but cpu.x86_64_level is %d"
                       % (family, MARCH[family][0], level))
    return family, level


def cflags(march: str, opt: int, extra: List[str]) -> str:
    return " ".join(["-march=%s" % march, "-mtune=%s" % march, "-O%d" % opt] + BASE_FLAGS + list(extra))


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


@register("system_libs", "system_libs_")
def build_libs(inp: Inputs) -> PhasePlan:
    stage = inp.choice("stage", STAGES, "home")
    family = cpu_target(inp)[0]
    opt = inp.choice("optimization_level", [1, 2, 3], 3)
    mold = inp.bool_setting("mold", False)
    wanted = inp.setting("packages", None)
    wanted = sorted(TABLE) if wanted is None else wanted
    excluded = inp.setting("exclude", [])
    extra = inp.setting("extra_cflags", {})
    for var, names in (("packages", wanted), ("exclude", excluded), ("extra_cflags", list(extra))):
        if not isinstance(names, list) or any(n not in TABLE for n in names):
            bad = [n for n in (names if isinstance(names, list) else [names]) if n not in TABLE]
            raise inp.fail(inp.prefix + var, "names libraries not in the table: %s (known: %s)"
                           % (", ".join(map(str, bad)), ", ".join(sorted(TABLE))))
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
    return PhasePlan(
        phase="system_libs", config=config, home_config=home, enable=inp.bool_setting("enable", True),
        derived={"stage": stage, "cflags": cflags(family, opt, []), "home_packages": chosen,
                 "nixos_packages": BOOTSTRAP if stage == "nixos" else [], "mold": mold},
        description="hardware-tuned system libraries (staged: %s)" % stage,
        note="Stage %s: %s. CFLAGS %s." % (
            stage, {"none": "nothing rebuilt", "home": "%d home-manager libraries" % len(chosen),
                    "nixos": "glibc and zlib system-wide, %d home-manager libraries" % len(chosen)}[stage],
            cflags(family, opt, [])),
    )
