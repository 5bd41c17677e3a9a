"""boot: every feature opt-in; the initrd compressor from the storage facts; kernel parameters checked as nixpkgs'
kernelParam type checks them; and, with the real evaluator, the generated module sets exactly each feature's values
and nothing while its switch is off."""
from __future__ import annotations

import pytest
from support import eval_modules
from ansible_collections.nixperf.tuning.plugins.module_utils import checks as C
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixIf, NixOverride, NixRaw, escape_string, nix_module
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import PhaseError, build, get
from ansible_collections.nixperf.tuning.plugins.module_utils.phases import boot as B

SHOSHIN = {"cpu": {"vendor": "intel", "family": "skylake", "x86_64_level": 3, "cores": 4, "threads": 8},
           "memory": {"total_mib": 16384},
           "storage": [{"device": "nvme0n1", "type": "nvme", "size_gb": 500}], "virtualization": {"guest": False}}
VM = {"cpu": {"cores": 8, "threads": 8}, "storage": [{"device": "vda", "type": "virtio", "size_gb": 100}],
      "virtualization": {"guest": True, "platform": "kubevirt"}}
HDD = {"cpu": {"cores": 2, "threads": 4}, "storage": [{"device": "sda", "type": "hdd", "size_gb": 2000}]}
ONE_THREAD = {"cpu": {"cores": 1, "threads": 1}, "storage": [{"device": "mmcblk0", "type": "emmc"}]}
SSD = {"storage": [{"device": "sda", "type": "ssd"}]}
MIXED = {"storage": [{"device": "nvme0n1", "type": "nvme"}, {"device": "sdb", "type": "hdd"}]}
NO_STORAGE: dict = {}
UNTYPED = {"storage": [{"device": "sda"}]}
GUEST_NO_STORAGE = {"virtualization": {"guest": True}}
ALL_ON = {"initrd_enable": True, "kernel_params_enable": True, "kernel_params": ["nowatchdog", "threadirqs"],
          "kernel_params_extra": ["preempt=full", 'acpi_osi="Windows 2020"'], "quiet_enable": True,
          "critical_path_enable": True, "off_critical_path": ["NetworkManager-wait-online", "systemd-networkd-wait-online"],
          "timeouts_enable": True}
# nixperf.boot.* with the features at their inventory defaults: what the module declares whatever it sets
OPTIONS_OFF = {"enable": True, "initrd": {"enable": False}, "kernelParams": {"enable": False},
               "quiet": {"enable": False}, "criticalPath": {"enable": False}, "timeouts": {"enable": False}}


def plan(settings=None, hardware=None, host="shoshin", **kw):
    return build("boot", host, settings or {}, SHOSHIN if hardware is None else hardware, **kw)


def owned(value, priority=75):
    return NixOverride(priority, value)


def render(p):
    """The module as the planning action renders it."""
    return nix_module("boot", p.config, role="boot", description=p.description, enable=p.enable, note=p.note,
                      markers=False, priority=75, features=p.features)[0]


def module(nix, tmp_path, p, name="boot.nix"):
    path = tmp_path / name
    path.write_text(render(p))
    assert nix.parses(path), path.read_text()
    return path


def options(**on):
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in OPTIONS_OFF.items()}
    for name, value in on.items():
        out[name] = {"enable": value}
    return out


def leaves(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, path + (key,))
    else:
        yield path, node


# ---------------------------------------------------------------------------------------------------- declaration

def test_declaration_needs_a_reboot_and_runs_after_the_other_phases():
    phase = get("boot")
    assert phase.reboot is True and phase.order == 100 and phase.facts == ()
    assert [s.name for s in phase.settings if s.kind == "bool" and s.name.endswith("_enable")] == [
        "initrd_enable", "kernel_params_enable", "quiet_enable", "critical_path_enable", "timeouts_enable"]
    switches = ("initrd_enable", "kernel_params_enable", "quiet_enable", "critical_path_enable", "timeouts_enable")
    assert all(phase.setting(n).default is False for n in switches)


