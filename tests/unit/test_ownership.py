"""The writer owns what it wrote: the record of generated files, removal of stale files, adoption, restore,
check-mode shadows.  Real files in temp roots, the real nix-instantiate."""
from __future__ import annotations

import json
import os
import stat
import tempfile

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from conftest import run_module
from support import snapshot

from ansible_collections.nixperf.tuning.plugins.action.write_files import plan_arguments
from ansible_collections.nixperf.tuning.plugins.module_utils import ownership
from ansible_collections.nixperf.tuning.plugins.module_utils.controller import ControllerModule
from ansible_collections.nixperf.tuning.plugins.module_utils.files import WriteError, write_batch, write_files_spec
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import header_comment, nix_module
from ansible_collections.nixperf.tuning.plugins.modules import restore_files, write_files

PHASES = ["memory", "resource_slices", "gpu_video", "hardware_profile", "runtimes"]


def nixos(root):
    return root / "etc/nixos/nixperf"


def home(root, user="mitsio"):
    return root / "home" / user / ".config/home-manager/nixperf"


def module_file(root, phase, where=nixos):
    return {"path": str(where(root) / (phase + ".nix")), "content": nix_module(phase, {"a": {"b": 1}})[0],
            "phase": phase}


def profile_file(root):
    return {"path": str(nixos(root) / "profile/hardware.nix"), "phase": "hardware_profile",
            "content": header_comment("hardware_profile", "Data, not a module.") + "{ cpu = \"skylake\"; }\n"}


def full_plan(root, users=("mitsio",)):
    files = [module_file(root, p) for p in ("memory", "resource_slices", "gpu_video", "hardware_profile")]
    files.append(profile_file(root))
    files += [module_file(root, "runtimes", lambda r, u=u: home(r, u)) for u in users]
    return files


def args(root, files, scope=tuple(PHASES), **kw):
    indexes = sorted({os.path.dirname(f["path"]) for f in files if "/profile/" not in f["path"]})
    out = dict(files=files, indexes=kw.pop("indexes", indexes), root=str(root), role="write")
    if scope is not None:
        out["scope"] = list(scope)
    out.update(kw)
    return out


def write(capsys, a, check=False):
    return run_module(write_files.main, a, capsys, check=check)


def without(files, *names):
    return [f for f in files if os.path.basename(f["path"]) not in names]


def manifest(root):
    return json.loads((root / ownership.MANIFEST).read_text())


def here(a, check=False):
    """write_batch in process (ControllerModule): the result and the warnings."""
    params = ArgumentSpecValidator(write_files_spec()).validate(a).validated_parameters
    module = ControllerModule(check_mode=check)
    try:
        return write_batch(module, params), module.warnings
    finally:
        module.cleanup()


# ---------------------------------------------------------------- pure functions


def test_manifest_round_trip_and_relative_paths(tmp_path):
    root = str(tmp_path)
    records = {root + "/etc/nixos/nixperf/memory.nix": ownership.record("memory", "x"),
               root + "/etc/nixos/nixperf/default.nix": ownership.record(None, "y", index=True)}
    text = ownership.dump_manifest(records, root)
    assert '"etc/nixos/nixperf/memory.nix"' in text and root not in text
    assert ownership.parse_manifest(text, root) == records
    assert ownership.parse_manifest(text, "/elsewhere") == {
        "/elsewhere" + p[len(root):]: r for p, r in records.items()}  # a moved tree keeps its record
    assert ownership.dump_manifest(records, root) == text  # deterministic
    assert ownership.index_dirs(records) == [root + "/etc/nixos/nixperf"]


@pytest.mark.parametrize("text,error", [
    ("{", "not JSON"),
    ('{"format": 2, "files": {}}', "expected"),
    ('{"format": 1, "files": {"/etc/passwd": {"phase": null, "sha256": "x"}}}', "not relative"),
    ('{"format": 1, "files": {"../../x": {"phase": null, "sha256": "x"}}}', "not relative"),
    ('{"format": 1, "files": {"a": {"phase": 1, "sha256": "x"}}}', "needs phase"),
])
def test_bad_manifests_are_refused(text, error):
    with pytest.raises(ownership.ManifestError, match=error):
        ownership.parse_manifest(text, "/r")


