"""The plasma-manager backend (module_utils/plasma_manager.py): names, settings, the home-manager module, and the
generated module evaluated by the real ``nix-instantiate``.

Evaluation runs against a pure-Nix stand-in for the module system (``STUB_EVAL`` below: option tree, definitions
with ``mkIf`` / ``mkMerge`` / ``mkOverride`` pushed to the options, ``filterOverrides``, undeclared options refused
with the module system's message, ``coercedTo``-and-submodule settings with plasma-manager's defaults, and
home-manager's assertion check).  When ``NIXPKGS`` names a nixpkgs checkout or a folder with its ``lib/``, the same
tests also run against nixpkgs' real ``lib.evalModules`` with option declarations written after plasma-manager's
``lib/types.nix`` and ``modules/files.nix`` (``REAL_EVAL``).

Upstream behaviour carried by the stubs (nix-community/plasma-manager, ``script/write_config.py`` at ee4da516):
``UPSTREAM_GROUP_RE`` is how it splits a group attribute name, ``upstream_checks`` the refusals of
``KConfManager._json_value_checks``, ``kconfig_view`` what ``KConfManager.run`` does with each setting.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.nixperf.tuning.plugins.module_utils import plasma_manager as PM
from ansible_collections.nixperf.tuning.plugins.module_utils.desktop import OwnedKey
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import (
    NixDefault, NixError, NixOverride, NixRaw, nix_module, to_nix)

PRIORITY = 75


def kde(name: str) -> str:
    return ".config/" + name


# the keys of the tests: nested groups, removal, lock, expansion, hostile names, a data file, a file elsewhere
KEYS = [
    OwnedKey(kde("kwinrc"), ("Compositing",), "Backend", "QPainter", immutable=True, live="kwin"),
    OwnedKey(kde("kwinrc"), ("Compositing",), "GLCore", None),
    OwnedKey(kde("kwinrc"), ("Plugins",), "blurEnabled", "false"),
    OwnedKey(kde("kwinrc"), ("org.kde.kdecoration2",), "ButtonsOnRight", "IAX"),
    OwnedKey(kde("kdeglobals"), ("KDE",), "AnimationDurationFactor", "0", live="live"),
    OwnedKey(kde("baloofilerc"), ("Basic Settings",), "Indexing-Enabled", "false"),
    OwnedKey(kde("baloofilerc"), ("General",), "exclude folders[$e]", "$HOME/.cache/,$HOME/build/", expand=True),
    OwnedKey(kde("plasma-org.kde.plasma.desktop-appletsrc"), ("Containments", "1", "Wallpaper", "org.kde.image"),
             "Image", "file:///x.png"),
    OwnedKey(kde("klipperrc"), ("Action_0/Command_0",), "Commandline", "mpv %s", immutable=True, expand=True),
    OwnedKey(kde("kde.org/ghostwriter.conf"), ("a b", 'say "hi"', "${pkgs.evil}", "[x]=y", "back\\slash"),
             " lead $x ${y} ", "tab\there\nnew'' line "),
    OwnedKey(kde("kwinrc"), (), "top level", "v"),
    OwnedKey(".local/share/kxmlgui5/dolphin/dolphinui.rc", ("State",), "ToolBarsMovable", "Disabled"),
    OwnedKey(".kde4/share/config/oldrc", ("G",), "K", "1"),
    OwnedKey(kde("rustdesk/RustDesk2.toml"), ("options",), "direct-server", "Y", format="toml"),
]


# ---------------------------------------------------------------- upstream behaviour (stubs)

# write_config.py, KConfManager.__init__: the group attribute name split into segments
UPSTREAM_GROUP_RE = re.compile(r"(/|(?:[^/\\]|\\.)+)")


def upstream_split(name: str) -> Tuple[str, ...]:
    return tuple(g.replace("\\/", "/") for g in UPSTREAM_GROUP_RE.findall(name)[::2])


def upstream_checks(entry: Dict[str, Any], immutable_by_default: bool) -> Optional[str]:
    """KConfManager._json_value_checks: the message the activation fails with, or None."""
    non_default = entry["immutable"] != immutable_by_default
    if entry["value"] is None and not entry["persistent"] and (non_default or entry["shellExpand"]):
        return "No value or persistency set"
    if entry["persistent"] and (entry["value"] is not None or non_default or entry["shellExpand"]):
        return "Persistency enabled"
    return None


def kconfig_view(files: Dict[str, Any], immutable_by_default: bool = False) -> Dict[str, Dict[Tuple[str, ...], Dict]]:
    """What write_config.py does with evaluated settings: file -> group path -> key -> ("set", value, $i, $e) or
    ("remove",); an entry it refuses fails the test."""
    out: Dict[str, Dict[Tuple[str, ...], Dict]] = {}
    for file, groups in files.items():
        for group, keys in groups.items():
            for key, entry in keys.items():
                assert set(entry) == {"value", "immutable", "shellExpand", "persistent", "escapeValue"}, entry
                refused = upstream_checks(entry, immutable_by_default)
                assert refused is None, (file, group, key, entry, refused)
                assert entry["escapeValue"] is True  # KConfig reads the escaped value back as it was given
                action = ("remove",) if entry["value"] is None else (
                    "set", entry["value"], entry["immutable"], entry["shellExpand"])
                out.setdefault(file, {}).setdefault(upstream_split(group), {})[key] = action
    return out


def expected_view(keys, option: str) -> Dict[str, Dict[Tuple[str, ...], Dict]]:
    out: Dict[str, Dict[Tuple[str, ...], Dict]] = {}
    for k in keys:
        if k.format != "kconfig" or PM.where(k.file)[0] != option:
            continue
        action = ("remove",) if k.value is None else ("set", k.value, k.immutable, k.expand)
        out.setdefault(PM.where(k.file)[1], {}).setdefault(k.group, {})[k.key] = action
    return out


# ---------------------------------------------------------------- evaluators

STUB_EVAL = r'''
# A stand-in for lib.evalModules with home-manager's assertion check, enough for one generated module and a user
# module: option tree, definitions, mkIf / mkMerge / mkOverride pushed down to the options, filterOverrides, the
# "does not exist" refusal, plasma-manager's attrsOf (attrsOf (attrsOf (coercedTo basic submodule))) settings.
{ generated, user, withPlasma }:
let
  inherit (builtins) isAttrs attrNames attrValues concatMap filter foldl' all head tail concatStringsSep;
  lib = rec {
    mkOption = attrs: attrs // { _type = "option"; };
    types = { bool = "bool"; };
    mkIf = condition: content: { _type = "if"; inherit condition content; };
    mkMerge = contents: { _type = "merge"; inherit contents; };
    mkOverride = priority: content: { _type = "override"; inherit priority content; };
    mkDefault = mkOverride 1000;
    mkForce = mkOverride 50;
    optionalAttrs = cond: set: if cond then set else { };
    hasAttrByPath = path: set:
      path == [ ] || (isAttrs set && set ? ${head path} && hasAttrByPath (tail path) set.${head path});
  };
  option = kind: default: { _type = "option"; inherit kind default; };
  isOption = v: isAttrs v && (v._type or "") == "option";
  base = {
    assertions = option "list" [ ];
    warnings = option "list" [ ];
    home.homeDirectory = option "scalar" "/home/mitsio";
    xdg.configHome = option "scalar" "/home/mitsio/.config";
    xdg.dataHome = option "scalar" "/home/mitsio/.local/share";
    programs.bash.enable = option "scalar" false;
  };
  plasma.programs.plasma = {
    enable = option "scalar" false;
    immutableByDefault = option "scalar" false;
    overrideConfig = option "scalar" false;
    file = option "files" { };
    configFile = option "files" { };
    dataFile = option "files" { };
  };
  union = a: b: a // builtins.mapAttrs
    (n: v: if a ? ${n} && !(isOption v) && !(isOption a.${n}) then union a.${n} v else v) b;
  args = { inherit lib config options; pkgs = { }; };
  generatedModule = import generated args;
  options = foldl' union base ([ (generatedModule.options or { }) ] ++ (if withPlasma then [ plasma ] else [ ]));
  show = path: concatStringsSep "." path;
  kind = v: if isAttrs v then v._type or "" else "";
  # definitions down to the option they define, with their conditions and priority (not evaluated here)
  collect = path: tree: conds: prio: v:
    if kind v == "if" then collect path tree (conds ++ [ v.condition ]) prio v.content
    else if kind v == "merge" then concatMap (collect path tree conds prio) v.contents
    else if kind v == "override" then collect path tree conds v.priority v.content
    else if isOption tree then [ { inherit path conds prio; value = v; } ]
    else if isAttrs v then concatMap (n:
      if tree ? ${n} then collect (path ++ [ n ]) tree.${n} conds prio v.${n}
      else throw "The option `${show (path ++ [ n ])}' does not exist. Definition values: ...") (attrNames v)
    else throw "The option `${show path}' is not of type attribute set";
  defs = collect [ ] options [ ] 100 generatedModule.config ++ collect [ ] options [ ] 100 (import user args);
  active = filter (d: all (c: c) d.conds);
  best = ds: let p = foldl' (m: d: if d.prio < m then d.prio else m) 1500 ds; in filter (d: d.prio == p) ds;
  same = path: ds:
    if all (d: d.value == (head ds).value) ds then (head ds).value
    else throw "The option `${show path}' has conflicting definition values";
  # plasma-manager's settings: file -> group -> key -> coercedTo basicSettingsType advancedSettingsType
  files = path: ds:
    let
      down = n: at: conds: prio: v:
        if kind v == "if" then down n at (conds ++ [ v.condition ]) prio v.content
        else if kind v == "merge" then concatMap (down n at conds prio) v.contents
        else if kind v == "override" then down n at conds v.priority v.content
        else if n == 0 then [ { inherit at conds prio; value = v; } ]
        else concatMap (name: down (n - 1) (at ++ [ name ]) conds prio v.${name}) (attrNames v);
      elems = active (concatMap (d: down 3 [ ] d.conds d.prio d.value) ds);
      byAt = foldl' (acc: e: let k = builtins.toJSON e.at; in acc // { ${k} = (acc.${k} or [ ]) ++ [ e ]; }) { } elems;
      defaults = {
        value = null; immutable = config.programs.plasma.immutableByDefault; shellExpand = false;
        persistent = false; escapeValue = true;
      };
      coerce = v: if isAttrs v then v else { value = v; };
      element = es: defaults // foldl' (acc: v: acc // builtins.mapAttrs (f: x:
        if acc ? ${f} && acc.${f} != x then throw "The option `${show (path ++ (head es).at ++ [ f ])}' has conflicting definition values" else x) v)
        { } (map (e: coerce e.value) (best es));
      put = acc: es: let at = (head es).at; f = head at; g = head (tail at); k = head (tail (tail at)); in
        acc // { ${f} = (acc.${f} or { }) // { ${g} = ((acc.${f} or { }).${g} or { }) // { ${k} = element es; }; }; };
    in foldl' put { } (attrValues byAt);
  resolve = path: opt:
    let ds = best (active (filter (d: d.path == path) defs)); in
    if opt.kind or "scalar" == "list" then concatMap (d: d.value) ds
    else if opt.kind or "scalar" == "files" then files path ds
    else if ds == [ ] then opt.default
    else same path ds;
  build = path: tree: if isOption tree then resolve path tree else builtins.mapAttrs (n: build (path ++ [ n ])) tree;
  config = build [ ] options;
  failed = map (a: a.message) (filter (a: !a.assertion) config.assertions);
in
if failed != [ ] then throw "\nFailed assertions:\n${concatStringsSep "\n" (map (m: "- ${m}") failed)}"
else if withPlasma then { inherit (config.programs.plasma) enable configFile dataFile file; }
else null
'''

REAL_EVAL = r'''
# nixpkgs' lib.evalModules with home-manager's assertion check; plasma-manager's options declared after its
# lib/types.nix and modules/files.nix (the settings type and the three file options).
{ nixpkgs, generated, user, withPlasma }:
let
  lib = import (nixpkgs + "/lib");
  inherit (lib) mkOption types;
  base = {
    options = {
      assertions = mkOption { type = types.listOf types.unspecified; default = [ ]; };
      warnings = mkOption { type = types.listOf types.str; default = [ ]; };
      home.homeDirectory = mkOption { type = types.path; default = "/home/mitsio"; };
      xdg.configHome = mkOption { type = types.path; default = "/home/mitsio/.config"; };
      xdg.dataHome = mkOption { type = types.path; default = "/home/mitsio/.local/share"; };
      programs.bash.enable = mkOption { type = types.bool; default = false; };
    };
    config._module.args.pkgs = { };
  };
  plasma = { config, ... }:
    let
      basic = types.nullOr (types.oneOf [ types.bool types.float types.int types.str ]);
      advanced = types.submodule {
        options = {
          value = mkOption { type = basic; default = null; };
          immutable = mkOption { type = types.bool; default = config.programs.plasma.immutableByDefault; };
          shellExpand = mkOption { type = types.bool; default = false; };
          persistent = mkOption { type = types.bool; default = false; };
          escapeValue = mkOption { type = types.bool; default = true; };
        };
      };
      fileType = types.attrsOf (types.attrsOf (types.attrsOf (types.coercedTo basic (value: { inherit value; }) advanced)));
    in
    {
      options.programs.plasma = {
        enable = lib.mkEnableOption "configuration management for KDE Plasma";
        immutableByDefault = lib.mkEnableOption "immutable keys by default";
        overrideConfig = mkOption { type = types.bool; default = false; };
        file = mkOption { type = fileType; default = { }; };
        configFile = mkOption { type = fileType; default = { }; };
        dataFile = mkOption { type = fileType; default = { }; };
      };
    };
  r = lib.evalModules { modules = [ base generated user ] ++ lib.optional withPlasma plasma; };
  failed = map (x: x.message) (lib.filter (x: !x.assertion) r.config.assertions);
in
if failed != [ ] then throw "\nFailed assertions:\n${lib.concatStringsSep "\n" (map (x: "- ${x}") failed)}"
else if withPlasma then { inherit (r.config.programs.plasma) enable configFile dataFile file; }
else null
'''

EVALUATORS = ["stub"] + (["nixpkgs"] if os.environ.get("NIXPKGS") else [])


@pytest.fixture(params=EVALUATORS)
def evaluate(request, nix, tmp_path):
    """evaluate(module_text, user_config_nix, with_plasma, expect_ok) -> JSON result, or the error text."""
    tier = request.param
    if tier == "nixpkgs":
        root = Path(os.environ["NIXPKGS"]).resolve()
        if not (root / "lib" / "default.nix").is_file():
            pytest.fail("NIXPKGS=%s holds no lib/default.nix" % root)
    runner = tmp_path / "eval.nix"
    runner.write_text(STUB_EVAL if tier == "stub" else REAL_EVAL, encoding="utf-8")
    counter = [0]

    def run(module_text: str, user: str = "{ }", with_plasma: bool = True, expect_ok: bool = True):
        counter[0] += 1
        generated = tmp_path / ("generated%d.nix" % counter[0])
        generated.write_text(module_text, encoding="utf-8")
        user_file = tmp_path / ("user%d.nix" % counter[0])
        user_file.write_text("{ lib, ... }: %s\n" % user, encoding="utf-8")
        assert nix.parses(generated, user_file, runner), nix.run(["--parse", str(generated)], expect_ok=False).stderr
        extra = "nixpkgs = %s; " % to_nix(str(root)) if tier == "nixpkgs" else ""
        expr = "import %s { %sgenerated = %s; user = %s; withPlasma = %s; }" % (
            runner, extra, generated, user_file, "true" if with_plasma else "false")
        proc = nix.run(["--eval", "--strict", "--json", "-E", expr], expect_ok=False)
        if expect_ok:
            assert proc.returncode == 0, proc.stderr
            return json.loads(proc.stdout)
        assert proc.returncode != 0, "evaluation succeeded: %s" % proc.stdout[:500]
        return proc.stderr

    return run


def module(keys: Optional[Sequence[OwnedKey]] = None, priority: int = PRIORITY) -> str:
    return PM.home_module("kde", KEYS if keys is None else keys, priority)[0]


# ---------------------------------------------------------------- the generated module, evaluated

def test_keys_arrive_in_plasma_managers_structure(evaluate):
    got = evaluate(module())
    assert got["enable"] is True
    assert kconfig_view(got["configFile"]) == expected_view(KEYS, "configFile")
    assert kconfig_view(got["dataFile"]) == expected_view(KEYS, "dataFile")
    assert kconfig_view(got["file"]) == expected_view(KEYS, "file")
    # nested groups and a '/' inside a group name, as plasma-manager reads them
    applets = kconfig_view(got["configFile"])["plasma-org.kde.plasma.desktop-appletsrc"]
    assert list(applets) == [("Containments", "1", "Wallpaper", "org.kde.image")]
    assert list(kconfig_view(got["configFile"])["klipperrc"]) == [("Action_0/Command_0",)]
    assert "rustdesk/RustDesk2.toml" not in got["configFile"]  # TOML stays with the host-side step


def test_hostile_names_come_back_exactly(evaluate):
    got = evaluate(module())
    ghost = got["configFile"]["kde.org/ghostwriter.conf"]
    name = 'a b/say "hi"/${pkgs.evil}/[x]=y/back\\slash'
    assert list(ghost) == [name]
    assert ghost[name][" lead $x ${y} "]["value"] == "tab\there\nnew'' line "
    assert got["configFile"]["baloofilerc"]["General"]["exclude folders[$e]"]["shellExpand"] is True
    assert got["configFile"]["kwinrc"][""]["top level"]["value"] == "v"  # "" is the default group


def test_without_plasma_manager_the_build_fails_naming_the_import(evaluate):
    err = evaluate(module(), with_plasma=False, expect_ok=False)
    assert "Failed assertions:" in err
    assert "does not import plasma-manager's module" in err
    assert "inputs.plasma-manager.homeModules.plasma-manager" in err
    assert "The option `programs.plasma' does not exist" not in err


def test_unguarded_module_fails_with_the_module_systems_message(evaluate):
    """What the guard replaces: the same config without ``requires``."""
    text = nix_module("kde", PM.home_config(KEYS, PRIORITY), markers=False, priority=PRIORITY)[0]
    err = evaluate(text, with_plasma=False, expect_ok=False)
    assert "The option `programs.plasma' does not exist" in err


def test_guarded_module_with_the_phase_off_needs_nothing(evaluate):
    assert evaluate(module(), user="{ nixperf.kde.enable = false; }", with_plasma=False) is None
    got = evaluate(module(), user="{ nixperf.kde.enable = false; }")
    assert got == {"enable": False, "configFile": {}, "dataFile": {}, "file": {}}


def test_users_own_false_enable_fails_instead_of_dropping_the_keys(evaluate):
    err = evaluate(module(), user="{ programs.plasma.enable = false; }", expect_ok=False)
    assert "programs.plasma.enable is false" in err and "~/.config/kwinrc" in err


def test_users_forced_enable_is_kept(evaluate):
    assert evaluate(module(), user="{ programs.plasma.enable = lib.mkForce true; }")["enable"] is True


def test_priority_against_the_users_own_definitions(evaluate):
    plain = '{ programs.plasma.configFile.kwinrc.Compositing.Backend = "OpenGL"; }'
    backend = evaluate(module(), user=plain)["configFile"]["kwinrc"]["Compositing"]["Backend"]
    assert (backend["value"], backend["immutable"]) == ("QPainter", True)  # ours (75) over a plain value (100)
    forced = '{ programs.plasma.configFile.kwinrc.Compositing.Backend = lib.mkForce "OpenGL"; }'
    backend = evaluate(module(), user=forced)["configFile"]["kwinrc"]["Compositing"]["Backend"]
    assert (backend["value"], backend["immutable"]) == ("OpenGL", False)  # the user's lib.mkForce (50) wins
    other = '{ programs.plasma.configFile.kwinrc.Compositing.MaxFPS = 60; }'
    got = evaluate(module(), user=other)["configFile"]["kwinrc"]["Compositing"]
    assert got["MaxFPS"]["value"] == 60 and got["Backend"]["value"] == "QPainter"  # merged key by key
    below = evaluate(module(priority=40), user=forced)["configFile"]["kwinrc"]["Compositing"]["Backend"]
    assert below["value"] == "QPainter"  # nixperf_priority 40 wins over the user's lib.mkForce


def test_immutable_by_default_keeps_our_unlocked_keys_unlocked(evaluate):
    got = evaluate(module(), user="{ programs.plasma.immutableByDefault = true; }")
    view = kconfig_view(got["configFile"], immutable_by_default=True)  # the removal passes upstream's check
    assert view["kwinrc"][("Plugins",)]["blurEnabled"] == ("set", "false", False, False)
    assert view["kwinrc"][("Compositing",)]["GLCore"] == ("remove",)
    assert got["configFile"]["kwinrc"]["Compositing"]["GLCore"]["immutable"] is True


@pytest.mark.parametrize("user,message", [
    ('{ xdg.configHome = "/home/mitsio/.xdg"; }', "xdg.configHome is not ~/.config"),
    ('{ xdg.dataHome = "/data"; }', "xdg.dataHome is not ~/.local/share"),
])
def test_xdg_directories_elsewhere_fail(evaluate, user, message):
    err = evaluate(module(), user=user, expect_ok=False)
    assert message in err


def test_no_data_key_no_data_home_check(evaluate):
    keys = [k for k in KEYS if not k.file.startswith(".local/share/")]
    got = evaluate(module(keys), user='{ xdg.dataHome = "/data"; }')
    assert got["dataFile"] == {}


def test_whole_module_parses(nix, tmp_path):
    path = tmp_path / "kde.nix"
    path.write_text(module(), encoding="utf-8")
    assert nix.parses(path)


# ---------------------------------------------------------------- names

@pytest.mark.parametrize("file,expected", [
    (".config/kwinrc", ("configFile", "kwinrc")),
    (".config/kde.org/ghostwriter.conf", ("configFile", "kde.org/ghostwriter.conf")),
    (".local/share/kxmlgui5/dolphin/dolphinui.rc", ("dataFile", "kxmlgui5/dolphin/dolphinui.rc")),
    (".kde4/share/config/kwinrc", ("file", ".kde4/share/config/kwinrc")),
    (".configrc", ("file", ".configrc")),
])
def test_where(file, expected):
    assert PM.where(file) == expected


@pytest.mark.parametrize("file", ["", "/etc/kwinrc", ".config//kwinrc", "./.config/kwinrc", ".config/", "a/../b",
                                  "../x", ".config/kwinrc/", ".config", ".local/share", ".local"])
def test_where_refuses_paths_it_cannot_place(file):
    with pytest.raises(PM.PlasmaManagerError):
        PM.where(file)


@pytest.mark.parametrize("name,segments", [
    ("", ()), ("a", ("a",)), ("a/b", ("a", "b")), ("escaped\\/nested/group", ("escaped/nested", "group")),
    ("Action_0\\/Command_0", ("Action_0/Command_0",)), ("a\\b", ("a\\b",)), ("a\\", ("a",)), ("a//b", ("a", "/")),
    ("/a", ("/",)), ("x\\\\\\/y", ("x\\\\/y",)),
])
def test_split_group_reads_like_plasma_manager(name, segments):
    assert upstream_split(name) == segments  # the stub itself, on upstream's own examples
    assert PM.split_group(name) == segments


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(["a", "/", "\\", " ", "$"]), max_size=10))
def test_split_group_matches_upstream_everywhere(name):
    assert PM.split_group(name) == upstream_split(name)


@pytest.mark.parametrize("group,name", [
    ((), ""), (("Compositing",), "Compositing"), (("Containments", "1", "Wallpaper"), "Containments/1/Wallpaper"),
    (("Action_0/Command_0",), "Action_0\\/Command_0"), (("org.kde.kdecoration2",), "org.kde.kdecoration2"),
    (("a\\b", "c"), "a\\b/c"), (("$i", "x"), "$i/x"), (("/",), "\\/"),
])
def test_group_name(group, name):
    assert PM.group_name(group) == name
    assert upstream_split(name) == group


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(st.sampled_from(["a", "/", "\\", ".", " ", "$", "[", "]", "\""]), min_size=1, max_size=6),
                max_size=4))
def test_group_name_round_trips_or_refuses(group):
    try:
        name = PM.group_name(group)
    except PM.PlasmaManagerError:
        assert upstream_split("/".join(s.replace("/", "\\/") for s in group)) != tuple(group) or (
            re.fullmatch(r"\$[a-z]{0,9}", group[-1]))
        return
    assert upstream_split(name) == tuple(group)


@pytest.mark.parametrize("group,message", [
    (("",), "empty group"),
    (("a", ""), "empty group"),
    (("ends\\",), "ending in a backslash"),
    (("a\\/b",), "backslash before a '/'"),
    (("Compositing", "$i"), "group options"),
    (("$",), "group options"),
])
def test_group_name_refuses(group, message):
    with pytest.raises(PM.PlasmaManagerError, match=re.escape(message)):
        PM.group_name(group)


# ---------------------------------------------------------------- settings and config

def test_setting_set_and_remove():
    assert PM.setting(OwnedKey(kde("kwinrc"), ("A",), "k", "v", immutable=True, expand=True)) == {
        "value": "v", "immutable": True, "shellExpand": True}
    assert PM.setting(OwnedKey(kde("kwinrc"), ("A",), "k", "v")) == {
        "value": "v", "immutable": False, "shellExpand": False}
    # a removal carries no options: plasma-manager refuses a null value with [$i] or [$e]
    assert PM.setting(OwnedKey(kde("kwinrc"), ("A",), "k", None, immutable=True, expand=True)) == {"value": None}


def test_home_config_shape():
    cfg = PM.home_config(KEYS[:2] + [KEYS[11]], PRIORITY)
    plasma = cfg["programs"]["plasma"]
    assert plasma["enable"] == NixDefault(True)
    assert plasma["configFile"] == {"kwinrc": {"Compositing": {
        "Backend": NixOverride(PRIORITY, {"value": "QPainter", "immutable": True, "shellExpand": False}),
        "GLCore": NixOverride(PRIORITY, {"value": None})}}}
    assert plasma["dataFile"] == {"kxmlgui5/dolphin/dolphinui.rc": {"State": {
        "ToolBarsMovable": NixOverride(PRIORITY, {"value": "Disabled", "immutable": False, "shellExpand": False})}}}
    assert "file" not in plasma and "overrideConfig" not in plasma
    assert [a["assertion"] for a in cfg["assertions"]] == [
        NixRaw("config.programs.plasma.enable"),
        NixRaw('toString config.xdg.configHome == toString config.home.homeDirectory + "/.config"'),
        NixRaw('toString config.xdg.dataHome == toString config.home.homeDirectory + "/.local/share"')]


def test_home_config_file_option_only_checks_enable():
    cfg = PM.home_config([KEYS[12]], PRIORITY)
    assert list(cfg["programs"]["plasma"]) == ["enable", "file"]
    assert len(cfg["assertions"]) == 1


def test_home_config_without_kconfig_keys_is_empty():
    assert PM.home_config([], PRIORITY) == {}
    assert PM.home_config([KEYS[-1]], PRIORITY) == {}  # TOML only


def test_home_config_duplicates():
    twice = PM.home_config([KEYS[0], KEYS[0]], PRIORITY)
    assert list(twice["programs"]["plasma"]["configFile"]["kwinrc"]["Compositing"]) == ["Backend"]
    other = OwnedKey(kde("kwinrc"), ("Compositing",), "Backend", "OpenGL")
    with pytest.raises(PM.PlasmaManagerError, match="owned twice"):
        PM.home_config([KEYS[0], other], PRIORITY)


def test_home_config_refusals():
    with pytest.raises(PM.PlasmaManagerError, match="OwnedKey"):
        PM.home_config([{"file": ".config/kwinrc"}], PRIORITY)
    with pytest.raises(PM.PlasmaManagerError, match="need a name"):
        PM.home_config([OwnedKey(kde("kwinrc"), ("A",), "", "v")], PRIORITY)
    with pytest.raises(PM.PlasmaManagerError, match="empty group"):
        PM.home_config([OwnedKey(kde("kwinrc"), ("",), "k", "v")], PRIORITY)
    with pytest.raises(PM.PlasmaManagerError, match="normalised"):
        PM.home_config([OwnedKey(".config//kwinrc", ("A",), "k", "v")], PRIORITY)
    for bad in (True, -1, 10001, "75"):
        with pytest.raises(NixError):
            PM.home_config(KEYS[:1], bad)


def test_hostile_names_are_quoted_attribute_names():
    text = module()
    for quoted in ['"Basic Settings"', '"org.kde.kdecoration2"', '"exclude folders[$e]"',
                   '"a b/say \\"hi\\"/\\${pkgs.evil}/[x]=y/back\\\\slash"', '" lead $x \\${y} "',
                   '"kde.org/ghostwriter.conf"', '"Action_0\\\\/Command_0"', '""."top level"']:
        assert quoted in text, quoted
    assert "${pkgs.evil}" not in text.replace("\\${pkgs.evil}", "")


def test_home_module_header_and_guard():
    text = module()
    assert "{ config, lib, options, pkgs, ... }:" in text
    assert 'requiredOptions = lib.hasAttrByPath [ "programs" "plasma" "configFile" ] options;' in text
    assert "lib.mkOverride 75 {" in text and "enable = lib.mkDefault true;" in text
    assert "overrideConfig" not in text
    assert "# Locked keys (immutable, written key[$i]=value)" in text
    assert "#   ~/.config/kwinrc [Compositing] Backend\n" in text
    assert "#   ~/.config/klipperrc [Action_0/Command_0] Commandline\n" in text
    assert "lib.mkOverride 75 (nixperf_priority)" in text
    assert "# extra\n" in PM.home_module("kde", KEYS, PRIORITY, note="extra")[0]


def test_requires_names_the_option_and_the_import():
    path, message = PM.requires("kde")
    assert path == ("programs", "plasma", "configFile")
    assert "homeModules.plasma-manager" in message and "homeManagerModules.plasma-manager" in message
    assert "phase kde" in message and "chezmoi or direct" in message


def test_lock_note():
    assert PM.lock_note([]) == ""
    assert PM.lock_note([KEYS[2], OwnedKey(kde("kwinrc"), ("A",), "k", None, immutable=True)]) == ""
    note = PM.lock_note(KEYS)
    assert "System Settings shows their controls disabled" in note
    assert note.splitlines()[3:] == ["  ~/.config/kwinrc [Compositing] Backend",
                                     "  ~/.config/klipperrc [Action_0/Command_0] Commandline"]
