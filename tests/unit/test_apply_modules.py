"""nixos_rebuild, home_manager, nix_generations, restore_files and lock against
the recording test doubles: exact command lines, changed, reboot and rollback."""
from __future__ import annotations

import json
import os
import time

import pytest
from conftest import run_home_manager, run_module

from ansible_collections.nixperf.tuning.plugins.module_utils import cmd
from ansible_collections.nixperf.tuning.plugins.modules import (
    lock, nix_generations, nixos_rebuild, restore_files, write_files)


def rebuild(fake, capsys, check=False, **kw):
    args = dict(nixos_config=str(fake.config), current_system=str(fake.current), system_profile=str(fake.profile))
    args.update(kw)
    return run_module(nixos_rebuild.main, args, capsys, check=check)


def change_config(fake, text="{ ... }: { imports = [ ./nixperf ]; boot.kernel.sysctl.\"vm.x\" = 1; }\n"):
    fake.config.write_text(text)


def argv_of(fake, action, *more):
    return [action, "-I", "nixos-config=%s" % fake.config, *more]


def test_no_change_builds_and_never_switches(fake_nixos, capsys):
    before = os.path.realpath(fake_nixos.current)
    r = rebuild(fake_nixos, capsys)
    assert r["changed"] is False
    assert r["previous_system"] == r["new_system"] == before
    assert fake_nixos.argvs("nixos-rebuild") == [argv_of(fake_nixos, "build")]
    assert r["generation"] == 1 and r["reboot_required"] is False


def test_switch_when_the_system_changes(fake_nixos, capsys):
    before = os.path.realpath(fake_nixos.current)
    change_config(fake_nixos)
    r = rebuild(fake_nixos, capsys)
    assert r["changed"] is True
    assert r["previous_system"] == before != r["new_system"] == os.path.realpath(fake_nixos.current)
    assert fake_nixos.argvs("nixos-rebuild") == [argv_of(fake_nixos, "build"), argv_of(fake_nixos, "switch")]
    assert r["commands"][0][1:] == ["build", "-I", "nixos-config=%s" % fake_nixos.config]
    assert r["generation"] == 2
    assert r["kernel_changed"] is False and r["reboot_required"] is False


def test_kernel_change_requires_a_reboot(fake_nixos, capsys, monkeypatch):
    monkeypatch.setenv("FAKE_KERNEL", "6.12.9")
    r = rebuild(fake_nixos, capsys)
    assert r["changed"] is True and r["kernel_changed"] is True and r["reboot_required"] is True
    assert r["boot_changes"] == {"kernel": True, "initrd": True, "kernel_params": False}
    assert r["reboot_reasons"] == ["the kernel changed", "the initrd changed"]


def test_reboot_reasons_of_the_caller_count_only_when_the_system_changed(fake_nixos, capsys):
    reason = "boot phase changed: /etc/nixos/nixperf/boot.nix"
    r = rebuild(fake_nixos, capsys, reboot_reasons=[reason])
    assert r["changed"] is False and r["reboot_required"] is False and r["reboot_reasons"] == []
    change_config(fake_nixos)
    r = rebuild(fake_nixos, capsys, reboot_reasons=[reason])
    assert r["changed"] is True and r["kernel_changed"] is False
    assert r["reboot_required"] is True and r["reboot_reasons"] == [reason]


def test_no_reason_no_reboot(fake_nixos, capsys):
    change_config(fake_nixos)
    r = rebuild(fake_nixos, capsys)
    assert r["changed"] is True and r["reboot_required"] is False and r["reboot_reasons"] == []


def test_check_mode_dry_builds_and_predicts(fake_nixos, capsys):
    before = os.path.realpath(fake_nixos.current)
    change_config(fake_nixos)
    r = rebuild(fake_nixos, capsys, check=True)
    assert r["changed"] is True and r["would_change"] is True
    assert fake_nixos.argvs("nixos-rebuild") == [argv_of(fake_nixos, "dry-build")]
    assert fake_nixos.argvs("nix") == [[
        "--extra-experimental-features", "nix-command flakes", "eval", "--impure", "--raw", "--expr",
        "(import <nixpkgs/nixos> { }).config.system.build.toplevel.outPath",
        "-I", "nixos-config=%s" % fake_nixos.config]]
    assert os.path.realpath(fake_nixos.current) == before
    # and the prediction is what a real run then does
    real = rebuild(fake_nixos, capsys)
    assert real["new_system"] == r["new_system"]


def test_check_mode_without_change(fake_nixos, capsys):
    r = rebuild(fake_nixos, capsys, check=True)
    assert r["changed"] is False and r["would_change"] is False


