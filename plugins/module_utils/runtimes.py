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

from ansible_collections.nixperf.tuning.plugins.module_utils.libs import cflags, cpu_target
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixRaw, attr_name, to_nix
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import Inputs, PhasePlan, register

NODE_MAJORS = [20, 22, 24]
PYTHON_VERSIONS = ["3.11", "3.12", "3.13", "3.14"]
GOAMD64 = ["auto", "v1", "v2", "v3", "v4"]


def _append_cflags(flags: str) -> str:
    """``env`` attribute update that appends ``flags`` to whatever the package already sets."""
    return ("env = (old.env or { }) // {\n"
            "    NIX_CFLAGS_COMPILE = toString (old.env.NIX_CFLAGS_COMPILE or \"\") + %s;\n"
            "  };" % to_nix(" " + flags))


def node_entries(major: int, flags: str, lto: bool) -> Dict[str, NixRaw]:
    slim, full = "nodejs-slim_%d" % major, "nodejs_%d" % major
    extra = ""
    if lto:
        extra = "\n  configureFlags = (old.configureFlags or [ ]) ++ %s;" % to_nix(["--enable-lto"])
    return {
        slim: NixRaw("prev.%s.overrideAttrs (old: {\n  %s%s\n})" % (attr_name(slim), _append_cflags(flags), extra)),
        full: NixRaw("prev.%s.override { nodejs-slim = final.%s; }" % (attr_name(full), attr_name(slim))),
    }


def python_entry(version: str, flags: str, pgo: bool, lto: bool) -> Dict[str, NixRaw]:
    name = "python" + version.replace(".", "")
    args = to_nix({"enableOptimizations": pgo, "enableLTO": lto, "reproducibleBuild": not pgo,
                   "self": NixRaw("final." + attr_name(name))}, indent=1)
    return {name: NixRaw("(prev.%s.override %s).overrideAttrs (old: {\n  %s\n})"
                         % (attr_name(name), args, _append_cflags(flags)))}


def rust_entry(settings: List[str]) -> Dict[str, NixRaw]:
    return {"rustPackages": NixRaw(
        "prev.rustPackages.overrideScope (rfinal: rprev: {\n"
        "  rustc-unwrapped = rprev.rustc-unwrapped.overrideAttrs (old: {\n"
        "    configureFlags = (old.configureFlags or [ ]) ++ %s;\n"
        "  });\n"
        "})" % to_nix(settings, indent=2))}


@register("runtimes", "runtimes_")
def build_runtimes(inp: Inputs) -> PhasePlan:
    family, level = cpu_target(inp)
    opt = inp.choice("optimization_level", [1, 2, 3], 3)
    flags = cflags(family, opt, [])
    overlay: Dict[str, Any] = {}
    session: Dict[str, str] = {}
    chosen: List[str] = []
    if inp.bool_setting("nodejs", False):
        major = inp.choice("nodejs_major", NODE_MAJORS, 24)
        overlay.update(node_entries(major, flags, inp.bool_setting("nodejs_lto", True)))
        chosen.append("nodejs_%d" % major)
    if inp.bool_setting("python", False):
        version = inp.choice("python_version", PYTHON_VERSIONS, "3.13")
        pgo, lto = inp.bool_setting("python_pgo", True), inp.bool_setting("python_lto", True)
        overlay.update(python_entry(version, flags, pgo, lto))
        chosen.append("python" + version.replace(".", ""))
    if inp.bool_setting("rust", False):
        settings = []
        if inp.bool_setting("rust_jemalloc", True):
            settings.append("--set=rust.jemalloc=true")
        if inp.bool_setting("rust_thin_lto", True):
            settings.append("--set=rust.lto=thin")
        if settings:
            overlay.update(rust_entry(settings))
            chosen.append("rustc")
        if inp.bool_setting("rust_target_cpu", True):
            session["RUSTFLAGS"] = "-C target-cpu=%s" % family
    goamd64 = None
    if inp.bool_setting("go", False):
        goamd64 = inp.choice("go_amd64", GOAMD64, "auto")
        if goamd64 == "auto":
            goamd64 = "v%d" % level
        elif int(goamd64[1:]) > level:
            raise inp.fail(inp.prefix + "go_amd64", "(%s) is above the CPU's x86-64 level v%d "
                           "(nixperf_hardware.cpu.x86_64_level): Go programs built with it would crash here"
                           % (goamd64, level))
        session["GOAMD64"] = goamd64
    home: Dict[str, Any] = {}
    if overlay:
        home["nixpkgs"] = {"overlays": [NixRaw("final: prev:\n" + to_nix(overlay))]}
    if session:
        home["home"] = {"sessionVariables": session}
    return PhasePlan(
        phase="runtimes", config=None, home_config=home, enable=inp.bool_setting("enable", True),
        derived={"rebuilt": chosen, "session_variables": session, "goamd64": goamd64, "cflags": flags},
        description="language runtimes built for this CPU",
        note="Rebuilt: %s. Session: %s." % (", ".join(chosen) or "nothing",
                                            ", ".join("%s=%s" % kv for kv in sorted(session.items())) or "none"),
    )
