"""The TOML key editor (tomlkeys): byte-exact round trips, edits that touch one line, refusals that leave the file
as it was, and Python's own TOML reader (``tomllib``) reading back what we write.

The documents follow what RustDesk writes: ``toml::to_string_pretty`` of toml 0.5.11 (through rustdesk-org/confy,
``src/lib.rs``), whose string rules are reproduced by ``toml05_str`` below from toml 0.5's ``src/ser.rs``
(``emit_str`` / ``do_pretty``): a literal string when it can be, ``'''...'''`` when the value holds a ``'``,
``'''`` + newline when it holds a newline, a basic string with escapes when it holds a control character or three
``'`` in a row or ends with ``'``; arrays of two or more items one item a line, indented 4, with a trailing comma.
"""
from __future__ import annotations

from pathlib import Path

import copy
import random
import re
import tomllib
from typing import Any, Dict, List, Optional, Set, Tuple

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from ansible_collections.nixperf.tuning.plugins.module_utils.tomlkeys import (
    TomlDoc, TomlError, basic_string, key_text, table_path)

# --------------------------------------------------------------------------- what RustDesk writes


def toml05_str(value: str) -> str:
    """toml 0.5.11 ``Serializer::pretty`` string output (``emit_str`` with ``StringSettings { literal: true }``)."""
    ty = "single"
    max_singles = singles = 0
    pretty = True
    for ch in value:
        if pretty:
            if ch == "'":
                singles += 1
                if singles >= 3:
                    pretty = False
            else:
                max_singles = max(max_singles, singles)
                singles = 0
            if ch == "\n":
                ty = "newline"
            elif ch != "\t" and (ord(ch) <= 0x1F or ch == "\x7f"):
                pretty = False
        elif ch == "\n":
            ty = "newline"
    if pretty and singles > 0 and value.endswith("'"):
        pretty = False
    if pretty:
        max_singles = max(max_singles, singles)
        if ty == "single" and max_singles >= 1:
            ty = "oneline-triple"
        if ty == "newline":
            return "'''\n" + value + "'''"
        if ty == "oneline-triple":
            return "'''" + value + "'''"
        return "'" + value + "'"
    out = []
    for ch in value:
        if ch == "\n" and ty == "newline":
            out.append("\n")
        elif ch in '\b\t\n\f\r"\\':
            out.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"',
                        "\\": "\\\\"}[ch])
        elif ord(ch) <= 0x1F or ch == "\x7f":
            out.append("\\u%04X" % ord(ch))
        else:
            out.append(ch)
    quote = '"""\n' if ty == "newline" else '"'
    return quote + "".join(out) + ('"""' if ty == "newline" else '"')


@pytest.mark.parametrize("value, text", [
    ("Y", "'Y'"),
    ("it's", "'''it's'''"),
    ("a\nb", "'''\na\nb'''"),
    ("ends'", '"ends\'"'),
    ("x'''y", '"x\'\'\'y"'),
    ("bell\x07", '"bell\\u0007"'),
    ("tab\there", "'tab\there'"),
])
def test_the_stub_writes_what_toml_0_5_writes(value, text):
    """The cases toml 0.5's own tests and ``do_pretty`` spell out; each reads back as the value."""
    assert toml05_str(value) == text
    assert tomllib.loads("v = " + text)["v"] == value


# RustDesk2.toml (hbb_common Config2: scalars, then [socks], then [options]), as confy writes it
RUSTDESK2 = (Path(__file__).resolve().parents[1] / "fixtures" / "rustdesk" / "RustDesk2.toml").read_text()

# RustDesk.toml (hbb_common Config: the ID and the key pair): never ours, must survive byte for byte
RUSTDESK = """enc_id = '00Zm9vYmFyYmF6'
password = '00c2VjcmV0'
salt = 'qwerty'
key_pair = [
    [
        12,
        34,
    ],
    [
        56,
        78,
    ],
]
key_confirmed = true

[keys_confirmed]
rs-ny = true
"""

