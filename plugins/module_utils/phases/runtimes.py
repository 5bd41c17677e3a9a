# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Phase 2 of the workstation plan: language runtimes built for the host's CPU.

A home-manager module (one per user) with one overlay and a few session
variables; each runtime is opt-in because each is a long source rebuild.

* Node.js: ``nodejs-slim_<major>`` rebuilt with the host's CFLAGS and, opt-in,
  Node's own ``--enable-lto`` configure flag; ``nodejs_<major>`` is re-pointed at
  it (``override { nodejs-slim = ...; }``) so npm comes along.
* Python: ``python3<minor>`` with ``enableOptimizations`` (PGO, which needs
  ``reproducibleBuild = false``) and ``enableLTO``, ``self`` pointing at the
  result so the package set is built against it, plus the host's CFLAGS.
* Rust: ``rustc-unwrapped`` inside the ``rustPackages`` scope with the rust
  bootstrap settings ``rust.jemalloc`` and ``rust.lto=thin``; and, for the
  user's own cargo builds, ``RUSTFLAGS=-C target-cpu=<cpu.family>``.
* Go: ``GOAMD64=v<cpu.x86_64_level>`` for the user's own ``go build``.

Corrections to the plan: Node.js has no jemalloc option and its PGO needs a
training run between two builds, which one derivation cannot do; rustc's PGO
needs profile data the same way.  Those parts are left out and said so, instead
of emitting flags that do nothing.  ``GOAMD64`` comes from the CPU's x86-64 level
(v3 for shoshin and kensho, v2 for the VM), never a fixed v3.
"""
from __future__ import annotations

from typing import Any, Dict, List

from ansible_collections.nixperf.tuning.plugins.module_utils.compiler import cflag_list, cflags
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixRaw, attr_name, to_nix
from ansible_collections.nixperf.tuning.plugins.module_utils.overlays import (
    append_list, bootstrap_reason, overlay, override_attrs, package)
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import Inputs, Phase, PhasePlan, Setting

NODE_MAJORS = (20, 22, 24)
PYTHON_VERSIONS = ("3.11", "3.12", "3.13", "3.14")
GOAMD64 = ("auto", "v1", "v2", "v3", "v4")


def node_entries(major: int, lto: bool) -> Dict[str, NixRaw]:
    slim, full = "nodejs-slim_%d" % major, "nodejs_%d" % major
    extra = {"configureFlags": append_list("configureFlags", ["--enable-lto"])} if lto else None
    return {
        slim: override_attrs(package(slim), extra=extra, host_flags=True),
        full: NixRaw("%s.override { nodejs-slim = final.%s; }" % (package(full), attr_name(slim))),
    }


def python_entry(version: str, pgo: bool, lto: bool) -> Dict[str, NixRaw]:
    name = "python" + version.replace(".", "")
    args = to_nix({"enableOptimizations": pgo, "enableLTO": lto, "reproducibleBuild": not pgo,
                   "self": NixRaw("final." + attr_name(name))})
    return {name: override_attrs("(%s.override %s)" % (package(name), args), host_flags=True)}


def rust_entry(settings: List[str]) -> Dict[str, NixRaw]:
    return {"rustPackages": NixRaw(
        "prev.rustPackages.overrideScope (rfinal: rprev: {\n"
        "  rustc-unwrapped = rprev.rustc-unwrapped.overrideAttrs (old: {\n"
        "    configureFlags = %s;\n"
        "  });\n"
        "})" % to_nix(append_list("configureFlags", settings), indent=2))}


def build_runtimes(inp: Inputs) -> PhasePlan:
    family, level = inp.fact("cpu.family"), inp.fact("cpu.x86_64_level")
    opt = inp["optimization_level"]
    flags = cflags(family, opt, [])
    entries: Dict[str, NixRaw] = {}
    session: Dict[str, str] = {}
    chosen: List[str] = []
    packages: List[str] = []
    if inp["nodejs"]:
        major = inp["nodejs_major"]
        entries.update(node_entries(major, inp["nodejs_lto"]))
        chosen.append("nodejs_%d" % major)
        packages += ["nodejs-slim_%d" % major, "nodejs_%d" % major]
    if inp["python"]:
        version = inp["python_version"]
        entries.update(python_entry(version, inp["python_pgo"], inp["python_lto"]))
        chosen.append("python" + version.replace(".", ""))
        packages.append("python" + version.replace(".", ""))
    if inp["rust"]:
        settings = []
        if inp["rust_jemalloc"]:
            settings.append("--set=rust.jemalloc=true")
        if inp["rust_thin_lto"]:
            settings.append("--set=rust.lto=thin")
        if settings:
            entries.update(rust_entry(settings))
            chosen.append("rustc")
            packages.append("rustc")
        if inp["rust_target_cpu"]:
            session["RUSTFLAGS"] = "-C target-cpu=%s" % family
    goamd64 = None
    if inp["go"]:
        goamd64 = inp["go_amd64"]
        if goamd64 == "auto":
            goamd64 = "v%d" % level
        elif int(goamd64[1:]) > level:
            raise inp.fail(inp.prefix + "go_amd64", "(%s) is above the CPU's x86-64 level v%d "
                           "(nixperf_hardware.cpu.x86_64_level): Go programs built with it would crash here"
                           % (goamd64, level))
        session["GOAMD64"] = goamd64
    home: Dict[str, Any] = {}
    if entries:
        home["nixpkgs"] = {"overlays": [overlay(entries, cflag_list(family, opt))]}
    if session:
        home["home"] = {"sessionVariables": session}
    return PhasePlan(
        phase="runtimes", config=None, home_config=home, enable=inp["enable"], home_enable=inp["enable"],
        derived={"rebuilt": chosen, "session_variables": session, "goamd64": goamd64, "cflags": flags,
                 "bootstrap": [p for p in packages if bootstrap_reason(p)]},
        description="language runtimes built for this CPU",
        note="Rebuilt: %s. Session: %s." % (", ".join(chosen) or "nothing",
                                            ", ".join("%s=%s" % kv for kv in sorted(session.items())) or "none"),
        march=[family] if entries or "RUSTFLAGS" in session else [],
        goamd64=[goamd64] if goamd64 else [],
        # none of these is a stdenv bootstrap package (glibc is built with python3Minimal, a separate attribute
        # that an override of python3<minor> leaves alone); the check keeps it so if the list grows
        rebuilds={"packages": packages, "bootstrap": [p for p in packages if bootstrap_reason(p)],
                  "target": "home"} if packages else None,
    )


PHASE = Phase(
    name="runtimes",
    order=50,
    title="Language runtimes built for the host's CPU, each opt-in (workstation plan, phase 2)",
    description=(
        "Generates a home-manager module per user (C(~/.config/home-manager/nixperf/runtimes.nix)) with one overlay "
        "rebuilding the chosen runtimes with the host's C(-march) / C(-mtune), and session variables for your own "
        "builds (C(GOAMD64), C(RUSTFLAGS)). No NixOS module is written.",
        "Node.js gets LTO, Python PGO and LTO, rustc jemalloc and ThinLTO. Node.js and rustc PGO and a jemalloc "
        "Node.js are left out, see the role README.",
    ),
    facts=("cpu.family", "cpu.x86_64_level"),
    users=True,
    tags=("home-manager", "nodejs", "python", "rust"),
    build=build_runtimes,
    settings=(
        Setting("enable", "bool", True, "Default of C(nixperf.runtimes.enable) in the generated home-manager "
                "module."),
        Setting("optimization_level", "int", 3, "C(-O) level next to C(-march) / C(-mtune) (the packages' own "
                "C(-O) flags come later and win).", choices=(1, 2, 3)),
        Setting("nodejs", "bool", False, "Rebuild Node.js: C(nodejs-slim_<major>) with the host's CFLAGS; "
                "C(nodejs_<major>) follows (a long source rebuild)."),
        Setting("nodejs_major", "int", 24, "Node.js major version.", choices=NODE_MAJORS),
        Setting("nodejs_lto", "bool", True, "Node's own C(--enable-lto) configure flag."),
        Setting("python", "bool", False, "Rebuild CPython C(python3<minor>) with PGO and LTO."),
        Setting("python_version", "str", "3.13", "CPython version.", choices=PYTHON_VERSIONS),
        Setting("python_pgo", "bool", True, "Profile-guided optimisation (C(enableOptimizations))."),
        Setting("python_lto", "bool", True, "Link-time optimisation (C(enableLTO))."),
        Setting("rust", "bool", False, "Rebuild rustc linked with jemalloc and built with ThinLTO."),
        Setting("rust_jemalloc", "bool", True, "rustc with C(rust.jemalloc)."),
        Setting("rust_thin_lto", "bool", True, "rustc with C(rust.lto=thin)."),
        Setting("rust_target_cpu", "bool", True, "C(RUSTFLAGS=-C target-cpu=<cpu.family>) for your own builds."),
        Setting("go", "bool", False, "C(GOAMD64) for your own C(go build)."),
        Setting("go_amd64", "str", "auto", "C(GOAMD64); V(auto) = C(v<cpu.x86_64_level>); a level above the CPU's "
                "is refused.", choices=GOAMD64),
    ),
)