def test_no_settings_every_feature_off_and_every_value_guarded_by_its_feature():
    p = plan()
    assert p.enable is True
    assert {name: spec[0] for name, spec in p.features.items()} == dict.fromkeys(B.FEATURES, False)
    assert p.derived["cmdline"] == [] and p.derived["kernel_params"] == [] and p.derived["off_critical_path"] == []
    found = dict(leaves(p.config))
    assert found  # the values are there, each behind its switch, so the host can flip it
    for path, value in found.items():
        assert isinstance(value, NixIf) and value.condition.code.startswith("cfg."), path
    assert "boot" not in p.config or "kernelParams" not in p.config["boot"]  # nothing to add: no definition


# ---------------------------------------------------------------------------------------------------- initrd

@pytest.mark.parametrize("hardware,compressor,args,medium", [
    (SHOSHIN, "lz4", ["-l", "-9"], "fast"),
    (SSD, "lz4", ["-l", "-9"], "fast"),
    (VM, "zstd", ["-19", "-T0"], "slow"),
    (HDD, "zstd", ["-19", "-T0"], "slow"),
    (MIXED, "zstd", ["-19", "-T0"], "slow"),
    (ONE_THREAD, "zstd", ["-19"], "slow"),
    (GUEST_NO_STORAGE, "zstd", ["-19", "-T0"], "slow"),
    (NO_STORAGE, "zstd", ["-10", "-T0"], "unknown"),
    (UNTYPED, "zstd", ["-10", "-T0"], "unknown"),
])
def test_initrd_compressor_follows_the_storage(hardware, compressor, args, medium):
    p = plan({"initrd_enable": True}, hardware)
    initrd = p.derived["initrd"]
    assert (initrd["compressor"], initrd["args"], initrd["medium"]) == (compressor, args, medium)
    assert p.config["boot"]["initrd"]["compressor"] == NixIf("cfg.initrd.enable", owned(compressor))
    # the arguments only with the compressor they were chosen for
    assert p.config["boot"]["initrd"]["compressorArgs"] == NixIf("cfg.initrd.enable", NixIf(
        'config.boot.initrd.compressor == "%s"' % compressor, owned(args)))
    assert p.features["initrd"][0] is True
    assert "already zstd -10" in p.features["initrd"][1]


def test_initrd_reasons_name_the_facts():
    assert plan({}, MIXED).derived["initrd"]["reason"].startswith("storage hdd+nvme (slow: hdd) -> zstd")
    assert "one hardware thread, so no -T0" in plan({}, ONE_THREAD).derived["initrd"]["reason"]
    assert plan({}, GUEST_NO_STORAGE).derived["initrd"]["reason"].startswith("no storage facts on a VM")
    assert "nixpkgs' own level" in plan({}, NO_STORAGE).derived["initrd"]["reason"]
    note = plan().note
    assert "NixOS already compresses the initrd with zstd -10" in note and "initrd: off: lz4 -l -9" in note


@pytest.mark.parametrize("settings,hardware,compressor,args", [
    ({"initrd_compressor": "zstd"}, SHOSHIN, "zstd", ["-10", "-T0"]),
    ({"initrd_compressor": "zstd"}, HDD, "zstd", ["-19", "-T0"]),
    ({"initrd_compressor": "zstd", "initrd_level": 3}, HDD, "zstd", ["-3", "-T0"]),
    ({"initrd_compressor": "zstd", "initrd_level": "15"}, ONE_THREAD, "zstd", ["-15"]),
    ({"initrd_level": 12}, SHOSHIN, "lz4", ["-l", "-12"]),
    ({"initrd_compressor": "lz4"}, HDD, "lz4", ["-l", "-9"]),
    ({"initrd_compressor": "gzip"}, SHOSHIN, "gzip", None),
    ({"initrd_compressor": "xz"}, VM, "xz", None),
])
def test_initrd_overrides(settings, hardware, compressor, args):
    initrd = plan(settings, hardware).derived["initrd"]
    assert (initrd["compressor"], initrd["args"]) == (compressor, args)


