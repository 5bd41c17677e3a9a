"""What a switch will cost: Nix's dry-run output parsed, attributed to the phases, refused over the limit; and
check mode that never builds, for the system and for home-manager."""
from __future__ import annotations

import os

import pytest
from conftest import run_module

from ansible_collections.nixperf.tuning.plugins.module_utils import buildcost, cmd
from ansible_collections.nixperf.tuning.plugins.modules import home_manager, nixos_rebuild

H = "/nix/store/" + "a" * 32 + "-"

# Nix's printMissing (src/libmain/shared.cc), Nix >= 2.20 renderSize
WORLD_OUTPUT = """building the system configuration...
these 4 derivations will be built:
  {h}glibc-2.40-66.drv
  {h}gcc-14.3.0.drv
  {h}python3-3.13.9.drv
  {h}nixos-system-shoshin-26.05.drv
these 2 paths will be fetched (80.0 MiB download, 1.2 GiB unpacked):
  {h}glibc-2.40.tar.xz
  {h}gcc-14.3.0.tar.xz
""".format(h=H)

REBUILDS = {
    "system_libs": {"packages": ["glibc", "zlib"], "bootstrap": ["glibc", "zlib"], "target": "nixos"},
    "runtimes": {"packages": ["nodejs_24", "python313"], "bootstrap": [], "target": "home"},
}


def test_parse_missing_reads_nix_wording():
    m = buildcost.parse_missing(WORLD_OUTPUT)
    assert [buildcost.store_name(p) for p in m["builds"]] == [
        "glibc-2.40-66", "gcc-14.3.0", "python3-3.13.9", "nixos-system-shoshin-26.05"]
    assert len(m["fetches"]) == 2
    assert (m["download"], m["unpacked"]) == ("80.0 MiB", "1.2 GiB")
    assert m["download_bytes"] == 80 * 1048576


def test_parse_missing_singular_and_old_sizes():
    text = "this derivation will be built:\n  %sfoo-1.0.drv\nthis path will be fetched (0.03 MiB download, " \
           "0.12 MiB unpacked):\n  %sbar-2.0\n" % (H, H)
    m = buildcost.parse_missing(text)
    assert len(m["builds"]) == 1 and len(m["fetches"]) == 1 and m["download"] == "0.03 MiB"
    assert buildcost.parse_missing("")["builds"] == [] and buildcost.parse_missing("")["download"] is None


@pytest.mark.parametrize("attr,drv,expected", [
    ("glibc", "glibc-2.40-66", True),
    ("glibc", "glibc-locales-2.40-66", False),
    ("nodejs_24", "nodejs-24.11.0", True),
    ("nodejs_24", "nodejs-22.15.0", False),
    ("nodejs-slim_24", "nodejs-slim-24.11.0", True),
    ("nodejs_24", "nodejs-slim-24.11.0", False),
    ("python313", "python3-3.13.9", True),
    ("python313", "python3.13-requests-2.32.3", False),
    ("python313", "python3-3.12.8", False),
    ("libjpeg_turbo", "libjpeg-turbo-3.0.4", True),
    ("json_c", "json-c-0.18", True),
    ("c-ares", "c-ares-1.34.3", True),
    ("xz", "xz-5.6.3", True),
    ("xz", "xzoom-0.3", False),
])
def test_package_attribute_matches_derivation_name(attr, drv, expected):
    assert buildcost.matches(attr, drv) is expected


def test_cost_names_the_phase_and_the_bootstrap_package():
    c = buildcost.cost(WORLD_OUTPUT, REBUILDS, "nixos")
    assert c["builds"] == 4 and c["fetches"] == 2
    assert c["phases"] == {"system_libs": {"packages": ["glibc"], "bootstrap": ["glibc"]}}  # runtimes: home
    assert c["world"] is True
    assert buildcost.summary(c) == (
        "4 derivations to build, caused by system_libs (glibc): an overlay on a bootstrap package (glibc) rebuilds "
        "every package; 2 paths to fetch (80.0 MiB download, 1.2 GiB unpacked)")
    home = buildcost.cost(WORLD_OUTPUT, REBUILDS, "home")
    assert home["phases"] == {"runtimes": {"packages": ["python313"], "bootstrap": []}} and home["world"] is False


