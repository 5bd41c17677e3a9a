"""runtimes: the overlay evaluates, against a minimal prev, to the intended builds."""
from __future__ import annotations

import pytest
from support import MKDERIVATION
from ansible_collections.nixperf.tuning.plugins.module_utils import overlays
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import nix_module
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import PhaseError, build

SKY = {"cpu": {"family": "skylake", "x86_64_level": 3}}
VM = {"cpu": {"family": "x86-64-v2", "x86_64_level": 2}}
FLAGS = "-march=skylake -mtune=skylake -O3 -pipe -fno-semantic-interposition -fno-plt"
LIB = "{ mkOption = x: x; types.bool = null; mkIf = c: v: v; }"
MKDRV = MKDERIVATION  # nixpkgs' mkDerivation env checks (tests/support.py)
# a prev whose packages carry what nixpkgs gives them and record what the overlay does to them:
# nodejs.nix (pkgs/development/web/nodejs) puts a define in env.NIX_CFLAGS_COMPILE on x86_64-darwin and CC_host at the
# top level; cpython/default.nix keeps CPPFLAGS, LIBS, NIX_LDFLAGS and the integer PYTHONHASHSEED in env.
NODE_DEFINE = "-D__ENVIRONMENT_MAC_OS_X_VERSION_MIN_REQUIRED__=101300"
PREV = """{
  "nodejs-slim_24" = mkDerivation { pname = "nodejs-slim"; CC_host = "cc"; configureFlags = [ "--ninja" ];
    env.NIX_CFLAGS_COMPILE = "%s"; };
  "nodejs_24" = { override = args: { slim = args.nodejs-slim.attrs; }; };
  python313 = { override = args: mkDerivation { pname = "python3"; overrideArgs = args;
    env = { CPPFLAGS = "-I/zlib/include"; LIBS = "-lcrypt"; NIX_LDFLAGS = "-lgcc_s"; PYTHONHASHSEED = 0; }; }; };
  rustPackages = { overrideScope = f: f { } {
    rustc-unwrapped = { overrideAttrs = g: g { configureFlags = [ "--release-channel=stable" ]; }; };
  }; };
}""" % NODE_DEFINE


def apply_overlay(nix, tmp_path, home_config):
    path = tmp_path / "runtimes.nix"
    path.write_text(nix_module("runtimes", home_config)[0])
    assert nix.parses(path)
    return nix.eval_json(
        "let %s m = (import %s { config.nixperf.runtimes.enable = true; pkgs = { }; lib = %s; }).config;"
        " o = builtins.head m.nixpkgs.overlays; r = o final %s;"
        " final = r // { python313 = \"final\"; }; in { r = builtins.mapAttrs (n: p: p.attrs or p) r;"
        " env = m.home.sessionVariables or { }; }" % (MKDRV, path, LIB, PREV))


def test_all_four(nix, tmp_path):
    plan = build("runtimes", "shoshin", {"nodejs": True, "python": True, "rust": True, "go": True}, SKY)
    assert plan.config is None  # home-manager only: no NixOS module
    got = apply_overlay(nix, tmp_path, plan.home_config)
    r = got["r"]
    # appended after the package's own define, in env where the package keeps it; CC_host stays at the top level
    assert r["nodejs-slim_24"] == {"pname": "nodejs-slim", "CC_host": "cc", "configureFlags": ["--ninja", "--enable-lto"],
                                   "env": {"NIX_CFLAGS_COMPILE": NODE_DEFINE + " " + FLAGS}}
    assert r["nodejs_24"]["slim"] == r["nodejs-slim_24"]  # nodejs_24 follows the rebuilt slim package
    assert r["python313"]["overrideArgs"] == {"enableOptimizations": True, "enableLTO": True,
                                              "reproducibleBuild": False, "self": "final"}
    # CPython's own env survives (the integer PYTHONHASHSEED too); no flags of its own: exactly ours, no leading space
    assert r["python313"]["env"] == {"CPPFLAGS": "-I/zlib/include", "LIBS": "-lcrypt", "NIX_LDFLAGS": "-lgcc_s",
                                     "PYTHONHASHSEED": 0, "NIX_CFLAGS_COMPILE": FLAGS}
    assert r["rustPackages"]["rustc-unwrapped"]["configureFlags"] == [
        "--release-channel=stable", "--set=rust.jemalloc=true", "--set=rust.lto=thin"]
    assert got["env"] == {"GOAMD64": "v3", "RUSTFLAGS": "-C target-cpu=skylake"}
    assert plan.derived["rebuilt"] == ["nodejs_24", "python313", "rustc"]


