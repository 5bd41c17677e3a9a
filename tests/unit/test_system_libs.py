"""system_libs: the overlays, evaluated by the real nix-instantiate against stubs carrying nixpkgs' behaviour, append
the host's flags to each package's own; the stdenv bootstrap libraries are an explicit opt-in."""
from __future__ import annotations

import pytest
from support import MKDERIVATION
from ansible_collections.nixperf.tuning.plugins.module_utils import overlays
from ansible_collections.nixperf.tuning.plugins.module_utils.phases import system_libs as L
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import nix_module
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import PhaseError, build

HW = {"cpu": {"family": "skylake", "x86_64_level": 3}}
SKY = "-march=skylake -mtune=skylake -O3 -pipe -fno-semantic-interposition -fno-plt"
LIB = "{ mkOption = x: x; types.bool = null; mkIf = c: v: v; }"

MKDRV = MKDERIVATION  # nixpkgs' mkDerivation env checks (tests/support.py)

# nixpkgs pkgs/development/libraries/sqlite/default.nix (sqlite 3.54.0): env.NIX_CFLAGS_COMPILE = toString [ ... ]
SQLITE_DEFINES = [
    "-DSQLITE_ENABLE_COLUMN_METADATA", "-DSQLITE_ENABLE_DBSTAT_VTAB", "-DSQLITE_ENABLE_JSON1", "-DSQLITE_ENABLE_FTS3",
    "-DSQLITE_ENABLE_FTS3_PARENTHESIS", "-DSQLITE_ENABLE_FTS3_TOKENIZER", "-DSQLITE_ENABLE_FTS4",
    "-DSQLITE_ENABLE_FTS5", "-DSQLITE_ENABLE_GEOPOLY", "-DSQLITE_ENABLE_MATH_FUNCTIONS", "-DSQLITE_ENABLE_PERCENTILE",
    "-DSQLITE_ENABLE_PREUPDATE_HOOK", "-DSQLITE_ENABLE_RBU", "-DSQLITE_ENABLE_RTREE", "-DSQLITE_ENABLE_SESSION",
    "-DSQLITE_ENABLE_STMT_SCANSTATUS", "-DSQLITE_ENABLE_UNLOCK_NOTIFY", "-DSQLITE_SOUNDEX", "-DSQLITE_SECURE_DELETE",
    "-DSQLITE_MAX_VARIABLE_NUMBER=250000", "-DSQLITE_MAX_EXPR_DEPTH=10000",
]
STUBS = {
    "sqlite": '{ pname = "sqlite"; nativeBuildInputs = [ "unzip" "tcl" ]; env.TCLLIBDIR = "/lib";'
              ' env.NIX_CFLAGS_COMPILE = toString [ %s ]; }' % " ".join('"%s"' % d for d in SQLITE_DEFINES),
    # glibc/common.nix + glibc/default.nix: env with linuxHeaders, is64bit, BASH_SHELL and an empty
    # NIX_CFLAGS_COMPILE on x86_64
    "glibc": '{ pname = "glibc"; env = { linuxHeaders = "/linux-headers"; is64bit = true; BASH_SHELL = "/bin/sh";'
             ' NIX_CFLAGS_COMPILE = ""; }; }',
    "zlib": '{ pname = "zlib"; }',
    # a package with its own flags at the top level, as a string (e.g. libwps) and as a list (e.g. tini)
    "libpng": '{ pname = "libpng"; NIX_CFLAGS_COMPILE = "-Wno-error=implicit-fallthrough"; }',
    "libtiff": '{ pname = "libtiff"; NIX_CFLAGS_COMPILE = [ "-DPR_SET_CHILD_SUBREAPER=36" "-std=c++11" ]; }',
    # top-level NIX_CFLAGS_LINK, as nixpkgs' own mold test writes it (pkgs/by-name/mo/mold/package.nix)
    "curl": '{ pname = "curl"; NIX_CFLAGS_LINK = "-lm"; nativeBuildInputs = [ "perl" ]; }',
    "zstd": '{ pname = "zstd"; }',
}


def prev(names):
    return "{ %s }" % " ".join('"%s" = mkDerivation %s;' % (n, STUBS.get(n, '{ pname = "%s"; }' % n)) for n in names)


