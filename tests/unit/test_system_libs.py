"""system_libs: the overlays evaluate, against a minimal prev, to the intended flags."""
from __future__ import annotations

import pytest
from ansible_collections.nixperf.tuning.plugins.module_utils.phases import system_libs as L
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import nix_module
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import PhaseError, build

HW = {"cpu": {"family": "skylake", "x86_64_level": 3}}
SKY = "-march=skylake -mtune=skylake -O3 -pipe -fno-semantic-interposition -fno-plt"
LIB = "{ mkOption = x: x; types.bool = null; mkIf = c: v: v; }"


def apply_overlay(nix, tmp_path, config, names):
    path = tmp_path / "m.nix"
    path.write_text(nix_module("system_libs", config)[0])
    prev = "{ %s }" % " ".join('"%s" = { overrideAttrs = f: f { env = { KEEP = "1"; }; }; };' % n for n in names)
    return nix.eval_json("let o = builtins.head (import %s { config.nixperf.system_libs.enable = true; pkgs = {};"
                         " lib = %s; }).config.nixpkgs.overlays; in o { mold = \"mold\"; } %s" % (path, LIB, prev))


def test_table_has_the_plan_libraries():
    assert len(L.TABLE) >= 30
    assert {"zstd", "openssl", "sqlite", "pcre2", "libuv", "libjpeg_turbo", "harfbuzz", "libxml2"} <= set(L.TABLE)


def test_home_stage_writes_only_the_home_overlay(nix, tmp_path):
    plan = build("system_libs", "shoshin", {}, HW)
    assert plan.config == {}
    got = apply_overlay(nix, tmp_path, plan.home_config, sorted(L.TABLE))
    assert sorted(got) == sorted(L.TABLE)
    assert got["zstd"]["env"] == {"KEEP": "1", "NIX_CFLAGS_COMPILE": SKY}
    assert got["sqlite"]["env"]["NIX_CFLAGS_COMPILE"] == SKY + " -DSQLITE_ENABLE_FTS5 -DSQLITE_ENABLE_RTREE"
    assert "nativeBuildInputs" not in got["openssl"]


def test_nixos_stage_glibc_and_zlib_cflags_only(nix, tmp_path):
    plan = build("system_libs", "shoshin", {"stage": "nixos", "mold": True}, HW)
    got = apply_overlay(nix, tmp_path, plan.config, ["glibc", "zlib"])
    assert sorted(got) == ["glibc", "zlib"]
    assert got["glibc"] == {"env": {"KEEP": "1", "NIX_CFLAGS_COMPILE": SKY}}  # no mold, no nativeBuildInputs


def test_rebuilds_name_each_configurations_own_packages():
    home = build("system_libs", "shoshin", {}, HW).rebuilds
    assert home["packages"]["nixos"] == [] and home["packages"]["home"] == sorted(L.TABLE)
    assert {"xz", "bzip2", "pcre2"} <= set(home["bootstrap"]) and "glibc" not in home["bootstrap"]
    nixos = build("system_libs", "shoshin", {"stage": "nixos"}, HW).rebuilds
    assert nixos["packages"]["nixos"] == ["glibc", "zlib"] and nixos["packages"]["home"] == sorted(L.TABLE)
    assert {"glibc", "zlib", "xz"} <= set(nixos["bootstrap"])
    assert build("system_libs", "shoshin", {"stage": "none"}, HW).rebuilds is None


def test_mold_only_where_safe(nix, tmp_path):
    plan = build("system_libs", "h", {"mold": True, "packages": ["zstd", "curl"]}, HW)
    got = apply_overlay(nix, tmp_path, plan.home_config, ["zstd", "curl"])
    assert got["curl"]["nativeBuildInputs"] == ["mold"] and got["curl"]["env"]["NIX_CFLAGS_LINK"] == "-fuse-ld=mold"
    assert "nativeBuildInputs" not in got["zstd"]  # compression libs used by the bootstrap: CFLAGS only


def test_opt_in_out_and_extra_flags():
    plan = build("system_libs", "h", {"packages": ["curl", "sqlite"], "exclude": ["sqlite"],
                                      "extra_cflags": {"curl": ["-DNDEBUG"]}}, HW)
    assert plan.derived["home_packages"] == ["curl"]
    assert build("system_libs", "h", {"stage": "none"}, HW).home_config == {}


@pytest.mark.parametrize("settings,hw,needle", [
    ({"packages": ["glibc"]}, HW, "system_libs_packages names libraries not in the table: glibc"),
    ({"exclude": ["leftpad"]}, HW, "system_libs_exclude names libraries not in the table: leftpad"),
    ({"extra_cflags": {"curl": "-O2"}}, HW, "give a list of single flags"),
    ({"extra_cflags": {"curl": ["-O2 -g"]}}, HW, "give a list of single flags"),
    ({"stage": "all"}, HW, "system_libs_stage must be one of none, home, nixos"),
    ({}, {"cpu": {"family": "skylake", "x86_64_level": 2}}, "cpu.family skylake is an x86-64-v3 CPU: the level must match the family (allowed: 3)"),
])
def test_checks(settings, hw, needle):
    with pytest.raises(PhaseError) as err:
        build("system_libs", "h", settings, hw)
    assert needle in str(err.value)