def test_adoption_by_place():
    dirs = ["/r/n", "/r/h/"]
    assert ownership.adopted_phase("/r/n", "memory.nix", dirs) == "memory"
    assert ownership.adopted_phase("/r/h", "runtimes.nix", dirs) == "runtimes"
    assert ownership.adopted_phase("/r/n", "default.nix", dirs) is None
    assert ownership.adopted_phase("/r/n", "notes.txt", dirs) is None
    assert ownership.adopted_phase("/r/n/profile", "hardware.nix", dirs) == "hardware_profile"
    assert ownership.adopted_phase("/r/n/profile", "hardware.nix.1.2026-01-01@00:00:00~", dirs) is None
    assert ownership.adopted_phase("/r/n/profile", ".nixperf-abc.nix.tmp", dirs) is None
    assert ownership.adopted_phase("/r/other", "memory.nix", dirs) is None


def test_stale_scope_and_index_members():
    records = {"/n/memory.nix": {"phase": "memory"}, "/n/gpu_video.nix": {"phase": "gpu_video"},
               "/n/default.nix": {"phase": None, "index": True}}
    assert ownership.stale(records, ["/n/memory.nix"], ["memory", "gpu_video"]) == ["/n/gpu_video.nix"]
    assert ownership.stale(records, ["/n/memory.nix"], ["memory"]) == []
    assert ownership.scope_of(None, ["memory", None, "memory"]) == ["memory"]
    assert ownership.scope_of(["b", "a"], ["memory"]) == ["a", "b"]
    assert ownership.index_members("/n/", ["/n/a.nix", "/n/default.nix", "/n/x.txt", "/n/p/h.nix", "/m/b.nix"]) \
        == ["a.nix"]


# ---------------------------------------------------------------- removal


def test_a_phase_left_out_is_removed_with_a_backup_and_unimported(tmp_path, capsys, nix):
    files = full_plan(tmp_path)
    first = write(capsys, args(tmp_path, files, backup=True))
    assert first["changed"] is True and first["removed_files"] == []
    (entry,) = [f for f in first["files"] if f.get("manifest")]
    assert entry == {"path": str(tmp_path / ownership.MANIFEST), "manifest": True, "changed": True, "created": True}
    recorded = manifest(tmp_path)["files"]
    assert recorded["etc/nixos/nixperf/gpu_video.nix"]["phase"] == "gpu_video"
    assert recorded["etc/nixos/nixperf/default.nix"] == {
        "phase": None, "index": True, "sha256": ownership.content_hash((nixos(tmp_path) / "default.nix").read_text())}
    assert recorded["etc/nixos/nixperf/profile/hardware.nix"]["phase"] == "hardware_profile"
    gpu = nixos(tmp_path) / "gpu_video.nix"
    old = gpu.read_text()
    assert "./gpu_video.nix" in (nixos(tmp_path) / "default.nix").read_text()

    r = write(capsys, args(tmp_path, without(files, "gpu_video.nix"), backup=True))
    assert r["changed"] is True
    assert r["removed_files"] == [str(gpu)]
    assert sorted(r["changed_files"]) == sorted([str(gpu), str(nixos(tmp_path) / "default.nix")])
    (removed,) = [f for f in r["files"] if f.get("removed")]
    assert removed["changed"] is True and open(removed["backup_file"]).read() == old
    assert removed["backup_file"].startswith(str(gpu) + ".") and removed["backup_file"].endswith("~")
    assert not gpu.exists()
    index = (nixos(tmp_path) / "default.nix").read_text()
    assert "gpu_video" not in index and "./memory.nix" in index
    assert nix.parses(nixos(tmp_path) / "default.nix")
    assert "etc/nixos/nixperf/gpu_video.nix" not in manifest(tmp_path)["files"]
    (diff,) = [d for d in r["diff"] if d["before_header"] == str(gpu)]
    assert diff == {"before_header": str(gpu), "after_header": "%s (absent)" % gpu, "before": old, "after": ""}
    assert "1 removed" in r["msg"]

    before = snapshot(tmp_path)
    again = write(capsys, args(tmp_path, without(files, "gpu_video.nix"), backup=True))
    assert again["changed"] is False and again["changed_files"] == [] and again["removed_files"] == []
    assert [f for f in again["files"] if f.get("manifest")][0]["changed"] is False
    assert snapshot(tmp_path) == before  # the record is not rewritten either


