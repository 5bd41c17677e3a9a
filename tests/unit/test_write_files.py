"""write_files / nix_file modules, in-process, with the real nix-instantiate."""
from __future__ import annotations

import os
import stat

import pytest
from conftest import run_module
from support import snapshot

from ansible_collections.nixperf.tuning.plugins.module_utils import cmd, files
from ansible_collections.nixperf.tuning.plugins.module_utils.files import imports_dir, index_modules
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import nix_module
from ansible_collections.nixperf.tuning.plugins.modules import nix_file, write_files

MEMORY = {"phase": "memory", "config": {"zramSwap": {"enable": True}}}


def write(capsys, files, check=False, **kw):
    return run_module(write_files.main, dict(files=files, **kw), capsys, check=check)


def test_first_write_creates_files_index_and_diff(tmp_path, capsys, nix):
    d = tmp_path / "etc/nixos/nixperf"
    r = write(capsys, [{"path": str(d / "memory.nix"), "module": MEMORY}], indexes=[str(d)], role="memory")
    assert r["changed"] is True
    assert sorted(r["changed_files"]) == [str(d / "default.nix"), str(d / "memory.nix")]
    assert all(f["validated"] for f in r["files"])
    assert "imports = [ ./memory.nix ];" in (d / "default.nix").read_text()
    assert nix.parses(d / "default.nix", d / "memory.nix")
    assert stat.S_IMODE(os.stat(d / "memory.nix").st_mode) == 0o644
    diffs = {x["after_header"]: x for x in r["diff"]}
    assert diffs[str(d / "memory.nix")]["before_header"].endswith("(absent)")
    assert diffs[str(d / "memory.nix")]["before"] == ""
    assert "zramSwap.enable = true;" in diffs[str(d / "memory.nix")]["after"]
    assert not [n for n in os.listdir(d) if n.startswith(".nixperf-")]  # no temp files left


def test_second_write_changes_nothing(tmp_path, capsys):
    d = tmp_path / "n"
    args = dict(files=[{"path": str(d / "memory.nix"), "module": MEMORY}], indexes=[str(d)])
    write(capsys, **args)
    before = snapshot(tmp_path)
    r = write(capsys, **args)
    assert r["changed"] is False and r["changed_files"] == [] and r["diff"] == []
    assert snapshot(tmp_path) == before


def test_check_mode_on_fresh_tree_predicts_and_writes_nothing(tmp_path, capsys):
    d = tmp_path / "n"
    r = write(capsys, [{"path": str(d / "memory.nix"), "module": MEMORY}], indexes=[str(d)], check=True)
    assert r["changed"] is True and len(r["changed_files"]) == 2
    assert not d.exists()
    real = write(capsys, [{"path": str(d / "memory.nix"), "module": MEMORY}], indexes=[str(d)])
    assert sorted(real["changed_files"]) == sorted(r["changed_files"])


def test_check_mode_with_a_change_shows_before_and_after(tmp_path, capsys):
    p = tmp_path / "x.nix"
    p.write_text("{ a = 1; }\n")
    before = snapshot(tmp_path)
    r = write(capsys, [{"path": str(p), "data": {"a": 2}}], check=True)
    assert r["changed"] is True
    assert r["diff"][0]["before"] == "{ a = 1; }\n"
    assert "a = 2;" in r["diff"][0]["after"]
    assert snapshot(tmp_path) == before


def test_mode_change_alone_is_a_change(tmp_path, capsys):
    p = tmp_path / "x.nix"
    write(capsys, [{"path": str(p), "content": "1\n"}])
    os.chmod(p, 0o600)
    assert write(capsys, [{"path": str(p), "content": "1\n"}], check=True)["changed"] is True
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o600
    assert write(capsys, [{"path": str(p), "content": "1\n"}])["changed"] is True
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o644


def test_broken_raw_fragment_is_named_and_nothing_is_written(tmp_path, capsys):
    good = tmp_path / "good.nix"
    good.write_text("{ }\n")
    before = snapshot(tmp_path)
    r = write(capsys, [
        {"path": str(good), "data": {"ok": True}},
        {"path": str(tmp_path / "bad.nix"), "data": {"pkgs": [{"_nix": "pkgs.zstd"}, {"_nix": "pkgs.(broken"}]}},
    ], host="shoshin")
    assert r["failed"] is True
    assert "host shoshin" in r["msg"]
    assert "raw Nix fragment 'pkgs.(broken' does not parse" in r["msg"]
    assert str(tmp_path / "bad.nix") in r["msg"]
    assert snapshot(tmp_path) == before


def test_broken_content_fails_with_the_evaluator_error(tmp_path, capsys):
    p = tmp_path / "x.nix"
    p.write_text("{ }\n")
    before = snapshot(tmp_path)
    r = write(capsys, [{"path": str(p), "content": "{ a = ; }\n"}])
    assert r["failed"] is True and "does not parse as Nix" in r["msg"] and str(p) in r["msg"]
    assert ".nixperf-" not in r["msg"]  # the temp path is replaced by the real one
    assert snapshot(tmp_path) == before


def test_broken_file_is_also_caught_in_check_mode(tmp_path, capsys):
    r = write(capsys, [{"path": str(tmp_path / "x.nix"), "content": "{"}], check=True)
    assert r["failed"] is True


def test_non_nix_files_are_not_parsed(tmp_path, capsys):
    r = write(capsys, [{"path": str(tmp_path / "notes.txt"), "content": "{ not nix"}])
    assert r["changed"] is True and r["files"][0]["validated"] is False


