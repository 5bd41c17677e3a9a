"""KDE's rc file format (kdeconfig): byte-exact round trips, edits that touch one line, and the real KConfig
(``kreadconfig5``/``kwriteconfig5`` from Debian's libkf5config-bin) reading what we write and writing what we read."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ansible_collections.nixperf.tuning.plugins.module_utils.kdeconfig import KConfigDoc, KConfigError
from support import KConfigTools, kconfig_tools

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "kde"
NAMES = ["kwinrc", "kdeglobals", "baloofilerc"]


@pytest.fixture(scope="session")
def kconfig() -> KConfigTools:
    return kconfig_tools()


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def copy_fixture(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    target.write_text(fixture_text(name), encoding="utf-8")
    return target


# round trips and what the parser makes of the fixtures

@pytest.mark.parametrize("name", NAMES)
def test_fixture_round_trip_is_byte_exact(name):
    text = fixture_text(name)
    assert KConfigDoc.parse(text).render() == text


def test_fixtures_read_like_kconfig():
    kwin = KConfigDoc.parse(fixture_text("kwinrc"))
    assert kwin.get(("Compositing",), "Backend") == "OpenGL"
    assert kwin.get(("NightColor",), "Active") == "true"  # white space around "="
    assert kwin.get(("Desktops",), "Name_2") == " Scratch "
    assert kwin.get(("Tiling", "345e7e0b-2b5f-4b73-9e5f-8a8e7c1b0f2d"), "tiles").startswith('{"layoutDirection"')
    assert kwin.get(("Tiling",), "padding") == "4"
    assert kwin.get(("Wayland",), "InputMethod") == "$HOME/.nix-profile/share/applications/org.fcitx.Fcitx5.desktop"
    assert kwin.flags(("Wayland",), "InputMethod") == "e"
    assert ("Tiling", "345e7e0b-2b5f-4b73-9e5f-8a8e7c1b0f2d") in kwin.groups()
    globals_ = KConfigDoc.parse(fixture_text("kdeglobals"))
    assert globals_.get(("General",), "Name") == "Breeze Dark"
    assert globals_.get(("General",), "Name", locale="de") == "Breeze Dunkel"
    assert globals_.is_immutable(("KDE Action Restrictions",))
    assert globals_.flags(("KDE Action Restrictions",), "shell_access") == "i"
    assert globals_.is_immutable(("WM",), "frame") and not globals_.is_immutable(("WM",), "activeFont")
    assert globals_.get(("ColorEffects:Disabled",), "ChangeSelectionColor") == ""
    assert globals_.get(("General",), "Missing") is None


# edits

def test_set_changes_only_the_key_line():
    text = fixture_text("kwinrc")
    doc = KConfigDoc.parse(text)
    doc.set(("Compositing",), "Backend", "QPainter")
    old, new = text.split("\n"), doc.render().split("\n")
    assert [i for i, (a, b) in enumerate(zip(old, new)) if a != b] == [old.index("Backend=OpenGL")]
    assert len(old) == len(new) and new[old.index("Backend=OpenGL")] == "Backend=QPainter"


def test_new_key_goes_after_the_last_entry_of_its_group():
    doc = KConfigDoc.parse("[A]\na=1\n# note\n\n[B]\nb=2\n")
    doc.set(("A",), "c", "3")
    assert doc.render() == "[A]\na=1\nc=3\n# note\n\n[B]\nb=2\n"
    doc = KConfigDoc.parse("[A]\n\n[B]\nb=2")
    doc.set(("A",), "c", "3")
    doc.set(("B",), "d", "4")
    assert doc.render() == "[A]\nc=3\n\n[B]\nb=2\nd=4"


def test_new_group_goes_at_the_end_after_one_blank_line():
    doc = KConfigDoc.parse("[A]\na=1\n")
    doc.set(("Plugins",), "blurEnabled", "false")
    doc.set(("A", "B"), "k", "v")
    assert doc.render() == "[A]\na=1\n\n[Plugins]\nblurEnabled=false\n\n[A][B]\nk=v\n"
    doc = KConfigDoc.parse("[A]\na=1")  # no newline at the end
    doc.set(("C",), "k", "v")
    assert doc.render() == "[A]\na=1\n\n[C]\nk=v\n"
    empty = KConfigDoc.parse("")
    empty.set(("C",), "k", "v")
    assert empty.render() == "[C]\nk=v\n"


def test_default_group_keys_come_first():
    doc = KConfigDoc.parse("[A]\na=1\n")
    doc.set((), "top", "v")
    assert doc.render() == "top=v\n\n[A]\na=1\n"
    doc.set(("<default>",), "second", "w")
    assert doc.render() == "top=v\nsecond=w\n\n[A]\na=1\n"
    assert KConfigDoc.parse("x=1\n[<default>]\ny=2\n").get((), "y") == "2"


def test_crlf_lines_are_kept():
    doc = KConfigDoc.parse("[A]\r\na = 1\r\n")
    assert doc.get(("A",), "a") == "1"
    doc.set(("A",), "a", "2")
    doc.set(("B",), "b", "3")
    assert doc.render() == "[A]\r\na=2\r\n\r\n[B]\r\nb=3\r\n"


def test_set_writes_flags_and_locale():
    doc = KConfigDoc.parse("[General]\nName=Breeze\n")
    doc.set(("General",), "Name", "Brise", locale="de")
    doc.set(("General",), "Path", "$HOME/x", expand=True, immutable=True)
    assert doc.render() == "[General]\nName=Breeze\nName[de]=Brise\nPath[$ie]=$HOME/x\n"
    assert doc.get(("General",), "Name") == "Breeze" and doc.get(("General",), "Name", "de") == "Brise"


def test_duplicates_last_wins_unless_an_earlier_one_is_immutable():
    doc = KConfigDoc.parse("[A]\nk=1\nk=2\n[A]\nk=3\n")
    assert doc.get(("A",), "k") == "3"
    doc.set(("A",), "k", "4")
    assert doc.render() == "[A]\nk=1\nk=2\n[A]\nk=4\n"
    assert KConfigDoc.parse("[A]\nk[$i]=1\nk=2\n").get(("A",), "k") == "1"
    assert KConfigDoc.parse("[A][$i]\nk=1\n[A]\nk=2\n").get(("A",), "k") == "1"
    deleted = KConfigDoc.parse("[A]\nk=1\nk[$d]\n")
    assert deleted.get(("A",), "k") is None and deleted.flags(("A",), "k") == "d"


def test_unset():
    text = "[A]\nk=1\nj=2\nk=3\n"
    doc = KConfigDoc.parse(text)
    assert doc.unset(("A",), "missing") is False and doc.unset(("Nope",), "k") is False
    assert doc.render() == text
    assert doc.unset(("A",), "k") is True
    assert doc.render() == "[A]\nj=2\n" and doc.get(("A",), "k") is None


@pytest.mark.parametrize("text, path, key", [
    ("[KDE Action Restrictions][$i]\nshell_access=true\n", ("KDE Action Restrictions",), "shell_access"),
    ("[KDE Action Restrictions][$i]\nshell_access=true\n", ("KDE Action Restrictions",), "new_key"),
    ("[WM]\nframe[$i]=61,174,233\n", ("WM",), "frame"),
    ("[$i]\n[KDE]\nx=1\n", ("KDE",), "AnimationDurationFactor"),
    ("[A][B][$i]\nk=1\n", ("A", "B"), "k"),
])
def test_immutable_is_refused_naming_group_and_key(text, path, key):
    doc = KConfigDoc.parse(text)
    with pytest.raises(KConfigError, match="immutable") as err:
        doc.set(path, key, "0")
    assert "[%s]" % "][".join(path) in str(err.value) and key in str(err.value)
    if doc.get(path, key) is not None:
        with pytest.raises(KConfigError, match="immutable"):
            doc.unset(path, key)
    assert doc.render() == text


@pytest.mark.parametrize("text, line, message", [
    ("[A]\nk=1\n[B\nj=2\n", 3, "group header"),
    ("[A][B\n", 1, "group header"),
    ("[A]\njustakey\n", 2, "missing '='"),
    ("[A]\nk[de=1\n", 2, "missing '\\]'"),
    ("[A]\nk[de][fr]=1\n", 2, "second locale"),
    ("[A]\n=1\n", 2, "empty key"),
    ("[A]\nk=a\\qb\n", 2, "invalid escape"),
    ("k=\\xzz1\n", 1, "hex"),
])
def test_what_kconfig_refuses_is_an_error_with_the_line(text, line, message):
    with pytest.raises(KConfigError, match="line %d: .*%s" % (line, message)):
        KConfigDoc.parse(text)


def test_escapes_read_like_printable_to_string():
    doc = KConfigDoc.parse("[A]\n"
                           "a=\\sx\\ty\\nz\\r\\\\\\s\n"
                           "b=keep\\;and\\,\n"
                           "c=\\x41\\xc3\\xa9\n"
                           "d=end\\\n"
                           "e=  no escape  \n"
                           "[\\x24i]\nk=1\n"
                           "[ spaced ]\nk=2\n")
    assert doc.get(("A",), "a") == " x\ty\nz\r\\ "
    assert doc.get(("A",), "b") == "keep\\;and\\,"
    assert doc.get(("A",), "c") == "A\u00e9"
    assert doc.get(("A",), "d") == "end\\"
    assert doc.get(("A",), "e") == "no escape"
    assert doc.get(("$i",), "k") == "1"
    assert doc.get((" spaced ",), "k") == "2"


def test_set_escapes_like_string_to_printable():
    doc = KConfigDoc.parse("")
    doc.set(("P/x]", "C["), "k=[y] ", " lead; a,b=c [x] \u00e9\ntab\t\\ end \x7f\x01")
    doc.set(("A", "$ie"), "z", "v")
    assert doc.render() == ("[P/x\\x5d][C\\x5b]\nk\\x3d\\x5by\\x5d\\s=\\slead; a,b=c [x] \u00e9\\ntab\\t\\\\ end \\x7f\\x01\n"
                            "\n[A][\\x24ie]\nz=v\n")


def test_bad_arguments_are_refused():
    doc = KConfigDoc.parse("")
    for args in [(("A",), "#comment", "v"), (("A",), "", "v"), (" A", "k", "v"), ((" A",), "k", "v"), (("A",), "k", 1), (("A",), "k", "\ud800")]:
        with pytest.raises(KConfigError):
            doc.set(*args)
    with pytest.raises(KConfigError):
        doc.set(("A",), "k", "v", locale="d]e")


# against the real KConfig

SAMPLES = [
    (("Compositing",), "Backend", "QPainter"),
    (("Compositing",), "Enabled", "false"),
    (("KDE",), "AnimationDurationFactor", "0"),
    (("Plugins",), "blurEnabled", "false"),
    (("General",), "exclude folders", "$HOME/.cache/;$HOME/VMs/,x"),
    (("Leading",), "spaces", "  two leading and trailing  "),
    (("Lines",), "text", "first\nsecond\r\n\tthird \\ back\\;slash"),
    (("Unicode",), "name", "\u00c9cran \u2014 \u65e5\u672c\u8a9e \U0001f600"),
    (("Tiling", "345e7e0b", "deeper"), "tiles", '{"tiles":[{"width":0.5}]}'),
    (("Odd/Group]", "[Child"), "odd=key [x]", "v=1 [y]"),
    ((), "TopLevel", "value before any group"),
    (("Brackets",), "v", "[$i]"),
    (("Control",), "v", "bell\x07del\x7fend"),
    (("Empty",), "v", ""),
]


@pytest.mark.parametrize("name", NAMES)
def test_kreadconfig_reads_what_we_write(kconfig, tmp_path, name):
    doc = KConfigDoc.parse(fixture_text(name))
    for path, key, value in SAMPLES:
        doc.set(path, key, value)
    target = tmp_path / name
    target.write_text(doc.render(), encoding="utf-8")
    for path, key, value in SAMPLES:
        assert kconfig.read(target, path, key) == value, (path, key)
    # and every key of the fixture reads the same through both
    for (path, key, locale), value in doc.entries().items():
        if value is None or locale is not None:
            continue
        expected = value.replace("$HOME", str(tmp_path)) if "e" in doc.flags(path, key) else value
        assert kconfig.read(target, path, key) == expected, (path, key)


def test_kreadconfig_reads_localized_keys_we_write(kconfig, tmp_path):
    doc = KConfigDoc.parse(fixture_text("kdeglobals"))
    doc.set(("General",), "Name", "Brise \u00e9paisse", locale="fr")
    doc.set(("General",), "Comment", "Kommentar", locale="de")
    doc.set(("General",), "Comment", "Comment")
    target = tmp_path / "kdeglobals"
    target.write_text(doc.render(), encoding="utf-8")
    assert kconfig.read(target, ("General",), "Name", language="fr") == "Brise \u00e9paisse"
    assert kconfig.read(target, ("General",), "Name", language="de") == "Breeze Dunkel"
    assert kconfig.read(target, ("General",), "Comment", language="de") == "Kommentar"
    assert kconfig.read(target, ("General",), "Comment") == "Comment"


@pytest.mark.parametrize("name, path, key, value", [
    ("kwinrc", ("Compositing",), "Backend", "QPainter"),
    ("kwinrc", ("Tiling", "345e7e0b-2b5f-4b73-9e5f-8a8e7c1b0f2d"), "tiles", " lead, [x]; tail "),
    ("kwinrc", ("Brand", "New"), "key", "multi\nline\t\\"),
    ("kdeglobals", ("KDE",), "AnimationDurationFactor", "0"),
    ("kdeglobals", ("General",), "Name", "\u00c9cran \U0001f600"),
    ("baloofilerc", ("General",), "only basic indexing", "false"),
    ("baloofilerc", ("Basic Settings",), "Indexing-Enabled", "false"),
])
def test_we_read_what_kwriteconfig_writes(kconfig, tmp_path, name, path, key, value):
    target = copy_fixture(name, tmp_path)
    before = KConfigDoc.parse(target.read_text(encoding="utf-8")).entries()
    kconfig.write(target, path, key, value)
    after = KConfigDoc.parse(target.read_text(encoding="utf-8"))
    assert after.get(path, key) == value
    changed = after.entries()
    assert changed.pop((path, key, None)) == value
    before.pop((path, key, None), None)
    assert changed == before
    # KConfig rewrote the file: rendering it again changes nothing
    assert after.render() == target.read_text(encoding="utf-8")


def test_kwriteconfig_leaves_immutable_keys_alone(kconfig, tmp_path):
    """kwriteconfig5 fails (exit status 2) on an immutable key or group and keeps the file; we refuse the same."""
    target = copy_fixture("kdeglobals", tmp_path)
    assert kconfig.write(target, ("WM",), "frame", "1,2,3", check=False) != 0
    assert kconfig.write(target, ("KDE Action Restrictions",), "shell_access", "false", check=False) != 0
    assert target.read_text(encoding="utf-8") == fixture_text("kdeglobals")
    doc = KConfigDoc.parse(target.read_text(encoding="utf-8"))
    assert doc.get(("WM",), "frame") == "61,174,233"
    assert doc.get(("KDE Action Restrictions",), "shell_access") == "true"
    for path, key in [(("WM",), "frame"), (("KDE Action Restrictions",), "shell_access")]:
        with pytest.raises(KConfigError, match="immutable"):
            doc.set(path, key, "x")


# properties

WS_EDGE = " \t\n\v\f\r"
VALUES = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
NAMES_ST = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x1d"), min_size=1, max_size=12)
KEYS = NAMES_ST.filter(lambda s: not s.startswith("#"))  # KConfig reads such a line as a comment: set refuses it
GROUP_NAMES = NAMES_ST.filter(lambda s: s == s.strip(WS_EDGE) and s != "<default>")
LOCALES = st.none() | st.sampled_from(["de", "fr", "pt_BR", "x-test", "sr@latin"])
PATHS = st.lists(GROUP_NAMES, min_size=0, max_size=3).map(tuple)
ENTRIES = st.lists(st.tuples(PATHS, KEYS, LOCALES, VALUES, st.booleans(), st.booleans()), max_size=12)


def build(entries) -> Tuple[KConfigDoc, Dict]:
    doc = KConfigDoc.parse("")
    expected: Dict = {}
    for path, key, locale, value, immutable, expand in entries:
        ident = (path, key, locale)
        if doc.is_immutable(path, key, locale):
            continue
        doc.set(path, key, value, immutable=immutable, locale=locale, expand=expand)
        expected[ident] = value
    return doc, expected


def decorate(text: str, seed: int) -> str:
    """Comments, blank lines and white space around '=' that KConfig tolerates."""
    out: List[str] = []
    for index, line in enumerate(text.split("\n")):
        if line and not line.startswith("[") and (seed + index) % 2:
            key, value = line.split("=", 1)
            line = "%s \t= %s" % (key, value)
        if line and (seed + index) % 3 == 0:
            out.append("# comment %d [x]=y" % index)
        out.append(line if (seed + index) % 5 else "  " + line)
    return "\n".join(out)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ENTRIES, st.integers(0, 29))
def test_generated_documents_round_trip(entries, seed):
    doc, expected = build(entries)
    for text in (doc.render(), decorate(doc.render(), seed)):
        again = KConfigDoc.parse(text)
        assert again.render() == text
        assert again.entries() == expected


@settings(max_examples=100, deadline=None)
@given(PATHS, KEYS, LOCALES, VALUES, VALUES)
def test_set_get_round_trips_any_value(path, key, locale, first, second):
    doc = KConfigDoc.parse(fixture_text("kwinrc"))
    others = doc.entries()
    doc.set(path, key, first, locale=locale)
    assert doc.get(path, key, locale) == first
    doc.set(path, key, second, locale=locale)
    reread = KConfigDoc.parse(doc.render())
    assert reread.get(path, key, locale) == second
    entries = reread.entries()
    entries.pop((path, key, locale))
    others.pop((path, key, locale), None)
    assert entries == others


def test_value_of_none_locale_is_distinct(kconfig, tmp_path):
    """A key and its localized variant are separate entries for KConfig too."""
    doc = KConfigDoc.parse("[A]\nk=plain\nk[de]=deutsch\n")
    target = tmp_path / "rc"
    target.write_text(doc.render(), encoding="utf-8")
    assert kconfig.read(target, ("A",), "k") == "plain"
    assert kconfig.read(target, ("A",), "k", language="de") == "deutsch"
    assert doc.get(("A",), "k") == "plain" and doc.get(("A",), "k", "de") == "deutsch"


def test_ensure_keeps_a_key_already_as_asked_byte_for_byte():
    text = "[Plugins]\nblurEnabled = true\nslideEnabled[$i]=false\n"
    doc = KConfigDoc.parse(text)
    assert doc.ensure(["Plugins"], "blurEnabled", "true") is False  # spaces around "=" stay
    assert doc.ensure(["Plugins"], "slideEnabled", "false", immutable=True) is False
    assert doc.render() == text
    assert doc.ensure(["Plugins"], "blurEnabled", "true", expand=True) is True  # the options differ
    assert doc.ensure(["Plugins"], "magiclampEnabled", "false") is True
    assert doc.render() == "[Plugins]\nblurEnabled[$e]=true\nslideEnabled[$i]=false\nmagiclampEnabled=false\n"
