"""The in-process writer: the same batch through ControllerModule gives what the module gives."""
from __future__ import annotations

import os
import shutil
import stat

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from conftest import run_module

from ansible_collections.nixperf.tuning.plugins.module_utils.controller import ControllerModule, octal_mode
from ansible_collections.nixperf.tuning.plugins.module_utils.files import WriteError, write_batch, write_files_spec
from ansible_collections.nixperf.tuning.plugins.modules import write_files

MEMORY = {"phase": "memory", "config": {"zramSwap": {"enable": True}}}


def run_here(args, check=False):
    params = ArgumentSpecValidator(write_files_spec()).validate(args).validated_parameters
    module = ControllerModule(check_mode=check)
    try:
        return write_batch(module, params), module
    finally:
        module.cleanup()


def here(args, check=False):
    return run_here(args, check)[0]


def strip(result, root):
    """A result with the tree's root replaced, for comparing two trees' results."""
    text = repr({k: v for k, v in result.items() if k not in ("invocation", "warnings")})
    return text.replace(str(root), "ROOT")


def batch(root):
    d = root / "etc/nixos/nixperf"
    return dict(files=[{"path": str(d / "memory.nix"), "module": MEMORY},
                       {"path": str(d / "notes.txt"), "content": "x\n", "mode": "0600"}], indexes=[str(d)])


@pytest.mark.parametrize("check", [False, True])
def test_same_result_as_the_module(tmp_path, capsys, check, nix):
    a, b = tmp_path / "a", tmp_path / "b"
    for root in (a, b):
        (root / "etc/nixos/nixperf").mkdir(parents=True)
        (root / "etc/nixos/nixperf/memory.nix").write_text("# old\n{ }\n")
    by_module = run_module(write_files.main, batch(a), capsys, check=check)
    by_controller = here(batch(b), check=check)
    assert strip(by_controller, b) == strip({k: v for k, v in by_module.items() if k != "invocation"}, a)
    for name in ("memory.nix", "default.nix", "notes.txt"):
        pa, pb = a / "etc/nixos/nixperf" / name, b / "etc/nixos/nixperf" / name
        assert pa.exists() == pb.exists()
        if pa.exists():
            assert pa.read_bytes() == pb.read_bytes()
            assert stat.S_IMODE(os.stat(pa).st_mode) == stat.S_IMODE(os.stat(pb).st_mode)
    if not check:
        assert stat.S_IMODE(os.stat(b / "etc/nixos/nixperf/notes.txt").st_mode) == 0o600
        assert by_controller["files"][0]["validated"] is True  # the real nix-instantiate ran


def test_second_run_changes_nothing_and_mode_drift_is_fixed(tmp_path):
    here(batch(tmp_path))
    again = here(batch(tmp_path))
    assert again["changed"] is False and again["changed_files"] == []
    notes = tmp_path / "etc/nixos/nixperf/notes.txt"
    os.chmod(notes, 0o644)
    predicted = here(batch(tmp_path), check=True)
    assert predicted["changed_files"] == [str(notes)]
    assert stat.S_IMODE(os.stat(notes).st_mode) == 0o644  # check mode: untouched
    fixed = here(batch(tmp_path))
    assert fixed["changed_files"] == [str(notes)] and stat.S_IMODE(os.stat(notes).st_mode) == 0o600


def test_backup_keeps_the_replaced_file(tmp_path):
    here(batch(tmp_path))
    args = batch(tmp_path)
    args["files"][1]["content"] = "y\n"
    result = here(dict(args, backup=True))
    (entry,) = [f for f in result["files"] if f.get("backup_file")]
    assert open(entry["backup_file"]).read() == "x\n" and entry["backup_file"].endswith("~")


def test_broken_raw_fragment_fails_before_writing(tmp_path, nix):
    d = tmp_path / "n"
    args = dict(files=[{"path": str(d / "m.nix"), "module": {"phase": "memory", "config": {"a": {"_nix": "1 +"}}}}])
    with pytest.raises(WriteError) as err:
        here(args)
    assert "raw Nix fragment '1 +' does not parse" in str(err.value)
    assert not (d / "m.nix").exists()


def test_without_nix_instantiate_it_warns(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr("ansible_collections.nixperf.tuning.plugins.module_utils.cmd.NIX_BIN_DIRS", [])
    result, module = run_here(dict(files=[{"path": str(tmp_path / "m.nix"), "content": "{ }\n"}]))
    assert result["changed"] is True and module.warnings == [
        "nix-instantiate not found on the target: generated files were not parsed"]


def test_adapter_pieces(tmp_path):
    assert [octal_mode(m) for m in ("0644", "644", 0o600, "u=rw", True, 99999)] == [0o644, 0o644, 0o600, None,
                                                                                    None, None]
    m = ControllerModule(check_mode=False)
    assert m.run_command(["sh", "-c", "echo $X; echo e >&2; exit 3"], environ_update={"X": "1"}) == (3, "1\n", "e\n")
    assert m.get_bin_path("sh") == shutil.which("sh")
    assert m.get_bin_path("no-such-program-here") is None
    with pytest.raises(OSError):
        m.get_bin_path("no-such-program-here", required=True)
    src, dest = tmp_path / "src", tmp_path / "dest"
    src.write_text("new")
    dest.write_text("old")
    os.chmod(dest, 0o640)
    m.atomic_move(str(src), str(dest))
    assert dest.read_text() == "new" and stat.S_IMODE(os.stat(dest).st_mode) == 0o640
    assert m.set_fs_attributes_if_different({"path": str(dest), "mode": "0640"}, False) is False
    assert m.set_fs_attributes_if_different({"path": str(dest), "mode": "u=rw"}, False) is False  # not handled here
    tmp = m.tmpdir
    assert os.path.isdir(tmp)
    m.cleanup()
    assert not os.path.exists(tmp)


def test_plan_arguments_derive_backup_and_shadow_from_the_plan():
    from ansible_collections.nixperf.tuning.plugins.action.write_files import plan_arguments

    files = {"/r/etc/nixos/nixperf/m.nix": {"path": "/r/etc/nixos/nixperf/m.nix", "content": "{ }\n"}}
    plan = {"files": files, "indexes": ["/r/etc/nixos/nixperf"], "mode": "apply", "root": "/r",
            "require_import": {"directory": "/r/etc/nixos/nixperf", "candidates": ["/r/etc/nixos/configuration.nix"]}}
    got = plan_arguments(plan, {}, None, check=True)
    assert got["backup"] is True and got["files"] == list(files.values())
    assert got["shadow"] == {"source": "/r/etc/nixos", "dest": "/r/tmp/nixperf-shadow"}
    assert plan_arguments(plan, {}, "/s", check=True)["shadow"]["dest"] == "/s"
    assert "shadow" not in plan_arguments(plan, {}, None, check=False)
    given = plan_arguments(plan, {"backup": False, "indexes": []}, None, check=False)
    assert "backup" not in given and "indexes" not in given  # what the task gives wins
    render = plan_arguments(dict(plan, mode="render", require_import=None), {}, None, check=True)
    assert render["backup"] is False and "shadow" not in render and "require_import" not in render
