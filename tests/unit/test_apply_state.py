"""The apply engine trusts state, not exit codes: nixos_rebuild and home_manager against the recording doubles,
with activations that fail after the profile moved (switch-to-configuration exit 4) and before it moved."""
from __future__ import annotations

import os

from conftest import run_home_manager, run_module

from ansible_collections.nixperf.tuning.plugins.module_utils.generations import restore_steps
from ansible_collections.nixperf.tuning.plugins.modules import nixos_rebuild


def rebuild(fake, capsys, check=False, **kw):
    args = dict(nixos_config=str(fake.config), current_system=str(fake.current), system_profile=str(fake.profile))
    args.update(kw)
    return run_module(nixos_rebuild.main, args, capsys, check=check)


def configure(fake, marker=""):
    fake.config.write_text("{ ... }: { imports = [ ./nixperf ]; boot.kernel.sysctl.\"vm.x\" = \"%s\"; }\n" % marker)


def state(fake):
    return os.readlink(fake.profile), os.path.realpath(fake.current)


def test_units_failing_after_the_switch_is_a_change_with_what_moved(fake_nixos, capsys):
    before_system = os.path.realpath(fake_nixos.current)
    configure(fake_nixos, "FAKE_UNITS_FAIL")
    r = rebuild(fake_nixos, capsys)
    assert r["failed"] is True
    assert r["changed"] is True
    assert r["moved"] == {"profile": True, "current": True}
    assert r["previous_system"] == before_system and r["previous_generation"] == 1
    assert r["generation"] == 2 and os.readlink(fake_nixos.profile) == "system-2-link"
    assert "returned non-zero exit status 4" in r["msg"]
    assert "the system profile moved to generation 2" in r["msg"] and "/run/current-system" in r["msg"]
    assert [a[0] for a in fake_nixos.argvs("nixos-rebuild")] == ["build", "switch"]


def test_a_failure_before_the_profile_moved_changes_nothing(fake_nixos, capsys):
    before = state(fake_nixos)
    configure(fake_nixos, "FAKE_PROFILE_FAIL")
    r = rebuild(fake_nixos, capsys)
    assert r["failed"] is True and r["changed"] is False
    assert r["moved"] == {"profile": False, "current": False}
    assert "nothing moved" in r["msg"]
    assert state(fake_nixos) == before


def test_a_boot_loader_failure_moved_the_profile_only(fake_nixos, capsys):
    before_system = os.path.realpath(fake_nixos.current)
    configure(fake_nixos, "FAKE_BOOTLOADER_FAIL")
    r = rebuild(fake_nixos, capsys)
    assert r["failed"] is True and r["changed"] is True
    assert r["moved"] == {"profile": True, "current": False}
    assert os.path.realpath(fake_nixos.current) == before_system


def test_success_reports_what_moved(fake_nixos, capsys):
    configure(fake_nixos)
    r = rebuild(fake_nixos, capsys)
    assert r["changed"] is True and r["moved"] == {"profile": True, "current": True}
    r = rebuild(fake_nixos, capsys, action="test")
    assert r["changed"] is False and r["moved"] == {"profile": False, "current": False}


def test_test_action_moves_the_running_system_only(fake_nixos, capsys):
    configure(fake_nixos)
    r = rebuild(fake_nixos, capsys, action="test")
    assert r["changed"] is True and r["moved"] == {"profile": False, "current": True}