def test_a_phase_acting_on_both_configurations_is_named_for_both():
    both = {"system_libs": {"packages": ["glibc", "python313"], "bootstrap": ["glibc"], "target": ["nixos", "home"]}}
    assert set(buildcost.cost(WORLD_OUTPUT, both, "home")["phases"]) == {"system_libs"}
    assert set(buildcost.cost(WORLD_OUTPUT, both, "nixos")["phases"]) == {"system_libs"}
    assert buildcost.targets({}) == ["nixos", "home"]


def test_packages_per_target_are_attributed_to_their_own_configuration():
    # system_libs at stage nixos: glibc in the system's overlay, python313 (say) in the users' overlay
    split = {"system_libs": {"packages": {"nixos": ["glibc"], "home": ["python313"]}, "bootstrap": ["glibc"]}}
    assert buildcost.targets(split["system_libs"]) == ["nixos", "home"]
    assert buildcost.targets({"packages": {"nixos": [], "home": ["xz"]}}) == ["home"]
    assert buildcost.packages(split["system_libs"]) == ["glibc", "python313"]
    nixos = buildcost.cost(WORLD_OUTPUT, split, "nixos")
    assert nixos["phases"] == {"system_libs": {"packages": ["glibc"], "bootstrap": ["glibc"]}} and nixos["world"]
    home = buildcost.cost(WORLD_OUTPUT, split, "home")
    assert home["phases"] == {"system_libs": {"packages": ["python313"], "bootstrap": []}} and not home["world"]
    assert set(buildcost.cost(WORLD_OUTPUT, split)["phases"]["system_libs"]["packages"]) == {"glibc", "python313"}


def test_long_package_lists_are_counted():
    many = {"system_libs": {"packages": ["glibc", "gcc", "python313", "a1", "a2", "a3", "a4", "a5"],
                            "bootstrap": ["glibc"], "target": "nixos"}}
    extra = "".join("  %sa%d-1.0.drv\n" % (H, i) for i in range(1, 6))
    out = WORLD_OUTPUT.replace("these 4 derivations will be built:\n", "these 9 derivations will be built:\n" + extra)
    assert "system_libs (glibc, gcc, python313, a1, a2, a3 and 2 more)" in buildcost.summary(
        buildcost.cost(out, many, "nixos"))


def test_refusal_message():
    c = buildcost.cost(WORLD_OUTPUT, REBUILDS, "nixos")
    assert not buildcost.over_limit(c, -1) and not buildcost.over_limit(c, 4) and buildcost.over_limit(c, 3)
    msg = buildcost.refusal(c, 3, "host shoshin", "nixos_apply_max_builds")
    assert msg.startswith("Refusing to switch host shoshin: the new system needs 4 local builds, more than "
                          "nixos_apply_max_builds (3).")
    assert "system_libs (glibc): an overlay on a bootstrap package (glibc) rebuilds every package" in msg
    assert "nixperf_phase_<phase>: false" in msg and "raise nixos_apply_max_builds (-1: no limit)" in msg
    none = buildcost.refusal(buildcost.cost(WORLD_OUTPUT, {}, "nixos"), 3, "host x", "max_builds")
    assert "No phase of this run overrides them (first: glibc-2.40-66, gcc-14.3.0" in none
    assert "Raise" not in none and "or raise max_builds" in none


def test_nothing_to_build():
    c = buildcost.cost("building the system configuration...\n", {}, "nixos")
    assert c["builds"] == 0 and buildcost.summary(c) == "nothing to build; nothing to fetch"


# ---------------------------------------------------------------- the doubles and the modules


def rebuild(fake, capsys, check=False, **kw):
    args = dict(nixos_config=str(fake.config), current_system=str(fake.current), system_profile=str(fake.profile))
    args.update(kw)
    return run_module(nixos_rebuild.main, args, capsys, check=check)


def nixos_overlay(fake, body):
    d = fake.config.parent / "nixperf"
    d.mkdir(exist_ok=True)
    (d / "system_libs.nix").write_text("{ ... }: { nixpkgs.overlays = [ (final: prev: { %s }) ]; }\n" % body)


