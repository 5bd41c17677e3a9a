"""electron_apps: the wrappers evaluate to scripts that, run by bash, start the app in a limited scope."""
from __future__ import annotations

import json
import os
import re
import stat
import subprocess

import pytest
from ansible_collections.nixperf.tuning.plugins.module_utils.phases import electron_apps as E
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import nix_module
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import PhaseError, build

SHOSHIN = {"gpu": {"vendor": "nvidia"}, "memory": {"total_mib": 16384}, "cpu": {"threads": 8}}
KENSHO = {"gpu": {"vendor": "amd"}, "memory": {"total_mib": 32768}, "cpu": {"threads": 16}}
VM = {"gpu": {"vendor": "none"}, "memory": {"total_mib": 16384}, "cpu": {"threads": 8}}
LIB = """{ mkOption = x: x; types.bool = null; mkIf = c: v: v; hiPrio = x: x // { hiPrio = true; };
  getExe' = p: b: "${p}/bin/${b}"; concatStringsSep = builtins.concatStringsSep;
  concatMapStrings = f: l: builtins.concatStringsSep "" (map f l); }"""

# Fake programs: each appends its argv to $LOG as one JSON line, then runs what follows its options.
FAKE = {
    "systemd-run": 'import json, os, sys\nargs = sys.argv[1:]\nopen(os.environ["LOG"], "a").write(json.dumps('
                   '["systemd-run"] + args) + "\\n")\nrest = args[args.index("--") + 1:]\nos.execv(rest[0], rest)\n',
    "choom": 'import json, os, sys\nargs = sys.argv[1:]\nopen(os.environ["LOG"], "a").write(json.dumps(["choom"] + '
             'args) + "\\n")\nrest = args[args.index("--") + 1:]\nos.execv(rest[0], rest)\n',
    "app": 'import json, os, sys\nopen(os.environ["LOG"], "a").write(json.dumps([os.path.basename(sys.argv[0])] + '
           'sys.argv[1:]) + "\\n")\n',
}


def evaluate(nix, tmp_path, plan, packages):
    """The module's home.packages as {name, cmd, hiPrio, script} with fake store paths under tmp_path."""
    path = tmp_path / "electron_apps.nix"
    path.write_text(nix_module("electron_apps", plan.home_config)[0])
    assert nix.parses(path)
    pkgs = " ".join('%s = "%s/%s";' % (p, tmp_path, p) for p in ["systemd", "util-linux"] + packages)
    expr = ("let pkgs = { %s writeShellScript = n: t: { __toString = s: \"/S/\" + n; name = n; text = t; };"
            " runCommand = n: e: c: e // { name = n; cmd = c; }; }; m = (import %s { config.nixperf.electron_apps"
            ".enable = true; inherit pkgs; lib = %s; }).config; in map (p: { inherit (p) name cmd hiPrio;"
            " script = p.passthru.script.text; }) (m.home.packages or [ ])" % (pkgs, path, LIB))
    return nix.eval_json(expr)


def fake_bin(tmp_path, package, binary, kind):
    bindir = tmp_path / package / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    exe = bindir / binary
    exe.write_text("#!/usr/bin/env python3\n" + FAKE[kind])
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)


def launch(tmp_path, script, *args):
    log = tmp_path / "log.jsonl"
    log.unlink(missing_ok=True)
    wrapper = tmp_path / "wrapper.sh"
    wrapper.write_text("#!/usr/bin/env bash\n" + script + "\n")
    subprocess.run(["bash", str(wrapper)] + list(args), check=True, env=dict(os.environ, LOG=str(log)))
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_nvidia_x11_wrapper_runs_the_app_in_a_limited_scope(nix, tmp_path):
    plan = build("electron_apps", "shoshin", {"session": "x11", "apps": ["discord"]}, SHOSHIN)
    assert plan.config is None  # home-manager only
    (pkg,) = evaluate(nix, tmp_path, plan, ["discord"])
    assert pkg["hiPrio"] is True and pkg["name"] == "nixperf-electron-discord"
    # the same script under the app's name and the real binary name
    assert pkg["cmd"] == "mkdir -p $out/bin\nln -s /S/nixperf-discord $out/bin/discord\n" \
                         "ln -s /S/nixperf-discord $out/bin/Discord\n"
    fake_bin(tmp_path, "systemd", "systemd-run", "systemd-run")
    fake_bin(tmp_path, "util-linux", "choom", "choom")
    fake_bin(tmp_path, "discord", "Discord", "app")
    run, choom, app = launch(tmp_path, pkg["script"], "--arg with space", "x")
    unit = run[5]
    assert run[:5] == ["systemd-run", "--user", "--scope", "--quiet", "--collect"]
    assert re.fullmatch(r"--unit=app-discord-[0-9]+-[0-9]{10}", unit)  # a valid unit name: PID and time
    assert run[6:] == ["--description=discord (nixperf.tuning electron_apps)", "-p", "MemoryHigh=2G",
                       "-p", "MemoryMax=3G", "-p", "CPUQuota=150%", "--",
                       "%s/util-linux/bin/choom" % tmp_path, "-n", "300", "--",
                       "%s/discord/bin/Discord" % tmp_path] + app[1:]
    assert choom[1:] == ["-n", "300", "--", "%s/discord/bin/Discord" % tmp_path] + app[1:]
    heap = ["--js-flags=--max-old-space-size=1024"]
    assert app == ["Discord"] + E.gpu_flags("nvidia", "x11") + heap + ["--arg with space", "x"]
    assert "--use-gl=desktop" not in app  # Chromium 118+ no longer accepts it
    # unique per launch: the unit name carries the launching shell's PID
    again = launch(tmp_path, pkg["script"])[0][5]
    assert again != unit