@pytest.mark.parametrize("settings,hardware,message", [
    ({"initrd_compressor": "brotli"}, SHOSHIN, "boot_initrd_compressor must be one of zstd, lz4, gzip, xz, got 'brotli'"),
    ({"initrd_compressor": "pixz"}, SHOSHIN, "must be one of zstd, lz4, gzip, xz"),
    ({"initrd_level": 13}, SHOSHIN, "boot_initrd_level must be from 1 to 12 for lz4, got 13"),
    ({"initrd_level": 20}, HDD, "boot_initrd_level must be an integer from 1 to 19, got 20"),
    ({"initrd_level": 0}, HDD, "boot_initrd_level must be an integer from 1 to 19, got 0"),
    ({"initrd_level": "high"}, HDD, "boot_initrd_level must be an integer from 1 to 19, got 'high'"),
    ({"initrd_compressor": "gzip", "initrd_level": 9}, HDD, "boot_initrd_level (9) applies to zstd and lz4 only"),
    ({"initrd_compressor": "xz", "initrd_level": 6}, HDD, "xz keeps the arguments of nixpkgs'"),
    ({"initrd_enable": "maybe"}, HDD, "boot_initrd_enable must be true or false, got 'maybe'"),
])
def test_initrd_bad_settings(settings, hardware, message):
    with pytest.raises(PhaseError) as err:
        plan(settings, hardware, host="vm7")
    assert str(err.value).startswith("host vm7: ") and message in str(err.value)


# ---------------------------------------------------------------------------------------------------- kernel params

def test_kernel_params_from_the_catalogue_then_the_extras():
    p = plan({"kernel_params_enable": True, "kernel_params": ["threadirqs", "nowatchdog"],
              "kernel_params_extra": ['acpi_osi="Windows 2020"', "console=ttyS0,115200n8", "zswap.enabled=0"]})
    params = ["threadirqs", "nowatchdog", 'acpi_osi="Windows 2020"', "console=ttyS0,115200n8", "zswap.enabled=0"]
    assert p.config["boot"]["kernelParams"] == NixIf("cfg.kernelParams.enable", params)  # a list: no priority
    assert p.derived["kernel_params"] == params and p.derived["cmdline"] == params
    assert p.features["kernelParams"] == (True, "Add the kernel parameters %s." % " ".join(params))


def test_the_catalogue_says_what_each_parameter_does_and_where_that_is_written():
    for name, (param, effect, source) in B.KERNEL_PARAMS.items():
        assert name == param and B.KERNEL_PARAM.fullmatch(param)
        assert effect and "kernel-parameters.txt" in source
    assert not {"mitigations", "tsc", "fsck.mode"} & {B.param_key(p)[0] for p in B.KERNEL_PARAMS}


def test_kernel_params_off_but_named_stay_in_the_module():
    p = plan({"kernel_params": ["nowatchdog"]})
    assert p.config["boot"]["kernelParams"] == NixIf("cfg.kernelParams.enable", ["nowatchdog"])
    assert p.derived["cmdline"] == [] and p.features["kernelParams"][0] is False


@pytest.mark.parametrize("param,key,value", [
    ("nowatchdog", "nowatchdog", None), ("preempt=full", "preempt", "full"), ("split-lock-detect=off", "split_lock_detect", "off"),
    ('"acpi_osi=Windows 2020"', "acpi_osi", 'Windows 2020"'), ("a=b=c", "a", "b=c"), ("x=", "x", ""),
])
def test_param_key(param, key, value):
    assert B.param_key(param) == (key, value)


