"""Every rule of the Nix serializer, one test or parametrised case each."""
from __future__ import annotations

import math
from collections import OrderedDict

import pytest
from support import eval_modules

from ansible_collections.nixperf.tuning.plugins.module_utils import nix as N
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import (
    NixDefault, NixError, NixForce, NixIf, NixOverride, NixRaw, attr_name, escape_string, from_marker, nix_index,
    nix_module, render, to_nix)


@pytest.mark.parametrize("value,text", [
    (None, "null"), (True, "true"), (False, "false"), (0, "0"), (42, "42"), (-7, "-7"),
    (2 ** 63 - 1, "9223372036854775807"), (-(2 ** 63), "(-9223372036854775807 - 1)"),
    (1.5, "1.5"), (1.0, "1.0"), (-0.25, "-0.25"), (1e300, "1.0e300"), (2.5e-10, "2.5e-10"), (0.0, "0.0"),
    ("", '""'), ("abc", '"abc"'), ([], "[ ]"), ({}, "{ }"),
])
def test_scalars(value, text):
    assert to_nix(value) == text


@pytest.mark.parametrize("value,text", [
    ('say "hi"', r'"say \"hi\""'),
    ("back\\slash", r'"back\\slash"'),
    ("${pkgs.evil}", r'"\${pkgs.evil}"'),
    ("$notinterp {", '"$notinterp {"'),
    ("a\nb", r'"a\nb"'),
    ("tab\there", r'"tab\there"'),
    ("cr\rhere", r'"cr\rhere"'),
    ("bell\x07", '"bell\x07"'),
    ('"; ${builtins.exec ["rm"]}', r'"\"; \${builtins.exec [\"rm\"]}"'),
])
def test_string_escapes(value, text):
    assert escape_string(value) == text
    assert to_nix(value) == text


def test_nul_is_refused():
    with pytest.raises(NixError, match="NUL"):
        to_nix("a\0b")


def test_lone_surrogate_is_refused():
    with pytest.raises(NixError, match="Unicode"):
        to_nix("\udc80")


def test_multiline_string_uses_indented_form():
    text = to_nix({"script": "echo one\n  echo ${HOME} ''quoted''\necho two\n"})
    assert "''\n    echo one\n      echo ''${HOME} '''quoted'''\n    echo two\n  '';" in text


@pytest.mark.parametrize("value", [
    "one\ntwo",  # only one newline: stays a plain string
    "  indented\n  all\n  lines\n",  # would lose its common indentation
    "a\n\t\nb\n",  # tab
    "a\n   \nb\n",  # whitespace-only line
    "\nleading\nnewline\n",
    "ends\nwith\nquote'",
    "cr\r\nlf\n\n",
])
def test_multiline_falls_back_to_quoted(value):
    assert to_nix(value).startswith('"')


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), 5e-324, 2 ** 63, -(2 ** 63) - 1])
def test_unrepresentable_numbers(bad):
    with pytest.raises(NixError):
        to_nix(bad)


def test_negative_numbers_are_parenthesised_in_lists_and_arguments():
    assert to_nix([-1, 2, -0.5]) == "[ (-1) 2 (-0.5) ]"
    assert to_nix(NixForce(-3)) == "lib.mkForce (-3)"
    assert to_nix({"a": -1}) == "{\n  a = -1;\n}"


@pytest.mark.parametrize("name,text", [
    ("simple", "simple"), ("with_under", "with_under"), ("kebab-case", "kebab-case"), ("_x", "_x"),
    ("prime'", "\"prime'\""), ("vm.swappiness", '"vm.swappiness"'), ("user-", '"user-"'), ("if", '"if"'),
    ("or", '"or"'), ("inherit", '"inherit"'), ("", '""'), ("1abc", '"1abc"'), ("a b", '"a b"'),
    ("${x}", r'"\${x}"'), ('q"uote', r'"q\"uote"'), ("ünï", '"ünï"'),
    ("in\n", r'"in\n"'), ("abc\n", r'"abc\n"'),  # Python's $ matches before a final newline
])
def test_attribute_names(name, text):
    assert attr_name(name) == text


