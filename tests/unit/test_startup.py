"""startup: one XDG cache home and caches redirected into it, each an opt-in feature of a home-manager module (the
real evaluator, with a stub carrying home-manager's xdg module), and the read-only checks of caches and LD_PRELOAD
against a host in a temp root."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any, Dict, List

import pytest
from ansible_collections.nixperf.tuning.plugins.module_utils import checks as C
from ansible_collections.nixperf.tuning.plugins.module_utils import verify as V
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixIf, NixOverride, NixRaw, nix_module
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import DEFAULT_PRIORITY, PhaseError, build
from ansible_collections.nixperf.tuning.plugins.module_utils.phases import startup as S
from support import FakeHost, eval_modules

USERS = [{"name": "mitsio"}]
VARIABLES = {"npm": "NPM_CONFIG_CACHE", "cuda": "CUDA_CACHE_PATH", "go": "GOMODCACHE", "bundler": "BUNDLE_USER_CACHE",
             "nuget": "NUGET_PACKAGES"}
SUBDIRS = {"NPM_CONFIG_CACHE": "npm", "CUDA_CACHE_PATH": "nvidia/ComputeCache", "GOMODCACHE": "go-mod",
           "BUNDLE_USER_CACHE": "bundle", "NUGET_PACKAGES": "nuget/packages"}
# home-manager as far as this module touches it: modules/misc/xdg.nix (xdg.enable, the four XDG homes whose
# defaults are "${config.home.homeDirectory}/.cache" etc. at option-default priority, and, with xdg.enable, their
# export into home.sessionVariables and systemd.user.sessionVariables); home.homeDirectory set as the NixOS module
# of home-manager sets it for a user.
HM_XDG = """{ config, lib, ... }:
let
  cfg = config.xdg;
  variables = {
    XDG_CACHE_HOME = cfg.cacheHome; XDG_CONFIG_HOME = cfg.configHome;
    XDG_DATA_HOME = cfg.dataHome; XDG_STATE_HOME = cfg.stateHome;
  };