def test_dry_build_action_never_changes(fake_nixos, capsys):
    change_config(fake_nixos)
    r = rebuild(fake_nixos, capsys, action="dry-build")
    assert r["changed"] is False and r["would_change"] is True


def test_build_action_never_switches(fake_nixos, capsys):
    change_config(fake_nixos)
    r = rebuild(fake_nixos, capsys, action="build")
    assert r["changed"] is False and r["would_change"] is True
    assert [a[0] for a in fake_nixos.argvs("nixos-rebuild")] == ["build"]


def test_evaluation_error_fails_with_the_tail_and_switches_nothing(fake_nixos, capsys):
    before = os.path.realpath(fake_nixos.current)
    change_config(fake_nixos, "FAKE_EVAL_ERROR\n")
    r = rebuild(fake_nixos, capsys)
    assert r["failed"] is True
    assert "Failed to nixos-rebuild build (rc 1) on host" in r["msg"] and "undefined variable" in r["stderr_tail"]
    assert [a[0] for a in fake_nixos.argvs("nixos-rebuild")] == ["build"]
    assert os.path.realpath(fake_nixos.current) == before


def test_refused_switch_falls_back_to_boot(fake_nixos, capsys, monkeypatch):
    before = os.path.realpath(fake_nixos.current)
    monkeypatch.setenv("FAKE_PRESWITCH_FAIL", "1")
    change_config(fake_nixos)
    r = rebuild(fake_nixos, capsys, fallback_to_boot=True)
    assert r["changed"] is True and r["fell_back_to_boot"] is True and r["reboot_required"] is True
    assert r["reboot_reasons"] == ["the switch was refused by the pre-switch checks and fell back to boot"]
    assert r["action"] == "boot"
    assert [a[0] for a in fake_nixos.argvs("nixos-rebuild")] == ["build", "switch", "boot"]
    assert os.path.realpath(fake_nixos.current) == before  # still running the old system
    assert os.path.realpath(fake_nixos.profile) == r["new_system"]  # boots the new one


def test_refused_switch_without_fallback_fails(fake_nixos, capsys, monkeypatch):
    monkeypatch.setenv("FAKE_PRESWITCH_FAIL", "1")
    change_config(fake_nixos)
    r = rebuild(fake_nixos, capsys)
    assert r["failed"] is True and "Pre-switch checks failed" in r["msg"]


def test_boot_action_compares_with_the_profile(fake_nixos, capsys):
    change_config(fake_nixos)
    r = rebuild(fake_nixos, capsys, action="boot")
    assert r["changed"] is True and r["reboot_required"] is True
    assert r["reboot_reasons"] == ["the new system is the boot default only (action boot)"]
    r = rebuild(fake_nixos, capsys, action="boot")
    assert r["changed"] is False


def test_rollback(fake_nixos, capsys):
    first = os.path.realpath(fake_nixos.current)
    change_config(fake_nixos)
    rebuild(fake_nixos, capsys)
    fake_nixos.clear()
    r = rebuild(fake_nixos, capsys, check=True, rollback=True)
    assert r["changed"] is True and r["new_system"] == first
    assert fake_nixos.argvs("nixos-rebuild") == []
    r = rebuild(fake_nixos, capsys, rollback=True)
    assert r["changed"] is True and r["new_system"] == first == os.path.realpath(fake_nixos.current)
    assert fake_nixos.argvs("nixos-rebuild") == [argv_of(fake_nixos, "switch", "--rollback")]


def test_rollback_without_an_older_generation_fails(fake_nixos, capsys):
    r = rebuild(fake_nixos, capsys, rollback=True)
    assert r["failed"] is True and "no generation older" in r["msg"]


def test_rollback_needs_an_activating_action(fake_nixos, capsys):
    r = rebuild(fake_nixos, capsys, rollback=True, action="build")
    assert r["failed"] is True


def test_closure_diff(fake_nixos, capsys, monkeypatch):
    monkeypatch.setenv("FAKE_KERNEL", "6.13.0")
    r = rebuild(fake_nixos, capsys, diff_closures=True)
    assert "linux: 6.12.0 → 6.13.0" in r["closure_diff"]
    assert r["diff"] == {"prepared": r["closure_diff"]}