def apply_overlay(nix, tmp_path, config, names):
    path = tmp_path / "m.nix"
    path.write_text(nix_module("system_libs", config)[0])
    assert nix.parses(path)
    return nix.eval_json(
        "let %s o = builtins.head (import %s { config.nixperf.system_libs.enable = true; pkgs = {}; lib = %s; })"
        ".config.nixpkgs.overlays; r = o { mold-wrapped = \"mold-wrapped\"; } %s; in builtins.mapAttrs (n: p: p.attrs) r"
        % (MKDRV, path, LIB, prev(names)))


def test_table_has_the_plan_libraries():
    assert len(L.TABLE) == 33
    assert {"zstd", "openssl", "sqlite", "pcre2", "libuv", "libjpeg_turbo", "harfbuzz", "libxml2"} <= set(L.TABLE)


def test_the_bootstrap_marks_follow_the_stdenv_source():
    """Each library of the table is marked from overlays.STDENV_BOOTSTRAP (read from pkgs/stdenv/linux/default.nix
    and the packages stdenv's bootstrap builds glibc, gcc and binutils with), and only those four."""
    assert L.BOOTSTRAP_LIBRARIES == ["bzip2", "expat", "pcre2", "xz"]
    for name, lib in L.TABLE.items():
        assert lib.bootstrap == (overlays.bootstrap_reason(name) is not None), name
    assert {"glibc", "zlib"} <= set(overlays.STDENV_BOOTSTRAP) and set(L.SYSTEM) <= set(overlays.STDENV_BOOTSTRAP)
    assert "inherit (prevStage.gnugrep) pcre2" in overlays.bootstrap_reason("pcre2")
    assert "python3Minimal" in overlays.bootstrap_reason("expat")
    assert overlays.bootstrap_reason("zstd") is None and overlays.bootstrap_reason("sqlite") is None


def test_home_stage_appends_to_each_package_own_flags(nix, tmp_path):
    plan = build("system_libs", "shoshin", {}, HW)
    assert plan.config == {}
    chosen = sorted(set(L.TABLE) - set(L.BOOTSTRAP_LIBRARIES))
    assert plan.derived["home_packages"] == chosen and len(chosen) == 29
    got = apply_overlay(nix, tmp_path, plan.home_config, chosen)
    assert sorted(got) == chosen
    # sqlite keeps its 21 defines and TCLLIBDIR; ours follow, then the table's own extra flags
    assert got["sqlite"]["env"] == {
        "TCLLIBDIR": "/lib",
        "NIX_CFLAGS_COMPILE": " ".join(SQLITE_DEFINES) + " " + SKY + " -DSQLITE_ENABLE_FTS5 -DSQLITE_ENABLE_RTREE"}
    assert got["sqlite"]["nativeBuildInputs"] == ["unzip", "tcl"]
    # no flags of its own: exactly ours, in env, no leading space
    assert got["zstd"] == {"pname": "zstd", "env": {"NIX_CFLAGS_COMPILE": SKY}}
    # top level as a string: appended there, nothing in env (both would trip mkDerivation's assertion)
    assert got["libpng"] == {"pname": "libpng", "NIX_CFLAGS_COMPILE": "-Wno-error=implicit-fallthrough " + SKY}
    # top level as a list: a flag an element
    assert got["libtiff"]["NIX_CFLAGS_COMPILE"] == ["-DPR_SET_CHILD_SUBREAPER=36", "-std=c++11"] + SKY.split()
    assert "env" not in got["libtiff"]
    assert "nativeBuildInputs" not in got["openssl"]


def test_replacing_the_flags_would_have_been_caught(nix, tmp_path):
    """The stubs are strict: the former ``env = (old.env or { }) // { NIX_CFLAGS_COMPILE = ...; }`` drops sqlite's
    defines, and trips mkDerivation's assertion on a package with top-level flags."""
    expr = ("let %s p = %s; in p.libpng.overrideAttrs (old: { env = (old.env or { }) // { NIX_CFLAGS_COMPILE = \"-O3\";"
            " }; })" % (MKDRV, prev(["libpng"])))
    proc = nix.run(["--eval", "--strict", "--json", "-E", "(%s).attrs" % expr], expect_ok=False)
    assert proc.returncode != 0 and "The following attributes are overlapping: NIX_CFLAGS_COMPILE" in proc.stderr