# RustDesk_default.toml (hbb_common UserDefaultConfig: one [options] map)
DEFAULT = """[options]
image_quality = 'balanced'
view_style = 'adaptive'
"""


@pytest.mark.parametrize("text", [
    RUSTDESK2, RUSTDESK, DEFAULT, "", "\n", "# only a comment", RUSTDESK2.replace("\n", "\r\n"),
    RUSTDESK2.rstrip("\n"), "a = 1 # trailing\n  [ t . \"x y\" ]  # header comment\n\tk = [1, 2] # c\n",
    "dt = 1979-05-27 07:32:00Z # a date-time with a space\n[t]\nx = { a = \"}\", b = [1, {c = 'd'}] }\n",
])
def test_unchanged_input_comes_back_byte_for_byte(text):
    doc = TomlDoc.parse(text)
    assert doc.render() == text
    assert doc.data == tomllib.loads(text)


def test_setting_an_existing_key_changes_only_its_line():
    doc = TomlDoc.parse(RUSTDESK2)
    assert doc.get("options", "direct-server") == "N"
    doc.set("options", "direct-server", "Y")
    old, new = RUSTDESK2.split("\n"), doc.render().split("\n")
    changed = [i for i, (a, b) in enumerate(zip(old, new)) if a != b]
    assert len(old) == len(new) and changed == [old.index("direct-server = 'N'")]
    assert new[changed[0]] == "direct-server = 'Y'"  # RustDesk's literal style kept
    data = tomllib.loads(doc.render())
    assert data["options"]["direct-server"] == "Y"
    # the string that looks like a table is still a string, and the secrets are as they were
    assert data["options"]["custom-rendezvous-server"] == "[options]\ndirect-server = 'Y'\n"
    assert data["socks"]["password"] == "it's a secret"


def test_an_edit_keeps_indentation_key_spelling_spacing_and_comment():
    text = '[options]\n  "direct-server"\t=   "N"   # was N\r\nx = 1\r\n'
    doc = TomlDoc.parse(text)
    doc.set(("options",), "direct-server", "Y")
    assert doc.render() == '[options]\n  "direct-server"\t=   "Y"   # was N\r\nx = 1\r\n'


def test_a_new_key_goes_after_the_last_entry_of_its_table():
    doc = TomlDoc.parse(RUSTDESK2)
    doc.set("options", "enable-hwcodec", "N")
    doc.set("socks", "new", "v")
    text = doc.render()
    assert text == RUSTDESK2.replace("'''it's a secret'''\n", "'''it's a secret'''\nnew = \"v\"\n").replace(
        "direct-server = 'N'\n", "direct-server = 'N'\nenable-hwcodec = \"N\"\n")
    # before the blank line and comment that close the table, and before the next header
    doc = TomlDoc.parse("[a]\nx = 1\n\n# about b\n[b]\ny = 2\n")
    doc.set("a", "z", "3")
    assert doc.render() == "[a]\nx = 1\nz = \"3\"\n\n# about b\n[b]\ny = 2\n"
    doc = TomlDoc.parse("[a]\n[a.sub]\nk = 1\n")
    doc.set("a", "first", "1")
    assert doc.render() == "[a]\nfirst = \"1\"\n[a.sub]\nk = 1\n"


def test_a_new_key_after_a_multi_line_value_goes_after_its_last_line():
    doc = TomlDoc.parse(RUSTDESK)
    doc.set("", "extra", "x")
    assert doc.render() == RUSTDESK.replace("key_confirmed = true\n", "key_confirmed = true\nextra = \"x\"\n")
    assert tomllib.loads(doc.render())["key_pair"] == [[12, 34], [56, 78]]


