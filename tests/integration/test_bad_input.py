"""Bad input fails with a message naming the host, the variable and the allowed
values, and leaves the files of a converged tree untouched."""
from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
from support import snapshot
from test_apply import NO_HOME, SKYLAKE_CPUINFO


@pytest.fixture
def converged(play):
    assert play(limit="shoshin").rc == 0
    return snapshot(play.build)


@pytest.mark.parametrize("extravars,needles", [
    ({"memory_zram_algorithm": "brotli"},
     ["memory_zram_algorithm", "842, lzo, lzo-rle, lz4, lz4hc, zstd", "brotli"]),
    ({"memory_zram_memory_percent": 0}, ["host shoshin", "memory_zram_memory_percent", "from 1 to 100", "got 0"]),
    ({"memory_zram_memory_percent": 150}, ["host shoshin", "memory_zram_memory_percent", "from 1 to 100"]),
    ({"memory_zram_priority": 99999}, ["host shoshin", "memory_zram_priority", "from -1 to 32767"]),
    ({"memory_sysctl_extra": {"vm.foo bar": 1}}, ["host shoshin", "memory_sysctl_extra", "'vm.foo bar'", "no spaces"]),
    ({"memory_dirty_ratio": 5, "memory_dirty_background_ratio": 8},
     ["host shoshin", "memory_dirty_background_ratio", "must be below memory_dirty_ratio"]),
    ({"nixperf_mode": "deploy"}, ["host shoshin", "nixperf_mode", "render, apply"]),
    ({"electron_apps_apps": ["discord", "slack"]},
     ["host shoshin", "electron_apps_apps[1] (slack)", "give its nixpkgs attribute as package"]),
    ({"electron_apps_apps": [{"name": "discord", "memory_high": "4G"}]},
     ["host shoshin", "memory_high (4G) must not be above memory_max (3G)"]),
    ({"runtimes_go_amd64": "v4"}, ["host shoshin", "runtimes_go_amd64 (v4) is above the CPU's x86-64 level v3"]),
])
def test_bad_settings(play, converged, extravars, needles):
    run = play(limit="shoshin", **extravars)
    assert run.rc != 0
    failures = run.failures()
    assert [f["host"] for f in failures] == ["shoshin"]
    for needle in needles:
        assert needle in failures[0]["msg"], failures[0]["msg"]
    assert snapshot(play.build) == converged


def test_broken_raw_marker_is_named_and_nothing_is_written(play, converged):
    run = play(limit="shoshin", memory_sysctl_extra={"vm.max_map_count": {"_nix": "1 +"}})
    failures = run.failures()
    assert len(failures) == 1
    assert "host shoshin" in failures[0]["msg"]
    assert "raw Nix fragment '1 +' does not parse" in failures[0]["msg"]
    assert snapshot(play.build) == converged


def test_injection_attempt_is_an_inert_string(play, nix):
    evil = '"; ${builtins.readFile "/etc/shadow"} #'
    run = play(limit="shoshin", memory_sysctl_extra={"kernel.domainname": evil})
    assert run.rc == 0, run.failures()
    path = play.build / "shoshin/etc/nixos/nixperf/memory.nix"
    lib = "{ mkOption = x: x; types.bool = null; mkIf = c: v: v; mkOverride = p: v: v; }"
    got = nix.eval_json("(import %s { config.nixperf.memory.enable = true; pkgs = {}; lib = %s; })"
                        ".config.boot.kernel.sysctl" % (path, lib))
    assert got["kernel.domainname"] == evil


def test_missing_hardware_fact(play, tmp_path):
    inv = tmp_path / "inv.yml"
    inv.write_text(json.dumps({"all": {"hosts": {"vm-x": {
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "nixperf_mode": "render", "nixperf_hardware": {"cpu": {"cores": 2}}}},
        "children": {"nixos": {"hosts": {"vm-x": {}}}}}}))
    run = play(inventory=str(inv))
    failures = run.failures()
    assert len(failures) == 1 and failures[0]["host"] == "vm-x"
    assert "host vm-x: nixperf_hardware.memory.total_mib is missing" in failures[0]["msg"]
    assert "total RAM in MiB" in failures[0]["msg"]
    assert not play.build.exists()


def test_apply_mode_requires_the_import(play, tmp_path):
    doubles = str(Path(__file__).resolve().parents[1] / "doubles")
    root = tmp_path / "root"
    (root / "etc/nixos").mkdir(parents=True)
    conf = root / "etc/nixos/configuration.nix"
    conf.write_text("{ ... }: { imports = [ ./hardware-configuration.nix ]; }\n")
    (root / "proc").mkdir()
    (root / "proc/cpuinfo").write_text(SKYLAKE_CPUINFO)  # read by the hardware profile's -march guard
    env = {"NIXPERF_FAKE_ROOT": str(root), "PATH": doubles}
    play = functools.partial(play, **NO_HOME)
    run = play(limit="shoshin", nixperf_mode="apply", nixperf_root=str(root), env=env)
    failures = run.failures()
    assert len(failures) == 1
    assert "host shoshin" in failures[0]["msg"] and "imports = [ ./nixperf ];" in failures[0]["msg"]
    assert not (root / "etc/nixos/nixperf").exists()
    conf.write_text("{ ... }: { imports = [ ./hardware-configuration.nix ./nixperf ]; }\n")
    run = play(limit="shoshin", nixperf_mode="apply", nixperf_root=str(root), env=env)
    assert run.rc == 0, run.failures()
    assert (root / "etc/nixos/nixperf/memory.nix").exists()
    # apply mode keeps backups of what it replaces
    run = play(limit="shoshin", nixperf_mode="apply", nixperf_root=str(root), memory_swappiness=80, env=env)
    backups = [r for r in run.results("nixperf.tuning.write_plan")[0]["res"]["files"]
               if r.get("backup_file") and not r.get("manifest")]
    assert len(backups) == 1 and "lib.mkOverride 75 67" in open(backups[0]["backup_file"]).read()
