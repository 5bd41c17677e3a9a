"""Stage nixos: glibc and zlib in the system overlay, the chosen libraries in the home one."""
from __future__ import annotations

import json
import os

ROOT = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "build", "instance")
LIB = "{ mkOption = x: x; types.bool = null; mkIf = c: v: v; }"
ZNVER3 = "-march=znver3 -mtune=znver3 -O3 -pipe -fno-semantic-interposition -fno-plt"


def overlay_result(host, path, names):
    prev = "{ %s }" % " ".join('"%s" = { overrideAttrs = f: f { }; };' % n for n in names)
    expr = ("let o = builtins.head (import %s { config.nixperf.system_libs.enable = true; pkgs = {}; lib = %s; })"
            ".config.nixpkgs.overlays; in o { mold = \"mold\"; } %s" % (path, LIB, prev))
    cmd = host.run("NIX_REMOTE=dummy:// nix-instantiate --eval --strict --json -E %s", expr)
    assert cmd.rc == 0, cmd.stderr
    return json.loads(cmd.stdout)


def test_system_overlay(host):
    got = overlay_result(host, os.path.join(ROOT, "etc/nixos/nixperf/system_libs.nix"), ["glibc", "zlib"])
    assert got == {"glibc": {"env": {"NIX_CFLAGS_COMPILE": ZNVER3}}, "zlib": {"env": {"NIX_CFLAGS_COMPILE": ZNVER3}}}


def test_home_overlay(host):
    path = os.path.join(ROOT, "home/tester/.config/home-manager/nixperf/system_libs.nix")
    got = overlay_result(host, path, ["zstd", "curl", "sqlite"])
    assert got["curl"]["nativeBuildInputs"] == ["mold"]
    assert "nativeBuildInputs" not in got["zstd"]
    assert got["sqlite"]["env"]["NIX_CFLAGS_COMPILE"].endswith("-DSQLITE_ENABLE_RTREE")