@pytest.mark.parametrize("settings,message", [
    ({"kernel_params": ["mitigations=off"]}, "boot_kernel_params[0] is 'mitigations=off', not a parameter of the catalogue "
                                             "(known: nowatchdog, threadirqs, preempt=full; others go in boot_kernel_params_extra)"),
    ({"kernel_params": [3]}, "boot_kernel_params[0] is 3, not a parameter"),
    ({"kernel_params": "nowatchdog"}, "boot_kernel_params must be a list, got 'nowatchdog'"),
    ({"kernel_params": ["nowatchdog", "nowatchdog"]}, "boot_kernel_params names nowatchdog twice"),
    ({"kernel_params": ["nowatchdog"], "kernel_params_extra": ["nowatchdog"]},
     "boot_kernel_params_extra names nowatchdog twice (also in boot_kernel_params)"),
    ({"kernel_params": ["preempt=full"], "kernel_params_extra": ["preempt=voluntary"]},
     "boot_kernel_params_extra sets preempt twice with different values: preempt=full and preempt=voluntary"),
    ({"kernel_params_extra": ["split-lock-detect=off", "split_lock_detect=warn"]},
     "sets split_lock_detect twice with different values: split-lock-detect=off and split_lock_detect=warn"),
    ({"kernel_params_extra": ["nowatchdog=0", "nowatchdog"]}, "sets nowatchdog twice with different values"),
    ({"kernel_params_extra": ["split-lock-detect=off", "split_lock_detect=off"]},
     "boot_kernel_params_extra names split_lock_detect=off (as split-lock-detect=off) twice"),
    ({"kernel_params_extra": ["a b"]}, "boot_kernel_params_extra[0] ('a b') is not a kernel parameter: nixpkgs' "
                                       "boot.kernelParams takes strings matching ([^\"[:space:]]|\"[^\"]*\")+"),
    ({"kernel_params_extra": ['foo="a b']}, "is not a kernel parameter"),
    ({"kernel_params_extra": [""]}, "is not a kernel parameter"),
    ({"kernel_params_extra": ["ok", "tab\there"]}, "boot_kernel_params_extra[1] ('tab\\there') holds a control character"),
    ({"kernel_params_extra": ['x="a\nb"']}, "holds a control character"),
    ({"kernel_params_extra": [1]}, "boot_kernel_params_extra[0] must be a string, got 1"),
    ({"kernel_params_extra": ["quiet"]}, "boot_kernel_params_extra[0] (quiet) is not allowed: the quiet feature"),
    ({"kernel_params_extra": ["loglevel=7"]}, "(loglevel=7) is not allowed: NixOS writes loglevel= from "
                                              "boot.consoleLogLevel"),
    ({"kernel_params_extra": ["init=/bin/sh"]}, "(init=/bin/sh) is not allowed: the boot loader entry"),
    ({"kernel_params_extra": ["root=/dev/sda1"]}, "(root=/dev/sda1) is not allowed: NixOS's systemd stage 1"),
    ({"kernel_params_extra": ["resume=/dev/sda2"]}, "is not allowed: NixOS writes resume= from boot.resumeDevice"),
    ({"kernel_params_extra": [{"_nix": "builtins.readFile /etc/shadow"}]},
     "boot_kernel_params_extra holds a Nix code marker at [0]; this variable does not take Nix code"),
    ({"kernel_params": [{"_nix_force": "x"}]}, "boot_kernel_params holds a Nix code marker at [0]"),
    ({"kernel_params_enable": True}, "boot_kernel_params_enable is true but boot_kernel_params and "
                                     "boot_kernel_params_extra name no parameter (catalogue: nowatchdog"),
    ({"kernel_params_enable": "yes"}, "boot_kernel_params_enable is true but"),
])
def test_kernel_params_bad_settings(settings, message):
    with pytest.raises(PhaseError) as err:
        plan(settings)
    assert str(err.value).startswith("host shoshin: ") and message in str(err.value)


@pytest.mark.parametrize("text", [
    "nowatchdog", "a=b", 'acpi_osi="Windows 2020"', '"quoted whole=value with spaces"', 'x=""', 'a"b c"d',
    "a b", 'x="a b', '"', "", " lead", "trail ", "tab\there", 'a="b"c"', "non\u00a0breaking", "${x}",
])
def test_the_kernel_param_check_is_nixpkgs_own(nix, text):
    """The Python pattern accepts exactly what nixpkgs' kernelParam type (builtins.match, kernel.nix) accepts."""
    nixpkgs = nix.eval_json("builtins.match %s %s != null" % (escape_string(B.KERNEL_PARAM_NIX), escape_string(text)))
    assert bool(B.KERNEL_PARAM.fullmatch(text)) is nixpkgs