def test_check_mode_predicts_the_removal_exactly(tmp_path, capsys):
    files = full_plan(tmp_path)
    write(capsys, args(tmp_path, files))
    before = snapshot(tmp_path)
    smaller = without(files, "gpu_video.nix", "hardware.nix")
    check = write(capsys, args(tmp_path, smaller), check=True)
    assert snapshot(tmp_path) == before
    assert check["removed_files"] == [str(nixos(tmp_path) / "gpu_video.nix"),
                                      str(nixos(tmp_path) / "profile/hardware.nix")]
    assert all("backup_file" not in f for f in check["files"])
    headers = [(d["before_header"], d["after_header"]) for d in check["diff"] if d["after"] == ""]
    assert headers == [(p, p + " (absent)") for p in check["removed_files"]]
    real = write(capsys, args(tmp_path, smaller))
    assert real["changed_files"] == check["changed_files"] and real["removed_files"] == check["removed_files"]
    assert real["diff"] == check["diff"]
    assert os.path.isdir(nixos(tmp_path) / "profile")  # directories stay, the backup is there


def test_hand_written_files_and_phases_out_of_scope_are_kept(tmp_path, capsys):
    files = full_plan(tmp_path)
    write(capsys, args(tmp_path, files))
    mine = nixos(tmp_path) / "mine.nix"
    mine.write_text("{ }\n")
    # a role used on its own: the plan speaks for one phase only
    r = write(capsys, args(tmp_path, [module_file(tmp_path, "memory")], scope=["memory"],
                           indexes=[str(nixos(tmp_path))]))
    assert r["changed"] is False and r["removed_files"] == []
    assert sorted(os.listdir(nixos(tmp_path))) == ["default.nix", "gpu_video.nix", "hardware_profile.nix",
                                                   "memory.nix", "mine.nix", "profile", "resource_slices.nix"]
    assert (home(tmp_path) / "runtimes.nix").exists()
    index = (nixos(tmp_path) / "default.nix").read_text()
    assert "./gpu_video.nix ./hardware_profile.nix ./memory.nix ./resource_slices.nix" in index
    assert "mine.nix" not in index
    # switching gpu_video off in a full run removes it; the hand-written file stays
    r = write(capsys, args(tmp_path, without(files, "gpu_video.nix")))
    assert r["removed_files"] == [str(nixos(tmp_path) / "gpu_video.nix")]
    assert mine.read_text() == "{ }\n" and "mine.nix" not in (nixos(tmp_path) / "default.nix").read_text()


def test_without_scope_the_plans_phases_are_the_scope(tmp_path, capsys):
    files = full_plan(tmp_path, users=("mitsio", "guest"))
    write(capsys, args(tmp_path, files, scope=None))
    # guest leaves nixperf_users; gpu_video is not in the plan at all, so it is not spoken for
    smaller = [f for f in files if "/guest/" not in f["path"] and "gpu_video" not in f["path"]]
    r = write(capsys, args(tmp_path, smaller, scope=None, indexes=[str(nixos(tmp_path)), str(home(tmp_path))]))
    assert r["removed_files"] == [str(home(tmp_path, "guest") / "runtimes.nix")]
    assert (nixos(tmp_path) / "gpu_video.nix").exists()
    # guest's index is the writer's own: regenerated though no longer planned, importing nothing
    guest_index = home(tmp_path, "guest") / "default.nix"
    assert str(guest_index) in r["changed_files"] and "imports = [ ];" in guest_index.read_text()


def test_an_empty_directory_keeps_a_valid_index(tmp_path, capsys, nix):
    files = full_plan(tmp_path)
    write(capsys, args(tmp_path, files))
    r = write(capsys, args(tmp_path, [f for f in files if "/home/" not in f["path"]],
                           indexes=[str(nixos(tmp_path))]))
    assert r["removed_files"] == [str(home(tmp_path) / "runtimes.nix")]
    index = home(tmp_path) / "default.nix"
    assert "imports = [ ];" in index.read_text() and nix.parses(index)  # home.nix's `./nixperf` still evaluates