@pytest.mark.parametrize("text, expected", [
    ("", "[options]\ndirect-server = \"Y\"\n"),
    ("\n", "\n[options]\ndirect-server = \"Y\"\n"),
    ("a = 1\n", "a = 1\n\n[options]\ndirect-server = \"Y\"\n"),
    ("a = 1\n\n", "a = 1\n\n[options]\ndirect-server = \"Y\"\n"),
    ("a = 1", "a = 1\n\n[options]\ndirect-server = \"Y\""),
    ("a = 1\r\nb = 2", "a = 1\r\nb = 2\r\n\r\n[options]\r\ndirect-server = \"Y\""),
    ("a = 1\r\n", "a = 1\r\n\r\n[options]\r\ndirect-server = \"Y\"\r\n"),
    # the table exists only through a sub-table: a header of its own is appended (TOML allows it after)
    ("[options.sub]\nk = 1\n", "[options.sub]\nk = 1\n\n[options]\ndirect-server = \"Y\"\n"),
])
def test_a_missing_table_is_appended(text, expected):
    doc = TomlDoc.parse(text)
    doc.set("options", "direct-server", "Y")
    assert doc.render() == expected
    assert tomllib.loads(expected) == dict(tomllib.loads(text), options=dict(
        tomllib.loads(text).get("options", {}), **{"direct-server": "Y"}))


def test_top_level_keys_go_before_the_first_table():
    doc = TomlDoc.parse("[options]\na = 'b'\n")
    doc.set("", "top", "1")
    assert doc.render() == "top = \"1\"\n\n[options]\na = 'b'\n"
    doc = TomlDoc.parse("# header comment\nx = 1\n[t]\n")
    doc.set((), "y", "2")
    assert doc.render() == "# header comment\nx = 1\ny = \"2\"\n[t]\n"


def test_quoted_names_are_written_quoted():
    doc = TomlDoc.parse("")
    doc.set(("my table", "é"), "a.b", "v")
    assert doc.render() == "[\"my table\".é]\n\"a.b\" = \"v\"\n".replace("é", "\"é\"")
    assert tomllib.loads(doc.render()) == {"my table": {"é": {"a.b": "v"}}}
    assert key_text("direct-server") == "direct-server" and key_text("") == '""'
    assert table_path("") == () and table_path("options") == ("options",) and table_path(["a", "b"]) == ("a", "b")


HOSTILE = ['"', "\\", "\\\"", "'''", '"""', "a\nb", "\r\n", "\t", "\x00", "\x1f\x7f", "\b\f", "${x}", "# not a comment",
           "[options]", "é ü 日本 🚀", "\u2028\u2029", "\ufeff", "'", "' = '", "x\\u0041"]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_read_back_exactly(value):
    line = "v = " + basic_string(value)
    assert "\n" not in line and "\r" not in line
    assert tomllib.loads(line)["v"] == value
    doc = TomlDoc.parse(RUSTDESK2)
    doc.set("options", "direct-server", value)
    doc.set("options", value or "empty", value)
    assert doc.get("options", "direct-server") == value
    data = tomllib.loads(doc.render())
    assert data["options"]["direct-server"] == value and data["options"][value or "empty"] == value
    assert TomlDoc.parse(doc.render()).render() == doc.render()


def test_lone_surrogates_are_refused():
    with pytest.raises(TomlError, match="lone surrogate"):
        basic_string("\ud800")
    with pytest.raises(TomlError, match="must be text"):
        basic_string(1)  # type: ignore[arg-type]