def test_injection_attempts_stay_strings(nix, tmp_path):
    evil = 'x="${builtins.readFile /etc/passwd}"'
    p = plan({"kernel_params_enable": True, "kernel_params_extra": [evil]})
    path = module(nix, tmp_path, p)
    assert eval_modules(nix, path)["boot"]["kernelParams"] == [evil]


# ---------------------------------------------------------------------------------------------------- quiet

def test_quiet_sets_the_console_level_stage_1_and_systemd_status():
    p = plan({"quiet_enable": "true", "quiet_level": "0"})
    assert p.config["boot"]["consoleLogLevel"] == NixIf("cfg.quiet.enable", owned(0))
    assert p.config["boot"]["initrd"]["verbose"] == NixIf("cfg.quiet.enable", owned(False))
    stage1 = p.config["boot"]["initrd"]["systemd"]["settings"]["Manager"]
    assert stage1["ShowStatus"] == NixIf("cfg.quiet.enable", owned("auto"))
    assert p.config["systemd"]["settings"]["Manager"]["ShowStatus"] == NixIf("cfg.quiet.enable", owned("auto"))
    assert p.derived["cmdline"] == ["loglevel=0"]  # written by NixOS's kernel.nix from boot.consoleLogLevel
    assert "kernelParams" not in p.config["boot"]


@pytest.mark.parametrize("value,message", [
    (8, "boot_quiet_level must be an integer from 0 to 7, got 8"),
    (-1, "boot_quiet_level must be an integer from 0 to 7, got -1"),
    (True, "boot_quiet_level must be an integer from 0 to 7, got True"),
    ("err", "boot_quiet_level must be an integer from 0 to 7, got 'err'"),
])
def test_quiet_level_range(value, message):
    with pytest.raises(PhaseError, match="host shoshin: ") as err:
        plan({"quiet_level": value})
    assert message in str(err.value)


# ---------------------------------------------------------------------------------------------------- critical path

def test_critical_path_uses_each_services_nixos_option():
    p = plan({"critical_path_enable": True, "off_critical_path": ["systemd-networkd-wait-online",
                                                                  "NetworkManager-wait-online"]})
    assert p.config["systemd"]["services"] == {
        "NetworkManager-wait-online": {"enable": NixIf("cfg.criticalPath.enable", owned(False))}}
    assert p.config["systemd"]["network"] == {"wait-online": {"enable": NixIf("cfg.criticalPath.enable", owned(False))}}
    assert p.derived["off_critical_path"] == ["systemd-networkd-wait-online", "NetworkManager-wait-online"]
    for option, value, effect, source in B.CRITICAL_PATH.values():
        assert option[-1] == "enable" and value is False and effect and source.startswith("nixpkgs nixos/modules/")


@pytest.mark.parametrize("settings,message", [
    ({"off_critical_path": ["systemd-udev-settle"]},
     "boot_off_critical_path[0] is 'systemd-udev-settle', not a service this role knows how to take off the boot's "
     "critical path (known: NetworkManager-wait-online, systemd-networkd-wait-online)"),
    ({"off_critical_path": ["NetworkManager-wait-online", "NetworkManager-wait-online"]},
     "boot_off_critical_path names NetworkManager-wait-online twice"),
    ({"off_critical_path": [None]}, "boot_off_critical_path[0] is None"),
    ({"critical_path_enable": True}, "boot_critical_path_enable is true but boot_off_critical_path names no service"),
])
def test_critical_path_bad_settings(settings, message):
    with pytest.raises(PhaseError) as err:
        plan(settings)
    assert message in str(err.value)


# ---------------------------------------------------------------------------------------------------- timeouts