def test_flake_and_passthrough_arguments(fake_nixos, capsys):
    flake_dir = fake_nixos.config.parent
    r = run_module(nixos_rebuild.main, dict(
        flake="%s#shoshin" % flake_dir, extra_args=["--show-trace"], current_system=str(fake_nixos.current),
        system_profile=str(fake_nixos.profile)), capsys, check=True)
    assert fake_nixos.argvs("nixos-rebuild") == [["dry-build", "--flake", "%s#shoshin" % flake_dir, "--show-trace"]]
    assert fake_nixos.argvs("nix")[0][-1] == \
        "%s#nixosConfigurations.shoshin.config.system.build.toplevel.outPath" % flake_dir
    assert r["changed"] is True  # a flake build is a different system in the double


def test_argv_builders():
    assert cmd.nixos_rebuild_argv("nr", "switch", flake="/etc/nixos#h", target_host="h", use_remote_sudo=True,
                                  extra_args=["-L"]) == [
        "nr", "switch", "--flake", "/etc/nixos#h", "--target-host", "h", "--use-remote-sudo", "-L"]
    assert cmd.toplevel_argv("nix", flake="/f#user@h")[-1] == \
        '/f#nixosConfigurations."user@h".config.system.build.toplevel.outPath'
    assert cmd.home_manager_argv("hm", "switch", "/f#u@h", ["-b", "bak"]) == [
        "hm", "switch", "--flake", "/f#u@h", "-b", "bak"]
    with pytest.raises(ValueError):
        cmd.nixos_rebuild_argv("nr", "dry-activate")
    with pytest.raises(ValueError):
        cmd.home_manager_argv("hm", "news")


# ---------------------------------------------------------------- generations


def test_nix_generations(fake_nixos, capsys, monkeypatch):
    change_config(fake_nixos)
    monkeypatch.setenv("FAKE_KERNEL", "6.13.0")
    rebuild(fake_nixos, capsys)
    r = run_module(nix_generations.main, dict(profile=str(fake_nixos.profile)), capsys, check=True)
    assert [g["generation"] for g in r["generations"]] == [1, 2]
    assert [g["current"] for g in r["generations"]] == [False, True]
    assert r["current"]["kernel_version"] == "6.13.0"
    assert r["generations"][0]["kernel_version"] == "6.12.0"
    assert r["current"]["nixos_version"].startswith("26.05")
    assert r["changed"] is False


# ---------------------------------------------------------------- home-manager


hm = run_home_manager


def hm0(fake, capsys, check=False, **kw):
    return hm(fake, capsys, check, **kw)[0]


def test_home_manager_switch_then_no_change_then_rollback(fake_nixos, capsys):
    r, flake_dir, _profile = hm(fake_nixos, capsys)
    assert r["changed"] is True and r["generation"] == 1
    assert [a[0] for a in fake_nixos.argvs("home-manager")] == ["build", "switch"]
    fake_nixos.clear()
    r = hm0(fake_nixos, capsys)
    assert r["changed"] is False and [a[0] for a in fake_nixos.argvs("home-manager")] == ["build"]
    (flake_dir / "home.nix").write_text("{ programs.git.enable = true; }\n")
    fake_nixos.clear()
    r = hm0(fake_nixos, capsys, check=True)
    assert r["changed"] is True and r["generation"] == 1
    assert fake_nixos.argvs("home-manager") == []  # check mode evaluates, never builds
    assert [a[2] for a in fake_nixos.argvs("nix")] == ["build", "eval"] and "--dry-run" in fake_nixos.argvs("nix")[0]
    r = hm0(fake_nixos, capsys)
    assert r["changed"] is True and r["generation"] == 2
    first = r["previous_generation"]
    fake_nixos.clear()
    r = hm0(fake_nixos, capsys, rollback=True)
    assert r["changed"] is True and r["new_generation"] == first and r["generation"] == 3
    assert fake_nixos.calls("activate")  # the old generation's activate script ran
    assert fake_nixos.argvs("home-manager") == []


def test_home_manager_rollback_to_a_missing_generation(fake_nixos, capsys):
    hm(fake_nixos, capsys)
    r = hm0(fake_nixos, capsys, rollback=True, generation=9)
    assert r["failed"] is True and "no home-manager generation 9" in r["msg"]


def test_home_manager_build_error(fake_nixos, capsys):
    flake_dir = hm(fake_nixos, capsys)[1]
    (flake_dir / "home.nix").write_text("FAKE_EVAL_ERROR")
    r = hm0(fake_nixos, capsys)
    assert r["failed"] is True and "Failed to build the home-manager configuration (rc 1) on user " in r["msg"]


# ---------------------------------------------------------------- restore and lock