def test_exact_rollback_after_a_failed_switch(fake_nixos, capsys):
    before = state(fake_nixos)
    before_system = before[1]
    configure(fake_nixos, "FAKE_UNITS_FAIL")
    failed = rebuild(fake_nixos, capsys)
    fake_nixos.clear()
    check = rebuild(fake_nixos, capsys, check=True, rollback=True, generation=failed["previous_generation"],
                    previous_system=failed["previous_system"])
    assert check["changed"] is True and fake_nixos.argvs("nix-env") == []
    r = rebuild(fake_nixos, capsys, rollback=True, generation=failed["previous_generation"],
                previous_system=failed["previous_system"])
    assert r["changed"] is True, r
    assert state(fake_nixos) == before
    assert fake_nixos.argvs("nix-env") == [["--profile", str(fake_nixos.profile), "--switch-generation", "1"]]
    assert r["commands"][-1] == [before_system + "/bin/switch-to-configuration", "switch"]
    again = rebuild(fake_nixos, capsys, rollback=True, generation=1, previous_system=before_system)
    assert again["changed"] is False and again["commands"] == []


def test_exact_rollback_goes_to_the_previous_generation_not_the_one_below(fake_nixos, capsys):
    """After a rollback to 1 with 2 still there, a new switch makes 3: --rollback would land on 2."""
    gen1 = os.path.realpath(fake_nixos.current)
    configure(fake_nixos, "a")
    rebuild(fake_nixos, capsys)
    rebuild(fake_nixos, capsys, rollback=True, generation=1)
    assert state(fake_nixos) == ("system-1-link", gen1)
    configure(fake_nixos, "b")
    r = rebuild(fake_nixos, capsys)
    assert r["generation"] == 3 and r["previous_generation"] == 1
    r = rebuild(fake_nixos, capsys, rollback=True, generation=r["previous_generation"],
                previous_system=r["previous_system"])
    assert state(fake_nixos) == ("system-1-link", gen1)


def test_exact_rollback_of_a_boot_loader_failure_keeps_the_running_system(fake_nixos, capsys):
    before = state(fake_nixos)
    configure(fake_nixos, "FAKE_BOOTLOADER_FAIL")
    failed = rebuild(fake_nixos, capsys)
    fake_nixos.clear()
    rebuild(fake_nixos, capsys, rollback=True, generation=1, previous_system=failed["previous_system"])
    assert state(fake_nixos) == before
    assert fake_nixos.argvs("switch-to-configuration") == [[before[1], "boot"]]


def test_restore_steps():
    assert restore_steps("nix-env", "/p/system", 41, "/s/a", "/s/a") == [
        ["nix-env", "--profile", "/p/system", "--switch-generation", "41"],
        ["/s/a/bin/switch-to-configuration", "switch"]]
    # a boot was pending before: the profile's system is not the running one
    assert restore_steps("nix-env", "/p/system", 41, "/s/b", "/s/a") == [
        ["nix-env", "--profile", "/p/system", "--switch-generation", "41"],
        ["/s/b/bin/switch-to-configuration", "boot"], ["/s/a/bin/switch-to-configuration", "test"]]
    assert restore_steps("nix-env", "/p/system", 41, "/s/a", "/s/a", profile_moved=False) == [
        ["/s/a/bin/switch-to-configuration", "test"]]
    assert restore_steps("nix-env", "/p/system", 41, "/s/a", "/s/a", running_moved=False) == [
        ["nix-env", "--profile", "/p/system", "--switch-generation", "41"],
        ["/s/a/bin/switch-to-configuration", "boot"]]
    assert restore_steps("nix-env", "/p/system", None, None, "/s/a", running_moved=False) == []


# ---------------------------------------------------------------- home-manager


hm = run_home_manager


def test_home_manager_switch_failing_after_the_profile_moved(fake_nixos, capsys, monkeypatch):
    _r, flake_dir, profile = hm(fake_nixos, capsys)
    first = os.readlink(profile)
    (flake_dir / "home.nix").write_text("{ programs.git.enable = true; }\n")
    monkeypatch.setenv("FAKE_HM_ACTIVATION_FAIL", "1")
    r = hm(fake_nixos, capsys)[0]
    assert r["failed"] is True and r["changed"] is True
    assert r["moved"] == {"profile": True}
    assert r["previous_generation_number"] == 1 and r["generation"] == 2
    assert os.readlink(profile) != first
    assert "the home-manager profile moved to generation 2" in r["msg"]