def test_non_string_keys_from_yaml():
    assert attr_name(1) == '"1"'
    assert to_nix({1: "a", False: "b"}) == '{\n  "1" = "a";\n  false = "b";\n}'
    with pytest.raises(NixError, match="attribute names"):
        attr_name(1.5)


def test_duplicate_attribute_after_conversion():
    with pytest.raises(NixError, match="defined twice"):
        to_nix({1: "a", "1": "b"})


def test_keys_are_sorted_and_output_is_deterministic():
    a = OrderedDict([("b", 1), ("a", 2)])
    b = OrderedDict([("a", 2), ("b", 1)])
    assert to_nix(a) == to_nix(b) == "{\n  a = 2;\n  b = 1;\n}"


def test_nested_indentation():
    assert to_nix({"a": {"b": [1, {"c": True}]}}) == (
        "{\n  a = {\n    b = [\n      1\n      {\n        c = true;\n      }\n    ];\n  };\n}")


def test_short_scalar_lists_inline_long_lists_wrapped():
    assert to_nix(["a", "b"]) == '[ "a" "b" ]'
    long = ["x" * 30, "y" * 30, "z" * 30]
    assert to_nix(long) == '[\n  "%s"\n  "%s"\n  "%s"\n]' % tuple(long)


def test_sets_and_tuples_become_lists():
    assert to_nix((1, 2)) == "[ 1 2 ]"
    assert to_nix({3, 1, 2}) == "[ 1 2 3 ]"


def test_unknown_types_and_bytes():
    with pytest.raises(NixError, match="cannot represent"):
        to_nix(object())
    with pytest.raises(NixError, match="bytes"):
        to_nix(b"abc")


def test_dotted_paths():
    data = {"zramSwap": {"enable": True}, "boot": {"kernel": {"sysctl": {"vm.swappiness": 67, "vm.x": 1}}},
            "empty": {"inner": {}}}
    assert to_nix(data, dotted=True) == (
        "{\n  boot.kernel.sysctl = {\n    \"vm.swappiness\" = 67;\n    \"vm.x\" = 1;\n  };\n"
        "  empty.inner = { };\n  zramSwap.enable = true;\n}")
    # markers are values, never path segments
    assert to_nix({"a": {"_nix": "pkgs.hello"}}, dotted=True) == "{\n  a = pkgs.hello;\n}"


# ------------------------------------------------------------------ markers


def test_raw_marker_simple_and_compound():
    assert to_nix(NixRaw("pkgs.zstd")) == "pkgs.zstd"
    assert to_nix(NixRaw("./hardware.nix")) == "./hardware.nix"
    assert to_nix(NixRaw("<nixpkgs>")) == "<nixpkgs>"
    assert to_nix([NixRaw("x: x + 1")]) == "[ (x: x + 1) ]"
    assert to_nix({"f": NixRaw("a:\n  a")}) == "{\n  f = (\n    a:\n      a\n  );\n}"


def test_raw_marker_from_yaml_dict_and_collection_of_fragments():
    text, raw = render({"pkgs": [{"_nix": "pkgs.zstd"}, "pkgs.zstd"]})
    assert text == '{\n  pkgs = [ pkgs.zstd "pkgs.zstd" ];\n}'
    assert raw == ["pkgs.zstd"]


@pytest.mark.parametrize("bad", ["", "   ", 5, "a\0b"])
def test_raw_marker_rejects_empty_or_non_strings(bad):
    with pytest.raises(NixError):
        NixRaw(bad)


def test_priority_markers():
    assert to_nix(NixForce(67)) == "lib.mkForce 67"
    assert to_nix({"_nix_force": "x"}) == 'lib.mkForce "x"'
    assert to_nix({"_nix_default": [1]}) == "lib.mkDefault [ 1 ]"
    assert to_nix(NixDefault({"a": 1})) == "lib.mkDefault {\n  a = 1;\n}"
    assert to_nix({"_nix_override": {"priority": 50, "value": True}}) == "lib.mkOverride 50 true"
    assert to_nix([NixForce(1)]) == "[ (lib.mkForce 1) ]"
    assert to_nix(NixForce(NixDefault(1))) == "lib.mkForce (lib.mkDefault 1)"