def test_nixos_stage_glibc_and_zlib_cflags_only(nix, tmp_path):
    plan = build("system_libs", "shoshin", {"stage": "nixos", "mold": True}, HW)
    got = apply_overlay(nix, tmp_path, plan.config, ["glibc", "zlib"])
    assert sorted(got) == ["glibc", "zlib"]
    # glibc's own env survives (an empty NIX_CFLAGS_COMPILE gives exactly ours); no mold, no nativeBuildInputs
    assert got["glibc"] == {"pname": "glibc", "env": {"linuxHeaders": "/linux-headers", "is64bit": True,
                                                      "BASH_SHELL": "/bin/sh", "NIX_CFLAGS_COMPILE": SKY}}
    assert got["zlib"] == {"pname": "zlib", "env": {"NIX_CFLAGS_COMPILE": SKY}}


def test_rebuilds_name_each_configurations_own_packages():
    home = build("system_libs", "shoshin", {}, HW).rebuilds
    assert home["packages"]["nixos"] == [] and home["packages"]["home"] == sorted(set(L.TABLE) - {
        "bzip2", "expat", "pcre2", "xz"})
    assert home["bootstrap"] == []  # the default rebuilds no bootstrap package
    nixos = build("system_libs", "shoshin", {"stage": "nixos"}, HW).rebuilds
    assert nixos["packages"]["nixos"] == ["glibc", "zlib"] and nixos["bootstrap"] == ["glibc", "zlib"]
    allowed = build("system_libs", "shoshin", {"allow_bootstrap": True}, HW).rebuilds
    assert allowed["packages"]["home"] == sorted(L.TABLE) and allowed["bootstrap"] == ["bzip2", "expat", "pcre2", "xz"]
    assert build("system_libs", "shoshin", {"stage": "none"}, HW).rebuilds is None


def test_the_plan_says_what_the_user_signs_up_for():
    default = build("system_libs", "shoshin", {}, HW)
    assert default.derived["bootstrap_left_out"] == ["bzip2", "expat", "pcre2", "xz"]
    assert default.derived["bootstrap"] == {"nixos": [], "home": []} and default.derived["allow_bootstrap"] is False
    assert "29 home-manager libraries" in default.note
    assert "bootstrap libraries left out (system_libs_allow_bootstrap is false): bzip2, expat, pcre2, xz" in default.note
    nixos = build("system_libs", "shoshin", {"stage": "nixos"}, HW)
    assert "glibc and zlib system-wide: both are stdenv bootstrap packages, so every package of the system is " \
           "rebuilt from source" in nixos.note
    allowed = build("system_libs", "shoshin", {"packages": ["xz", "curl"], "allow_bootstrap": True}, HW)
    assert allowed.derived["bootstrap"] == {"nixos": [], "home": ["xz"]} and allowed.derived["bootstrap_left_out"] == []
    assert "including the bootstrap library xz (every package of the users' package set is rebuilt" in allowed.note
    excluded = build("system_libs", "shoshin", {"exclude": ["xz"]}, HW)
    assert excluded.derived["bootstrap_left_out"] == ["bzip2", "expat", "pcre2"]


def test_bootstrap_library_without_the_opt_in_fails():
    with pytest.raises(PhaseError) as err:
        build("system_libs", "h", {"packages": ["curl", "xz"]}, HW)
    msg = str(err.value)
    assert msg.startswith("host h: system_libs_packages names xz, a library of stdenv's bootstrap: xz: ")
    assert "pkgs/stdenv/linux/default.nix" in msg and "every package of the users' package set is rebuilt" in msg
    assert "Set system_libs_allow_bootstrap: true to accept that, or leave it out" in msg
    with pytest.raises(PhaseError, match="names pcre2, expat, libraries of stdenv's bootstrap"):
        build("system_libs", "h", {"packages": ["pcre2", "expat"], "stage": "none"}, HW)
    # named and excluded at once: nothing bootstrap is rebuilt, nothing to refuse
    assert build("system_libs", "h", {"packages": ["xz", "curl"], "exclude": ["xz"]}, HW).derived["home_packages"] == [
        "curl"]


