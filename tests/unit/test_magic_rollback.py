"""The magic rollback with a real timer (the systemd-run double sleeps in a detached process): confirmed in
time the host keeps the new system; never confirmed it puts back the previous system and files by itself."""
from __future__ import annotations

import json
import os
import signal
import time

import pytest
from conftest import DOUBLES, run_module
from support import wait_for

from ansible_collections.nixperf.tuning.plugins.module_utils import rollback_timer
from ansible_collections.nixperf.tuning.plugins.modules import magic_rollback, nixos_rebuild, write_files

TIMEOUT = 2


@pytest.fixture
def host(fake_nixos):
    """generation 2 running, with generated files as a previous run left them."""
    nixperf = fake_nixos.config.parent / "nixperf"
    nixperf.mkdir()
    (nixperf / "memory.nix").write_text("{ ... }: { boot.kernel.sysctl.\"vm.swappiness\" = 67; }\n")
    (nixperf / "old_phase.nix").write_text("{ ... }: { }\n")
    (nixperf / "default.nix").write_text("{ imports = [ ./memory.nix ./old_phase.nix ]; }\n")
    fake_nixos.boot_first_generation()  # generation 2, with the files
    fake_nixos.files_before = {p.name: p.read_bytes() for p in nixperf.iterdir()}
    fake_nixos.nixperf = nixperf
    yield fake_nixos
    timers = fake_nixos.root / "state" / "timers"
    for pid in timers.glob("*.pid") if timers.exists() else []:
        try:
            os.kill(int(pid.read_text()), signal.SIGKILL)
        except (OSError, ValueError):
            pass


def write_new_files(host, capsys):
    """What the write role does: replace memory.nix, create gpu_video.nix, remove old_phase.nix (with backups)."""
    nixperf = host.nixperf
    res = run_module(write_files.main, dict(files=[
        {"path": str(nixperf / "memory.nix"), "content": "{ ... }: { boot.kernel.sysctl.\"vm.swappiness\" = 80; }\n"},
        {"path": str(nixperf / "gpu_video.nix"), "content": "{ ... }: { }\n"},
        {"path": str(nixperf / "default.nix"), "content": "{ imports = [ ./memory.nix ./gpu_video.nix ]; }\n"},
    ], backup=True), capsys)
    files = res["files"]
    old = nixperf / "old_phase.nix"
    backup = str(old) + ".1234.2026-11-24@10:00:00~"
    os.link(old, backup)
    old.unlink()
    files.append({"path": str(old), "changed": True, "removed": True, "backup_file": backup})
    return files


def switch(host, capsys, files, **kw):
    args = dict(nixos_config=str(host.config), current_system=str(host.current), system_profile=str(host.profile),
                confirm_timeout=TIMEOUT, rollback_files=files, rollback_dir=str(host.root / "run/nixperf"))
    args.update(kw)
    return run_module(nixos_rebuild.main, args, capsys)


def confirm(host, capsys, unit, state="confirmed"):
    return run_module(magic_rollback.main, dict(unit=unit, state=state, directory=str(host.root / "run/nixperf")),
                      capsys)


def files_now(host):
    return {p.name: p.read_bytes() for p in host.nixperf.iterdir() if not p.name.endswith("~")}


def timer_done(host, unit):
    return (host.root / "state/timers" / (unit + ".rc")).exists()