def test_check_mode_reports_an_ordinary_cost(fake_nixos, capsys):
    nixos_overlay(fake_nixos, "")
    r = rebuild(fake_nixos, capsys, check=True, max_builds=100, rebuilds=REBUILDS)
    c = r["build_cost"]
    assert r["changed"] is True and r["refused"] is None
    assert 0 < c["builds"] < 20 and "nixos-system-classic-26.05" in c["derivations"]
    assert c["fetches"] == 1 and c["download"] == "180.0 KiB" and c["world"] is False
    assert [a[0] for a in fake_nixos.argvs("nixos-rebuild")] == ["dry-build"]
    assert fake_nixos.argvs("nix")[0][2] == "eval"  # evaluated, never built


def test_check_mode_reports_a_world_rebuild_and_the_refusal_to_come(fake_nixos, capsys):
    nixos_overlay(fake_nixos, "glibc = prev.glibc.overrideAttrs (old: { });")
    r = rebuild(fake_nixos, capsys, check=True, max_builds=100, max_builds_var="nixos_apply_max_builds",
                rebuilds=REBUILDS)
    c = r["build_cost"]
    assert c["builds"] > 200 and {"glibc-2.40-66", "gcc-14.3.0"} <= set(c["derivations"])
    # zlib is rebuilt with the world: the phase overrides it too
    assert c["phases"] == {"system_libs": {"packages": ["glibc", "zlib"], "bootstrap": ["glibc", "zlib"]}}
    assert c["download"] == "320.0 MiB" and c["fetches"] == 8
    assert r["changed"] is True and "more than nixos_apply_max_builds (100)" in r["refused"]
    assert [a[0] for a in fake_nixos.argvs("nixos-rebuild")] == ["dry-build"]


def test_dry_build_over_the_limit_fails_before_anything_moves(fake_nixos, capsys):
    before = os.readlink(fake_nixos.profile), os.path.realpath(fake_nixos.current)
    nixos_overlay(fake_nixos, "glibc = prev.glibc.overrideAttrs (old: { });")
    r = rebuild(fake_nixos, capsys, action="dry-build", max_builds=100, max_builds_var="nixos_apply_max_builds",
                rebuilds=REBUILDS)
    assert r["failed"] is True and r["changed"] is False
    assert r["msg"].startswith("Refusing to switch host ")
    assert "system_libs (glibc, zlib): an overlay on a bootstrap package (glibc, zlib) rebuilds every package" \
        in r["msg"]
    assert (os.readlink(fake_nixos.profile), os.path.realpath(fake_nixos.current)) == before
    assert [a[0] for a in fake_nixos.argvs("nixos-rebuild")] == ["dry-build"]
    ok = rebuild(fake_nixos, capsys, action="dry-build", max_builds=-1, rebuilds=REBUILDS)
    assert ok["changed"] is False and ok["build_cost"]["world"] is True


# ---------------------------------------------------------------- home-manager


@pytest.fixture
def home(fake_nixos):
    cfg = fake_nixos.root / "home/mitsio/.config/home-manager"
    cfg.mkdir(parents=True)
    (cfg / "home.nix").write_text("{ ... }: { home.stateVersion = \"25.05\"; }\n")
    fake_nixos.hm_config = cfg
    fake_nixos.hm_profile = fake_nixos.root / "home/mitsio/.local/state/nix/profiles/home-manager"
    return fake_nixos


def hm(fake, capsys, check=False, **kw):
    args = dict(flake="%s#mitsio@shoshin" % fake.hm_config, profile=str(fake.hm_profile))
    args.update(kw)
    return run_module(home_manager.main, args, capsys, check=check)


def shadow_of(fake, tmp_path, overlay):
    """The writer's check-mode copy of the user's configuration, with the planned files laid over."""
    import shutil

    shadow = tmp_path / "shadow" / "mitsio"
    shutil.copytree(fake.hm_config, shadow)
    (shadow / "nixperf").mkdir(exist_ok=True)
    (shadow / "nixperf" / "runtimes.nix").write_text(
        "{ ... }: { nixpkgs.overlays = [ (final: prev: { %s }) ]; }\n" % overlay)
    return shadow


