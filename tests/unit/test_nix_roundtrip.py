"""Property tests against the real evaluator: for arbitrary data, Nix reads back
exactly what the serializer was given.

Values are batched: each hypothesis example is a list of many values, rendered
as one Nix list and evaluated by one ``nix-instantiate --eval --strict --json``.
"""
from __future__ import annotations

import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.nixperf.tuning.plugins.module_utils.nix import KEYWORDS, nix_module, to_nix

# Text that stresses every escape: Nix syntax, both string forms, control
# characters (NUL excluded: Nix strings cannot hold it), any Unicode.
SPECIAL = st.sampled_from(["${", "$", "{", "}", '"', "\\", "''", "'", "'''", "''${", "\n", "\r", "\t", "\r\n",
                           "  ", "#", "/*", "*/", ";", "=", "\x01", "\x1b", "\x7f", "é", "\u2028", "😀"])
ANY_CHAR = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
TEXT = st.lists(st.one_of(SPECIAL, st.text(ANY_CHAR, max_size=8)), max_size=8).map("".join)
MULTILINE = st.lists(st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00"),
                             max_size=12), min_size=2, max_size=6).map("\n".join)
KEYS = st.one_of(TEXT, st.sampled_from(sorted(KEYWORDS) + ["", "vm.swappiness", "user-", "a'", "x-y", "_", "in\n", "a\n"]))
INTS = st.one_of(st.integers(min_value=-(2 ** 63), max_value=2 ** 63 - 1),
                 st.sampled_from([-(2 ** 63), 2 ** 63 - 1, 0, -1]))
# Nix 2.8 cannot read subnormal floats; the serializer refuses them (unit-tested).
FLOATS = st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f == 0.0 or abs(f) >= 2.3e-308)
SCALARS = st.one_of(st.none(), st.booleans(), INTS, FLOATS, TEXT, MULTILINE)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(KEYS, inner, max_size=5)),
    max_leaves=25,
)


def same(a: Any, b: Any) -> bool:
    """Equality, with floats compared loosely (Nix 2.8 prints ~6 significant digits)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(b, (int, float)) and math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-300)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(VALUES, min_size=10, max_size=30))
def test_any_data_round_trips(nix, values):
    back = nix.eval_json(to_nix(values))
    assert same(values, back), to_nix(values)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.dictionaries(KEYS, VALUES, max_size=4), min_size=5, max_size=15))
def test_dotted_form_round_trips(nix, values):
    back = nix.eval_json(to_nix(values, dotted=True))
    assert same(values, back)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(TEXT, MULTILINE), min_size=20, max_size=40), st.integers(0, 6))
def test_strings_round_trip_at_any_indent(nix, strings, level):
    # the indented ''...'' form depends on the nesting level it is written at
    expr = "let x = " + to_nix(strings, indent=level) + "; in x"
    assert nix.eval_json(expr) == strings


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEYS, VALUES, max_size=6))
def test_generated_module_config_evaluates_to_the_data(nix, tmp_path_factory, config):
    text = nix_module("probe", {"probe": {"value": config}}, role="test")[0]
    path = tmp_path_factory.mktemp("mod") / "probe.nix"
    path.write_text(text, encoding="utf-8")
    # evaluate the module function against a minimal lib whose mkIf keeps its content
    expr = ('let m = import %s { config = { nixperf.probe.enable = true; }; pkgs = { }; '
            'lib = { mkOption = x: x; types.bool = null; mkIf = c: v: v; }; }; in m.config.probe.value' % path)
    assert same(config, nix.eval_json(expr))