in
{
  options.home.homeDirectory = lib.mkOption { };
  options.xdg.enable = lib.mkOption { default = false; };
  options.xdg.cacheHome = lib.mkOption { default = config.home.homeDirectory + "/.cache"; };
  options.xdg.configHome = lib.mkOption { default = config.home.homeDirectory + "/.config"; };
  options.xdg.dataHome = lib.mkOption { default = config.home.homeDirectory + "/.local/share"; };
  options.xdg.stateHome = lib.mkOption { default = config.home.homeDirectory + "/.local/state"; };
  config = lib.mkMerge [
    { home.homeDirectory = "/home/mitsio"; }
    (lib.mkIf cfg.enable { home.sessionVariables = variables; systemd.user.sessionVariables = variables; })
  ];
}
"""
HOME = "/home/mitsio"
XDG_DEFAULTS = {"cacheHome": HOME + "/.cache", "configHome": HOME + "/.config", "dataHome": HOME + "/.local/share",
                "stateHome": HOME + "/.local/state"}
XDG_EXPORTED = {"XDG_CACHE_HOME": HOME + "/.cache", "XDG_CONFIG_HOME": HOME + "/.config",
                "XDG_DATA_HOME": HOME + "/.local/share", "XDG_STATE_HOME": HOME + "/.local/state"}


def plan(settings=None, users=None):
    return build("startup", "shoshin", settings or {}, {}, USERS if users is None else users)


def owned(value):
    return NixOverride(DEFAULT_PRIORITY, value)


def redirect(directory, subdir):
    return NixIf(NixRaw("cfg.cacheRedirects.enable"), owned(NixRaw(
        'if cfg.xdgCache.enable then config.xdg.cacheHome + "/%s" else "$HOME/%s/%s"' % (subdir, directory, subdir))))


def xdg_values(directory=".cache"):
    return {"enable": NixIf(NixRaw("cfg.xdgCache.enable"), owned(True)),
            "cacheHome": NixIf(NixRaw("cfg.xdgCache.enable"), owned(NixRaw(
                'config.home.homeDirectory + "/%s"' % directory)))}


def programs(redirected=()):
    return {name: {"variable": VARIABLES[name], "subdir": SUBDIRS[VARIABLES[name]],
                   "legacy": list(S.CACHE_PROGRAMS[name].legacy), "redirected": name in redirected}
            for name in VARIABLES}


# ------------------------------------------------------------------------------------------------ the builder

def test_the_default_module_sets_nothing_unless_a_feature_is_on():
    p = plan()
    assert p.config is None and p.enable is True and p.home_enable is True
    assert p.features == {
        "xdgCache": (False, "Whether to set XDG_CACHE_HOME for the session through home-manager's xdg module "
                            "(xdg.enable, xdg.cacheHome = $HOME/.cache)."),
        "cacheRedirects": (False, "Whether to point the caches of npm, cuda, go, bundler, nuget into the XDG cache "
                                  "home.")}
    variables = {VARIABLES[n]: redirect(".cache", SUBDIRS[VARIABLES[n]]) for n in VARIABLES}
    assert p.home_config == {"xdg": xdg_values(), "home": {"sessionVariables": variables},
                             "systemd": {"user": {"sessionVariables": variables}}}
    assert p.derived == {"xdg_cache_enable": False, "cache_redirects_enable": False, "cache_dir": ".cache", "cache_redirects": [],
                         "session_paths": {}, "cache_programs": programs(), "ld_preload_allow": []}
    assert p.note == ("XDG_CACHE_HOME not set (xdgCache off); no cache redirected (cacheRedirects off); LD_PRELOAD "
                      "checks read-only.")
    assert list(S.CACHE_PROGRAMS) == list(VARIABLES)
    assert {n: p.variable for n, p in S.CACHE_PROGRAMS.items()} == VARIABLES


def test_xdg_cache_on():
    p = plan({"xdg_cache_enable": True})
    assert p.features["xdgCache"][0] is True and p.features["cacheRedirects"][0] is False
    assert p.derived["session_paths"] == {"XDG_CACHE_HOME": ".cache"}
    assert p.note.startswith("XDG_CACHE_HOME=$HOME/.cache (xdg.enable); no cache redirected")


def test_redirects_on_for_some_programs_in_the_table_order():
    p = plan({"cache_redirects_enable": True, "cache_redirects": ["go", "npm"], "cache_dir": "var/cache"})
    assert p.features["cacheRedirects"] == (True, "Whether to point the caches of npm, go into the XDG cache home.")
    variables = {"NPM_CONFIG_CACHE": redirect("var/cache", "npm"), "GOMODCACHE": redirect("var/cache", "go-mod")}
    assert p.home_config == {"xdg": xdg_values("var/cache"), "home": {"sessionVariables": variables},
                             "systemd": {"user": {"sessionVariables": variables}}}
    assert p.derived["cache_redirects"] == ["npm", "go"]
    assert p.derived["session_paths"] == {"NPM_CONFIG_CACHE": "var/cache/npm", "GOMODCACHE": "var/cache/go-mod"}
    assert p.derived["cache_programs"] == programs(("npm", "go"))
    assert p.note == ("XDG_CACHE_HOME not set (xdgCache off); caches of npm, go redirected into it; LD_PRELOAD checks "
                      "read-only.")


def test_an_empty_list_without_redirects_leaves_only_the_xdg_values():
    p = plan({"cache_redirects": []})
    assert p.home_config == {"xdg": xdg_values()}
    assert p.features["cacheRedirects"] == (False, "Whether to point the caches of no program into the XDG cache "
                                                   "home.")


def test_both_features_and_the_allow_list():
    allow = ["libmimalloc.so*", "/nix/store/*-steam-*/lib/*.so"]
    p = plan({"xdg_cache_enable": "yes", "cache_redirects_enable": "true", "ld_preload_allow": allow})
    assert p.derived["session_paths"] == dict({"XDG_CACHE_HOME": ".cache"},
                                              **{v: ".cache/" + SUBDIRS[v] for v in SUBDIRS})
    assert p.derived["ld_preload_allow"] == ["libmimalloc.so*", "/nix/store/*-steam-*/lib/*.so"]
    assert p.note.endswith("LD_PRELOAD checks read-only, allowed: libmimalloc.so*, /nix/store/*-steam-*/lib/*.so.")


def test_enable_false_keeps_the_modules_inert():
    p = plan({"enable": False, "xdg_cache_enable": True})
    assert p.enable is False and p.home_enable is False


@pytest.mark.parametrize("value", ["/home/x/.cache", "../cache", "a/../b", ".", "a/./b", "a//b", "a/", "a b",
                                   "a\nb", "", "~/.cache", "$HOME/.cache", ".cache\\x", 'c"d'])
def test_cache_dir_must_be_a_plain_relative_directory(value):
    with pytest.raises(PhaseError) as err:
        plan({"cache_dir": value})
    assert str(err.value) == (
        "host shoshin: startup_cache_dir must be a directory relative to the home such as .cache: words of letters, "
        "digits and ._+- joined by single slashes, no leading slash, no . or .. part, no spaces; got %r" % (value,))


@pytest.mark.parametrize("names,message", [
    (["npm", "pip"], "startup_cache_redirects names programs not in the table: 'pip' (known: npm, cuda, go, bundler, "
                     "nuget)"),
    ([3], "startup_cache_redirects names programs not in the table: 3 (known: npm, cuda, go, bundler, nuget)"),
    (["go", "npm", "go"], "startup_cache_redirects names go more than once"),
])
def test_cache_redirects_must_name_table_entries_once(names, message):
    with pytest.raises(PhaseError) as err:
        plan({"cache_redirects": names})
    assert str(err.value) == "host shoshin: " + message


def test_an_empty_redirect_list_with_redirects_on_is_refused():
    with pytest.raises(PhaseError) as err:
        plan({"cache_redirects_enable": True, "cache_redirects": []})
    assert str(err.value) == (
        "host shoshin: startup_cache_redirects is empty while startup_cache_redirects_enable is true: name programs of the "
        "table (npm, cuda, go, bundler, nuget), leave it null for all of them, or switch the redirects off")


@pytest.mark.parametrize("entry,message", [
    ("lib x.so", "must be a library path or basename pattern without spaces or :, got 'lib x.so'"),
    ("/a.so:/b.so", "must be a library path or basename pattern without spaces or :, got '/a.so:/b.so'"),
    ("", "must be a library path or basename pattern without spaces or :, got ''"),
    (7, "must be a library path or basename pattern without spaces or :, got 7"),
    ("lib/x.so", "must be an absolute path (/nix/store/*-mimalloc-*/lib/libmimalloc.so) or a basename pattern "
                 "without a slash (libmimalloc.so*), got 'lib/x.so'"),
])
def test_ld_preload_allow_entries(entry, message):
    with pytest.raises(PhaseError) as err:
        plan({"ld_preload_allow": ["libok.so", entry]})
    assert str(err.value) == "host shoshin: startup_ld_preload_allow[1] " + message


def test_nix_code_markers_are_refused():
    with pytest.raises(PhaseError, match="startup_cache_dir holds a Nix code marker"):
        plan({"cache_dir": {"_nix": "builtins.getEnv \"X\""}})


def test_the_phase_declaration():
    assert S.PHASE.order == 105 and S.PHASE.users is True and S.PHASE.reboot is False
    assert [s.name for s in S.PHASE.settings] == ["enable", "xdg_cache_enable", "cache_dir", "cache_redirects_enable",
                                                  "cache_redirects", "ld_preload_allow"]
    assert [(s.name, s.default) for s in S.PHASE.settings if s.kind == "bool"] == [
        ("enable", True), ("xdg_cache_enable", False), ("cache_redirects_enable", False)]


# ------------------------------------------------------------------------------------------------ real Nix

def render(p, tmp_path, nix):
    text = nix_module(p.phase, p.home_config, role="startup", description=p.description, enable=p.home_enable,
                      note=p.note, markers=False, priority=DEFAULT_PRIORITY, features=p.features)[0]
    path = tmp_path / "startup.nix"
    path.write_text(text)
    assert nix.parses(path), nix.run(["--parse", str(path)], expect_ok=False).stderr
    return path


def evaluate(nix, tmp_path, settings=None, host="{ }"):
    config = eval_modules(nix, render(plan(settings), tmp_path, nix), HM_XDG, host)
    return config.pop("nixperf")["startup"], config


def stub_only(xdg=None):
    """The stub's own values with every feature off: nothing but home-manager's defaults."""
    return {"home": {"homeDirectory": HOME}, "xdg": dict(XDG_DEFAULTS, enable=False, **(xdg or {}))}


def test_the_module_parses_and_states_its_features(nix, tmp_path):
    text = render(plan({"xdg_cache_enable": True}), tmp_path, nix).read_text()
    assert "  options.nixperf.startup.xdgCache.enable = lib.mkOption {\n    type = lib.types.bool;\n    default = true;" \
        in text
    assert "  options.nixperf.startup.cacheRedirects.enable = lib.mkOption {\n    type = lib.types.bool;\n" \
           "    default = false;" in text
    assert ('      NPM_CONFIG_CACHE = lib.mkIf (cfg.cacheRedirects.enable) (lib.mkOverride 75 (if cfg.xdgCache.enable '
            'then config.xdg.cacheHome + "/npm" else "$HOME/.cache/npm"));') in text
    assert '      cacheHome = lib.mkIf (cfg.xdgCache.enable) (lib.mkOverride 75 (config.home.homeDirectory + "/.cache"));' \
        in text


def test_every_feature_off_sets_nothing(nix, tmp_path):
    switches, config = evaluate(nix, tmp_path)
    assert switches == {"enable": True, "xdgCache": {"enable": False}, "cacheRedirects": {"enable": False}}
    assert config == stub_only()


def test_xdg_cache_alone(nix, tmp_path):
    switches, config = evaluate(nix, tmp_path, {"xdg_cache_enable": True, "cache_dir": "var/cache"})
    assert switches == {"enable": True, "xdgCache": {"enable": True}, "cacheRedirects": {"enable": False}}
    exported = dict(XDG_EXPORTED, XDG_CACHE_HOME=HOME + "/var/cache")
    assert config == {"home": {"homeDirectory": HOME, "sessionVariables": exported},
                      "systemd": {"user": {"sessionVariables": exported}},
                      "xdg": dict(XDG_DEFAULTS, enable=True, cacheHome=HOME + "/var/cache")}


def test_redirects_alone_go_below_home_and_the_cache_dir(nix, tmp_path):
    _switches, config = evaluate(nix, tmp_path, {"cache_redirects_enable": True, "cache_redirects": ["npm", "cuda"]})
    variables = {"NPM_CONFIG_CACHE": "$HOME/.cache/npm", "CUDA_CACHE_PATH": "$HOME/.cache/nvidia/ComputeCache"}
    assert config == dict(stub_only(), home={"homeDirectory": HOME, "sessionVariables": variables},
                          systemd={"user": {"sessionVariables": variables}})


def test_both_features_follow_xdg_cache_home(nix, tmp_path):
    _switches, config = evaluate(nix, tmp_path, {"xdg_cache_enable": True, "cache_redirects_enable": True, "cache_dir": "c"})
    variables = dict(XDG_EXPORTED, XDG_CACHE_HOME=HOME + "/c", **{v: HOME + "/c/" + SUBDIRS[v] for v in SUBDIRS})
    assert config == {"home": {"homeDirectory": HOME, "sessionVariables": variables},
                      "systemd": {"user": {"sessionVariables": variables}},
                      "xdg": dict(XDG_DEFAULTS, enable=True, cacheHome=HOME + "/c")}


def test_the_phase_switch_off_sets_nothing(nix, tmp_path):
    _switches, config = evaluate(nix, tmp_path, {"enable": False, "xdg_cache_enable": True, "cache_redirects_enable": True})
    assert config == stub_only()
    _switches, config = evaluate(nix, tmp_path, {"xdg_cache_enable": True, "cache_redirects_enable": True},
                                 "{ nixperf.startup.enable = false; }")
    assert config == stub_only()


def test_the_host_flips_a_feature_and_its_own_values_meet_ours_by_priority(nix, tmp_path):
    host = ('{ lib, ... }: { nixperf.startup.cacheRedirects.enable = true; home.sessionVariables.GOMODCACHE = "/x"; '
            'home.sessionVariables.NPM_CONFIG_CACHE = lib.mkForce "/srv/npm"; xdg.cacheHome = "/elsewhere"; }')
    _switches, config = evaluate(nix, tmp_path, {"cache_redirects": ["npm", "go"]}, host)
    # the host's plain GOMODCACHE gives way (ours is lib.mkOverride 75), its lib.mkForce wins; xdgCache stays off,
    # so the host's own xdg.cacheHome does not move the redirect
    assert config["home"]["sessionVariables"] == {"NPM_CONFIG_CACHE": "/srv/npm", "GOMODCACHE": "$HOME/.cache/go-mod"}
    assert config["systemd"]["user"]["sessionVariables"] == {"NPM_CONFIG_CACHE": "$HOME/.cache/npm",
                                                             "GOMODCACHE": "$HOME/.cache/go-mod"}
    assert config["xdg"] == dict(XDG_DEFAULTS, enable=False, cacheHome="/elsewhere")


# ------------------------------------------------------------------------------------------------ checks from the plan

def ids(checks: List[Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
    out = {c["id"]: c for c in checks}
    assert len(out) == len(checks)
    return out


def test_checks_without_features_are_the_read_only_ones():
    got = ids(C.checks(plan(), users=["mitsio"]))
    assert sorted(got) == ["startup:caches-outside:mitsio", "startup:ld-preload", "startup:ld-preload:mitsio"]
    caches = got["startup:caches-outside:mitsio"]
    assert (caches["probe"], caches["expected"]) == ("caches_outside", "none")
    assert caches["requires"] == ["nixos", "home:mitsio"]
    assert caches["args"] == {"user": "mitsio", "cache_dir": ".cache", "programs": programs()}
    assert got["startup:ld-preload"]["args"] == {"user": None, "allow": []}
    assert got["startup:ld-preload:mitsio"]["args"] == {"user": "mitsio", "allow": []}
    assert got["startup:ld-preload"]["requires"] == ["nixos"]


def test_checks_with_both_features_expect_paths_below_home():
    got = ids(C.checks(plan({"xdg_cache_enable": True, "cache_redirects_enable": True, "cache_redirects": ["npm"],
                             "ld_preload_allow": ["libfoo.so"]}), users=["mitsio", "guest"]))
    assert sorted(got) == ["startup:caches-outside:guest", "startup:caches-outside:mitsio",
                           "startup:env:NPM_CONFIG_CACHE:guest", "startup:env:NPM_CONFIG_CACHE:mitsio",
                           "startup:env:XDG_CACHE_HOME:guest", "startup:env:XDG_CACHE_HOME:mitsio",
                           "startup:ld-preload", "startup:ld-preload:guest", "startup:ld-preload:mitsio"]
    npm = got["startup:env:NPM_CONFIG_CACHE:mitsio"]
    assert (npm["probe"], npm["expected"], npm["compare"], npm["requires"]) == ("session_path", "$HOME/.cache/npm",
                                                                                "eq", ["nixos", "session"])
    assert npm["args"] == {"name": "NPM_CONFIG_CACHE", "user": "mitsio", "path": ".cache/npm"}
    assert got["startup:env:XDG_CACHE_HOME:guest"]["args"] == {"name": "XDG_CACHE_HOME", "user": "guest",
                                                               "path": ".cache"}
    assert got["startup:ld-preload:guest"]["args"]["allow"] == ["libfoo.so"]
    assert got["startup:caches-outside:mitsio"]["args"]["programs"]["npm"]["redirected"] is True


# ------------------------------------------------------------------------------------------------ the live host

@pytest.fixture
def fake(tmp_path):
    host = FakeHost(tmp_path / "root")
    home = host.root / "home/mitsio"
    home.mkdir(parents=True)
    os.chown(home, 1000, 1000)
    return host


def one(fake: FakeHost, chk: Dict[str, Any]) -> Dict[str, Any]:
    out = V.evaluate(fake.host(), [chk])
    assert len(out) == 1
    return out[0]


def check_of(settings: Dict[str, Any], cid: str) -> Dict[str, Any]:
    return ids(C.checks(plan(settings), users=["mitsio"]))[cid]


def session(fake: FakeHost, **env: str) -> None:
    fake.process(4242, "plasmashell", uid=1000, environ=dict({"HOME": HOME}, **env))


def test_session_paths_ok_drift_unset_and_no_session(fake):
    both = {"xdg_cache_enable": True, "cache_redirects_enable": True}
    xdg = check_of(both, "startup:env:XDG_CACHE_HOME:mitsio")
    npm = check_of(both, "startup:env:NPM_CONFIG_CACHE:mitsio")
    res = one(fake, xdg)
    assert (res["status"], res["reason"]) == ("na", "no Plasma session of mitsio running (no plasmashell / "
                                                    "kwin_wayland / kwin_x11 / ksmserver process)")
    session(fake, XDG_CACHE_HOME=HOME + "/.cache/", NPM_CONFIG_CACHE=HOME + "/.npm")
    res = one(fake, xdg)
    assert (res["status"], res["expected"], res["actual"]) == ("ok", HOME + "/.cache", HOME + "/.cache/")
    res = one(fake, npm)
    assert (res["status"], res["expected"], res["actual"]) == ("drift", HOME + "/.cache/npm", HOME + "/.npm")
    res = one(fake, check_of(both, "startup:env:GOMODCACHE:mitsio"))
    assert (res["status"], res["expected"], res["actual"]) == ("drift", HOME + "/.cache/go-mod", "(unset)")


def test_no_cache_outside_is_ok_and_says_what_it_read(fake):
    res = one(fake, check_of({}, "startup:caches-outside:mitsio"))
    assert (res["status"], res["expected"], res["actual"]) == ("ok", "no known cache outside %s/.cache" % HOME,
                                                               "none")
    assert res["reason"] == "no Plasma session of mitsio running: only the home was read"


def test_caches_outside_are_listed_with_what_to_set(fake):
    fake.put("home/mitsio/.npm/_cacache/index-v5/00/x", "{}")
    (fake.root / "home/mitsio/go/pkg/mod/cache").mkdir(parents=True)
    fake.put("home/mitsio/.nuget/packages", "a file, not a cache directory")
    res = one(fake, check_of({}, "startup:caches-outside:mitsio"))
    assert res["status"] == "drift"
    assert res["actual"] == ("~/go/pkg/mod (go): set GOMODCACHE=$HOME/.cache/go-mod (startup_cache_redirects_enable), "
                             "~/.npm/_cacache (npm): set NPM_CONFIG_CACHE=$HOME/.cache/npm (startup_cache_redirects_enable)")
    redirected = check_of({"cache_redirects_enable": True, "cache_redirects": ["npm"]}, "startup:caches-outside:mitsio")
    res = one(fake, redirected)
    assert res["actual"] == ("~/go/pkg/mod (go): set GOMODCACHE=$HOME/.cache/go-mod (startup_cache_redirects_enable), "
                             "~/.npm/_cacache (npm): left over from before NPM_CONFIG_CACHE=$HOME/.cache/npm, remove it")


def test_a_cache_linked_into_the_cache_home_is_fine(fake):
    (fake.root / "home/mitsio/.cache/nvidia/ComputeCache").mkdir(parents=True)
    (fake.root / "home/mitsio/.nv").mkdir()
    # an absolute link, as the host sees it: followed under the root, not on the machine running the checks
    os.symlink(HOME + "/.cache/nvidia/ComputeCache", fake.root / "home/mitsio/.nv/ComputeCache")
    os.symlink(HOME + "/.cache/bundle", fake.root / "home/mitsio/.bundle")  # dangling: nothing there
    res = one(fake, check_of({}, "startup:caches-outside:mitsio"))
    assert (res["status"], res["actual"]) == ("ok", "none")
    os.unlink(fake.root / "home/mitsio/.nv/ComputeCache")
    os.symlink("/var/tmp/cuda", fake.root / "home/mitsio/.nv/ComputeCache")
    (fake.root / "var/tmp/cuda").mkdir(parents=True)
    res = one(fake, check_of({}, "startup:caches-outside:mitsio"))
    assert res["actual"] == ("~/.nv/ComputeCache (cuda): set CUDA_CACHE_PATH=$HOME/.cache/nvidia/ComputeCache "
                             "(startup_cache_redirects_enable)")


def test_session_variables_pointing_outside_the_cache_home(fake):
    session(fake, XDG_CACHE_HOME="/var/cache/mitsio", NPM_CONFIG_CACHE="/var/cache/mitsio/npm",
            GOMODCACHE=HOME + "/go/pkg/mod", CUDA_CACHE_PATH="/var/cache/mitsio-cuda")
    res = one(fake, check_of({}, "startup:caches-outside:mitsio"))
    assert (res["status"], res["reason"]) == ("drift", "")
    assert res["actual"] == ("CUDA_CACHE_PATH=/var/cache/mitsio-cuda in the session (cuda) is outside "
                             "/var/cache/mitsio, GOMODCACHE=%s/go/pkg/mod in the session (go) is outside "
                             "/var/cache/mitsio" % HOME)


def test_caches_without_a_readable_home_are_not_applicable(fake, monkeypatch):
    chk = check_of({}, "startup:caches-outside:mitsio")
    real_access = os.access
    home = str(fake.root / "home/mitsio")
    monkeypatch.setattr(V.os, "access", lambda p, m: False if p == home else real_access(p, m))
    res = one(fake, chk)
    assert (res["status"], res["reason"]) == ("na", "cannot read the home directory %s" % home)
    monkeypatch.undo()
    os.rmdir(home)
    res = one(fake, chk)
    assert (res["status"], res["reason"]) == ("na", "no home directory %s" % home)


# --- LD_PRELOAD

# The lines makeWrapper writes (nixpkgs pkgs/build-support/setup-hooks/make-wrapper.sh): the value quoted with
# bash's ${value@Q}, and per flag: --set, --set-default, --prefix, --suffix (separator " ").
MAKE_WRAPPER = r'''
value="$1"; separator=" "; original="$2"; flag="$3"
echo "#! /nix/store/0000000000000000000000000000000a-bash-5.2p37/bin/bash -e"
echo "declare -a extraFlagsArray=()"
case "$flag" in
  --set) echo "export LD_PRELOAD=${value@Q}" ;;
  --set-default) echo "export LD_PRELOAD=\${LD_PRELOAD-${value@Q}}" ;;
  --prefix) echo "export LD_PRELOAD=${value@Q}\${LD_PRELOAD:+${separator@Q}\$LD_PRELOAD}" ;;
  --suffix) echo "export LD_PRELOAD+=\${LD_PRELOAD:+${separator@Q}}${value@Q}" ;;
  --unset) echo "unset LD_PRELOAD" ;;
esac
echo "set +u"
echo exec -a '"$0"' "${original@Q}" '"${extraFlagsArray[@]}"' '"$@"'
'''


def make_wrapper(value: str, original: str, flag: str) -> str:
    proc = subprocess.run(["bash", "-c", MAKE_WRAPPER, "make-wrapper", value, original, flag], capture_output=True,
                          text=True, check=True)
    return proc.stdout


def store(fake: FakeHost, rel: str, text: str = "", mode: int = 0o555) -> Path:
    path = fake.put("nix/store/" + rel, text)
    path.chmod(mode)
    return path


def system_profile(fake: FakeHost) -> Path:
    """/run/current-system -> /nix/store/...-nixos-system, its sw -> /nix/store/...-system-path: absolute links,
    as on NixOS."""
    (fake.root / "nix/store/aaa-nixos-system").mkdir(parents=True)
    (fake.root / "nix/store/bbb-system-path/bin").mkdir(parents=True)
    (fake.root / "run").mkdir()
    os.symlink("/nix/store/aaa-nixos-system", fake.root / "run/current-system")
    os.symlink("/nix/store/bbb-system-path", fake.root / "nix/store/aaa-nixos-system/sw")
    return fake.root / "nix/store/bbb-system-path/bin"


LIBFOO = "/nix/store/ccc-libfoo-1.0/lib/libfoo.so"


@pytest.mark.parametrize("flag", ["--set", "--set-default", "--prefix", "--suffix"])
def test_a_make_wrapper_script_in_the_system_profile(fake, flag):
    store(fake, "ccc-libfoo-1.0/lib/libfoo.so", "\x7fELF")
    text = make_wrapper(LIBFOO, "/nix/store/ddd-foo-1.0/bin/.foo-wrapped", flag)
    line = text.splitlines()[2]
    assert "LD_PRELOAD" in line and "'%s'" % LIBFOO in line  # bash quoted the value as makeWrapper does
    store(fake, "ddd-foo-1.0/bin/foo", text)
    store(fake, "ddd-foo-1.0/bin/.foo-wrapped", "\x7fELF\x02\x01\x01 LD_PRELOAD=/not/a/script.so")
    bin_dir = system_profile(fake)
    os.symlink("/nix/store/ddd-foo-1.0/bin/foo", bin_dir / "foo")
    os.symlink("/nix/store/ddd-foo-1.0/bin/.foo-wrapped", bin_dir / ".foo-wrapped")
    res = one(fake, check_of({}, "startup:ld-preload"))
    assert res["status"] == "drift"
    assert res["actual"] == "/run/current-system/sw/bin/foo (/nix/store/ddd-foo-1.0/bin/foo): %s" % line
    assert res["expected"] == "no LD_PRELOAD entry outside startup_ld_preload_allow, no missing preloaded file"
    assert res["reason"] == "read /run/current-system/sw/bin; 2 bin entries, 1 scripts"
    allowed = one(fake, check_of({"ld_preload_allow": ["libfoo.so"]}, "startup:ld-preload"))
    assert (allowed["status"], allowed["actual"]) == ("ok", "none")
    by_path = one(fake, check_of({"ld_preload_allow": ["/nix/store/*-libfoo-*/lib/libfoo.so"]}, "startup:ld-preload"))
    assert by_path["status"] == "ok"


def test_unset_and_empty_assignments_are_not_preloading(fake):
    bin_dir = system_profile(fake)
    store(fake, "eee-bar/bin/bar", make_wrapper(LIBFOO, "/nix/store/eee-bar/bin/.bar-wrapped", "--unset"))
    store(fake, "fff-baz/bin/baz", "#!/bin/sh\n# LD_PRELOAD=/commented/out.so\nLD_PRELOAD= exec /bin/baz \"$@\"\n")
    os.symlink("/nix/store/eee-bar/bin/bar", bin_dir / "bar")
    os.symlink("/nix/store/fff-baz/bin/baz", bin_dir / "baz")
    res = one(fake, check_of({}, "startup:ld-preload"))
    assert (res["status"], res["actual"]) == ("ok", "none")
    assert res["reason"] == "read /run/current-system/sw/bin; 2 bin entries, 2 scripts"


def test_a_value_bash_quotes_with_ansi_c_and_a_missing_file(fake):
    """A path with a quote and a tab: bash's @Q writes $'...'; the file does not exist, allowed or not."""
    odd = "/opt/it's\there.so"
    text = make_wrapper(odd + " " + LIBFOO, "/nix/store/ggg-odd/bin/.odd-wrapped", "--set")
    assert "$'" in text.splitlines()[2]
    store(fake, "ggg-odd/bin/odd", text)
    store(fake, "ccc-libfoo-1.0/lib/libfoo.so", "\x7fELF")
    bin_dir = system_profile(fake)
    os.symlink("/nix/store/ggg-odd/bin/odd", bin_dir / "odd")
    # a tab does not separate LD_PRELOAD entries (glibc's handle_preload_list splits at spaces and colons)
    res = one(fake, check_of({"ld_preload_allow": ["libfoo.so", "it's*"]}, "startup:ld-preload"))
    where = "/run/current-system/sw/bin/odd (/nix/store/ggg-odd/bin/odd)"
    assert res["actual"] == "%s: %s does not exist" % (where, odd)