def test_if_marker():
    assert to_nix(NixIf("config.services.xserver.enable", 1)) == "lib.mkIf (config.services.xserver.enable) 1"
    assert to_nix({"_nix_if": {"condition": False, "value": "v"}}) == 'lib.mkIf false "v"'
    text, raw = render(NixIf("cfg.x", 1))
    assert raw == ["cfg.x"]


@pytest.mark.parametrize("bad", [
    {"_nix_override": {"priority": "high", "value": 1}},
    {"_nix_override": {"priority": 10001, "value": 1}},
    {"_nix_override": {"priority": True, "value": 1}},
    {"_nix_override": {"value": 1}},
    {"_nix_override": {"priority": 1, "value": 1, "extra": 2}},
    {"_nix_override": 5},
    {"_nix_if": {"value": 1}},
    {"_nix_if": {"condition": 3, "value": 1}},
    {"_nix_if": {"condition": "c", "value": 1, "x": 0}},
])
def test_malformed_markers(bad):
    with pytest.raises(NixError):
        to_nix(bad)


def test_marker_lookalikes_are_data():
    assert from_marker({"_nix": "a", "other": 1}) is None
    assert to_nix({"_nixx": "pkgs.x"}) == '{\n  _nixx = "pkgs.x";\n}'


def test_markers_compare_and_repr():
    assert NixRaw("a") == NixRaw("a") and NixRaw("a") != NixRaw("b")
    assert NixForce(1) != NixDefault(1)
    assert len({NixRaw("a"), NixRaw("a")}) == 1
    assert repr(NixOverride(5, 1)) == "NixOverride(5, 1)"


# ------------------------------------------------------------------ files


def test_module_shape():
    text, raw = nix_module("memory", {"zramSwap": {"enable": True}}, role="memory", description="zram")
    lines = text.splitlines()
    assert lines[0].startswith(N.GENERATED_MARKER) and "role memory" in lines[0]
    assert "Do not edit" in lines[1]
    assert "{ config, lib, pkgs, ... }:" in lines
    assert "  cfg = config.nixperf.memory;" in lines
    assert "  options.nixperf.memory.enable = lib.mkOption {" in lines
    assert "    default = true;" in lines
    assert "  config = lib.mkIf cfg.enable {" in lines
    assert "    zramSwap.enable = true;" in lines
    assert raw == []
    assert not any(ch.isdigit() and "20" in ln for ln in lines[:2] for ch in ln)  # no timestamp


def test_module_disabled_and_note():
    text = nix_module("memory", {}, enable=False, note="line one\n\nline three")[0]
    assert "    default = false;" in text
    assert "# line one\n#\n# line three\n" in text


@pytest.mark.parametrize("phase", ["Memory", "1x", "a-b", "", None])
def test_module_rejects_bad_phase(phase):
    with pytest.raises(NixError):
        nix_module(phase, {})


def test_module_rejects_non_mapping_config():
    with pytest.raises(NixError):
        nix_module("x", [1])


def test_index():
    text = nix_index(["b.nix", "a.nix", "a.nix"])
    assert "imports = [ ./a.nix ./b.nix ];" in text
    assert 'imports = [ (./. + "/odd name.nix") ];' in nix_index(["odd name.nix"])
    for bad in ["default.nix", "x.txt", "sub/a.nix"]:
        with pytest.raises(NixError):
            nix_index([bad])


def test_floats_keep_value():
    for f in [0.1, 123456.789, 1e-300, -2.5e300]:
        assert math.isclose(float(to_nix(f)), f)


# ---------------------------------------------------------------- nix_module(requires=...)

GUARD = (("programs", "plasma", "configFile"), 'import "plasma-manager" ${first}')