def test_files_written_before_the_record_are_adopted(tmp_path, capsys):
    files = full_plan(tmp_path)
    write(capsys, dict(args(tmp_path, files), root=None))  # an older writer: no record
    assert not (tmp_path / ownership.MANIFEST).exists()
    before = snapshot(tmp_path)
    same = write(capsys, args(tmp_path, files))
    assert same["changed"] is False and same["changed_files"] == []  # bookkeeping only
    assert [f for f in same["files"] if f.get("manifest")][0] == {
        "path": str(tmp_path / ownership.MANIFEST), "manifest": True, "changed": True, "created": True}
    assert {p: v for p, v in snapshot(tmp_path).items() if "var/lib" not in p} == before
    (tmp_path / ownership.MANIFEST).unlink()
    r = write(capsys, args(tmp_path, without(files, "gpu_video.nix", "hardware.nix")))
    assert r["removed_files"] == [str(nixos(tmp_path) / "gpu_video.nix"),
                                  str(nixos(tmp_path) / "profile/hardware.nix")]


def test_a_hand_edited_file_is_removed_with_a_warning_and_a_taken_over_one_is_left(tmp_path, capsys):
    files = full_plan(tmp_path)
    write(capsys, args(tmp_path, files))
    gpu, slices = nixos(tmp_path) / "gpu_video.nix", nixos(tmp_path) / "resource_slices.nix"
    gpu.write_text(gpu.read_text() + "# tweaked\n")
    slices.write_text("{ my own = true; }\n")  # the header is gone: the user took the file over
    # in process, where the warnings are plain (this test process imports controller code, so a module's
    # warnings would go to the display instead of its result)
    r, warnings = here(args(tmp_path, without(files, "gpu_video.nix", "resource_slices.nix")))
    assert r["removed_files"] == [str(gpu)]
    assert "# tweaked" in open([f for f in r["files"] if f.get("removed")][0]["backup_file"]).read()
    assert slices.read_text() == "{ my own = true; }\n"
    assert warnings == ["%s was edited since it was generated; it is removed, its content kept in the backup" % gpu,
                        "%s was edited and no longer carries the generated header: left in place and no longer "
                        "managed" % slices]
    assert "resource_slices" not in (nixos(tmp_path) / "default.nix").read_text()
    assert "etc/nixos/nixperf/resource_slices.nix" not in manifest(tmp_path)["files"]


def test_nothing_is_removed_when_a_new_file_does_not_parse(tmp_path, capsys):
    files = full_plan(tmp_path)
    write(capsys, args(tmp_path, files))
    before = snapshot(tmp_path)
    broken = without(files, "gpu_video.nix") + [{"path": str(nixos(tmp_path) / "extra.nix"), "content": "{",
                                                 "phase": "memory"}]
    for check in (False, True):
        r = write(capsys, args(tmp_path, broken), check=check)
        assert r["failed"] is True and "does not parse as Nix" in r["msg"]
        assert snapshot(tmp_path) == before


def test_a_record_that_cannot_be_written_fails_before_any_file_moves(tmp_path, capsys, monkeypatch):
    files = full_plan(tmp_path)
    write(capsys, args(tmp_path, files))
    before = snapshot(tmp_path)
    real_mkstemp = tempfile.mkstemp

    def no_space_for_the_record(*a, **kw):
        if kw.get("suffix") == ".json.tmp":
            raise OSError(28, "No space left on device")
        return real_mkstemp(*a, **kw)

    monkeypatch.setattr(tempfile, "mkstemp", no_space_for_the_record)
    with pytest.raises(WriteError, match="cannot write the record of generated files .*No space left on device"):
        here(args(tmp_path, without(files, "gpu_video.nix") + [module_file(tmp_path, "extra")]))
    assert snapshot(tmp_path) == before  # no file moved, none removed, no temp file left


def test_bad_record_and_files_outside_the_root_fail_before_writing(tmp_path, capsys):
    files = full_plan(tmp_path)
    write(capsys, args(tmp_path, files))
    (tmp_path / ownership.MANIFEST).write_text("{ not json")
    before = snapshot(tmp_path)
    r = write(capsys, args(tmp_path, without(files, "gpu_video.nix"), host="shoshin"))
    assert r["failed"] is True and "host shoshin" in r["msg"] and ownership.MANIFEST in r["msg"]
    assert "Move it away" in r["msg"] and snapshot(tmp_path) == before
    r = write(capsys, args(tmp_path / "etc", files))
    assert r["failed"] is True and "outside the root" in r["msg"]


