"""One schema for a host's facts, checked as a whole before any phase builds: every message names the host, the
variable, what was given and what is allowed; nothing is a Python traceback; facts never carry code."""
from __future__ import annotations

import copy

import pytest
from ansible_collections.nixperf.tuning.plugins.module_utils.facts import (
    FactError, check_desktop, check_hardware, check_users)
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import PhaseError, build

SHOSHIN = {
    "cpu": {"vendor": "intel", "model": "Intel Core i7-6700K", "family": "skylake", "x86_64_level": 3, "cores": 4,
            "threads": 8},
    "gpu": {"vendor": "nvidia", "model": "GeForce GTX 960", "architecture": "maxwell", "vram_mib": 4096,
            "driver": "nvidia", "decode": ["h264", "hevc", "vp8", "vp9"], "encode": ["h264", "hevc"]},
    "memory": {"total_mib": 16384, "type": "DDR4"},
    "storage": [{"device": "nvme0n1", "type": "nvme", "size_gb": 500}],
    "virtualization": {"guest": False},
}


def with_(path, value):
    hw = copy.deepcopy(SHOSHIN)
    node = hw
    parts = path.split(".")
    for p in parts[:-1]:
        node = node[p]
    node[parts[-1]] = value
    return hw


def test_shoshin_is_valid_and_unchanged():
    assert check_hardware("shoshin", SHOSHIN) == SHOSHIN


@pytest.mark.parametrize("hw,message", [
    # the family implies the level: a skylake that claims v4 would get GOAMD64=v4 and crash
    (with_("cpu.x86_64_level", 4), "nixperf_hardware.cpu.x86_64_level is 4, but cpu.family skylake is an "
                                   "x86-64-v3 CPU: the level must match the family (allowed: 3)"),
    (with_("cpu.x86_64_level", 2), "allowed: 3"),
    (with_("cpu.family", "pentium4"), "nixperf_hardware.cpu.family must be one of alderlake, broadwell"),
    (with_("gpu", "nvidia"), "nixperf_hardware.gpu must be a mapping with keys vendor, model"),
    (with_("gpu.vendor", "matrox"), "nixperf_hardware.gpu.vendor must be one of nvidia, amd, intel, none, got "
                                    "'matrox'"),
    (with_("gpu.model", {"_nix": "builtins.readFile /etc/hostname"}),
     "nixperf_hardware.gpu.model must be a string, got a Nix code marker"),
    (with_("gpu", {"_nix": "{ vendor = \"none\"; }"}), "nixperf_hardware.gpu must be a mapping"),
    (with_("cpu.model", "i7\n{ evil }"), "nixperf_hardware.cpu.model must not contain control characters"),
    (with_("memory.total_mib", 0), "nixperf_hardware.memory.total_mib must be an integer from 512 to"),
    (with_("memory.total_mib", True), "must be an integer from 512"),
    (with_("cpu.threads", 2), "nixperf_hardware.cpu.threads (2) must not be fewer than cpu.cores (4)"),
    (with_("cpu.cores", "four"), "nixperf_hardware.cpu.cores must be an integer from 1 to 4096, got a string"),
    (with_("storage", {"device": "sda"}), "nixperf_hardware.storage must be a list"),
    (with_("gpu.decode", ["h264", "h266"]), "nixperf_hardware.gpu.decode[1] must be one of mpeg2"),
    (with_("memroy", {"total_mib": 1}), "nixperf_hardware has unknown keys memroy (known: cpu, gpu, memory"),
    (with_("virtualization.guest", "maybe"), "nixperf_hardware.virtualization.guest must be true or false"),
    ("skylake", "nixperf_hardware must be a mapping"),
])
def test_bad_facts(hw, message):
    with pytest.raises(FactError) as err:
        check_hardware("vm-x", hw)
    assert str(err.value).startswith("host vm-x: ")
    assert message in str(err.value)


def test_missing_facts_name_what_the_phase_needs():
    with pytest.raises(FactError, match=r"host h: nixperf_hardware.memory.total_mib is missing; set it in the "
                                        r"host's inventory file \(total RAM in MiB, e.g. 16384\)"):
        check_hardware("h", {"cpu": SHOSHIN["cpu"]}, needs=["memory.total_mib"])
    with pytest.raises(FactError, match="nixperf_hardware is missing"):
        check_hardware("h", None)


def test_every_phase_refuses_bad_facts_before_building():
    """The schema runs for every phase, so even a phase that does not read gpu refuses a gpu string."""
    with pytest.raises(PhaseError, match="host h: nixperf_hardware.gpu must be a mapping"):
        build("memory", "h", {}, with_("gpu", "nvidia"))


@pytest.mark.parametrize("users,expected", [
    ([{"name": "mitsio"}], ["mitsio"]), (["mitsio", "kaori"], ["mitsio", "kaori"]), ([], []), (None, []),
    (["_svc", "a-b_9"], ["_svc", "a-b_9"]),
])
def test_users(users, expected):
    assert check_users("h", users) == expected


@pytest.mark.parametrize("users,message", [
    ("mitsio", "nixperf_users must be a list of users (names, or mappings with name), got a string 'mitsio'; "
               "write [mitsio]"),
    (["mitsio", "mitsio"], "nixperf_users[1] names mitsio twice"),
    ([{"name": "mitsio"}, "mitsio"], "nixperf_users[1] names mitsio twice"),
    (["mit\nsio"], "nixperf_users[0] must be a Linux user name"),
    (["$(reboot)"], "nixperf_users[0] must be a Linux user name"),
    (["../root"], "nixperf_users[0] must be a Linux user name"),
    (["Mitsio"], "nixperf_users[0] must be a Linux user name"),
    (["a" * 33], "nixperf_users[0] must be a Linux user name"),
    ([{"name": "x", "uid": 1000}], "nixperf_users[0] has unknown keys uid"),
    ([{"_nix": "\"root\""}], "nixperf_users[0] must be a Linux user name"),
    ([{"name": None}], "nixperf_users[0].name must be a Linux user name"),
    ({"name": "mitsio"}, "nixperf_users must be a list of users"),
])
def test_bad_users(users, message):
    with pytest.raises(FactError) as err:
        check_users("h", users)
    assert str(err.value).startswith("host h: ") and message in str(err.value)


def test_users_are_checked_by_the_phases_that_write_homes():
    with pytest.raises(PhaseError, match="nixperf_users must be a list of users"):
        build("electron_apps", "h", {"session": "x11"}, SHOSHIN, users="mitsio")


def test_desktop():
    desktop = {"environment": "plasma6", "session": "x11"}
    assert check_desktop("h", dict(desktop)) == desktop
    with pytest.raises(FactError, match="nixperf_desktop.session must be one of x11, wayland, got 'mir'"):
        check_desktop("h", {"session": "mir"})
