"""build_perf: the parallelism formula (and the README's table of it), every feature opt-in on its own, proven by the
real evaluator with the test module system; the LTO / PGO overlays applied to stubs carrying nixpkgs' behaviour keep
each package's own flags and compose with each other; bad input fails before anything is rendered."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from support import MKDERIVATION, eval_modules
from ansible_collections.nixperf.tuning.plugins.module_utils import overlays
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixRaw, nix_module
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import PhaseError, build
from ansible_collections.nixperf.tuning.plugins.module_utils.phases import build_perf as B

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "roles" / "build_perf" / "README.md"
SHOSHIN = {"cpu": {"vendor": "intel", "family": "skylake", "x86_64_level": 3, "cores": 4, "threads": 8},
           "memory": {"total_mib": 16384}}
SCCACHE_OUT = "/nix/store/00000000000000000000000000000000-sccache-0.9.0"
# pkgs of the module: the sccache derivation as far as the module uses it (its out path)
PKGS = '{ sccache = { type = "derivation"; name = "sccache-0.9.0"; outPath = "%s"; }; }' % SCCACHE_OUT
OFF = {f: {"enable": False} for f in B.FEATURES}

# (host, threads, RAM MiB, max-jobs, cores): the README's table, row for row
HOSTS = [
    ("1-thread VM", 1, 1024, 1, 1),
    ("", 4, 8 * 1024, 2, 2),
    ("shoshin", 8, 16 * 1024, 2, 4),
    ("", 16, 32 * 1024, 4, 4),
    ("", 32, 64 * 1024, 5, 6),
    ("", 64, 128 * 1024, 8, 8),
    ("", 128, 256 * 1024, 11, 11),
    ("", 256, 1024 * 1024, 16, 16),
    ("RAM-bound", 8, 4 * 1024, 2, 2),
    ("RAM-bound", 32, 16 * 1024, 4, 4),
    ("RAM-bound", 256, 64 * 1024, 8, 8),
]


def hw(threads, mib):
    return {"cpu": {"threads": threads, "cores": threads}, "memory": {"total_mib": mib}}


def size(mib):
    return "%d TiB" % (mib // (1024 * 1024)) if mib % (1024 * 1024) == 0 else "%d GiB" % (mib // 1024)


def table():
    """The README's table, from the function."""
    rows = ["| host | threads | RAM | processes the RAM holds | threads used | `max-jobs` | `cores` | peak processes "
            "| Nix default peak |", "|---|---|---|---|---|---|---|---|---|"]
    for label, threads, mib, _jobs, _cores in HOSTS:
        r = B.parallelism(threads, mib)
        rows.append("| %s | %d | %s | %d | %d | %d | %d | %d | %d |" % (
            label, threads, size(mib), r["memory_slots"], r["effective_threads"], r["max_jobs"], r["cores"],
            r["peak_processes"], threads * threads))
    return "\n".join(rows) + "\n"


def module(tmp_path, settings, hardware=None, name="build_perf.nix"):
    """The NixOS module as the planning action renders it, parsed by the real Nix."""
    plan = build("build_perf", "shoshin", settings, hardware or SHOSHIN)
    text = nix_module("build_perf", plan.config, role="build_perf", description=plan.description, enable=plan.enable,
                      note=plan.note, markers=False, priority=75, features=plan.features)[0]
    path = tmp_path / name
    path.write_text(text)
    return plan, path


def evaluate(nix, tmp_path, settings, *host, hardware=None):
    plan, path = module(tmp_path, settings, hardware)
    assert nix.parses(path)
    return eval_modules(nix, path, *host, pkgs=PKGS)


def nixperf(**on):
    """config.nixperf as the module declares it: the phase on, the features named on."""
    return {"build_perf": {"enable": True, **{f: {"enable": f in on} for f in B.FEATURES}}}


# ---------------------------------------------------------------------------------------- the formula