def test_big_files_fifos_and_non_scripts_are_not_read(fake):
    bin_dir = system_profile(fake)
    big = "#!/bin/sh\n" + "#" * V.MAX_SCRIPT_BYTES + "\nexport LD_PRELOAD=/big.so\n"
    store(fake, "hhh-big/bin/big", big)
    os.symlink("/nix/store/hhh-big/bin/big", bin_dir / "big")
    os.mkfifo(bin_dir / "fifo")
    os.symlink("/nix/store/nowhere/bin/x", bin_dir / "dangling")
    os.symlink("loop", bin_dir / "loop")
    res = one(fake, check_of({}, "startup:ld-preload"))
    assert (res["status"], res["actual"]) == ("ok", "none")
    assert res["reason"] == "read /run/current-system/sw/bin; 4 bin entries, 0 scripts"


def test_the_preload_lists_and_system_environment_files(fake):
    store(fake, "iii-mimalloc/lib/libmimalloc.so", "\x7fELF")
    fake.put("etc/ld-nix.so.preload", "# allocator\n/nix/store/iii-mimalloc/lib/libmimalloc.so\n")
    fake.put("etc/ld.so.preload", "/usr/lib/libgone.so:libbare.so # a comment /x.so\n")
    store(fake, "jjj-set-environment", "export __NIXOS_SET_ENVIRONMENT_DONE=1\n"
                                       "export LD_PRELOAD=\"/nix/store/iii-mimalloc/lib/libmimalloc.so\"\n")
    os.symlink("/nix/store/jjj-set-environment", fake.root / "etc/set-environment")
    fake.put("etc/pam/environment", 'PATH DEFAULT="/run/wrappers/bin"\nLD_PRELOAD DEFAULT="@{HOME}/lib/x.so"\n')
    res = one(fake, check_of({}, "startup:ld-preload"))
    assert res["status"] == "drift"
    assert res["actual"] == ", ".join([
        "/etc/ld-nix.so.preload: /nix/store/iii-mimalloc/lib/libmimalloc.so",
        "/etc/ld.so.preload: /usr/lib/libgone.so", "/etc/ld.so.preload: /usr/lib/libgone.so does not exist",
        "/etc/ld.so.preload: libbare.so",
        '/etc/set-environment: export LD_PRELOAD="/nix/store/iii-mimalloc/lib/libmimalloc.so"',
        '/etc/pam/environment: LD_PRELOAD DEFAULT="@{HOME}/lib/x.so"'])
    assert res["reason"] == ("read /etc/ld-nix.so.preload, /etc/ld.so.preload, /etc/set-environment, "
                             "/etc/pam/environment")
    allowed = one(fake, check_of({"ld_preload_allow": ["libmimalloc.so", "libbare.so", "libgone.so", "x.so"]},
                                 "startup:ld-preload"))
    assert allowed["actual"] == "/etc/ld.so.preload: /usr/lib/libgone.so does not exist"