def test_mold_only_where_safe(nix, tmp_path):
    plan = build("system_libs", "h", {"mold": True, "packages": ["zstd", "curl", "sqlite", "libpng"]}, HW)
    assert plan.derived["mold_packages"] == ["curl", "libpng"]
    assert sorted(plan.derived["mold_skipped"]) == ["sqlite", "zstd"]
    assert "pkgs/by-name/mo/mold/package.nix" in plan.derived["mold_skipped"]["zstd"]
    got = apply_overlay(nix, tmp_path, plan.home_config, ["zstd", "curl", "sqlite", "libpng"])
    # the wrapped linker (nixpkgs' own mold test uses mold-wrapped); the package's own NIX_CFLAGS_LINK kept
    assert got["curl"]["nativeBuildInputs"] == ["perl", "mold-wrapped"]
    assert got["curl"]["NIX_CFLAGS_LINK"] == "-lm -fuse-ld=mold" and got["curl"]["env"] == {"NIX_CFLAGS_COMPILE": SKY}
    assert got["libpng"]["env"] == {"NIX_CFLAGS_LINK": "-fuse-ld=mold"}
    # zstd is a build input of mold, sqlite of python3 (ninja builds mold): linking them with mold cannot evaluate
    assert "nativeBuildInputs" not in got["zstd"] and "NIX_CFLAGS_LINK" not in got["sqlite"].get("env", {})
    assert got["sqlite"]["nativeBuildInputs"] == ["unzip", "tcl"]
    assert all(not L.mold_ok(n) for n in L.BOOTSTRAP_LIBRARIES) and not L.mold_ok("openssl")
    assert set(L.MOLD_CLOSURE) <= set(L.TABLE)


def test_opt_in_out_and_extra_flags(nix, tmp_path):
    plan = build("system_libs", "h", {"packages": ["curl", "sqlite"], "exclude": ["sqlite"],
                                      "extra_cflags": {"curl": ["-DNDEBUG"]}}, HW)
    assert plan.derived["home_packages"] == ["curl"]
    got = apply_overlay(nix, tmp_path, plan.home_config, ["curl"])
    assert got["curl"]["env"]["NIX_CFLAGS_COMPILE"] == SKY + " -DNDEBUG"
    assert build("system_libs", "h", {"stage": "none"}, HW).home_config == {}


def test_flag_text_is_data(nix, tmp_path):
    """A flag with Nix syntax in it stays a string: the serializer escapes it."""
    plan = build("system_libs", "h", {"packages": ["curl"], "extra_cflags": {"curl": ["-DX=\"${abort}\""]}},
                 HW)
    got = apply_overlay(nix, tmp_path, plan.home_config, ["curl"])
    assert got["curl"]["env"]["NIX_CFLAGS_COMPILE"].endswith(' -DX="${abort}"')


def test_the_helper_refuses_what_it_does_not_append():
    with pytest.raises(ValueError, match="cannot append to CFLAGS"):
        overlays.override_attrs("prev.x", {"CFLAGS": ["-O2"]})
    with pytest.raises(ValueError, match="give single flags"):
        overlays.override_attrs("prev.x", {"NIX_CFLAGS_COMPILE": ["-O2 -g"]})
    with pytest.raises(ValueError, match="would replace what nixperfAppendFlags appends"):
        overlays.override_attrs("prev.x", {"NIX_CFLAGS_COMPILE": ["-O2"]}, {"env": overlays.append_list("x", [])})
    with pytest.raises(ValueError, match="the overlay was given none"):
        overlays.overlay({"x": overlays.override_attrs("prev.x", host_flags=True)})


@pytest.mark.parametrize("settings,hw,needle", [
    ({"packages": ["glibc"]}, HW, "system_libs_packages names libraries not in the table: glibc"),
    ({"exclude": ["leftpad"]}, HW, "system_libs_exclude names libraries not in the table: leftpad"),
    ({"extra_cflags": {"curl": "-O2"}}, HW, "give a list of single flags"),
    ({"extra_cflags": {"curl": ["-O2 -g"]}}, HW, "give a list of single flags"),
    ({"stage": "all"}, HW, "system_libs_stage must be one of none, home, nixos"),
    ({"allow_bootstrap": "maybe"}, HW, "system_libs_allow_bootstrap must be true or false"),
    ({}, {"cpu": {"family": "skylake", "x86_64_level": 2}}, "cpu.family skylake is an x86-64-v3 CPU: the level must match the family (allowed: 3)"),
])
def test_checks(settings, hw, needle):
    with pytest.raises(PhaseError) as err:
        build("system_libs", "h", settings, hw)
    assert needle in str(err.value)
