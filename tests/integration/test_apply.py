"""Apply mode end to end with the recording doubles: write -> dry-build -> switch
-> health checks, rollback and restore on failure, and the exact command lines."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest
from conftest import ROOT
from support import snapshot, wait_for

SKYLAKE_CPUINFO = "".join(
    "processor\t: %d\nmodel name\t: Intel(R) Core(TM) i7-6700K CPU @ 4.00GHz\nflags\t\t: fpu cx8 cmov mmx fxsr sse "
    "sse2 cx16 lahf_lm popcnt sse4_1 sse4_2 ssse3 avx avx2 bmi1 bmi2 f16c fma abm movbe xsave adx rdseed "
    "clflushopt\n\n" % i for i in range(8))
DOUBLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "doubles")


@pytest.fixture
def host(tmp_path):
    """A fresh NixOS host in a temp root: configuration importing ./nixperf, generation 1 running."""
    import subprocess

    root = tmp_path / "root"
    conf = root / "etc/nixos/configuration.nix"
    conf.parent.mkdir(parents=True)
    conf.write_text("{ ... }: { imports = [ ./hardware-configuration.nix ./nixperf ]; }\n")
    (root / "etc/nixos/hardware-configuration.nix").write_text("{ ... }: { }\n")
    (root / "proc").mkdir()
    (root / "proc/cpuinfo").write_text(SKYLAKE_CPUINFO)
    env = dict(os.environ, NIXPERF_FAKE_ROOT=str(root), PATH=DOUBLES + ":" + os.environ["PATH"])
    subprocess.run(["nixos-rebuild", "switch", "-I", "nixos-config=%s" % conf], env=env, check=True,
                   capture_output=True, cwd=str(tmp_path))
    (root / "calls.jsonl").unlink()

    class Host:
        pass

    h = Host()
    h.root, h.conf = root, conf
    h.env = {"NIXPERF_FAKE_ROOT": str(root), "PATH": DOUBLES}
    h.vars = dict(nixperf_mode="apply", nixperf_root=str(root), nixos_apply_nixos_config=str(conf),
                  nixos_apply_check_reconnect=True, nixos_apply_confirm_timeout=CONFIRM, **NO_HOME)
    h.current = lambda: os.path.realpath(root / "run/current-system")

    def calls(prog="nixos-rebuild"):
        import json

        path = root / "calls.jsonl"
        rows = [json.loads(ln) for ln in path.read_text().splitlines()] if path.exists() else []
        return [r["argv"] for r in rows if r["prog"] == prog]

    h.calls = calls
    h.clear = lambda: (root / "calls.jsonl").unlink(missing_ok=True)
    h.generation = lambda: os.readlink(root / "nix/var/nix/profiles/system")
    h.files = lambda: {p: v[0] for p, v in snapshot(root / "etc/nixos").items() if not p.endswith("~")}
    yield h
    kill_timers(root)


def kill_timers(root):
    """No timer (or hanging double) of a test outlives it."""
    health = root / "state/system-health"
    if health.exists() and health.read_text() == "hang":
        health.write_text("running")
    for pid in (root / "state/timers").glob("*.pid") if (root / "state/timers").exists() else []:
        try:
            os.kill(int(pid.read_text()), signal.SIGKILL)
        except (OSError, ValueError):
            pass


# Seconds the magic rollback waits for confirmation in these tests (the runs confirm within seconds).
CONFIRM = 30
# The phases that write home-manager modules would call home_manager_apply for users this fake host has
# no configuration for; the home tests set one up and turn them back on.
NO_HOME = dict(nixperf_phase_system_libs=False, nixperf_phase_runtimes=False, nixperf_phase_electron_apps=False,
               nixperf_phase_plasma=False, nixperf_phase_kde_services=False, nixperf_phase_rustdesk=False,
               nixperf_phase_monitoring=False, nixperf_phase_startup=False)


def actions(argvs):
    return [a[0] for a in argvs]


def test_apply_switches_once_then_never_again(play, host):
    gen1 = host.current()
    run = play(limit="shoshin", env=host.env, **host.vars)
    assert run.rc == 0, run.failures()
    assert actions(host.calls()) == ["dry-build", "build", "switch"]
    assert host.calls()[2] == ["switch", "-I", "nixos-config=%s" % host.conf]
    assert host.current() != gen1
    # the magic rollback: armed before the switch, stopped after the health checks over a fresh connection
    unit = run.results("nixperf.tuning.nixos_rebuild")[-1]["res"]["magic_rollback"]["unit"]
    assert host.calls("systemd-run") == [[
        "--unit=%s" % unit, "--description=nixperf.tuning magic rollback of host %s" % os.uname()[1],
        "--on-active=%ds" % CONFIRM, "--timer-property=AccuracySec=1s", "--collect", gen1 + "/sw/bin/sh",
        "%s/run/nixperf/%s.sh" % (host.root, unit)]]
    assert host.calls("systemctl") == [["is-system-running"], ["stop", unit + ".timer"]]
    assert not (host.root / "state/timers" / (unit + ".timer")).exists()
    assert not (host.root / "run/nixperf/apply.lock").exists()
    assert run.changed("shoshin") == 2  # the files, the system
    cost = [e["event_data"]["res"]["msg"] for e in run.events if e.get("event") == "runner_on_ok"
            and e["event_data"].get("task") == "Show what the switch costs"]
    assert cost == ["shoshin: the new system: 7 derivations to build; 1 path to fetch (180.0 KiB download, "
                    "1.1 MiB unpacked)"]
    host.clear()
    again = play(limit="shoshin", env=host.env, **host.vars)
    assert again.rc == 0 and again.changed("shoshin") == 0
    assert host.calls() == [] and host.calls("nix") == []  # a no-change run never calls nixos-rebuild
    # check mode with nothing to change: no rebuild either, and the writer's shadow copy is gone
    check = play(limit="shoshin", check=True, env=host.env, **host.vars)
    assert check.rc == 0 and check.changed("shoshin") == 0
    assert host.calls() == [] and not list((host.root / "tmp").glob("nixperf-shadow*"))


def test_check_mode_predicts_and_never_activates(play, host):
    gen1 = host.current()
    before = snapshot(host.root / "etc")
    check = play(limit="shoshin", check=True, env=host.env, **host.vars)
    assert check.rc == 0, check.failures()
    assert actions(host.calls()) == ["dry-build"]  # never build, switch, boot or test
    assert host.calls("systemd-run") == []
    assert "/tmp/nixperf-shadow" in host.calls()[0][-1]  # evaluated the shadow copy
    assert host.current() == gen1
    assert snapshot(host.root / "etc") == before
    assert not (host.root / "tmp/nixperf-shadow").exists()
    predicted = check.changed("shoshin")
    host.clear()
    real = play(limit="shoshin", env=host.env, **host.vars)
    assert real.changed("shoshin") == predicted == 2
    # the system check mode predicted is the one the real run switched to
    predicted_system = check.results("nixperf.tuning.nixos_rebuild")[0]["res"]["new_system"]
    assert predicted_system.split("-", 1)[1] == host.current().split("-", 1)[1]


def test_failed_dry_build_restores_files_and_switches_nothing(play, host):
    assert play(limit="shoshin", env=host.env, **host.vars).rc == 0
    gen = host.current()
    before = snapshot(host.root / "etc/nixos")
    host.clear()
    run = play(limit="shoshin", env=host.env, memory_sysctl_extra={"kernel.x": "FAKE_EVAL_ERROR"}, **host.vars)
    failures = run.failures()
    assert failures[-1]["host"] == "shoshin"
    assert "Dry-build the new configuration" in failures[-1]["msg"] and "Nothing was switched" in failures[-1]["msg"]
    assert actions(host.calls()) == ["dry-build"]
    assert host.current() == gen
    after = {p: v[0] for p, v in snapshot(host.root / "etc/nixos").items() if not p.endswith("~")}
    assert after == {p: v[0] for p, v in before.items()}  # byte for byte
    assert not (host.root / "run/nixperf/apply.lock").exists()


def test_failed_health_check_rolls_back_and_restores(play, host):
    assert play(limit="shoshin", env=host.env, **host.vars).rc == 0
    gen = host.current()
    before = {p: v[0] for p, v in snapshot(host.root / "etc/nixos").items()}
    (host.root / "state").mkdir(exist_ok=True)
    (host.root / "state/system-health").write_text("degraded")
    (host.root / "state/failed-units").write_text("display-manager.service loaded failed failed Display Manager")
    host.clear()
    run = play(limit="shoshin", env=host.env, memory_swappiness=80, **host.vars)
    failures = run.failures()
    assert "Check the system state" in failures[-1]["msg"]
    assert "The system profile (boot default) and running system had moved; rolled back to generation 2 (%s)" \
        % gen in failures[-1]["msg"]
    assert actions(host.calls()) == ["dry-build", "build", "switch"]
    # exactly back: the profile to generation 2, that system activated; the timer stopped first
    assert host.calls("nix-env") == [["--profile", str(host.root / "nix/var/nix/profiles/system"),
                                      "--switch-generation", "2"]]
    assert host.calls("switch-to-configuration") == [[gen, "switch"]]
    assert host.calls("systemctl")[-1][0] == "stop"
    assert host.current() == gen and host.generation() == "system-2-link"
    after = {p: v[0] for p, v in snapshot(host.root / "etc/nixos").items() if not p.endswith("~")}
    assert after == before


@pytest.mark.parametrize("marker,moved", [
    ("FAKE_UNITS_FAIL", "The system profile (boot default) and running system had moved"),
    ("FAKE_BOOTLOADER_FAIL", "The system profile (boot default) had moved"),
])
def test_a_switch_failing_after_the_profile_moved_is_rolled_back(play, host, marker, moved):
    """switch-to-configuration exits 4 after activating (units failed), or the boot loader fails after the
    profile moved: the host must end on its previous generation with its previous files."""
    assert play(limit="shoshin", env=host.env, **host.vars).rc == 0
    gen, files = host.current(), host.files()
    host.clear()
    run = play(limit="shoshin", env=host.env, memory_sysctl_extra={"kernel.x": marker}, **host.vars)
    msg = run.failures()[-1]["msg"]
    assert "Switch to the new configuration: Failed to nixos-rebuild switch (rc 1)" in msg
    assert moved in msg and "rolled back to generation 2 (%s)" % gen in msg
    assert "the system profile moved to generation 3" in msg
    assert "Nothing was switched" not in msg
    assert actions(host.calls()) == ["dry-build", "build", "switch"]
    assert host.calls("nix-env") == [["--profile", str(host.root / "nix/var/nix/profiles/system"),
                                      "--switch-generation", "2"]]
    restore = [gen, "switch"] if marker == "FAKE_UNITS_FAIL" else [gen, "boot"]
    assert host.calls("switch-to-configuration")[-1] == restore
    assert host.current() == gen and host.generation() == "system-2-link"
    assert host.files() == files
    assert not (host.root / "run/nixperf/apply.lock").exists()


def test_a_switch_failing_before_the_profile_moved_switches_nothing(play, host):
    assert play(limit="shoshin", env=host.env, **host.vars).rc == 0
    gen, files = host.current(), host.files()
    host.clear()
    run = play(limit="shoshin", env=host.env, memory_sysctl_extra={"kernel.x": "FAKE_PROFILE_FAIL"}, **host.vars)
    msg = run.failures()[-1]["msg"]
    assert "nothing moved" in msg and "Nothing was switched" in msg
    assert host.calls("nix-env") == [] and host.calls("switch-to-configuration") == []
    assert host.current() == gen and host.generation() == "system-2-link" and host.files() == files


def test_a_switch_needing_too_many_builds_is_refused_before_anything_changes(play, host):
    assert play(limit="shoshin", env=host.env, **host.vars).rc == 0
    gen, files = host.current(), host.files()
    host.clear()
    run = play(limit="shoshin", env=host.env, system_libs_stage="nixos", home_manager_apply_users=[],
               **dict(host.vars, nixperf_phase_system_libs=True))
    assert actions(host.calls()) == ["dry-build"]
    msg = run.failures()[-1]["msg"]
    assert "Dry-build the new configuration: Refusing to switch host" in msg
    assert "more than nixos_apply_max_builds (100)" in msg and "Nothing was switched" in msg
    # named from plan.rebuilds: the phase, and why it costs so much
    assert "They come from the phases system_libs (" in msg and "glibc" in msg
    assert "an overlay on a bootstrap package (" in msg and "rebuilds every package" in msg
    check = play(limit="shoshin", check=True, env=host.env, system_libs_stage="nixos", home_manager_apply_users=[],
                 **dict(host.vars, nixperf_phase_system_libs=True))
    line = [e["event_data"]["res"]["msg"] for e in check.events if e.get("event") == "runner_on_ok"
            and e["event_data"].get("task") == "Show what the switch costs"][0]
    assert line.startswith("shoshin: the new system: 3") and "derivations to build, caused by system_libs (" in line
    assert "8 paths to fetch (320.0 MiB download, 1.4 GiB unpacked). A real run would refuse: Refusing" in line
    host.clear()
    assert host.calls("systemd-run") == []
    assert host.current() == gen and host.files() == files
    ok = play(limit="shoshin", env=host.env, system_libs_stage="nixos", nixos_apply_max_builds=-1,
              home_manager_apply_users=[], **dict(host.vars, nixperf_phase_system_libs=True))
    assert ok.rc == 0, ok.failures()


def test_confirmed_in_time_the_host_keeps_the_new_system(play, host):
    # the run confirms after its health checks and a fresh connection: a few seconds on a loaded machine
    run = play(limit="shoshin", env=host.env, **dict(host.vars, nixos_apply_confirm_timeout=8))
    assert run.rc == 0, run.failures()
    gen, files = host.current(), host.files()
    fires_at = run.results("nixperf.tuning.nixos_rebuild")[-1]["res"]["magic_rollback"]["fires_at"]
    time.sleep(max(0.0, fires_at - time.time()) + 1.5)  # past the timeout: the stopped timer never fires
    assert host.current() == gen and host.generation() == "system-2-link" and host.files() == files
    assert host.calls("switch-to-configuration") == [] and host.calls("nix-env") == []


def test_a_run_that_never_confirms_is_rolled_back_by_the_host(play, host, tmp_path):
    """The controller dies after the switch (killed while a wedged system bus stalls the health check): the
    host puts back the previous generation and files by itself once the timeout elapsed."""
    assert play(limit="shoshin", env=host.env, **host.vars).rc == 0
    gen, files = host.current(), host.files()
    (host.root / "state/system-health").write_text("hang")
    host.clear()
    extra = tmp_path / "vars.json"
    extra.write_text(json.dumps(dict(host.vars, nixos_apply_confirm_timeout=3, memory_swappiness=80)))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), NIX_REMOTE="dummy://",
               ANSIBLE_COLLECTIONS_PATH="%s:%s" % (ROOT / ".collections", ROOT / ".venv/collections"),
               ANSIBLE_HOME=str(tmp_path / ".ansible"), ANSIBLE_LOCAL_TEMP=str(tmp_path / ".ansible/tmp"),
               NIXPERF_FAKE_ROOT=str(host.root), PATH="%s:%s:%s" % (DOUBLES, ROOT / ".venv/bin", os.environ["PATH"]))
    with open(tmp_path / "run.log", "w") as log:
        proc = subprocess.Popen([str(ROOT / ".venv/bin/ansible-playbook"), "site.yml", "--limit", "shoshin",
                                 "-e", "@%s" % extra], cwd=str(ROOT), env=env, stdout=log, stderr=log,
                                start_new_session=True)
        try:
            assert wait_for(lambda: ["is-system-running"] in host.calls("systemctl"), 120), \
                (tmp_path / "run.log").read_text()
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert host.generation() == "system-3-link" and host.current() != gen  # switched, never confirmed
    unit = host.calls("systemd-run")[0][0][len("--unit="):]
    assert wait_for((host.root / "state/timers" / (unit + ".rc")).exists, 30)
    assert (host.root / "state/timers" / (unit + ".rc")).read_text() == "0"
    assert host.current() == gen and host.generation() == "system-2-link"
    assert host.files() == files
    assert host.calls("nix-env") == [["--profile", str(host.root / "nix/var/nix/profiles/system"),
                                      "--switch-generation", "2"]]
    assert host.calls("switch-to-configuration") == [[gen, "switch"]]
    assert not (host.root / "run/nixperf/apply.lock").exists()  # the dead run's lock went with it
    (host.root / "state/system-health").write_text("running")
    again = play(limit="shoshin", env=host.env, **host.vars)  # the next run finds a host it can work with
    assert again.rc == 0 and again.changed("shoshin") == 0


def test_allowed_failed_unit_passes(play, host):
    (host.root / "state").mkdir()
    (host.root / "state/system-health").write_text("degraded")
    (host.root / "state/failed-units").write_text("nixos-upgrade.service loaded failed failed NixOS Upgrade")
    run = play(limit="shoshin", env=host.env, nixos_apply_allowed_failed_units=["nixos-upgrade.service"],
               **host.vars)
    assert run.rc == 0, run.failures()


def test_required_unit_inactive_fails(play, host):
    (host.root / "state/units").mkdir(parents=True)
    (host.root / "state/units/sddm.service").write_text("failed")
    run = play(limit="shoshin", env=host.env, nixos_apply_required_units=["sddm.service"], **host.vars)
    assert run.rc != 0
    assert "Check the required units are active" in run.failures()[-1]["msg"]
    assert ["is-active", "sddm.service"] in host.calls("systemctl")


def test_a_second_run_is_refused_while_the_lock_is_held(play, host):
    lock = host.root / "run/nixperf/apply.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text('{"holder": "awx:job 7:shoshin", "since": "2026-11-23T10:00:00Z", "since_epoch": 4102444800}')
    run = play(limit="shoshin", env=host.env, **host.vars)
    msg = run.failures()[0]["msg"]
    assert "another run holds the lock" in msg and "awx:job 7:shoshin" in msg
    assert host.calls() == []
    assert lock.exists()


def test_kernel_change_reports_reboot_required_without_rebooting(play, host):
    env = dict(host.env, FAKE_KERNEL="6.13.2")
    run = play(limit="shoshin", env=env, **host.vars)
    assert run.rc == 0, run.failures()
    facts = [e["event_data"]["res"] for e in run.events if e.get("event") == "runner_on_ok"
             and e["event_data"].get("task") == "Export the reboot contract"]
    assert facts[0]["ansible_facts"]["nixos_apply_reboot_required"] is True


def reboot_contract(run):
    facts = [e["event_data"]["res"]["ansible_facts"] for e in run.events if e.get("event") == "runner_on_ok"
             and e["event_data"].get("task") == "Export the reboot contract"]
    assert len(facts) == 1
    return facts[0]["nixos_apply_reboot_required"], facts[0]["nixos_apply_reboot_reasons"]


def test_a_boot_phase_change_requires_a_reboot_and_says_why_without_rebooting(play, host):
    assert play(limit="shoshin", env=host.env, **host.vars).rc == 0  # the local inventory's boot opt-ins
    host.clear()
    run = play(limit="shoshin", env=host.env, boot_quiet_enable=False, **host.vars)
    assert run.rc == 0, run.failures()
    assert actions(host.calls()) == ["dry-build", "build", "switch"]
    assert reboot_contract(run) == (True, ["boot phase changed: %s/etc/nixos/nixperf/boot.nix" % host.root])
    assert not [e for e in run.events if e["event_data"].get("task") == "Reboot into the new system"
                and e.get("event") == "runner_on_ok"]
    # a change of another phase alone needs no reboot
    host.clear()
    run = play(limit="shoshin", env=host.env, boot_quiet_enable=False, memory_swappiness=60, **host.vars)
    assert run.rc == 0 and actions(host.calls()) == ["dry-build", "build", "switch"]
    assert reboot_contract(run) == (False, [])


@pytest.fixture
def home(host):
    cfg = host.root / "home/mitsio/.config/home-manager"
    cfg.mkdir(parents=True)
    (cfg / "home.nix").write_text("{ ... }: { home.stateVersion = \"25.05\"; }\n")
    # the Electron wrappers are a home-manager module of their own: the switch carries them
    host.vars.update(home_manager_apply_force=True, home_manager_apply_become=False, nixperf_phase_electron_apps=True)
    host.profile = host.root / "home/mitsio/.local/state/nix/profiles/home-manager"
    return host


def test_home_manager_switches_when_it_differs_only(play, home):
    run = play(limit="shoshin", env=home.env, **home.vars)
    assert run.rc == 0, run.failures()
    flake = "%s/home/mitsio/.config/home-manager#mitsio@shoshin" % home.root
    assert home.calls("home-manager") == [["build", "--flake", flake], ["switch", "--flake", flake]]
    first = os.path.realpath(home.profile)
    home.clear()
    run = play(limit="shoshin", env=home.env, **home.vars)
    assert run.changed("shoshin") == 0
    assert home.calls("home-manager") == [["build", "--flake", flake]]
    assert os.path.realpath(home.profile) == first


def test_home_manager_failed_check_rolls_back(play, home):
    assert play(limit="shoshin", env=home.env, **home.vars).rc == 0
    first = os.path.realpath(home.profile)
    (home.root / "home/mitsio/.config/home-manager/home.nix").write_text("{ ... }: { programs.git.enable = true; }\n")
    (home.root / "state/user/units").mkdir(parents=True)
    (home.root / "state/user/units/plasma-kwin_x11.service").write_text("failed")
    home.clear()
    run = play(limit="shoshin", env=home.env, home_manager_apply_required_user_units=["plasma-kwin_x11.service"],
               **home.vars)
    msg = run.failures()[-1]["msg"]
    assert "Check the required user units are active" in msg and "Rolled back: mitsio" in msg
    assert [c[0] for c in home.calls("home-manager")] == ["build", "switch"]
    assert home.calls("activate")  # the previous generation was activated again
    assert os.path.realpath(home.profile) == first


def test_home_manager_switch_failing_after_the_profile_moved_is_rolled_back(play, home):
    assert play(limit="shoshin", env=home.env, **home.vars).rc == 0
    first = os.path.realpath(home.profile)
    (home.root / "home/mitsio/.config/home-manager/home.nix").write_text("{ ... }: { programs.git.enable = true; }\n")
    home.clear()
    run = play(limit="shoshin", env=dict(home.env, FAKE_HM_ACTIVATION_FAIL="1"), **home.vars)
    msg = run.failures()[-1]["msg"]
    assert "the home-manager profile moved to generation 2" in msg and "Rolled back: mitsio" in msg
    assert [c[0] for c in home.calls("home-manager")] == ["build", "switch"]
    assert home.calls("activate")  # generation 1's activate script
    assert os.path.realpath(home.profile) == first


def test_home_manager_check_mode_never_builds(play, home):
    check = play(limit="shoshin", check=True, env=home.env, **home.vars)
    assert check.rc == 0, check.failures()
    assert home.calls("home-manager") == []  # no build, not even of the old configuration
    # the system's evaluation, then the home's dry run and evaluation
    assert [c[2:4] for c in home.calls("nix")] == [["eval", "--impure"], ["build", "--dry-run"], ["eval", "--raw"]]
    assert not os.path.lexists(home.profile)
    assert check.changed("shoshin") >= 2
    assert not list((home.root / "tmp").glob("nixperf-shadow*"))  # the system's and the user's shadow copies
    cost = [e["event_data"]["res"]["msg"] for e in check.events if e.get("event") == "runner_item_on_ok"
            and e["event_data"].get("task") == "Show what each switch costs"]
    assert cost == ["shoshin: home-manager of mitsio: 5 derivations to build; 1 path to fetch (180.0 KiB download, "
                    "1.1 MiB unpacked)"]


def test_rollback_playbook(play, home):
    gen1 = home.current()
    assert play(limit="shoshin", env=home.env, **home.vars).rc == 0
    gen2 = home.current()
    assert play(limit="shoshin", env=home.env, memory_swappiness=90, **home.vars).rc == 0
    assert home.current() not in (gen1, gen2)
    home_first = os.path.realpath(home.profile)
    (home.root / "home/mitsio/.config/home-manager/home.nix").write_text("{ ... }: { programs.fish.enable = true; }\n")
    assert play(limit="shoshin", env=home.env, **home.vars).rc == 0
    assert os.path.realpath(home.profile) != home_first
    base = dict(nixperf_root=str(home.root), rollback_become=False)
    bad = play("playbooks/rollback.yml", limit="shoshin", env=home.env, rollback_scope="everything", **base)
    assert "rollback_scope must be system, home or both" in bad.failures()[0]["msg"]
    check = play("playbooks/rollback.yml", limit="shoshin", check=True, env=home.env, rollback_generation="1", **base)
    assert check.rc == 0 and check.changed("shoshin") == 1 and home.calls("nix-env") == []
    run = play("playbooks/rollback.yml", limit="shoshin", env=home.env, rollback_scope="both",
               rollback_generation="1", **base)
    assert run.rc == 0, run.failures()
    assert home.current() == gen1
    assert os.path.realpath(home.profile) == home_first
    assert not (home.root / "run/nixperf/apply.lock").exists()
    run = play("playbooks/rollback.yml", limit="shoshin", env=home.env, **base)  # one more step back
    assert run.rc != 0 and "no generation older" in run.failures()[0]["msg"]


def test_live_cpu_guard_refuses_a_march_the_cpu_lacks(play, host):
    (host.root / "proc/cpuinfo").write_text(SKYLAKE_CPUINFO.replace(" avx2", "").replace("i7-6700K", "i7-3770"))
    run = play(limit="shoshin", env=host.env, **host.vars)
    failures = run.failures()
    assert len(failures) == 1
    assert "cannot run code built with -march=skylake: it lacks avx2" in failures[0]["msg"]
    assert not (host.root / "etc/nixos/nixperf").exists()
    assert host.calls() == []