def test_validate_never_and_missing_binary(tmp_path, capsys, monkeypatch):
    r = write(capsys, [{"path": str(tmp_path / "a.nix"), "content": "{"}], validate="never")
    assert r["changed"] is True
    monkeypatch.setattr(cmd, "find_nix_instantiate", lambda module: None)
    r = write(capsys, [{"path": str(tmp_path / "b.nix"), "content": "{ }"}], validate="always")
    assert r["failed"] is True and "nix-instantiate was not found" in r["msg"]
    assert not (tmp_path / "b.nix").exists()
    r = write(capsys, [{"path": str(tmp_path / "b.nix"), "content": "{ }"}], validate="auto")
    assert r["changed"] is True
    assert r["files"][0]["validated"] is False  # written, with a warning, unparsed


def test_backup_keeps_the_previous_file(tmp_path, capsys):
    p = tmp_path / "x.nix"
    p.write_text("{ old = true; }\n")
    r = write(capsys, [{"path": str(p), "data": {"new": True}}], backup=True)
    backup = r["files"][0]["backup_file"]
    assert open(backup).read() == "{ old = true; }\n"
    assert "new = true;" in p.read_text()


def test_index_keeps_earlier_generated_modules_but_not_hand_written_files(tmp_path, capsys):
    d = tmp_path / "n"
    d.mkdir()
    (d / "slices.nix").write_text(nix_module("slices", {})[0])
    (d / "mine.nix").write_text("{ }\n")
    write(capsys, [{"path": str(d / "memory.nix"), "module": MEMORY}], indexes=[str(d)])
    assert "imports = [ ./memory.nix ./slices.nix ];" in (d / "default.nix").read_text()


def test_import_check(tmp_path, capsys):
    etc = tmp_path / "etc/nixos"
    etc.mkdir(parents=True)
    conf = etc / "configuration.nix"
    req = {"directory": str(etc / "nixperf"), "candidates": [str(conf), str(etc / "flake.nix")]}
    entry = [{"path": str(etc / "nixperf/memory.nix"), "module": MEMORY}]
    r = write(capsys, entry, require_import=req, host="shoshin")
    assert r["failed"] is True
    assert "host shoshin" in r["msg"] and "imports = [ ./nixperf ];" in r["msg"] and "none of" in r["msg"]
    conf.write_text("{ ... }: {\n  # imports = [ ./nixperf ];\n}\n")
    r = write(capsys, entry, require_import=req, host="shoshin")
    assert r["failed"] is True and str(conf) in r["msg"]
    assert not (etc / "nixperf").exists()
    conf.write_text("{ ... }: {\n  imports = [ ./hardware-configuration.nix ./nixperf ];\n}\n")
    assert write(capsys, entry, require_import=req)["changed"] is True


@pytest.mark.parametrize("text,ok", [
    ("imports = [ ./nixperf ];", True),
    ("imports = [ ./nixperf/default.nix ];", True),
    ("modules = [ /etc/nixos/nixperf ];", True),
    ("imports = [ ./nixperf-old ];", False),
    ("imports = [ ./my/nixperf ];", False),
    ("/* ./nixperf */ { }", False),
    ("# ./nixperf", False),
])
def test_imports_dir(text, ok):
    assert imports_dir(text, "/etc/nixos/nixperf") is ok


def test_bad_entries(tmp_path, capsys):
    r = write(capsys, [{"path": "relative.nix", "content": "1"}])
    assert r["failed"] is True and "must be absolute" in r["msg"]
    p = str(tmp_path / "a.nix")
    r = write(capsys, [{"path": p, "content": "1"}, {"path": p, "content": "2"}])
    assert "given twice" in r["msg"]
    r = write(capsys, [{"path": str(tmp_path), "content": "1"}])
    assert "is a directory" in r["msg"]
    r = write(capsys, [{"path": p, "content": "1", "data": 1}])
    assert "mutually exclusive" in r["msg"]
    r = write(capsys, [{"path": p}])
    assert "one of the following is required" in r["msg"]
    r = write(capsys, [{"path": p, "data": float("nan")}])
    assert r["failed"] is True and "no literal" in r["msg"]


def test_index_modules():
    assert index_modules(["a.nix", "default.nix", "x.txt"], ["b.nix", "a.nix"]) == ["a.nix", "b.nix"]


def test_nix_file_module(tmp_path, capsys, nix):
    p = tmp_path / "sub" / "profile.nix"
    args = dict(path=str(p), data={"cpu": {"family": "skylake"}, "sys": {"_nix": "builtins.currentSystem"}}, backup=True)
    r = run_module(nix_file.main, args, capsys)
    assert r["changed"] is True and r["path"] == str(p)
    assert r["content"].startswith(files.header_comment("nix_file"))
    assert nix.parses(p)
    r = run_module(nix_file.main, args, capsys)
    assert r["changed"] is False and "backup_file" not in r
    r = run_module(nix_file.main, dict(args, data={"cpu": {}}), capsys, check=True)
    assert r["changed"] is True and r["diff"][0]["before"] != r["diff"][0]["after"]
    r = run_module(nix_file.main, dict(args, data={"cpu": {}}), capsys)
    assert open(r["backup_file"]).read() != p.read_text()
    r = run_module(nix_file.main, dict(path=str(p), content="{"), capsys)
    assert r["failed"] is True and r["msg"].startswith("Failed to write %s" % p)