def test_a_clean_system_is_ok(fake):
    system_profile(fake)
    res = one(fake, check_of({}, "startup:ld-preload"))
    assert (res["status"], res["actual"], res["reason"]) == ("ok", "none", "read /run/current-system/sw/bin")
    bare = FakeHost(fake.root.parent / "bare")
    res = one(bare, check_of({}, "startup:ld-preload"))
    assert (res["status"], res["reason"]) == ("ok", "read nothing")


def test_a_users_session_environment_files_and_profiles(fake):
    store(fake, "ccc-libfoo-1.0/lib/libfoo.so", "\x7fELF")
    session(fake, LD_PRELOAD="/run/gone.so " + LIBFOO)
    fake.put("home/mitsio/.config/environment.d/10-home-manager.conf", "EDITOR=vim\nLD_PRELOAD=$HOME/lib/l.so\n")
    fake.put("home/mitsio/.config/environment.d/README", "LD_PRELOAD=/not/a/conf.so\n")
    store(fake, "kkk-hm-session-vars.sh/etc/profile.d/hm-session-vars.sh",
          "export __HM_SESS_VARS_SOURCED=1\nexport LD_PRELOAD=\"%s\"\n" % LIBFOO)
    wrapper = make_wrapper(LIBFOO, "/nix/store/lll-app/bin/.app-wrapped", "--prefix")
    store(fake, "lll-app/bin/app", wrapper)
    # the user's profile: /etc/profiles/per-user/mitsio -> /nix/store/...-user-environment, and ~/.nix-profile -> the
    # same store path: the wrapper behind both is reported once, under the first name
    for rel in ("mmm-user-environment/bin", "mmm-user-environment/etc/profile.d"):
        (fake.root / "nix/store" / rel).mkdir(parents=True)
    os.symlink("/nix/store/lll-app/bin/app", fake.root / "nix/store/mmm-user-environment/bin/app")
    os.symlink("/nix/store/kkk-hm-session-vars.sh/etc/profile.d/hm-session-vars.sh",
               fake.root / "nix/store/mmm-user-environment/etc/profile.d/hm-session-vars.sh")
    (fake.root / "etc/profiles/per-user").mkdir(parents=True)
    os.symlink("/nix/store/mmm-user-environment", fake.root / "etc/profiles/per-user/mitsio")
    os.symlink("/nix/store/mmm-user-environment", fake.root / "home/mitsio/.nix-profile")
    res = one(fake, check_of({}, "startup:ld-preload:mitsio"))
    assert res["status"] == "drift"
    profile_sh = "/etc/profiles/per-user/mitsio/" + V.HM_SESSION_VARS
    assert res["actual"] == ", ".join([
        "LD_PRELOAD of the session (pid 4242): /run/gone.so %s" % LIBFOO,
        "LD_PRELOAD of the session (pid 4242): /run/gone.so does not exist",
        "%s/.config/environment.d/10-home-manager.conf: LD_PRELOAD=$HOME/lib/l.so" % HOME,
        '%s: export LD_PRELOAD="%s"' % (profile_sh, LIBFOO),
        '%s/.nix-profile/%s: export LD_PRELOAD="%s"' % (HOME, V.HM_SESSION_VARS, LIBFOO),
        "/etc/profiles/per-user/mitsio/bin/app (/nix/store/lll-app/bin/app): %s" % wrapper.splitlines()[2]])
    assert res["reason"] == (
        "read the session environment (pid 4242), %s/.config/environment.d/10-home-manager.conf, %s, "
        "%s/.nix-profile/%s, /etc/profiles/per-user/mitsio/bin, %s/.nix-profile/bin; 2 bin entries, 1 scripts"
        % (HOME, profile_sh, HOME, V.HM_SESSION_VARS, HOME))
    allowed = one(fake, check_of({"ld_preload_allow": ["libfoo.so", "/run/*.so", "l.so"]},
                                 "startup:ld-preload:mitsio"))
    assert allowed["actual"] == "LD_PRELOAD of the session (pid 4242): /run/gone.so does not exist"