def test_timeouts_defaults_and_text_from_the_command_line():
    p = plan({"timeouts_enable": "yes", "timeout_start_sec": "45", "loader_timeout": "0"})
    manager = p.config["systemd"]["settings"]["Manager"]
    assert manager["DefaultTimeoutStartSec"] == NixIf("cfg.timeouts.enable", owned("45s"))
    assert manager["DefaultTimeoutStopSec"] == NixIf("cfg.timeouts.enable", owned("15s"))
    assert p.config["boot"]["loader"]["timeout"] == NixIf("cfg.timeouts.enable", owned(0))
    assert p.derived["timeouts"] == {"start_sec": 45, "stop_sec": 15, "loader_sec": 0}


@pytest.mark.parametrize("settings,message", [
    ({"timeout_start_sec": 0}, "boot_timeout_start_sec must be an integer from 1 to 3600, got 0"),
    ({"timeout_stop_sec": 3601}, "boot_timeout_stop_sec must be an integer from 1 to 3600, got 3601"),
    ({"timeout_stop_sec": "90s"}, "boot_timeout_stop_sec must be an integer from 1 to 3600, got '90s'"),
    ({"loader_timeout": -1}, "boot_loader_timeout must be an integer from 0 to 600, got -1"),
    ({"loader_timeout": None, "timeouts_enable": "perhaps"}, "boot_timeouts_enable must be true or false"),
    ({"nope": 1}, "phase boot has no settings nope"),
])
def test_timeouts_bad_settings(settings, message):
    with pytest.raises(PhaseError) as err:
        plan(settings)
    assert message in str(err.value)


def test_priority_is_the_hosts_nixperf_priority():
    p = plan({"timeouts_enable": True}, priority="40")
    assert p.config["boot"]["loader"]["timeout"] == NixIf("cfg.timeouts.enable", owned(1, 40))


def test_note_has_one_line_per_feature():
    lines = plan(ALL_ON).note.splitlines()
    for name in B.FEATURES:
        assert sum(1 for ln in lines if ln.startswith(name + ": on")) == 1, name
    assert any(ln.startswith("kernelParams: off: none") for ln in plan().note.splitlines())


# ---------------------------------------------------------------------------------------------------- live checks

def test_cmdline_checks_only_while_the_feature_is_on():
    named = {"kernel_params": ["nowatchdog"], "kernel_params_extra": ["preempt=full"]}
    on = [c for c in C.checks(plan(dict(named, kernel_params_enable=True))) if c["probe"] == "cmdline"]
    assert [(c["id"], c["args"], c["expected"]) for c in on] == [
        ("boot:cmdline:nowatchdog", {"param": "nowatchdog"}, True),
        ("boot:cmdline:preempt=full", {"param": "preempt=full"}, True)]
    assert C.checks(plan(named)) == []
    assert C.checks(plan()) == []
    every = C.checks(plan(ALL_ON))  # the other features' values give no check and break nothing
    assert [c["args"]["param"] for c in every] == ["nowatchdog", "threadirqs", "preempt=full", 'acpi_osi="Windows 2020"']


# ---------------------------------------------------------------------------------------------------- real Nix

@pytest.mark.parametrize("hardware", [SHOSHIN, VM, HDD, ONE_THREAD, NO_STORAGE, GUEST_NO_STORAGE])
@pytest.mark.parametrize("settings", [{}, ALL_ON, dict(ALL_ON, enable=False), {"initrd_compressor": "gzip"}])
def test_every_module_parses(nix, tmp_path, hardware, settings):
    module(nix, tmp_path, plan(settings, hardware))


def test_all_off_sets_nothing_but_its_own_options(nix, tmp_path):
    path = module(nix, tmp_path, plan({"kernel_params": ["nowatchdog"], "off_critical_path": ["NetworkManager-wait-online"]}))
    assert eval_modules(nix, path) == {"nixperf": {"boot": options()}}