def test_gpu_flags_per_vendor_and_session():
    nvidia = E.gpu_flags("nvidia", "x11")
    assert "--ozone-platform=x11" in nvidia and "--enable-native-gpu-memory-buffers" in nvidia
    assert any("Vulkan" in f for f in nvidia)
    amd = E.gpu_flags("amd", "x11")
    assert "--ozone-platform=x11" in amd and not any("Vulkan" in f for f in amd)
    assert E.gpu_flags("intel", "x11") == amd
    wayland = E.gpu_flags("amd", "wayland")
    assert "--ozone-platform=wayland" in wayland and "--ozone-platform=x11" not in wayland
    assert E.gpu_flags("none", "x11") == E.gpu_flags("none", "wayland") == []


def test_vm_without_gpu_gets_no_gpu_flags(nix, tmp_path):
    plan = build("electron_apps", "vm", {"session": "x11", "apps": ["codium"]}, VM)
    (pkg,) = evaluate(nix, tmp_path, plan, ["vscodium"])
    assert "--ozone-platform" not in pkg["script"] and "--js-flags=--max-old-space-size=2048" in pkg["script"]
    assert pkg["cmd"].count("ln -s") == 1  # codium's binary is codium: one command


def test_custom_app_and_overrides(nix, tmp_path):
    apps = [{"name": "element", "package": "element-desktop", "binary": "element-desktop", "memory_high": "1.5G",
             "memory_max": "2G", "cpu_quota": 100, "v8_heap_mib": 768, "extra_flags": ["--force-dark-mode"]},
            {"name": "discord", "memory_max": "4G", "gpu": False, "oom_score_adjust": 500}]
    plan = build("electron_apps", "kensho", {"session": "wayland", "apps": apps}, KENSHO)
    element, discord = evaluate(nix, tmp_path, plan, ["element-desktop", "discord"])
    assert "MemoryHigh=1536M MemoryMax=2G" in element["script"].replace("-p ", "")
    assert "--ozone-platform=wayland" in element["script"] and element["script"].endswith("--force-dark-mode \"$@\"")
    assert "MemoryMax=4G" in discord["script"] and "-n 500" in discord["script"]
    assert "--ozone-platform" not in discord["script"]
    assert plan.derived["apps"]["element"]["commands"] == ["element", "element-desktop"]


def test_known_table_matches_the_plan():
    assert E.KNOWN["discord"]["binary"] == "Discord" and E.KNOWN["signal"]["binary"] == "signal-desktop"
    assert E.KNOWN["teams"]["package"] == "teams-for-linux" and E.KNOWN["codium"]["package"] == "vscodium"
    assert E.KNOWN["zoom"]["package"] == "zoom-us" and E.KNOWN["teams"]["memory_max"] == "4G"


def test_no_apps_is_inert():
    plan = build("electron_apps", "h", {"session": "x11"}, SHOSHIN)
    assert plan.home_config == {} and plan.derived["apps"] == {}


@pytest.mark.parametrize("apps,needle", [
    (["slack"], "electron_apps_apps[0] (slack) is not an app this role knows"),
    ([{"name": "slack", "binary": "slack"}], "give its nixpkgs attribute as package"),
    ([{"name": "Slack App", "package": "slack", "binary": "slack"}], "electron_apps_apps[0].name must be a lower-case"),
    ([{"name": "x", "package": 'a"; evil = "', "binary": "x"}], ".package must be a nixpkgs attribute path"),
    ([{"name": "x", "package": "x", "binary": "../bin/sh"}], ".binary must be an executable name"),
    ([{"name": "discord", "memory_high": "3G", "memory_max": "2G"}], "memory_high (3G) must not be above memory_max"),
    ([{"name": "discord", "memory_max": "20G"}], "memory_max (20G) is more than the host's RAM (16G)"),
    ([{"name": "discord", "v8_heap_mib": 4096}], "v8_heap_mib (4096 MiB heap) must be below memory_max (3G)"),
    ([{"name": "discord", "cpu_quota": 900}], "cpu_quota (900 %) is more than the host's 8 threads"),
    ([{"name": "discord", "oom_score_adjust": -100}], "must be 100 or more"),
    ([{"name": "discord", "memory_max": "3 GB"}], "memory_max must be a size"),
    ([{"name": "discord", "extra_flags": ["--a b"]}], "extra_flags must be a list of switches"),
    ([{"name": "discord", "extra_flags": ["$(rm -rf ~)"]}], "extra_flags must be a list of switches"),
    ([{"name": "discord", "colour": "red"}], "has unknown keys colour"),
    ([{"name": "discord", "gpu": "perhaps"}], ".gpu must be true or false"),
    (["discord", "discord"], "install discord twice"),
    ([{"name": "signal-desktop", "package": "x", "binary": "x"}, "signal"], "install signal-desktop twice"),
    ([42], "must be an app name or a mapping"),
    ("discord", "electron_apps_apps must be a list"),
])
def test_checks(apps, needle):
    with pytest.raises(PhaseError) as err:
        build("electron_apps", "shoshin", {"session": "x11", "apps": apps}, SHOSHIN)
    assert needle in str(err.value)


def test_session_is_required():
    with pytest.raises(PhaseError) as err:
        build("electron_apps", "h", {"session": "", "apps": []}, SHOSHIN)
    assert "electron_apps_session must be one of x11, wayland" in str(err.value)