def test_module_without_requires_is_unchanged():
    text = nix_module("memory", {"zramSwap": {"enable": True}}, role="memory")[0]
    assert text == nix_module("memory", {"zramSwap": {"enable": True}}, role="memory", requires=None)[0]
    assert text.endswith(
        "{ config, lib, pkgs, ... }:\nlet\n  cfg = config.nixperf.memory;\nin\n{\n"
        "  options.nixperf.memory.enable = lib.mkOption {\n    type = lib.types.bool;\n    default = true;\n"
        '    description = "Whether to apply the nixperf.tuning memory phase.";\n  };\n\n'
        "  config = lib.mkIf cfg.enable {\n    zramSwap.enable = true;\n  };\n}\n")


def test_module_requires_guards_the_config():
    text = nix_module("kde", {"programs": {"plasma": {"enable": True}}}, requires=GUARD)[0]
    assert "{ config, lib, options, pkgs, ... }:\n" in text
    assert '  requiredOptions = lib.hasAttrByPath [ "programs" "plasma" "configFile" ] options;\n' in text
    assert ("  config = lib.mkIf cfg.enable (lib.mkMerge [\n"
            '    { assertions = [ { assertion = requiredOptions; message = "import \\"plasma-manager\\" \\${first}"; '
            "} ]; }\n"
            "    (lib.optionalAttrs requiredOptions {\n      programs.plasma.enable = true;\n    })\n  ]);\n") in text


def test_module_requires_leaves_always_unguarded():
    text = nix_module("kde", {"a": 1}, always={"_module": {"args": {"b": 2}}}, requires=GUARD)[0]
    assert ("  config = lib.mkMerge [\n    {\n      _module.args.b = 2;\n    }\n"
            "    (lib.mkIf cfg.enable (lib.mkMerge [\n      { assertions = [ { assertion = requiredOptions;") in text
    assert "      (lib.optionalAttrs requiredOptions {\n        a = 1;\n      })\n    ]))\n  ];\n" in text


@pytest.mark.parametrize("declared,expected", [
    ("{ programs.plasma.configFile = { }; }", [{"assertions": [{"assertion": True}]}, {"x": "y"}]),
    ("{ programs.plasma = { }; }", [{"assertions": [{"assertion": False}]}, {}]),
    ("{ }", [{"assertions": [{"assertion": False}]}, {}]),
])
def test_module_requires_evaluates(nix, tmp_path, declared, expected):
    path = tmp_path / "kde.nix"
    path.write_text(nix_module("kde", {"x": "y"}, requires=GUARD)[0], encoding="utf-8")
    # a minimal lib whose mkIf / mkMerge keep their content (the real module system: tests/unit/test_plasma_manager.py)
    expr = ("let lib = { mkOption = x: x; types.bool = null; mkIf = c: v: v; mkMerge = l: l;"
            " optionalAttrs = c: s: if c then s else { };"
            " hasAttrByPath = p: s: p == [ ] || (builtins.isAttrs s && s ? ${builtins.head p}"
            " && lib.hasAttrByPath (builtins.tail p) s.${builtins.head p}); };"
            " m = import %s { config.nixperf.kde.enable = true; pkgs = { }; options = %s; inherit lib; };"
            " in map (c: if c ? assertions then { assertions = map (a: { inherit (a) assertion; }) c.assertions; }"
            " else c) m.config" % (path, declared))
    assert nix.eval_json(expr) == expected
    assert 'import \\"plasma-manager\\" \\${first}' in path.read_text()


@pytest.mark.parametrize("requires", [
    "programs.plasma", (), (("programs",),), ("programs.plasma", "m"), ((), "m"), (("programs", ""), "m"),
    (("programs", 1), "m"), (("programs",), ""), (("programs",), "  "), (("programs",), None),
])
def test_module_requires_refuses_malformed(requires):
    with pytest.raises(NixError, match="requires of phase kde"):
        nix_module("kde", {}, requires=requires)


# --- features: one switch per opt-in change (nix_module(features=...), feature_if)

FEATURES = {"initrd": (False, "Whether to compress the initrd \"fast\" (${x})."), "quiet": (True, "Quiet boot.")}
FEATURE_CONFIG = {"boot": {"initrd": {"compressor": N.feature_if("initrd", NixOverride(75, "lz4"))},
                           "kernelParams": N.feature_if("quiet", ["quiet"])}}