@pytest.mark.parametrize("label,threads,mib,jobs,cores", HOSTS)
def test_the_formula_for_each_host_of_the_readme(label, threads, mib, jobs, cores):
    r = B.parallelism(threads, mib)
    assert (r["max_jobs"], r["cores"]) == (jobs, cores)
    assert 1 <= r["peak_processes"] <= threads and r["peak_processes"] <= max(1, mib // B.MIB_PER_JOB)
    assert r["peak_processes"] == jobs * cores
    plan = build("build_perf", "h", {"parallelism_enable": True}, hw(threads, mib))
    assert plan.derived["parallelism"]["max_jobs"] == jobs and plan.derived["parallelism"]["cores"] == cores


def test_the_readme_table_is_the_function():
    text = README.read_text()
    assert table() in text, "roles/build_perf/README.md: replace the parallelism table with\n" + table()


def test_the_formula_keeps_the_peak_near_the_thread_count():
    for threads in range(1, 513):
        r = B.parallelism(threads, 4 * 1024 * 1024)
        assert r["effective_threads"] == threads
        # never above the threads, and at least three quarters of them (128 -> 121 is the worst from 4 up)
        assert threads * 3 // 4 <= r["peak_processes"] <= threads
        assert r["max_jobs"] <= r["cores"] <= r["max_jobs"] + 2
    # RAM caps it: 1 GiB a process, never below one job of one core
    assert B.parallelism(64, 512)["peak_processes"] == 1
    assert B.parallelism(64, 6 * 1024)["peak_processes"] == 6 and B.parallelism(64, 6 * 1024)["max_jobs"] == 2


def test_a_given_value_is_kept_and_the_other_follows_the_budget():
    assert (B.parallelism(8, 16384, max_jobs=4)["max_jobs"], B.parallelism(8, 16384, max_jobs=4)["cores"]) == (4, 2)
    assert (B.parallelism(8, 16384, cores=8)["max_jobs"], B.parallelism(8, 16384, cores=8)["cores"]) == (1, 8)
    auto = B.parallelism(8, 16384, max_jobs="auto")
    assert auto["max_jobs"] == "auto" and auto["cores"] == 1 and auto["peak_processes"] == 8
    every = B.parallelism(8, 16384, cores=0)
    assert every["cores"] == 0 and every["max_jobs"] == 1 and every["peak_processes"] == 8
    both = B.parallelism(8, 4096, max_jobs=3, cores=5)
    assert (both["max_jobs"], both["cores"], both["peak_processes"]) == (3, 5, 15)
    assert B.parallelism(8, 16384, mib_per_job=4096)["effective_threads"] == 4
    plan = build("build_perf", "h", {"parallelism_enable": "yes", "max_jobs": "3", "cores": "2", "mib_per_job": "2048"},
                 SHOSHIN)
    assert plan.derived["parallelism"]["given"] == {"max_jobs": 3, "cores": 2}
    assert plan.config["nix"]["settings"]["max-jobs"].value.value == 3
    assert build("build_perf", "h", {"max_jobs": "auto"}, SHOSHIN).derived["parallelism"]["max_jobs"] == "auto"


# ---------------------------------------------------------------------------------- the plan itself


def test_no_settings_is_inert():
    plan = build("build_perf", "shoshin", {}, SHOSHIN)
    assert plan.features == {f: (False, B.FEATURE_DOCS[f]) for f in B.FEATURES}
    assert plan.rebuilds is None and plan.home_config is None and plan.enable is True
    assert plan.derived["features"] == [] and plan.derived["bootstrap"] == []
    assert plan.note == "Every feature is off (build_perf_<feature>_enable: true switches one on); the module sets nothing."
    assert "nixpkgs" not in plan.config  # no package named: no overlay at all


def test_rebuilds_are_listed_only_for_the_features_switched_on():
    names = {"ccache_packages": ["ffmpeg"], "lto_packages": ["sqlite", "zstd"], "pgo_packages": ["python3"]}
    assert build("build_perf", "h", names, SHOSHIN).rebuilds is None
    lto = build("build_perf", "h", dict(names, lto_enable=True), SHOSHIN)
    assert lto.rebuilds == {"packages": {"nixos": ["sqlite", "zstd"]}, "bootstrap": []}
    every = build("build_perf", "h", dict(names, lto_enable=True, pgo_enable=True, ccache_enable=True), SHOSHIN)
    assert every.rebuilds == {"packages": {"nixos": ["ffmpeg", "python3", "sqlite", "zstd"]}, "bootstrap": []}
    assert every.derived["rebuilt"] == {"ccache": ["ffmpeg"], "lto": ["sqlite", "zstd"], "pgo": ["python3"]}
    assert every.derived["pgo"]["packages"] == {"python3": {
        "switch": "enableOptimizations", "source": "pkgs/development/interpreters/python/cpython/default.nix"}}
    assert "LTO rebuilds: sqlite, zstd" in every.note and "PGO rebuilds: python3" in every.note
    assert "rebuilt with ccacheStdenv: ffmpeg" in every.note


def test_the_apply_engine_counts_and_names_them():
    """The build-cost report attributes a dry run's derivations to the packages of plan.rebuilds."""
    from ansible_collections.nixperf.tuning.plugins.module_utils import buildcost

    plan = build("build_perf", "h", {"lto_enable": True, "lto_packages": ["sqlite"], "pgo_enable": True, "pgo_packages": ["python3"]},
                 SHOSHIN)
    out = ("these 3 derivations will be built:\n  /nix/store/%s-sqlite-3.54.0.drv\n  /nix/store/%s-python3-3.13.1.drv\n"
           "  /nix/store/%s-nixos-system-shoshin.drv\n" % ("a" * 32, "b" * 32, "c" * 32))
    cost = buildcost.cost(out, {"build_perf": plan.rebuilds}, "nixos")
    assert cost["phases"] == {"build_perf": {"packages": ["python3", "sqlite"], "bootstrap": []}}
    assert buildcost.over_limit(cost, 2)
    assert "They come from the phases build_perf (python3, sqlite)" in buildcost.refusal(
        cost, 2, "host shoshin", "nixos_apply_max_builds")
    assert buildcost.cost(out, {"build_perf": plan.rebuilds}, "home")["phases"] == {}


def test_bootstrap_packages_need_the_opt_in():
    with pytest.raises(PhaseError) as err:
        build("build_perf", "h", {"lto_packages": ["sqlite", "zlib"]}, SHOSHIN)
    msg = str(err.value)
    assert msg.startswith("host h: build_perf_lto_packages names zlib, a package of stdenv's bootstrap: zlib: ")
    assert "every package of the system is rebuilt from source (hours)" in msg
    assert msg.endswith("Set build_perf_allow_bootstrap: true to accept that, or leave it out")
    with pytest.raises(PhaseError, match="build_perf_ccache_packages names glibc, xz, packages of stdenv's bootstrap"):
        build("build_perf", "h", {"ccache_packages": ["glibc", "curl", "xz"]}, SHOSHIN)
    allowed = build("build_perf", "h", {"lto_enable": True, "lto_packages": ["zlib", "sqlite"], "allow_bootstrap": True},
                    SHOSHIN)
    assert allowed.rebuilds == {"packages": {"nixos": ["sqlite", "zlib"]}, "bootstrap": ["zlib"]}
    assert "bootstrap packages zlib: every package of the system is rebuilt from source" in allowed.note


def test_the_bootstrap_message_is_shared_with_system_libs():
    """overlays.bootstrap_refusal says word for word what system_libs says, so system_libs can call it."""
    with pytest.raises(PhaseError) as err:
        build("system_libs", "h", {"packages": ["curl", "pcre2", "xz"]},
              {"cpu": {"family": "skylake", "x86_64_level": 3}})
    shared = overlays.bootstrap_refusal(["curl", "pcre2", "xz"], "system_libs_", "the users' package set",
                                        ("library", "libraries"))
    assert str(err.value) == "host h: system_libs_packages " + shared
    assert overlays.bootstrap_refusal(["curl", "sqlite"], "x_", "the system") is None


def test_pgo_only_for_packages_with_a_real_switch():
    with pytest.raises(PhaseError) as err:
        build("build_perf", "h", {"pgo_packages": ["python3", "firefox", "nodejs"]}, SHOSHIN)
    msg = str(err.value)
    assert msg.startswith("host h: build_perf_pgo_packages names firefox, nodejs: only packages whose nixpkgs "
                          "expression has a real profile-guided build")
    assert "python3 (enableOptimizations in pkgs/development/interpreters/python/cpython/default.nix)" in msg
    assert "without a training run there is no profile to use" in msg
    assert sorted(B.PGO) == ["python3"] and all(not overlays.bootstrap_reason(n) for n in B.PGO)


@pytest.mark.parametrize("settings,needle", [
    ({"lto_packages": ["python3Packages.numpy"]}, "build_perf_lto_packages names 'python3Packages.numpy', not nixpkgs "
                                                  "attribute names"),
    ({"lto_packages": ["foo bar", "${abort}"]}, "names 'foo bar', '${abort}', not nixpkgs attribute names"),
    ({"ccache_packages": ["if"]}, "build_perf_ccache_packages names 'if', not nixpkgs attribute names"),
    ({"ccache_packages": [3]}, "names 3, not nixpkgs attribute names"),
    ({"lto_packages": ["sqlite", "zstd", "sqlite"]}, "build_perf_lto_packages names sqlite more than once"),
    ({"lto_packages": "sqlite"}, "build_perf_lto_packages must be a list"),
    ({"lto_packages": [{"_nix": "abort \"x\""}]}, "build_perf_lto_packages holds a Nix code marker at [0]"),
    ({"max_jobs": {"_nix": "4"}}, "build_perf_max_jobs holds a Nix code marker"),
    ({"ccache_dir": {"_nix": "/tmp"}}, "build_perf_ccache_dir holds a Nix code marker"),
    ({"max_jobs": 0}, "build_perf_max_jobs must be \"auto\" or an integer from 1 to 8 (the host's cpu.threads), got 0"),
    ({"max_jobs": 9}, "build_perf_max_jobs must be \"auto\" or an integer from 1 to 8"),
    ({"max_jobs": "lots"}, "build_perf_max_jobs must be \"auto\" or an integer from 1 to 8 (the host's cpu.threads), "
                           "got 'lots'"),
    ({"max_jobs": True}, "got True"),
    ({"cores": 9}, "build_perf_cores must be an integer from 0 (every thread) to 8 (the host's cpu.threads), got 9"),
    ({"cores": -1}, "build_perf_cores must be an integer from 0 to 4096, got -1"),
    ({"mib_per_job": 64}, "build_perf_mib_per_job must be an integer from 128 to 65536, got 64"),
    ({"parallelism_enable": "maybe"}, "build_perf_parallelism_enable must be true or false"),
    ({"ccache_dir": "var/cache/ccache"}, "build_perf_ccache_dir must be an absolute directory"),
    ({"ccache_dir": "/nix/store/x-ccache"}, "build_perf_ccache_dir must be an absolute directory outside /nix/store"),
    ({"ccache_dir": "/var/cache/cc ache"}, "(no spaces, quotes, '%', '=', '..' or trailing '/')"),
    ({"ccache_dir": "/var/cache/ccache/"}, "build_perf_ccache_dir must be an absolute directory"),
    ({"ccache_dir": "/var/cache/%h"}, "got '/var/cache/%h'"),
    ({"ccache_dir": "/ccache=/var/cache/ccache"}, "build_perf_ccache_dir must be an absolute directory"),
    ({"ccache_dir": "/var/cache/../../etc"}, "'..'"),
    ({"ccache_dir": "/"}, "build_perf_ccache_dir must be an absolute directory"),
    ({"sccache_dir": "/home/mitsio/\"x"}, "build_perf_sccache_dir must be an absolute directory"),
    ({"lto_pakages": []}, "phase build_perf has no settings lto_pakages"),
])
def test_bad_input_fails_before_anything_is_rendered(settings, needle):
    with pytest.raises(PhaseError) as err:
        build("build_perf", "h", settings, SHOSHIN)
    assert needle in str(err.value)


def test_the_facts_are_required():
    with pytest.raises(PhaseError, match="nixperf_hardware.cpu.threads is missing"):
        build("build_perf", "h", {}, {"memory": {"total_mib": 16384}})
    with pytest.raises(PhaseError, match="nixperf_hardware.memory.total_mib is missing"):
        build("build_perf", "h", {}, {"cpu": {"threads": 8}})


# ------------------------------------------------------------------------------- the module, evaluated


def test_every_feature_off_sets_nothing(nix, tmp_path):
    assert evaluate(nix, tmp_path, {}) == {"nixperf": nixperf()}
    # package lists given, features off: the overlays are rendered, guarded, and define nothing
    names = {"ccache_packages": ["ffmpeg"], "lto_packages": ["sqlite"], "pgo_packages": ["python3"],
             "sccache_dir": "/srv/sccache"}
    assert evaluate(nix, tmp_path, names) == {"nixperf": nixperf()}


def test_parallelism_alone(nix, tmp_path):
    assert evaluate(nix, tmp_path, {"parallelism_enable": True}) == {
        "nixperf": nixperf(parallelism=True), "nix": {"settings": {"max-jobs": 2, "cores": 4}}}
    assert evaluate(nix, tmp_path, {"parallelism_enable": True, "max_jobs": "auto"}, hardware=hw(32, 16384)) == {
        "nixperf": nixperf(parallelism=True), "nix": {"settings": {"max-jobs": "auto", "cores": 1}}}


def test_ccache_alone(nix, tmp_path):
    assert evaluate(nix, tmp_path, {"ccache_enable": True}) == {
        "nixperf": nixperf(ccache=True),
        "nix": {"settings": {"extra-sandbox-paths": ["/var/cache/ccache"]}},
        "programs": {"ccache": {"enable": True, "cacheDir": "/var/cache/ccache"}}}
    assert evaluate(nix, tmp_path, {"ccache_enable": True, "ccache_dir": "/srv/ccache", "ccache_packages": ["ffmpeg", "x264"]},
                    "{ nix.settings.extra-sandbox-paths = [ \"/dev/kvm\" ]; }") == {
        "nixperf": nixperf(ccache=True),
        # the host's own sandbox paths stay: a list is merged, not overridden
        "nix": {"settings": {"extra-sandbox-paths": ["/srv/ccache", "/dev/kvm"]}},
        "programs": {"ccache": {"enable": True, "cacheDir": "/srv/ccache", "packageNames": ["ffmpeg", "x264"]}}}


def test_sccache_alone(nix, tmp_path):
    assert evaluate(nix, tmp_path, {"sccache_enable": True}) == {
        "nixperf": nixperf(sccache=True),
        "environment": {"systemPackages": ["<derivation sccache-0.9.0>"],
                        "sessionVariables": {"RUSTC_WRAPPER": SCCACHE_OUT + "/bin/sccache"}}}
    assert evaluate(nix, tmp_path, {"sccache_enable": True, "sccache_dir": "/srv/sccache"},
                    "{ environment.systemPackages = [ \"vim\" ]; }")["environment"] == {
        "systemPackages": ["<derivation sccache-0.9.0>", "vim"],
        "sessionVariables": {"RUSTC_WRAPPER": SCCACHE_OUT + "/bin/sccache", "SCCACHE_DIR": "/srv/sccache"}}


@pytest.mark.parametrize("feature", ["lto", "pgo"])
def test_lto_and_pgo_alone(nix, tmp_path, feature):
    names = {"lto_packages": ["sqlite"], "pgo_packages": ["python3"]}
    assert evaluate(nix, tmp_path, dict(names, **{feature + "_enable": True})) == {
        "nixperf": nixperf(**{feature: True}), "nixpkgs": {"overlays": ["<function>"]}}


def test_the_phase_switched_off_sets_nothing(nix, tmp_path):
    everything = {f + "_enable": True for f in B.FEATURES}
    everything.update(enable=False, ccache_packages=["ffmpeg"], lto_packages=["sqlite"], pgo_packages=["python3"])
    config = evaluate(nix, tmp_path, everything)
    assert config == {"nixperf": {"build_perf": {"enable": False, **{f: {"enable": True} for f in B.FEATURES}}}}
    # and the host may switch the phase back on, or one feature on, in its own configuration
    assert evaluate(nix, tmp_path, {}, "{ nixperf.build_perf.parallelism.enable = true; }")["nix"] == {
        "settings": {"max-jobs": 2, "cores": 4}}


def test_the_hosts_force_wins_and_a_plain_value_gives_way(nix, tmp_path):
    forced = evaluate(nix, tmp_path, {"parallelism_enable": True}, "{ lib, ... }: { nix.settings.max-jobs = lib.mkForce 7; }")
    assert forced["nix"]["settings"] == {"max-jobs": 7, "cores": 4}
    plain = evaluate(nix, tmp_path, {"parallelism_enable": True, "ccache_enable": True},
                     "{ nix.settings.max-jobs = 3; programs.ccache.enable = false; }")
    assert plain["nix"]["settings"]["max-jobs"] == 2 and plain["programs"]["ccache"]["enable"] is True
    forced_off = evaluate(nix, tmp_path, {"ccache_enable": True},
                          "{ lib, ... }: { programs.ccache.enable = lib.mkForce false; }")
    assert forced_off["programs"]["ccache"]["enable"] is False


# ----------------------------------------------------------------------------- the overlays, applied

# lib.makeOverridable as far as the overlays use it (nixpkgs lib/customisation.nix): override re-calls the package
# function with changed arguments and keeps an earlier overrideAttrs (overrideResult).
OVERRIDABLE = """overridable = f: args:
    let r = f args; in
    r // { override = new: overridable f (args // new); overrideAttrs = g: overridable (a: (f a).overrideAttrs g) args; };"""
# the packages as nixpkgs has them: sqlite keeps its defines in env (pkgs/development/libraries/sqlite/default.nix),
# libpng-like flags at the top level, a clang-built package, and CPython's enableOptimizations switch
PREV = """{
    sqlite = mkDerivation { pname = "sqlite"; env.TCLLIBDIR = "/lib";
      env.NIX_CFLAGS_COMPILE = "-DSQLITE_ENABLE_FTS5 -DSQLITE_MAX_VARIABLE_NUMBER=250000"; };
    libpng = mkDerivation { pname = "libpng"; NIX_CFLAGS_COMPILE = "-Wno-error=implicit-fallthrough";
      NIX_CFLAGS_LINK = [ "-lm" ]; };
    firefox-unwrapped = mkDerivation { pname = "firefox"; } // { stdenv.cc.isClang = true; };
    python3 = overridable (args: mkDerivation {
      pname = "python3";
      configureFlags = [ "--with-lto" ] ++ (if args.enableOptimizations or false then [ "--enable-optimizations" ] else [ ]);
      env.NIX_CFLAGS_COMPILE = "-DPY";
      selfIsOptimized = if args ? self then args.self.attrs.optimized else null;
      optimized = args.enableOptimizations or false;
    }) { };
  }"""


def applied(nix, tmp_path, settings, names):
    """The module's overlays (in their list order) applied to PREV as nixpkgs applies overlays: each gets the final
    package set and the previous layer; returns the packages' attributes."""
    probe = ("{ config, ... }: { probe = let %s %s base = %s; final = builtins.foldl' (prev: ov: prev // ov final prev) "
             "base config.nixpkgs.overlays; in builtins.mapAttrs (n: p: p.attrs) (builtins.intersectAttrs "
             "(builtins.listToAttrs (map (n: { name = n; value = null; }) %s)) final); }"
             % (MKDERIVATION, OVERRIDABLE, PREV, "[ %s ]" % " ".join('"%s"' % n for n in names)))
    return evaluate(nix, tmp_path, settings, probe)["probe"]


def test_lto_appends_to_each_packages_own_flags(nix, tmp_path):
    got = applied(nix, tmp_path, {"lto_enable": True, "lto_packages": ["sqlite", "libpng", "firefox-unwrapped"]},
                  ["sqlite", "libpng", "firefox-unwrapped", "python3"])
    assert got["sqlite"] == {"pname": "sqlite", "env": {
        "TCLLIBDIR": "/lib",
        "NIX_CFLAGS_COMPILE": "-DSQLITE_ENABLE_FTS5 -DSQLITE_MAX_VARIABLE_NUMBER=250000 -flto=auto -ffat-lto-objects",
        "NIX_CFLAGS_LINK": "-flto=auto"}}
    # at the top level where the package keeps them (a string, a list), nothing of the same name in env
    assert got["libpng"] == {"pname": "libpng", "NIX_CFLAGS_COMPILE": "-Wno-error=implicit-fallthrough -flto=auto "
                             "-ffat-lto-objects", "NIX_CFLAGS_LINK": ["-lm", "-flto=auto"]}
    # a clang-built package gets ThinLTO
    assert got["firefox-unwrapped"] == {"pname": "firefox", "env": {"NIX_CFLAGS_COMPILE": "-flto=thin",
                                                                    "NIX_CFLAGS_LINK": "-flto=thin"}}
    # a package not named is not touched
    assert got["python3"]["env"] == {"NIX_CFLAGS_COMPILE": "-DPY"} and got["python3"]["optimized"] is False


def test_pgo_switches_the_expressions_own_build(nix, tmp_path):
    got = applied(nix, tmp_path, {"pgo_enable": True, "pgo_packages": ["python3"]}, ["python3", "sqlite"])
    assert got["python3"]["configureFlags"] == ["--with-lto", "--enable-optimizations"]
    # self is the overridden interpreter (its package set follows it), not the one before the overlay
    assert got["python3"]["selfIsOptimized"] is True
    assert got["sqlite"]["env"]["NIX_CFLAGS_COMPILE"] == "-DSQLITE_ENABLE_FTS5 -DSQLITE_MAX_VARIABLE_NUMBER=250000"


def test_lto_and_pgo_compose_on_one_package(nix, tmp_path):
    got = applied(nix, tmp_path, {"lto_enable": True, "pgo_enable": True, "lto_packages": ["python3"], "pgo_packages": ["python3"]},
                  ["python3"])
    assert got["python3"]["configureFlags"] == ["--with-lto", "--enable-optimizations"]
    assert got["python3"]["env"] == {"NIX_CFLAGS_COMPILE": "-DPY -flto=auto -ffat-lto-objects",
                                     "NIX_CFLAGS_LINK": "-flto=auto"}
    assert got["python3"]["selfIsOptimized"] is True
    # one feature of the two: only its change
    lto_only = applied(nix, tmp_path, {"lto_enable": True, "lto_packages": ["python3"], "pgo_packages": ["python3"]},
                       ["python3"])
    assert lto_only["python3"]["optimized"] is False and "NIX_CFLAGS_LINK" in lto_only["python3"]["env"]


def test_package_names_with_nix_syntax_stay_data(nix, tmp_path):
    """A name that is an attribute but reads like an operator (a trailing ') is quoted by the serializer."""
    plan, path = module(tmp_path, {"lto_enable": True, "lto_packages": ["foo'"]})
    assert nix.parses(path) and "prev.\"foo'\".overrideAttrs" in path.read_text()


def test_the_helpers_refuse_what_they_cannot_render():
    with pytest.raises(ValueError, match="is not a nixpkgs attribute name"):
        overlays.override_attrs_by_compiler("a.b", B.LTO_FLAGS["gcc"], B.LTO_FLAGS["clang"])
    with pytest.raises(ValueError, match="give single flags"):
        overlays.override_attrs_by_compiler("a", {"NIX_CFLAGS_COMPILE": ["-O2 -g"]}, B.LTO_FLAGS["clang"])
    with pytest.raises(ValueError, match="no flags to append"):
        overlays.override_attrs_by_compiler("a", B.LTO_FLAGS["gcc"], {})
    with pytest.raises(ValueError, match="no arguments"):
        overlays.override_args("python3", {})
    with pytest.raises(ValueError, match="are not argument names"):
        overlays.override_args("python3", {"a b": True})
    # data stays data: a one-key dict is an attribute set, not code
    assert overlays.override_args("x", {"opt": {"_nix": "abort"}}).code == 'prev.x.override {\n  opt = {\n    _nix = "abort";\n  };\n}'
    assert overlays.override_args("x", {"self": NixRaw("final.x")}).code == "prev.x.override {\n  self = final.x;\n}"
    assert overlays.is_attribute("libjpeg_turbo") and overlays.is_attribute("gtk+3") is False
    assert not overlays.is_attribute("or") and not overlays.is_attribute("3d") and not overlays.is_attribute(None)


def test_the_readme_names_every_setting_and_source():
    text = README.read_text()
    for s in B.PHASE.settings:
        assert "build_perf_" + s.name in text, s.name
    for source in ("nixos/modules/config/nix.nix", "nixos/modules/programs/ccache.nix",
                   "nixos/modules/config/system-environment.nix", "pkgs/by-name/sc/sccache/package.nix",
                   "pkgs/development/interpreters/python/cpython/default.nix", "lib/customisation.nix",
                   "pkgs/stdenv/generic/make-derivation.nix"):
        assert source in text, source
    assert re.search(r"nixos_apply_max_builds", text)
