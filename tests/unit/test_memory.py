"""The memory phase builder: derivations from RAM and every input check."""
from __future__ import annotations

import pytest
from ansible_collections.nixperf.tuning.plugins.module_utils.phases import memory as M
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixForce, NixOverride, to_nix
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import PhaseError, build, known_phases

HW16 = {"memory": {"total_mib": 16384}}


DEFAULT = object()


def owned(value, priority=75):
    """A value at the nixperf priority (lib.mkOverride 75 by default)."""
    return NixOverride(priority, value)


def plan(settings=None, hardware=DEFAULT, host="shoshin"):
    return build("memory", host, settings or {}, HW16 if hardware is DEFAULT else hardware)


@pytest.mark.parametrize("gib,percent", [(4, 75), (8, 75), (16, 75), (24, 67), (32, 50), (64, 25), (128, 12)])
def test_zram_percent_formula(gib, percent):
    assert M.zram_percent(gib * 1024) == percent


@pytest.mark.parametrize("gib,dirty,background", [(4, 20, 10), (8, 20, 10), (16, 10, 5), (32, 5, 2), (64, 2, 1),
                                                  (256, 2, 1)])
def test_dirty_formula(gib, dirty, background):
    assert M.dirty_ratios(gib * 1024) == {"dirty_ratio": dirty, "dirty_background_ratio": background}


def test_shoshin_gets_the_plan_v21_values():
    p = plan()
    sysctl = p.config["boot"]["kernel"]["sysctl"]
    assert p.config["zramSwap"] == {"enable": owned(True), "algorithm": owned("zstd"), "memoryPercent": owned(75),
                                    "priority": owned(100)}
    # one priority for every key: never lib.mkForce (the plan's host forces four of them) nor a plain definition
    assert sysctl == {
        "vm.swappiness": owned(67), "vm.vfs_cache_pressure": owned(125), "vm.dirty_ratio": owned(10),
        "vm.dirty_background_ratio": owned(5), "vm.overcommit_memory": owned(0), "vm.panic_on_oom": owned(0),
    }
    assert p.derived["zram_size_mib"] == 12288
    assert p.enable is True


def test_bigger_machine_gets_other_numbers():
    p = plan(hardware={"memory": {"total_mib": 65536}})
    assert p.config["zramSwap"]["memoryPercent"] == owned(25)
    assert p.config["boot"]["kernel"]["sysctl"]["vm.dirty_ratio"] == owned(2)


def test_explicit_settings_win_over_derivation():
    p = plan({"zram_memory_percent": 50, "dirty_ratio": 20, "dirty_background_ratio": 3, "zram_algorithm": "lz4"})
    assert p.config["zramSwap"]["memoryPercent"] == owned(50)
    assert p.config["zramSwap"]["algorithm"] == owned("lz4")
    assert p.derived["dirty_background_ratio"] == 3


def test_background_defaults_to_half_of_explicit_dirty_ratio():
    assert plan({"dirty_ratio": 30}).derived["dirty_background_ratio"] == 15


def test_overcommit_ratio_only_in_strict_mode():
    assert "vm.overcommit_ratio" not in plan().config["boot"]["kernel"]["sysctl"]
    p = plan({"overcommit_memory": 2, "overcommit_ratio": 80})
    assert p.config["boot"]["kernel"]["sysctl"]["vm.overcommit_ratio"] == owned(80)


def test_zram_off():
    p = plan({"zram_enable": False})
    assert p.config["zramSwap"] == {"enable": owned(False)}
    assert "zram_memory_percent" not in p.derived
    assert "zram off" in p.note


def test_phase_disabled_keeps_the_module():
    assert plan({"enable": False}).enable is False


def test_sysctl_extra_accepts_ints_strings_and_markers():
    p = plan({"sysctl_extra": {"vm.max_map_count": 1048576, "net.ipv4.tcp_rmem": "4096 87380 6291456",
                               "kernel.sched_autogroup_enabled": {"_nix_force": 1},
                               "net.ipv4.conf.enp0s31f6.rp_filter": 2}})
    sysctl = p.config["boot"]["kernel"]["sysctl"]
    assert sysctl["vm.max_map_count"] == owned(1048576)
    assert sysctl["net.ipv4.tcp_rmem"] == owned("4096 87380 6291456")
    assert sysctl["kernel.sched_autogroup_enabled"] == NixForce(1)  # a marker the user chose keeps its priority


def test_injection_attempt_stays_a_string():
    evil = '"; ${builtins.readFile /etc/shadow}'
    p = plan({"sysctl_extra": {"kernel.hostname": evil}})
    text = to_nix(p.config)
    assert '"kernel.hostname" = lib.mkOverride 75 "\\"; \\${builtins.readFile /etc/shadow}";' in text