QUIET = {"boot": {"consoleLogLevel": 3, "initrd": {"verbose": False, "systemd": {"settings": {"Manager": {"ShowStatus": "auto"}}}}},
         "systemd": {"settings": {"Manager": {"ShowStatus": "auto"}}}}
ONE_FEATURE = [
    ("initrd", {"initrd_enable": True}, SHOSHIN,
     {"boot": {"initrd": {"compressor": "lz4", "compressorArgs": ["-l", "-9"]}}}),
    ("initrd", {"initrd_enable": True}, VM,
     {"boot": {"initrd": {"compressor": "zstd", "compressorArgs": ["-19", "-T0"]}}}),
    ("initrd", {"initrd_enable": True, "initrd_compressor": "xz"}, HDD,
     {"boot": {"initrd": {"compressor": "xz", "compressorArgs": None}}}),
    ("kernelParams", {"kernel_params_enable": True, "kernel_params": ["nowatchdog"], "kernel_params_extra": ["preempt=full"]},
     SHOSHIN, {"boot": {"kernelParams": ["nowatchdog", "preempt=full"]}}),
    ("quiet", {"quiet_enable": True}, SHOSHIN, QUIET),
    ("criticalPath", {"critical_path_enable": True, "off_critical_path": ["NetworkManager-wait-online"]}, SHOSHIN,
     {"systemd": {"services": {"NetworkManager-wait-online": {"enable": False}}}}),
    ("criticalPath", {"critical_path_enable": True, "off_critical_path": ["systemd-networkd-wait-online"]}, VM,
     {"systemd": {"network": {"wait-online": {"enable": False}}}}),
    ("timeouts", {"timeouts_enable": True, "timeout_stop_sec": 20}, SHOSHIN,
     {"boot": {"loader": {"timeout": 1}},
      "systemd": {"settings": {"Manager": {"DefaultTimeoutStartSec": "30s", "DefaultTimeoutStopSec": "20s"}}}}),
]


@pytest.mark.parametrize("feature,settings,hardware,expected", ONE_FEATURE)
def test_one_feature_from_the_inventory_sets_exactly_its_values(nix, tmp_path, feature, settings, hardware, expected):
    path = module(nix, tmp_path, plan(settings, hardware))
    assert eval_modules(nix, path) == dict(expected, nixperf={"boot": options(**{feature: True})})


@pytest.mark.parametrize("feature,settings,hardware,expected", ONE_FEATURE)
def test_one_feature_switched_on_by_the_host_sets_exactly_its_values(nix, tmp_path, feature, settings, hardware,
                                                                     expected):
    """The inventory leaves the feature off; the host's own configuration turns it on."""
    off = {k: v for k, v in settings.items() if not k.endswith("_enable")}
    path = module(nix, tmp_path, plan(off, hardware))
    got = eval_modules(nix, path, "{ nixperf.boot.%s.enable = true; }" % feature)
    assert got == dict(expected, nixperf={"boot": options(**{feature: True})})


def test_all_on(nix, tmp_path):
    path = module(nix, tmp_path, plan(ALL_ON))
    assert eval_modules(nix, path) == {
        "nixperf": {"boot": options(**dict.fromkeys(B.FEATURES, True))},
        "boot": {"consoleLogLevel": 3, "kernelParams": ["nowatchdog", "threadirqs", "preempt=full", 'acpi_osi="Windows 2020"'],
                 "loader": {"timeout": 1},
                 "initrd": {"compressor": "lz4", "compressorArgs": ["-l", "-9"], "verbose": False,
                            "systemd": {"settings": {"Manager": {"ShowStatus": "auto"}}}}},
        "systemd": {"services": {"NetworkManager-wait-online": {"enable": False}},
                    "network": {"wait-online": {"enable": False}},
                    "settings": {"Manager": {"ShowStatus": "auto", "DefaultTimeoutStartSec": "30s",
                                             "DefaultTimeoutStopSec": "15s"}}},
    }