def test_home_check_mode_evaluates_the_shadow_copy_and_builds_nothing(home, capsys, tmp_path):
    hm(home, capsys)  # generation 1 from the configuration on disk
    first = os.path.realpath(home.hm_profile)
    home.clear()
    shadow = shadow_of(home, tmp_path, "nodejs_24 = prev.nodejs_24.overrideAttrs (old: { });")
    r = hm(home, capsys, check=True, flake="path:%s#mitsio@shoshin" % shadow, max_builds=100, rebuilds=REBUILDS)
    installable = 'path:%s#homeConfigurations."mitsio@shoshin".activationPackage' % shadow
    assert home.argvs("nix") == [
        ["--extra-experimental-features", "nix-command flakes", "build", "--dry-run", "--no-link", installable],
        ["--extra-experimental-features", "nix-command flakes", "eval", "--raw", installable + ".outPath"]]
    assert home.argvs("home-manager") == []  # never built
    assert r["changed"] is True and r["new_generation"] != first
    assert r["build_cost"]["phases"] == {"runtimes": {"packages": ["nodejs_24"], "bootstrap": []}}
    assert "nodejs-24.11.0" in r["build_cost"]["derivations"] and r["refused"] is None
    assert os.path.realpath(home.hm_profile) == first
    # and the prediction is what a real run of the same configuration switches to
    for p in (shadow / "nixperf").iterdir():
        (home.hm_config / "nixperf").mkdir(exist_ok=True)
        (home.hm_config / "nixperf" / p.name).write_bytes(p.read_bytes())
    real = hm(home, capsys)
    assert real["changed"] is True and os.path.realpath(home.hm_profile) == r["new_generation"]


def test_home_check_mode_without_a_shadow_predicts_no_change(home, capsys):
    hm(home, capsys)
    home.clear()
    r = hm(home, capsys, check=True)
    assert r["changed"] is False and r["build_cost"]["builds"] == 0
    assert home.argvs("home-manager") == []


def test_home_switch_over_the_limit_is_refused_before_building(home, capsys, tmp_path):
    hm(home, capsys)
    (home.hm_config / "system_libs.nix").write_text("{ ... }: { nixpkgs.overlays = [ (final: prev: { "
                                                    "xz = prev.xz.overrideAttrs (old: { }); }) ]; }\n")
    home.clear()
    libs = {"system_libs": {"packages": ["xz", "zstd"], "bootstrap": ["xz"], "target": "home"}}
    r = hm(home, capsys, max_builds=100, max_builds_var="home_manager_apply_max_builds", rebuilds=libs)
    assert r["failed"] is True and r["changed"] is False
    assert "the home-manager configuration needs" in r["msg"] and "home_manager_apply_max_builds (100)" in r["msg"]
    assert "system_libs (xz): an overlay on a bootstrap package (xz) rebuilds every package" in r["msg"]
    assert home.argvs("home-manager") == [] and [a[2] for a in home.argvs("nix")] == ["build"]


def test_home_classic_layout_dry_run(home, capsys):
    r = run_module(home_manager.main, dict(config_file=str(home.hm_config / "home.nix"), profile=str(home.hm_profile)),
                   capsys, check=True)
    expr = '(import <home-manager/home-manager/home-manager.nix> { confPath = "%s"; }).activationPackage' % (
        home.hm_config / "home.nix")
    assert home.argvs("nix") == [
        ["--extra-experimental-features", "nix-command flakes", "build", "--dry-run", "--no-link", "--impure",
         "--expr", expr],
        ["--extra-experimental-features", "nix-command flakes", "eval", "--raw", "--impure", "--expr",
         "(%s).outPath" % expr]]
    assert r["changed"] is True and r["build_cost"]["builds"] == 5


def test_home_activation_arguments():
    assert cmd.home_activation("/h#u@h", "/x", "u") == ['/h#homeConfigurations."u@h".activationPackage']
    assert cmd.home_activation("/h", "/x", "mitsio") == ["/h#homeConfigurations.mitsio.activationPackage"]
    assert cmd.home_activation(None, '/a "b"/home.nix', "u")[-1] == (
        '(import <home-manager/home-manager/home-manager.nix> { confPath = "/a \\"b\\"/home.nix"; }).activationPackage')