def test_never_confirmed_the_host_rolls_itself_back(host, capsys):
    gen2 = os.path.realpath(host.current)
    files = write_new_files(host, capsys)
    host.clear()
    r = switch(host, capsys, files)
    assert r["changed"] is True and r["generation"] == 3, r
    timer = r["magic_rollback"]
    unit = timer["unit"]
    script = host.root / "run/nixperf" / (unit + ".sh")
    assert host.argvs("systemd-run") == [[
        "--unit=%s" % unit, "--description=nixperf.tuning magic rollback of host %s" % os.uname()[1],
        "--on-active=%ds" % TIMEOUT, "--timer-property=AccuracySec=1s", "--collect",
        os.path.join(gen2, "sw/bin/sh"), str(script)]]
    # armed before the switch, after the build
    progs = [c["prog"] + ":" + (c["argv"][0] if c["argv"] else "") for c in host.calls()]
    assert progs.index("systemd-run:--unit=%s" % unit) < progs.index("nixos-rebuild:switch")
    assert os.path.realpath(host.current) != gen2
    assert wait_for(lambda: timer_done(host, unit)), (host.root / "state/timers" / (unit + ".log")).read_text()
    assert (host.root / "state/timers" / (unit + ".rc")).read_text() == "0"
    # back on generation 2, exactly, with the files of before
    assert os.readlink(host.profile) == "system-2-link"
    assert os.path.realpath(host.current) == gen2
    assert files_now(host) == host.files_before
    assert host.argvs("nix-env") == [["--profile", str(host.profile), "--switch-generation", "2"]]
    assert host.argvs("switch-to-configuration") == [[gen2, "switch"]]
    assert not script.exists()
    # a late confirmation fails and says so
    late = confirm(host, capsys, unit)
    assert late["failed"] is True and late["fired"] is True and late["outcome"] == 0
    assert "fired first" in late["msg"] and "rolled back (status 0)" in late["msg"]
    cancel = confirm(host, capsys, unit, state="cancelled")
    assert cancel["changed"] is False and cancel["fired"] is True


def test_confirmed_in_time_the_host_keeps_the_new_system(host, capsys):
    files = write_new_files(host, capsys)
    new_files = files_now(host)
    r = switch(host, capsys, files)
    unit = r["magic_rollback"]["unit"]
    host.clear()
    c = confirm(host, capsys, unit)
    assert c["changed"] is True and c["decision"] == "confirmed" and c["fired"] is False
    assert host.argvs("systemctl") == [["stop", unit + ".timer"]]
    time.sleep(TIMEOUT + 1.5)
    assert not (host.root / "state/timers" / (unit + ".rc")).exists()  # never ran
    assert not (host.root / "state/timers" / (unit + ".timer")).exists()
    assert os.readlink(host.profile) == "system-3-link" and os.path.realpath(host.current) == r["new_system"]
    assert files_now(host) == new_files
    assert host.argvs("switch-to-configuration") == [] and host.argvs("nix-env") == []
    assert not (host.root / "run/nixperf" / (unit + ".sh")).exists()
    again = confirm(host, capsys, unit)
    assert again["changed"] is False and again["decision"] == "confirmed"


def test_a_timer_elapsing_after_the_confirmation_does_nothing(host, capsys):
    """The race: the timer's service starts although the run confirmed; the script sees the decision."""
    files = write_new_files(host, capsys)
    r = switch(host, capsys, files)
    timer = r["magic_rollback"]
    assert rollback_timer.decide(timer["directory"], timer["unit"], rollback_timer.CONFIRMED) is None
    assert wait_for(lambda: timer_done(host, timer["unit"]))
    log = (host.root / "state/timers" / (timer["unit"] + ".log")).read_text()
    assert "confirmed in time; nothing to roll back" in log
    assert os.readlink(host.profile) == "system-3-link"


def test_a_failed_switch_is_armed_and_reports_it(host, capsys):
    files = write_new_files(host, capsys)
    host.config.write_text(host.config.read_text() + "# FAKE_UNITS_FAIL\n")
    r = switch(host, capsys, files)
    assert r["failed"] is True and r["changed"] is True and "magic_rollback" in r
    c = confirm(host, capsys, r["magic_rollback"]["unit"], state="cancelled")
    assert c["changed"] is True and c["decision"] == "cancelled"


def test_no_change_arms_nothing(host, capsys):
    r = switch(host, capsys, [])
    assert r["changed"] is False and "magic_rollback" not in r
    assert host.argvs("systemd-run") == []