def test_no_runtime_is_a_bootstrap_package():
    """glibc is built with python3Minimal, its own callPackage of cpython (pkgs/development/interpreters/python/
    default.nix), not with python3<minor>: an override of python313 leaves stdenv alone. Node.js and rustc are not
    in stdenv either."""
    plan = build("runtimes", "h", {"nodejs": True, "python": True, "rust": True}, SKY)
    assert plan.rebuilds["bootstrap"] == [] and plan.derived["bootstrap"] == []
    assert all(overlays.bootstrap_reason(p) is None for p in plan.rebuilds["packages"])
    assert overlays.bootstrap_reason("python3Minimal") is not None


def test_goamd64_follows_the_cpu_level():
    assert build("runtimes", "vm", {"go": True}, VM).derived["goamd64"] == "v2"
    assert build("runtimes", "h", {"go": True}, SKY).derived["goamd64"] == "v3"
    assert build("runtimes", "h", {"go": True, "go_amd64": "v1"}, SKY).derived["goamd64"] == "v1"


def test_nothing_chosen_is_inert():
    plan = build("runtimes", "h", {}, SKY)
    assert plan.home_config == {} and plan.derived["rebuilt"] == [] and plan.derived["goamd64"] is None


def test_options_off(nix, tmp_path):
    plan = build("runtimes", "h", {"rust": True, "rust_jemalloc": False, "rust_thin_lto": False,
                                   "python": True, "python_pgo": False, "python_lto": False,
                                   "python_version": "3.12", "nodejs": True, "nodejs_major": 22,
                                   "nodejs_lto": False, "optimization_level": 2}, SKY)
    assert "rustPackages" not in str(plan.home_config)  # nothing to rebuild; RUSTFLAGS only
    assert plan.home_config["home"]["sessionVariables"] == {"RUSTFLAGS": "-C target-cpu=skylake"}
    text = nix_module("runtimes", plan.home_config)[0]
    assert "python312.override" in text and "reproducibleBuild = true" in text and "--enable-lto" not in text
    assert "nodejs-slim_22" in text and "-O2" in text


@pytest.mark.parametrize("settings,hw,needle", [
    ({"go": True, "go_amd64": "v4"}, SKY, "runtimes_go_amd64 (v4) is above the CPU's x86-64 level v3"),
    ({"go": True, "go_amd64": "v3"}, VM, "runtimes_go_amd64 (v3) is above"),
    ({"nodejs": True, "nodejs_major": 19}, SKY, "runtimes_nodejs_major must be one of 20, 22, 24"),
    ({"python": True, "python_version": "2.7"}, SKY, "runtimes_python_version must be one of"),
    ({"rust": "perhaps"}, SKY, "runtimes_rust must be true or false"),
    ({}, {"cpu": {"family": "znver4", "x86_64_level": 3}}, "cpu.family znver4 is an x86-64-v4 CPU"),
    ({}, {"cpu": {"family": "pentium", "x86_64_level": 1}}, "cpu.family must be one of"),
])
def test_checks(settings, hw, needle):
    with pytest.raises(PhaseError) as err:
        build("runtimes", "h", settings, hw)
    assert needle in str(err.value)