# ---------------------------------------------------------------- restore


def test_restore_puts_removed_files_and_the_record_back(tmp_path, capsys):
    files = full_plan(tmp_path)
    write(capsys, args(tmp_path, files, backup=True))
    before = {p: v[0] for p, v in snapshot(tmp_path).items()}
    r = write(capsys, args(tmp_path, without(files, "gpu_video.nix") + [module_file(tmp_path, "extra")],
                           backup=True))
    assert r["removed_files"] and [f for f in r["files"] if f.get("manifest")][0]["backup_file"]
    undone = run_module(restore_files.main, dict(files=r["files"]), capsys)
    assert undone["changed"] is True
    after = {p: v[0] for p, v in snapshot(tmp_path).items() if not p.endswith("~")}
    assert after == before  # every file, the record included, byte for byte; the new one gone
    assert stat.S_IMODE(os.stat(nixos(tmp_path) / "gpu_video.nix").st_mode) == 0o644
    # and the next write starts from the restored record: nothing to do
    assert write(capsys, args(tmp_path, files, backup=True))["changed"] is False


def test_restore_without_backups_leaves_the_record(tmp_path, capsys):
    files = full_plan(tmp_path)
    nixos_only = [f for f in files if "/home/" not in f["path"]]
    write(capsys, args(tmp_path, nixos_only))
    r = write(capsys, args(tmp_path, files))  # creations only (a new user), no backups (render mode)
    assert [f for f in r["files"] if f.get("manifest")][0]["changed"] is True
    undone = run_module(restore_files.main, dict(files=r["files"]), capsys)
    assert undone["changed"] is True and not (home(tmp_path) / "runtimes.nix").exists()
    assert "home/mitsio/.config/home-manager/nixperf/runtimes.nix" in manifest(tmp_path)["files"]
    r = write(capsys, args(tmp_path, nixos_only, indexes=[str(nixos(tmp_path))]))
    assert r["changed"] is False  # the record's entries for the vanished files are simply dropped
    assert "home/mitsio/.config/home-manager/nixperf/runtimes.nix" not in manifest(tmp_path)["files"]


def test_restore_refuses_a_check_mode_removal(tmp_path, capsys):
    files = full_plan(tmp_path)
    write(capsys, args(tmp_path, files))
    r = write(capsys, args(tmp_path, without(files, "hardware.nix"), backup=True), check=True)
    assert r["changed_files"] == r["removed_files"] == [str(nixos(tmp_path) / "profile/hardware.nix")]
    undone = run_module(restore_files.main, dict(files=r["files"]), capsys)
    assert undone["failed"] is True and "kept no backup" in undone["msg"]


# ---------------------------------------------------------------- shadows (check mode, apply mode)


def test_shadows_are_what_a_real_run_leaves(tmp_path, capsys):
    root = tmp_path / "root"
    files = full_plan(root)
    write(capsys, args(root, files))
    etc, hm = root / "etc/nixos", root / "home/mitsio/.config/home-manager"
    (etc / "configuration.nix").write_text("{ imports = [ ./nixperf ]; }\n")
    (hm / "home.nix").write_text("{ imports = [ ./nixperf ]; }\n")
    smaller = [f for f in without(files, "gpu_video.nix") if "/home/" not in f["path"]]
    smaller.append(module_file(root, "electron_apps", home))
    a = args(root, smaller, scope=PHASES + ["electron_apps"], shadow={"source": str(etc), "dest": str(tmp_path / "s")},
             home_shadow=[{"user": "mitsio", "source": str(hm), "dest": str(tmp_path / "s-home/mitsio")}])
    before = snapshot(root)
    check = write(capsys, a, check=True)
    assert snapshot(root) == before
    assert check["shadow_root"] == str(tmp_path / "s")
    assert check["home_shadows"] == {"mitsio": str(tmp_path / "s-home/mitsio")}
    write(capsys, dict(a, shadow=None, home_shadow=[]))
    for shadow, real in ((tmp_path / "s", etc), (tmp_path / "s-home/mitsio", hm)):
        assert {os.path.relpath(p, shadow): v[0] for p, v in snapshot(shadow).items()} == \
            {os.path.relpath(p, real): v[0] for p, v in snapshot(real).items() if not p.endswith("~")}
    assert not (tmp_path / "s-home/mitsio/nixperf/runtimes.nix").exists()
    assert (tmp_path / "s-home/mitsio/nixperf/electron_apps.nix").exists()