def feature_module(tmp_path, features=None):
    path = tmp_path / "boot.nix"
    path.write_text(nix_module("boot", FEATURE_CONFIG, features=FEATURES if features is None else features,
                               markers=False)[0], encoding="utf-8")
    return path


def test_module_features_are_declared_after_the_phase_switch(tmp_path):
    text = feature_module(tmp_path).read_text()
    assert ("  options.nixperf.boot.initrd.enable = lib.mkOption {\n    type = lib.types.bool;\n    default = false;\n"
            "    description = \"Whether to compress the initrd \\\"fast\\\" (\\${x}).\";\n  };\n") in text
    assert "  options.nixperf.boot.quiet.enable = lib.mkOption {\n    type = lib.types.bool;\n    default = true;\n" in text
    assert text.index("nixperf.boot.enable") < text.index("nixperf.boot.initrd.enable") < text.index("quiet.enable")
    assert 'compressor = lib.mkIf (cfg.initrd.enable) (lib.mkOverride 75 "lz4");' in text
    assert 'kernelParams = lib.mkIf (cfg.quiet.enable) [ "quiet" ];' in text


def test_module_without_features_is_unchanged():
    assert nix_module("boot", {"a": 1}, features={})[0] == nix_module("boot", {"a": 1})[0]
    assert "options.nixperf.boot.a" not in nix_module("boot", {"a": 1})[0]


@pytest.mark.parametrize("host,expected", [
    # the inventory's defaults: quiet on, initrd off
    ("{ }", {"boot": {"kernelParams": ["quiet"]}}),
    # the host's own configuration flips one feature, and the phase switch wins over both
    ("{ nixperf.boot.initrd.enable = true; }", {"boot": {"initrd": {"compressor": "lz4"}, "kernelParams": ["quiet"]}}),
    ("{ nixperf.boot.quiet.enable = false; }", {}),
    ("{ nixperf.boot.enable = false; nixperf.boot.initrd.enable = true; }", {}),
    # a host's plain value gives way to ours (75), its lib.mkForce wins; lists concatenate
    ("{ lib, ... }: { nixperf.boot.initrd.enable = true; boot.initrd.compressor = \"gzip\"; boot.kernelParams = [ \"x\" ]; }",
     {"boot": {"initrd": {"compressor": "lz4"}, "kernelParams": ["quiet", "x"]}}),
    ("{ lib, ... }: { nixperf.boot.initrd.enable = true; boot.initrd.compressor = lib.mkForce \"gzip\"; }",
     {"boot": {"initrd": {"compressor": "gzip"}, "kernelParams": ["quiet"]}}),
])
def test_module_features_evaluate(nix, tmp_path, host, expected):
    config = eval_modules(nix, feature_module(tmp_path), host)
    switches = config.pop("nixperf")["boot"]
    assert config == expected
    assert set(switches) == {"enable", "initrd", "quiet"}


def test_module_features_conflict_like_the_module_system(nix, tmp_path):
    with pytest.raises(AssertionError, match="defined multiple times"):
        eval_modules(nix, feature_module(tmp_path),
                     "{ lib, ... }: { nixperf.boot.initrd.enable = true; boot.initrd.compressor = lib.mkOverride 75 \"xz\"; }")


@pytest.mark.parametrize("features", [
    {"Initrd": (True, "x")}, {"enable": (True, "x")}, {"in-rd": (True, "x")}, {"initrd": (1, "x")},
    {"initrd": (True,)}, {"initrd": True}, {"initrd": (True, None)},
])
def test_module_features_refuse_malformed(features):
    with pytest.raises(NixError, match="feature"):
        nix_module("boot", {}, features=features)


@pytest.mark.parametrize("name", ["Initrd", "in rd", "", "cfg.x", 3])
def test_feature_if_refuses_names_that_are_not_options(name):
    with pytest.raises(NixError, match="feature name"):
        N.feature_if(name, 1)