@pytest.mark.parametrize("text, table, key, message", [
    ("options = { direct-server = 'Y' }\n", "options", "direct-server", r"\[options\] is defined by an inline table"),
    ("options.direct-server = 'Y'\n", "options", "direct-server", r"\[options\] is defined by dotted keys at line 1"),
    ("options.x = 1\n", "options", "direct-server", "defined by dotted keys"),
    ("options = 'Y'\n", "options", "direct-server", r"\[options\] is defined by a value"),
    ("[[options]]\na = 'b'\n", "options", "direct-server", r"array of tables \(\[\[...\]\] at line 1\)"),
    ("[[a]]\n[a.b]\nk = 1\n", ("a", "b"), "k", r"\[a\] is an array of tables"),
    ("[options]\ndirect-server = '''\nY'''\n", "options", "direct-server", "spans lines 2-3"),
    ("[options]\ndirect-server = \"\"\"\nY\"\"\"\n", "options", "direct-server", "a multi-line value"),
    ("[options]\ndirect-server = [\n  1,\n]\n", "options", "direct-server", "spans lines 2-4"),
    ("[options.direct-server]\n", "options", "direct-server", "is a table .header at line 1.*not a key"),
    ("[options]\ndirect-server.x = 1\n", "options", "direct-server", "is a table .line 2 defines"),
])
def test_constructs_that_cannot_be_edited_safely_are_refused_and_left_alone(text, table, key, message):
    doc = TomlDoc.parse(text)
    with pytest.raises(TomlError, match=message):
        doc.set(table, key, "N")
    assert doc.render() == text
    with pytest.raises(TomlError):
        doc.unset(table, key)
    assert doc.render() == text


def test_other_dotted_keys_inside_the_table_are_fine():
    doc = TomlDoc.parse("[options]\nsub.key = 1\nx = 'y'\n")
    doc.set("options", "direct-server", "Y")
    assert tomllib.loads(doc.render()) == {"options": {"sub": {"key": 1}, "x": "y", "direct-server": "Y"}}
    assert doc.render() == "[options]\nsub.key = 1\nx = 'y'\ndirect-server = \"Y\"\n"


def test_a_multi_line_one_line_triple_string_can_be_edited():
    """toml 0.5 writes a value holding a ' as '''...''' on one line: an owned key may hold one."""
    doc = TomlDoc.parse("[options]\ndirect-server = '''it's'''\n")
    assert doc.get("options", "direct-server") == "it's"
    doc.set("options", "direct-server", "Y")
    assert doc.render() == "[options]\ndirect-server = '''Y'''\n"
    doc.set("options", "direct-server", "it's")
    assert doc.render() == "[options]\ndirect-server = '''it's'''\n"


@pytest.mark.parametrize("old, value, line", [
    ("'N'", "Y", "k = 'Y'"),
    ("'N'", "it's", 'k = "it\'s"'),             # a ' cannot go in a one-quote literal
    ("'N'", "a\nb", 'k = "a\\nb"'),              # nor a newline
    ("'N'", "tab\there", "k = 'tab\there'"),     # a tab can
    ("'N'", "\x07", 'k = "\\u0007"'),
    ("'''it's'''", "x'''y", 'k = "x\'\'\'y"'),
    ("'''it's'''", "ends'", 'k = "ends\'"'),
    ("'''it's'''", "'starts", 'k = "\'starts"'),
    ('"N"', "Y", 'k = "Y"'),
    ("1", "Y", 'k = "Y"'),
])
def test_a_literal_value_keeps_its_style_when_the_new_value_fits(old, value, line):
    doc = TomlDoc.parse("k = %s\n" % old)
    doc.set("", "k", value)
    assert doc.render() == line + "\n"
    assert tomllib.loads(doc.render())["k"] == value


def test_giving_a_key_back_its_old_value_gives_back_the_file():
    """The host-side step records a key's value and puts it back when the phase is switched off."""
    for text in (RUSTDESK2, RUSTDESK2.replace("\n", "\r\n"), DEFAULT, RUSTDESK):
        doc = TomlDoc.parse(text)
        originals = {k: doc.get("options", k) for k in ("direct-server", "image_quality", "enable-hwcodec")}
        for k in originals:
            doc.set("options", k, "changed")
        for k, v in originals.items():
            if v is None:
                doc.unset("options", k)
            else:
                doc.set("options", k, v)
        if text is RUSTDESK:  # no [options] there: the appended table stays, empty
            assert doc.render() == text + "\n[options]\n"
        else:
            assert doc.render() == text