def test_the_host_turns_features_off(nix, tmp_path):
    path = module(nix, tmp_path, plan(ALL_ON))
    got = eval_modules(nix, path, "{ nixperf.boot.kernelParams.enable = false; nixperf.boot.quiet.enable = false;"
                                  " nixperf.boot.criticalPath.enable = false; nixperf.boot.timeouts.enable = false; }")
    assert got == {"nixperf": {"boot": options(initrd=True)},
                   "boot": {"initrd": {"compressor": "lz4", "compressorArgs": ["-l", "-9"]}}}


def test_phase_enable_false_sets_nothing(nix, tmp_path):
    path = module(nix, tmp_path, plan(dict(ALL_ON, enable=False)))
    assert eval_modules(nix, path) == {"nixperf": {"boot": dict(options(**dict.fromkeys(B.FEATURES, True)), enable=False)}}
    # and the host's own switch does the same
    path = module(nix, tmp_path, plan(ALL_ON), "on.nix")
    assert eval_modules(nix, path, "{ nixperf.boot.enable = false; }") == {
        "nixperf": {"boot": dict(options(**dict.fromkeys(B.FEATURES, True)), enable=False)}}


def test_a_forced_compressor_of_the_host_wins_and_gets_no_arguments_of_ours(nix, tmp_path):
    path = module(nix, tmp_path, plan({"initrd_enable": True}))
    forced = eval_modules(nix, path, '{ lib, ... }: { boot.initrd.compressor = lib.mkForce "gzip"; }')
    assert forced["boot"] == {"initrd": {"compressor": "gzip"}}  # gzip with its own defaults, never "-l -9"
    plain = eval_modules(nix, path, '{ boot.initrd.compressor = "gzip"; boot.initrd.compressorArgs = [ "-1" ]; }')
    assert plain["boot"] == {"initrd": {"compressor": "lz4", "compressorArgs": ["-l", "-9"]}}
    same = eval_modules(nix, path, '{ lib, ... }: { boot.initrd.compressor = lib.mkForce "lz4"; }')
    assert same["boot"] == {"initrd": {"compressor": "lz4", "compressorArgs": ["-l", "-9"]}}


def test_host_values_plain_lose_forced_win(nix, tmp_path):
    path = module(nix, tmp_path, plan(ALL_ON))
    plain = eval_modules(nix, path, "{ boot.consoleLogLevel = 7; boot.loader.timeout = 10;"
                                    " systemd.services.NetworkManager-wait-online.enable = true; }")
    assert (plain["boot"]["consoleLogLevel"], plain["boot"]["loader"]["timeout"]) == (3, 1)
    assert plain["systemd"]["services"]["NetworkManager-wait-online"]["enable"] is False
    forced = eval_modules(nix, path, "{ lib, ... }: { boot.consoleLogLevel = lib.mkForce 7;"
                                     " systemd.settings.Manager.DefaultTimeoutStopSec = lib.mkForce \"2min\"; }")
    assert forced["boot"]["consoleLogLevel"] == 7
    assert forced["systemd"]["settings"]["Manager"]["DefaultTimeoutStopSec"] == "2min"


def test_kernel_params_of_the_host_and_ours_concatenate(nix, tmp_path):
    path = module(nix, tmp_path, plan(ALL_ON))
    got = eval_modules(nix, path, '{ boot.kernelParams = [ "console=ttyS0" "nvidia-drm.modeset=1" ]; }')
    assert sorted(got["boot"]["kernelParams"]) == sorted(
        ["nowatchdog", "threadirqs", "preempt=full", 'acpi_osi="Windows 2020"', "console=ttyS0", "nvidia-drm.modeset=1"])
    off = eval_modules(nix, path, '{ boot.kernelParams = [ "console=ttyS0" ]; nixperf.boot.kernelParams.enable = false; }')
    assert off["boot"]["kernelParams"] == ["console=ttyS0"]


def test_the_condition_is_our_code_never_the_inventorys():
    p = plan({"initrd_enable": True})
    cond = p.config["boot"]["initrd"]["compressorArgs"].value.condition
    assert isinstance(cond, NixRaw) and cond.code == 'config.boot.initrd.compressor == "lz4"'