def test_restore_files_puts_back_every_byte(tmp_path, capsys):
    old = tmp_path / "old.nix"
    old.write_bytes(b"{ old = \"\xc3\xa9\"; }\n")
    original = old.read_bytes()
    res = run_module(write_files.main, dict(files=[
        {"path": str(old), "content": "{ new = 1; }\n"},
        {"path": str(tmp_path / "created.nix"), "content": "{ }\n"},
    ], backup=True), capsys)
    assert old.read_bytes() != original and (tmp_path / "created.nix").exists()
    r = run_module(restore_files.main, dict(files=res["files"]), capsys, check=True)
    assert r["changed"] is True and old.read_bytes() != original
    r = run_module(restore_files.main, dict(files=res["files"]), capsys)
    assert r["changed"] is True
    assert old.read_bytes() == original
    assert not (tmp_path / "created.nix").exists()
    r = run_module(restore_files.main, dict(files=res["files"]), capsys)
    assert r["changed"] is False


def test_restore_refuses_without_backup(tmp_path, capsys):
    p = tmp_path / "x.nix"
    p.write_text("{ }\n")
    res = run_module(write_files.main, dict(files=[{"path": str(p), "content": "{ a = 1; }\n"}]), capsys)
    r = run_module(restore_files.main, dict(files=res["files"]), capsys)
    assert r["failed"] is True and "without a backup" in r["msg"]


def test_lock_contention_names_the_holder(tmp_path, capsys):
    path = str(tmp_path / "run/nixperf/apply.lock")
    r = run_module(lock.main, dict(path=path, holder="awx job 1"), capsys)
    assert r["changed"] is True and json.load(open(path))["holder"] == "awx job 1"
    r = run_module(lock.main, dict(path=path, holder="laptop run"), capsys)
    assert r["failed"] is True and "awx job 1" in r["msg"] and "another run holds the lock" in r["msg"]
    r = run_module(lock.main, dict(path=path, holder="laptop run", state="absent"), capsys)
    assert r["failed"] is True and os.path.exists(path)
    assert run_module(lock.main, dict(path=path, holder="awx job 1"), capsys)["changed"] is False
    r = run_module(lock.main, dict(path=path, holder="awx job 1", state="absent"), capsys)
    assert r["changed"] is True and not os.path.exists(path)


def test_stale_lock_is_taken_over(tmp_path, capsys):
    path = tmp_path / "apply.lock"
    path.write_text(json.dumps({"holder": "dead run", "since_epoch": time.time() - 10000}))
    r = run_module(lock.main, dict(path=str(path), holder="new run", stale_after=60), capsys)
    assert r["changed"] is True and r["took_over"] == "dead run"
    assert json.load(open(path))["holder"] == "new run"


def test_rollback_to_a_named_generation(fake_nixos, capsys):
    first = os.path.realpath(fake_nixos.current)
    change_config(fake_nixos)
    rebuild(fake_nixos, capsys)
    change_config(fake_nixos, "{ ... }: { imports = [ ./nixperf ]; networking.hostName = \"x\"; }\n")
    rebuild(fake_nixos, capsys)
    fake_nixos.clear()
    r = rebuild(fake_nixos, capsys, rollback=True, generation=1)
    assert r["changed"] is True and r["new_system"] == first == os.path.realpath(fake_nixos.current)
    assert fake_nixos.argvs("nix-env") == [["--profile", str(fake_nixos.profile), "--switch-generation", "1"]]
    assert r["commands"][-1] == [str(fake_nixos.profile) + "/bin/switch-to-configuration", "switch"]
    assert r["generation"] == 1
    r = rebuild(fake_nixos, capsys, rollback=True, generation=7)
    assert r["failed"] is True and "no generation 7" in r["msg"]


def test_target_host_reads_the_current_system_over_ssh(fake_nixos, capsys):
    before = os.path.realpath(fake_nixos.current)
    change_config(fake_nixos)
    r = rebuild(fake_nixos, capsys, target_host="root@shoshin", use_remote_sudo=True)
    read = [["root@shoshin", "readlink", "-f", str(fake_nixos.current), str(fake_nixos.profile)],
            ["root@shoshin", "readlink", str(fake_nixos.profile)]]
    assert fake_nixos.argvs("ssh") == read + read  # before and after the switch
    assert r["moved"] == {"profile": True, "current": True} and r["previous_generation"] == 1
    assert r["previous_system"] == before
    assert fake_nixos.argvs("nixos-rebuild")[-1] == [
        "switch", "-I", "nixos-config=%s" % fake_nixos.config, "--target-host", "root@shoshin", "--use-remote-sudo"]
    assert r["changed"] is True