def test_get():
    doc = TomlDoc.parse(RUSTDESK2)
    assert doc.get("options", "absent") is None
    assert doc.get("absent", "x") is None
    assert doc.get("", "rendezvous_server") == "rs-ny.rustdesk.com:21116"
    with pytest.raises(TomlError, match="the top level nat_type holds a TOML integer, not a string"):
        doc.get("", "nat_type")
    with pytest.raises(TomlError, match=r"\[options\] holds a TOML string, not a table|is a TOML string"):
        TomlDoc.parse("options = 'x'\n").get("options", "direct-server")
    with pytest.raises(TomlError, match="TOML table, not a string"):
        TomlDoc.parse("[a.b]\n").get("a", "b")


def test_unset():
    doc = TomlDoc.parse(RUSTDESK2)
    assert doc.unset("options", "absent") is False
    assert doc.unset("nothing", "x") is False
    assert doc.unset("options", "direct-server") is True
    assert doc.render() == RUSTDESK2.replace("direct-server = 'N'\n", "")
    assert "direct-server" not in tomllib.loads(doc.render())["options"]
    # the last line of a file without a final newline, in CRLF
    doc = TomlDoc.parse("[o]\r\na = 'b'\r\nc = 'd'")
    assert doc.unset("o", "c") and doc.render() == "[o]\r\na = 'b'"
    doc = TomlDoc.parse("a = 'b'")
    assert doc.unset("", "a") and doc.render() == ""
    # set then unset gives the file back
    doc = TomlDoc.parse(DEFAULT)
    doc.set("options", "codec-preference", "vp9")
    doc.unset("options", "codec-preference")
    assert doc.render() == DEFAULT


@pytest.mark.parametrize("text", ["a = ", "[a\n", "a = 1\na = 2\n", "\ufeffa = 1\n", "a = 'x\ny'\n", "a = 1\rb = 2"])
def test_invalid_toml_is_refused(text):
    with pytest.raises(TomlError, match="not valid TOML"):
        TomlDoc.parse(text)


def test_non_text_is_refused():
    with pytest.raises(TomlError, match="is text"):
        TomlDoc.parse(b"a = 1")  # type: ignore[arg-type]
    with pytest.raises(TomlError, match="a key is text"):
        TomlDoc.parse("").set("t", 1, "x")  # type: ignore[arg-type]
    with pytest.raises(TomlError, match="made of strings"):
        table_path(["a", 1])  # type: ignore[list-item]


def test_an_edit_tomllib_would_not_read_back_is_refused(monkeypatch):
    """The last line of defence: whatever the line edit, the result must read back as expected."""
    doc = TomlDoc.parse(DEFAULT)
    monkeypatch.setattr(TomlDoc, "_put", lambda self, path, key, value, rendered: self._lines.insert(0, "broken = "))
    with pytest.raises(TomlError, match="would not give valid TOML"):
        doc.set("options", "x", "y")
    assert doc.render() == DEFAULT
    monkeypatch.setattr(TomlDoc, "_put", lambda self, path, key, value, rendered: self._lines.insert(0, "other = 1"))
    with pytest.raises(TomlError, match="would change other values"):
        doc.set("options", "x", "y")
    assert doc.render() == DEFAULT


# --------------------------------------------------------------------------- property tests

NAME = st.one_of(st.from_regex(r"[A-Za-z0-9_-]{1,8}", fullmatch=True),
                 st.text(st.characters(blacklist_categories=("Cs",)), max_size=6))
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=16)
SCALAR = st.one_of(TEXT, TEXT, st.integers(-10 ** 6, 10 ** 6), st.booleans(),
                   st.lists(st.one_of(st.integers(0, 99), TEXT), max_size=3))
TABLE = st.dictionaries(NAME, SCALAR, max_size=4)


@st.composite
def documents(draw):
    root = draw(st.dictionaries(NAME, SCALAR, max_size=3))
    tables = draw(st.dictionaries(NAME.filter(lambda n: n not in root), TABLE, max_size=3))
    for name, table in tables.items():
        if draw(st.booleans()) and draw(st.booleans()):
            sub = draw(NAME.filter(lambda n, t=table: n not in t))
            table[sub] = draw(TABLE)
    return dict(root, **tables)