def test_boot_rolls_back_the_profile_and_boot_default_only(host, capsys):
    gen2 = os.path.realpath(host.current)
    files = write_new_files(host, capsys)
    r = switch(host, capsys, files, action="boot")
    unit = r["magic_rollback"]["unit"]
    assert r["magic_rollback"]["steps"] == [
        [os.path.join(gen2, "sw/bin/nix-env"), "--profile", str(host.profile), "--switch-generation", "2"],
        [gen2 + "/bin/switch-to-configuration", "boot"]]
    assert wait_for(lambda: timer_done(host, unit))
    assert os.readlink(host.profile) == "system-2-link" and os.path.realpath(host.current) == gen2
    assert host.argvs("switch-to-configuration") == [[gen2, "boot"]]


def test_a_replaced_file_without_backup_refuses_to_arm(host, capsys):
    before = os.readlink(host.profile)
    host.config.write_text(host.config.read_text() + "# changed\n")
    r = switch(host, capsys, [{"path": str(host.nixperf / "memory.nix"), "changed": True, "created": False}])
    assert r["failed"] is True and "arm the magic rollback" in r["msg"] and "without a backup" in r["msg"]
    assert os.readlink(host.profile) == before and [a[0] for a in host.argvs("nixos-rebuild")][-1] == "build"


def test_a_magic_rollback_for_another_host_is_refused(host, capsys):
    r = switch(host, capsys, [], target_host="root@shoshin")
    assert r["failed"] is True and "not on target_host root@shoshin" in r["msg"]
    assert host.argvs("nixos-rebuild") == []


def test_the_script_uses_only_absolute_paths_of_the_previous_system(tmp_path):
    tools = {t: "/nix/store/aaa-system/sw/bin/" + t for t in rollback_timer.TOOLS}
    steps = [[tools["nix-env"], "--profile", "/nix/var/nix/profiles/system", "--switch-generation", "41"],
             ["/nix/store/aaa-system/bin/switch-to-configuration", "switch"]]
    text = rollback_timer.script("nixperf-rollback-1", tools, steps,
                                 [("/etc/nixos/nixperf/memory.nix", "/etc/nixos/nixperf/memory.nix.1.x~"),
                                  ("/etc/nixos/nixperf/new.nix", None)], "/run/nixperf", 600, "host shoshin",
                                 ("/run/nixperf/apply.lock", '{"holder": "a"}'))
    assert text.startswith("#!/nix/store/aaa-system/sw/bin/sh\n")
    assert "/run/current-system" not in text and "ansible" not in text.lower().replace("nixperf.tuning", "")
    for line in text.splitlines():
        word = line.split()[0] if line.split() else ""
        assert not word or word.startswith(("#", "/", "set", "exec", "if", "fi", "echo", ":", "status", "exit",
                                            "'")), line
    assert "/nix/store/aaa-system/sw/bin/rm -f /etc/nixos/nixperf/new.nix || status=1" in text
    assert "'/nix/store/aaa-system/sw/bin/flock' 9" in text or "/nix/store/aaa-system/sw/bin/flock 9" in text
    script = tmp_path / "s.sh"
    script.write_text(text)
    assert os.system("sh -n %s" % script) == 0  # valid shell


def test_restore_plan_mirrors_restore_files():
    files = [{"path": "/a", "changed": True, "backup_file": "/a~"}, {"path": "/b", "changed": True, "created": True},
             {"path": "/c", "changed": False}, {"path": "/m", "changed": True, "manifest": True},
             {"path": "/r", "changed": True, "removed": True, "backup_file": "/r~"}]
    assert rollback_timer.restore_plan(files) == [("/a", "/a~"), ("/b", None), ("/r", "/r~")]
    with pytest.raises(ValueError, match="/x was removed without a backup"):
        rollback_timer.restore_plan([{"path": "/x", "changed": True, "removed": True}])


def test_systemd_run_double_is_on_the_path():
    assert os.path.exists(os.path.join(DOUBLES, "systemd-run"))
    assert json.dumps(rollback_timer.systemd_run_argv("systemd-run", "u", 3, "/bin/sh", "/s", "x"))