def test_plan_arguments_pass_root_scope_and_home_shadows():
    plan = {"files": {}, "indexes": [], "mode": "apply", "root": "/r", "scope": ["memory"],
            "home_configs": {"mitsio": "/r/home/mitsio/.config/home-manager", "ann": "/r/home/ann/hm"}}
    got = plan_arguments(plan, {}, None, check=True)
    assert got["root"] == "/r" and got["scope"] == ["memory"]
    assert got["home_shadow"] == [
        {"user": "ann", "source": "/r/home/ann/hm", "dest": "/r/tmp/nixperf-shadow-home/ann"},
        {"user": "mitsio", "source": "/r/home/mitsio/.config/home-manager", "dest": "/r/tmp/nixperf-shadow-home/mitsio"}]
    assert plan_arguments(plan, {}, "/s/", check=True)["home_shadow"][0]["dest"] == "/s-home/ann"
    assert "home_shadow" not in plan_arguments(plan, {}, None, check=False)
    assert "scope" not in plan_arguments(dict(plan, scope=None), {}, None, check=False)


# ---------------------------------------------------------------- in-process writer


@pytest.mark.parametrize("check", [False, True])
def test_in_process_removal_matches_the_module(tmp_path, capsys, check):
    results = []
    for name, run in (("a", lambda a: write(capsys, a, check=check)), ("b", lambda a: here(a, check)[0])):
        root = tmp_path / name
        files = full_plan(root)
        write(capsys, args(root, files))
        result = run(args(root, without(files, "gpu_video.nix")))
        result = {k: v for k, v in result.items() if k not in ("invocation", "warnings")}
        for f in result["files"]:
            f.pop("backup_file", None)
        results.append(repr(result).replace(str(root), "ROOT"))
        results.append({os.path.relpath(p, root): (v[0], v[2]) for p, v in snapshot(root).items()
                        if not p.endswith("~")})
    assert results[0] == results[2] and results[1] == results[3]


def test_write_batch_refuses_a_bad_record_in_process(tmp_path):
    (tmp_path / "var/lib/nixperf").mkdir(parents=True)
    (tmp_path / ownership.MANIFEST).write_text('{"format": 1, "files": {"/abs": {"phase": null, "sha256": "x"}}}')
    params = ArgumentSpecValidator(write_files_spec()).validate(
        args(tmp_path, [module_file(tmp_path, "memory")])).validated_parameters
    module = ControllerModule(check_mode=False)
    with pytest.raises(WriteError, match="not relative to the root"):
        write_batch(module, params)
    module.cleanup()


def test_files_of_any_kind_are_owned_and_removed(tmp_path, capsys):
    """A phase may write a chezmoi script or a TOML file anywhere below the root; the record covers it too."""
    script = tmp_path / "home/mitsio/.local/share/chezmoi/run_onchange_after_kde.sh"
    toml = tmp_path / "home/mitsio/.config/rustdesk/RustDesk2.toml"
    extra = [{"path": str(script), "content": "#!/bin/sh\nexit 0\n", "mode": "0755", "phase": "runtimes"},
             {"path": str(toml), "content": "[options]\n", "phase": "runtimes"}]
    files = full_plan(tmp_path) + extra
    assert write(capsys, args(tmp_path, files, backup=True))["changed"] is True
    assert stat.S_IMODE(os.stat(script).st_mode) == 0o755
    recorded = manifest(tmp_path)["files"]
    assert recorded["home/mitsio/.config/rustdesk/RustDesk2.toml"]["phase"] == "runtimes"
    r = write(capsys, args(tmp_path, [f for f in files if f.get("phase") != "runtimes"], backup=True))
    assert sorted(r["removed_files"]) == sorted([str(script), str(toml), str(home(tmp_path) / "runtimes.nix")])
    assert not script.exists() and not toml.exists()
