"""Python 3.12, Rust without jemalloc and Go: one home-manager module, no NixOS module."""
from __future__ import annotations

import json
import os

ROOT = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "build", "instance")
HOME = os.path.join(ROOT, "home/tester/.config/home-manager/nixperf")
LIB = "{ mkOption = x: x; types.bool = null; mkIf = c: v: v; }"
# cpython/default.nix keeps LIBS, the integer PYTHONHASHSEED and more in env: they must survive
PREV = ('{ python312 = { override = a: { overrideAttrs = f: { args = a // { self = "final"; };'
        ' attrs = f { env = { LIBS = "-lcrypt"; PYTHONHASHSEED = 0; }; }; }; }; };'
        ' rustPackages = { overrideScope = f: f { } { rustc-unwrapped = { overrideAttrs = g: g { }; }; }; }; }')


def evaluate(host, expr):
    cmd = host.run("NIX_REMOTE=dummy:// nix-instantiate --eval --strict --json -E %s", expr)
    assert cmd.rc == 0, cmd.stderr
    return json.loads(cmd.stdout)


def test_home_module_only(host):
    assert sorted(os.listdir(HOME)) == ["default.nix", "runtimes.nix"]
    assert not host.file(os.path.join(ROOT, "etc/nixos/nixperf/runtimes.nix")).exists
    assert "./runtimes.nix" in host.file(os.path.join(HOME, "default.nix")).content_string


def test_overlay_and_session(host):
    module = "(import %s { config.nixperf.runtimes.enable = true; pkgs = { }; lib = %s; }).config" % (
        os.path.join(HOME, "runtimes.nix"), LIB)
    got = evaluate(host, "let m = %s; o = builtins.head m.nixpkgs.overlays; in { r = o { python312 = \"final\"; } %s;"
                         " env = m.home.sessionVariables; }" % (module, PREV))
    assert got["env"] == {"GOAMD64": "v3", "RUSTFLAGS": "-C target-cpu=znver3"}
    assert got["r"]["python312"]["args"]["enableOptimizations"] is True
    assert got["r"]["python312"]["attrs"]["env"] == {
        "LIBS": "-lcrypt", "PYTHONHASHSEED": 0,
        "NIX_CFLAGS_COMPILE": "-march=znver3 -mtune=znver3 -O3 -pipe -fno-semantic-interposition -fno-plt"}
    assert got["r"]["rustPackages"]["rustc-unwrapped"]["configureFlags"] == ["--set=rust.lto=thin"]
