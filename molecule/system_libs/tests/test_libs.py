"""Stage nixos: glibc and zlib in the system overlay, the chosen libraries in the home one, each appended to the
package's own flags (stubs carry what nixpkgs gives them: sqlite's defines, glibc's env)."""
from __future__ import annotations

import json
import os

ROOT = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "build", "instance")
LIB = "{ mkOption = x: x; types.bool = null; mkIf = c: v: v; }"
ZNVER3 = "-march=znver3 -mtune=znver3 -O3 -pipe -fno-semantic-interposition -fno-plt"
STUBS = {
    # pkgs/development/libraries/sqlite/default.nix: its defines in env.NIX_CFLAGS_COMPILE (two of the 21 here)
    "sqlite": '{ env.NIX_CFLAGS_COMPILE = "-DSQLITE_ENABLE_COLUMN_METADATA -DSQLITE_MAX_EXPR_DEPTH=10000"; }',
    # glibc/common.nix and glibc/default.nix: env with linuxHeaders and an empty NIX_CFLAGS_COMPILE on x86_64
    "glibc": '{ env = { linuxHeaders = "/h"; NIX_CFLAGS_COMPILE = ""; }; }',
    # a package with its flags at the top level
    "curl": '{ NIX_CFLAGS_LINK = "-lm"; }',
}


def overlay_result(host, path, names):
    prev = "{ %s }" % " ".join('"%s" = { overrideAttrs = f: let old = %s; in old // f old; };'
                               % (n, STUBS.get(n, "{ }")) for n in names)
    expr = ("let o = builtins.head (import %s { config.nixperf.system_libs.enable = true; pkgs = {}; lib = %s; })"
            ".config.nixpkgs.overlays; in o { mold-wrapped = \"mold-wrapped\"; } %s" % (path, LIB, prev))
    cmd = host.run("NIX_REMOTE=dummy:// nix-instantiate --eval --strict --json -E %s", expr)
    assert cmd.rc == 0, cmd.stderr
    return json.loads(cmd.stdout)


def test_system_overlay(host):
    got = overlay_result(host, os.path.join(ROOT, "etc/nixos/nixperf/system_libs.nix"), ["glibc", "zlib"])
    assert got == {"glibc": {"env": {"linuxHeaders": "/h", "NIX_CFLAGS_COMPILE": ZNVER3}},
                   "zlib": {"env": {"NIX_CFLAGS_COMPILE": ZNVER3}}}


def test_home_overlay(host):
    path = os.path.join(ROOT, "home/tester/.config/home-manager/nixperf/system_libs.nix")
    got = overlay_result(host, path, ["zstd", "curl", "sqlite"])
    assert got["curl"]["nativeBuildInputs"] == ["mold-wrapped"]
    assert got["curl"]["NIX_CFLAGS_LINK"] == "-lm -fuse-ld=mold"
    assert got["curl"]["env"] == {"NIX_CFLAGS_COMPILE": ZNVER3}
    # zstd and sqlite are in mold's own build closure: no mold
    assert "nativeBuildInputs" not in got["zstd"] and "nativeBuildInputs" not in got["sqlite"]
    assert got["sqlite"]["env"]["NIX_CFLAGS_COMPILE"] == (
        "-DSQLITE_ENABLE_COLUMN_METADATA -DSQLITE_MAX_EXPR_DEPTH=10000 " + ZNVER3
        + " -DSQLITE_ENABLE_FTS5 -DSQLITE_ENABLE_RTREE")