def test_a_user_without_session_or_home(fake):
    os.rmdir(fake.root / "home/mitsio")
    res = one(fake, check_of({}, "startup:ld-preload:mitsio"))
    assert (res["status"], res["actual"]) == ("ok", "none")
    assert res["reason"] == ("no Plasma session of mitsio running; no home directory %s; read nothing"
                             % (fake.root / "home/mitsio"))


def test_every_bin_directory_is_read_within_its_bounds(fake, monkeypatch):
    bin_dir = system_profile(fake)
    for i in range(5):
        store(fake, "nnn-many/bin/t%d" % i, "#!/bin/sh\nexport LD_PRELOAD=/t%d.so\n" % i)
        fake.put("t%d.so" % i, "\x7fELF")
        os.symlink("/nix/store/nnn-many/bin/t%d" % i, bin_dir / ("t%d" % i))
    monkeypatch.setattr(V, "MAX_BIN_ENTRIES", 3)
    res = one(fake, check_of({}, "startup:ld-preload"))
    assert res["actual"] == ", ".join("/run/current-system/sw/bin/t%d (/nix/store/nnn-many/bin/t%d): export "
                                      "LD_PRELOAD=/t%d.so" % (i, i, i) for i in range(3))
    assert res["reason"] == ("read /run/current-system/sw/bin; 3 bin entries, 3 scripts; /run/current-system/sw/bin: "
                             "only the first 3 of 5 entries read")
    monkeypatch.setattr(V, "MAX_BIN_ENTRIES", 10)
    monkeypatch.setattr(V, "MAX_SCAN_BYTES", 80)  # each script is 35 bytes
    res = one(fake, check_of({}, "startup:ld-preload"))
    assert res["actual"] == ", ".join("/run/current-system/sw/bin/t%d (/nix/store/nnn-many/bin/t%d): export "
                                      "LD_PRELOAD=/t%d.so" % (i, i, i) for i in range(2))
    assert res["reason"] == ("read /run/current-system/sw/bin; 5 bin entries, 2 scripts; read budget of 80 bytes used "
                             "up at /nix/store/nnn-many/bin/t2")