@pytest.mark.parametrize("settings,var,allowed", [
    ({"zram_algorithm": "brotli"}, "memory_zram_algorithm", "842, lzo, lzo-rle, lz4, lz4hc, zstd"),
    ({"zram_memory_percent": 0}, "memory_zram_memory_percent", "from 1 to 100"),
    ({"zram_memory_percent": 150}, "memory_zram_memory_percent", "from 1 to 100"),
    ({"zram_memory_percent": "lots"}, "memory_zram_memory_percent", "from 1 to 100"),
    ({"zram_priority": 40000}, "memory_zram_priority", "from -1 to 32767"),
    ({"swappiness": 201}, "memory_swappiness", "from 0 to 200"),
    ({"vfs_cache_pressure": 0}, "memory_vfs_cache_pressure", "from 1 to 1000"),
    ({"dirty_ratio": 10, "dirty_background_ratio": 10}, "memory_dirty_background_ratio", "must be below"),
    ({"overcommit_memory": 3}, "memory_overcommit_memory", "one of 0, 1, 2"),
    ({"panic_on_oom": True}, "memory_panic_on_oom", "one of 0, 1, 2"),
    ({"zram_enable": "maybe"}, "memory_zram_enable", "true or false"),
    ({"sysctl_extra": {"vm.foo bar": 1}}, "memory_sysctl_extra", "no spaces"),
    ({"sysctl_extra": {"swappiness": 1}}, "memory_sysctl_extra", "dotted words"),
    ({"sysctl_extra": {"vm.x\n": 1}}, "memory_sysctl_extra", "no spaces"),
    ({"sysctl_extra": {"vm.swappiness": 1}}, "memory_sysctl_extra", "memory_swappiness"),
    ({"sysctl_extra": {"vm.x": True}}, "memory_sysctl_extra", "an integer, a string or a Nix marker"),
    ({"sysctl_extra": {"vm.x": [1]}}, "memory_sysctl_extra", "an integer, a string or a Nix marker"),
    ({"sysctl_extra": ["vm.x"]}, "memory_sysctl_extra", "must be a mapping"),
])
def test_bad_settings_name_host_variable_and_allowed_values(settings, var, allowed):
    with pytest.raises(PhaseError) as err:
        plan(settings, host="shoshin")
    msg = str(err.value)
    assert msg.startswith("host shoshin: ")
    assert var in msg
    assert allowed in msg


@pytest.mark.parametrize("hardware,problem", [
    (None, "nixperf_hardware is missing"),
    ({}, "nixperf_hardware.memory.total_mib is missing"),
    ({"memory": {}}, "nixperf_hardware.memory.total_mib is missing"),
    ({"memory": {"total_mib": None}}, "nixperf_hardware.memory.total_mib is missing"),
    ({"memory": {"total_mib": 100}}, "from 512 to"),
    ({"memory": {"total_mib": "16G"}}, "must be an integer"),
])
def test_missing_or_bad_hardware_facts(hardware, problem):
    with pytest.raises(PhaseError, match="host vm7: ") as err:
        plan(hardware=hardware, host="vm7")
    assert problem in str(err.value)


def test_numbers_templated_to_text_are_accepted():
    assert plan({"zram_memory_percent": "60"}).config["zramSwap"]["memoryPercent"] == owned(60)
    assert plan(hardware={"memory": {"total_mib": "16384"}}).derived["total_mib"] == 16384


def test_registry():
    assert "memory" in known_phases()
    with pytest.raises(PhaseError, match="unknown phase 'nope'"):
        build("nope", "h", {}, {})


def test_generated_module_evaluates_to_the_plan(nix, tmp_path):
    """The real evaluator reads back the module's config, priorities included."""
    from ansible_collections.nixperf.tuning.plugins.module_utils.nix import nix_module

    p = plan()
    text = nix_module(p.phase, p.config, role="memory", note=p.note, priority=75)[0]
    assert "defined with lib.mkOverride 75 (nixperf_priority)" in text.split("{ config", 1)[0]
    path = tmp_path / "memory.nix"
    path.write_text(text)
    lib = ("{ mkOption = x: x; types.bool = null; mkIf = c: v: { _if = c; content = v; };"
           " mkOverride = p: v: { _priority = p; content = v; }; }")
    got = nix.eval_json("(import %s { config.nixperf.memory.enable = true; pkgs = {}; lib = %s; }).config"
                        % (path, lib))
    assert got["_if"] is True
    c = got["content"]
    assert c["zramSwap"]["memoryPercent"] == {"_priority": 75, "content": 75}
    assert c["boot"]["kernel"]["sysctl"]["vm.swappiness"] == {"_priority": 75, "content": 67}
    assert c["boot"]["kernel"]["sysctl"]["vm.overcommit_memory"] == {"_priority": 75, "content": 0}


def test_the_nixperf_priority_is_one_setting_for_the_host():
    p = build("memory", "shoshin", {}, HW16, priority="40")  # text from -e nixperf_priority=40
    assert p.config["boot"]["kernel"]["sysctl"]["vm.swappiness"] == owned(67, 40)
    assert p.config["zramSwap"]["priority"] == owned(100, 40)


@pytest.mark.parametrize("value,allowed", [
    (0, "from 1 to 999"), (1000, "from 1 to 999"), ("high", "from 1 to 999"), (True, "from 1 to 999"),
    (50, "must not be 50: that is the priority of lib.mkForce"),
    (100, "must not be 100: that is the priority of a plain definition"),
])
def test_a_priority_that_collides_or_is_no_priority_is_refused(value, allowed):
    with pytest.raises(PhaseError, match="host shoshin: nixperf_priority ") as err:
        build("memory", "shoshin", {}, HW16, priority=value)
    assert allowed in str(err.value)