def _quoted(rng: random.Random, text: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_-]+", text) and rng.random() < 0.8:
        return text
    if "'" not in text and not re.search(r"[\x00-\x08\x0a-\x1f\x7f]", text) and rng.random() < 0.5:
        return "'" + text + "'"
    return basic_string(text)


def _string(rng: random.Random, value: str) -> str:
    choices = [toml05_str(value), toml05_str(value), basic_string(value)]
    plain = not re.search(r"[\x00-\x08\x0a-\x1f\x7f]", value)
    if plain and "'" not in value:
        choices.append("'" + value + "'")
    if not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", value) and "'''" not in value and not value.endswith("'"):
        choices.append("'''\n" + value + "'''")
    ml = "".join("\n" if ch == "\n" else basic_string(ch)[1:-1] for ch in value)  # escapes, raw newlines
    choices.append('"""\n' + ml + '"""')
    return rng.choice(choices)


class Writer:
    """Writes a document in many of the ways TOML allows (and toml 0.5 uses), noting which keys span lines."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.lines: List[str] = []
        self.multi: Set[Tuple[Tuple[str, ...], str]] = set()

    def comment(self) -> str:
        return self.rng.choice(["", "", "", "  # ] = [options] 'x' \"y\""])

    def value(self, v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, str):
            return _string(self.rng, v)
        items = [self.value(x) for x in v]
        if len(items) >= 2 and self.rng.random() < 0.5:  # toml 0.5 pretty arrays
            inner = "".join("\n    %s,%s" % (x, self.rng.choice(["", " # ], ["])) for x in items)
            return "[" + inner + "\n]"
        return "[" + ", ".join(items) + "]"

    def entries(self, path: Tuple[str, ...], table: Dict[str, Any]) -> None:
        for key, v in table.items():
            if isinstance(v, dict):
                continue
            if self.rng.random() < 0.2:
                self.lines.append(self.rng.choice(["", "# a comment", "   "]))
            text = self.value(v)
            if "\n" in text:
                self.multi.add((path, key))
            indent = self.rng.choice(["", "", "  ", "\t"])
            eq = self.rng.choice([" = ", "=", " =\t"])
            self.lines.extend((indent + _quoted(self.rng, key) + eq + text + self.comment()).split("\n"))

    def header(self, path: Tuple[str, ...]) -> None:
        if self.lines and self.rng.random() < 0.7:
            self.lines.append("")
        self.lines.append("[%s]%s" % (".".join(_quoted(self.rng, p) for p in path), self.comment()))

    def document(self, doc: Dict[str, Any]) -> Tuple[str, Set[Tuple[Tuple[str, ...], str]]]:
        self.entries((), doc)
        for name, table in doc.items():
            if not isinstance(table, dict):
                continue
            subs = {k: v for k, v in table.items() if isinstance(v, dict)}
            if len(subs) < len(table) or not subs or self.rng.random() < 0.5:
                self.header((name,))
                self.entries((name,), table)
            for sub, inner in subs.items():
                self.header((name, sub))
                self.entries((name, sub), inner)
        newline = self.rng.choice(["\n", "\n", "\r\n"])
        text = newline.join(line.replace("\n", newline) for line in self.lines)
        if self.rng.random() < 0.8:
            text += newline
        return text, self.multi


@st.composite
def edits(draw, doc, multi):
    if multi and draw(st.integers(0, 3)) == 0:  # an owned key written over several lines: must be refused
        path, key = draw(st.sampled_from(sorted(multi)))
        return draw(st.sampled_from(["set", "unset"])), path, key, draw(TEXT)
    tables = [()] + [(n,) for n, t in doc.items() if isinstance(t, dict)] + [
        (n, s) for n, t in doc.items() if isinstance(t, dict) for s, v in t.items() if isinstance(v, dict)]
    path = draw(st.one_of(st.sampled_from(tables), st.lists(NAME, min_size=1, max_size=2).map(tuple)))
    node: Any = doc
    for part in path:
        node = node.get(part, {}) if isinstance(node, dict) else None
    keys = list(node) if isinstance(node, dict) else []
    key = draw(st.sampled_from(keys) if keys and draw(st.booleans()) else NAME)
    return draw(st.sampled_from(["set", "set", "unset"])), path, key, draw(TEXT)


def _norm(text: str) -> List[str]:
    """The lines of ``text`` without their line breaks (CRLF or LF; the last one may have none)."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _only_inserted(old: List[str], new: List[str]) -> bool:
    k = len(new) - len(old)
    return k > 0 and any(new[:i] + new[i + k:] == old for i in range(len(new) - k + 1))


def _only_removed(old: List[str], new: List[str]) -> bool:
    return _only_inserted(old=new, new=old)


def _blocked(doc: Dict[str, Any], path: Tuple[str, ...], key: str, multi) -> Optional[str]:
    """Why the editor must refuse this edit (None: it must not)."""
    node: Any = doc
    for part in path:
        if not isinstance(node, dict):
            return "path"
        node = node.get(part, {})
    if not isinstance(node, dict):
        return "path"
    if isinstance(node.get(key), dict):
        return "table"
    if (path, key) in multi and key in node:
        return "multi-line"
    return None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), documents(), st.randoms(use_true_random=False))
@example(data=None, doc={"options": {"direct-server": "N"}}, rng=random.Random(1))
def test_generated_documents_and_edits(data, doc, rng):
    text, multi = Writer(rng).document(doc)
    assert tomllib.loads(text) == doc, text  # the generator writes what it means
    parsed = TomlDoc.parse(text)
    assert parsed.render() == text
    if data is None:
        op, path, key, value = "set", ("options",), "direct-server", "Y"
    else:
        op, path, key, value = data.draw(edits(doc, multi))
    expected = copy.deepcopy(doc)
    why = _blocked(doc, path, key, multi)
    event("blocked %s" % why if why else op)
    if why:
        with pytest.raises(TomlError):
            if op == "set":
                parsed.set(path, key, value)
            elif not parsed.unset(path, key):
                raise TomlError("absent")
        assert parsed.render() == text
        return
    old = _norm(text)
    if op == "set":
        node = expected
        for part in path:
            node = node.setdefault(part, {})
        existed = key in node
        node[key] = value
        parsed.set(path, key, value)
        new = _norm(parsed.render())
        if existed:
            assert len(new) == len(old) and sum(a != b for a, b in zip(old, new)) <= 1
        else:
            assert _only_inserted(old, new)
        assert parsed.get(path, key) == value
    else:
        node = expected
        for part in path:
            node = node.get(part, {}) if isinstance(node, dict) else {}
        present = key in node
        if present:
            del node[key]
        assert parsed.unset(path, key) is present
        new = _norm(parsed.render())
        if present:
            assert len(new) == len(old) - 1 and _only_removed(old, new)
        else:
            assert parsed.render() == text
    assert tomllib.loads(parsed.render()) == expected
    assert TomlDoc.parse(parsed.render()).render() == parsed.render()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["options", "", "socks", "new table"]), NAME, TEXT), max_size=8))
def test_a_sequence_of_edits_on_rustdesk_files_keeps_every_other_value(edits_):
    """RustDesk's own files: the secrets and the key pair are never touched, whatever is set."""
    for base in (RUSTDESK2, RUSTDESK, DEFAULT):
        doc = TomlDoc.parse(base)
        expected = tomllib.loads(base)
        for table, key, value in edits_:
            node = expected
            for part in table_path(table):
                node = node.setdefault(part, {})
            if isinstance(node.get(key), (dict, list)) or (table == "options" and key == "custom-rendezvous-server"
                                                           and base is RUSTDESK2):
                continue
            if key in node and not isinstance(node[key], str):
                continue
            doc.set(table, key, value)
            node[key] = value
        assert tomllib.loads(doc.render()) == expected
