"""monitoring: opt-in shell aliases for the host; the rendered module evaluates, in the real Nix evaluator, to exactly
the command lines, and bash, given them the way home-manager writes them, runs exactly those commands."""
from __future__ import annotations

import fnmatch
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import nix_module
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import DEFAULT_PRIORITY, PhaseError, build
from ansible_collections.nixperf.tuning.plugins.module_utils.phases import monitoring as M

ROOT = Path(__file__).resolve().parents[2]
NVIDIA = {"gpu": {"vendor": "nvidia", "driver": "nvidia"}}
AMD = {"gpu": {"vendor": "amd", "driver": "amdgpu"}}
VM = {"gpu": {"vendor": "none", "driver": "llvmpipe"}}
ALL = ["sysmon", "appmon", "crashmon", "mempress", "memtop"]
USERS = [{"name": "mitsio"}]
# The other aliases, whatever the GPU.
FIXED = {
    "appmon": "systemctl --user list-units --no-pager 'app-*-[0-9]*-[0-9]*.scope'",
    "crashmon": "journalctl -b -p err -n 20 -x --no-pager",
    "mempress": "cat /proc/pressure/memory",
    "memtop": "ps -eo pid,ppid,%mem,%cpu,cmd --sort=-%mem | head -20",
}
SMI = "nvidia-smi --query-gpu=memory.used,utilization.gpu --format=csv"
SYSFS = "grep -H . /sys/class/drm/card*/device/gpu_busy_percent /sys/class/drm/card*/device/mem_info_vram_used"
# Values that would break a naive Nix string: quotes, ${ (Nix and shell), '' (Nix indented strings), backslashes,
# $( ), newlines (three lines or more become a ''...'' string), a tab, non-ASCII.
NASTY = {
    "q": 'printf "%s\\n" "${HOME}" \'single\' "a\\"b"',
    "dollar": "echo ${HOME} $HOME $$ $(id -u) `id -u` ''${x} '' ''",
    "backslash": "printf '%s' \\\\ \\n \\${x} \\\"",
    "multi_line": "echo one\necho 'two\tthree'",
    "three_lines": "echo '' ''${x} '''\necho \"${HOME}\" \\t\nprintf '%s\\n' \\\\ end",
    "_unicode-name": "echo \u00e9t\u00e9 \u2014 \u65e5\u672c",
}
# The stub lib of the generated module: lib.mkIf drops the config when the phase is off; lib.mkOverride is kept
# visible, so the evaluation shows each value's priority.
LIB = ("{ mkOption = x: x; types.bool = null; mkIf = c: v: if c then v else { };"
       " mkOverride = p: v: { _priority = p; content = v; }; }")
# What home-manager's programs.bash writes for home.shellAliases (modules/programs/bash.nix:
# "alias -- ${k}=${lib.escapeShellArg v}"), with nixpkgs' lib.escapeShellArg (lib/strings.nix).
BASH_ALIASES = """let
  escapeShellArg = arg: let s = toString arg; in
    if builtins.match "[[:alnum:],._+:@%/-]+" s == null
    then "'${builtins.replaceStrings [ "'" ] [ "'\\\\''" ] s}'" else s;
  aliases = builtins.mapAttrs (k: v: v.content) (@MODULE@).config.home.shellAliases;
in builtins.concatStringsSep "\\n" (map (k: "alias -- ${k}=${escapeShellArg aliases.${k}}") (builtins.attrNames aliases))
"""


def plan(settings, hardware=None, **kw):
    return build("monitoring", "shoshin", settings, NVIDIA if hardware is None else hardware, USERS, **kw)


def render(p, tmp_path, nix):
    """The home-manager module as the planning action writes it; parsed by the real parser."""
    text = nix_module(p.phase, p.home_config, role="monitoring", description=p.description, enable=p.home_enable,
                      note=p.note, markers=False, priority=DEFAULT_PRIORITY)[0]
    path = tmp_path / "monitoring.nix"
    path.write_text(text)
    assert nix.parses(path), nix.run(["--parse", str(path)], expect_ok=False).stderr
    return path


def module(path, enable=True):
    return "import %s { config.nixperf.monitoring.enable = %s; pkgs = { }; lib = %s; }" % (
        path, "true" if enable else "false", LIB)


def aliases_in_nix(nix, path, enable=True):
    return nix.eval_json("(%s).config.home.shellAliases or { }" % module(path, enable))


# ------------------------------------------------------------------------------------------------ opt-in

def test_the_default_writes_nothing():
    p = plan({})
    assert p.config is None and p.home_config is None  # no NixOS module, no home-manager module: no file at all
    assert p.data_files == {} and p.files == {} and p.keys == {}
    assert p.derived == {"aliases": {}, "gpu": None, "extra": []}
    # explicitly empty is the same
    assert plan({"aliases": [], "extra": {}}).home_config is None


@pytest.mark.parametrize("name", sorted(FIXED))
def test_each_alias_alone(name):
    p = plan({"aliases": [name]})
    assert p.derived["aliases"] == {name: FIXED[name]}
    values = p.home_config["home"]["shellAliases"]
    assert list(values) == [name] and values[name].value == FIXED[name]
    assert values[name].priority == DEFAULT_PRIORITY  # the nixperf priority: a plain alias of the user's gives way


def test_sysmon_alone_follows_the_plan_with_the_host_gpu():
    p = plan({"aliases": ["sysmon"]})
    assert p.derived["aliases"] == {"sysmon": 'watch -n 2 "free -h; echo; %s; echo; ps aux --sort=-%%mem | head -10"'
                                    % SMI}
    assert p.derived["gpu"] == "nvidia-smi (NVIDIA's driver)"


@pytest.mark.parametrize("gpu,part", [
    ({"vendor": "nvidia", "driver": "nvidia"}, SMI),
    ({"vendor": "nvidia"}, SMI),  # no driver fact: NVIDIA's own
    ({"vendor": "nvidia", "driver": "nouveau"}, None),  # nvidia-smi needs NVIDIA's driver
    ({"vendor": "amd", "driver": "amdgpu"}, SYSFS),
    ({"vendor": "amd"}, SYSFS),
    ({"vendor": "amd", "driver": "radeon"}, None),  # the old radeon driver has no gpu_busy_percent
    ({"vendor": "intel", "driver": "i915"}, None),
    ({"vendor": "intel"}, None),
    ({"vendor": "none", "driver": "llvmpipe"}, None),
])
def test_the_gpu_part_of_sysmon(gpu, part):
    p = plan({"aliases": ["sysmon"]}, {"gpu": gpu})
    command = p.derived["aliases"]["sysmon"]
    parts = ["free -h"] + ([part] if part else []) + ["ps aux --sort=-%mem | head -10"]
    assert command == 'watch -n 2 "%s"' % "; echo; ".join(parts)
    assert ("nvidia-smi" in command) is (part == SMI)
    assert ("/sys/class/drm" in command) is (part == SYSFS)
    assert (part is None) is p.derived["gpu"].startswith("no GPU part")
    assert ("sysmon with " + p.derived["gpu"]) in p.note


def test_the_gpu_part_changes_only_sysmon():
    for hw in (NVIDIA, AMD, VM):
        p = plan({"aliases": ALL}, hw)
        assert {k: v for k, v in p.derived["aliases"].items() if k != "sysmon"} == FIXED


def test_the_fleet_hosts():
    """shoshin opts in to all five with its GTX 960 on NVIDIA's driver; kensho's RX 6700 XT (amdgpu) would read sysfs."""
    host = yaml.safe_load((ROOT / "inventories/fleet/shoshin.yml").read_text())["workstations"]["hosts"]["shoshin"]
    assert host["monitoring_aliases"] == ALL
    p = build("monitoring", "shoshin", {"aliases": host["monitoring_aliases"]}, host["nixperf_hardware"],
              host["nixperf_users"])
    assert sorted(p.derived["aliases"]) == sorted(ALL) and SMI in p.derived["aliases"]["sysmon"]
    kensho = yaml.safe_load((ROOT / "inventories/fleet/kensho.yml").read_text())
    hw = next(iter(next(iter(kensho.values()))["hosts"].values()))["nixperf_hardware"]
    assert SYSFS in build("monitoring", "kensho", {"aliases": ["sysmon"]}, hw, USERS).derived["aliases"]["sysmon"]


# ------------------------------------------------------------------------------------------------ appmon

def electron_units():
    """The unit names the electron_apps wrappers really start, from their rendered module."""
    hw = {"gpu": {"vendor": "nvidia"}, "memory": {"total_mib": 16384}, "cpu": {"threads": 8}}
    apps = ["discord", "signal", "codium", {"name": "my-app.x_2", "package": "hello", "binary": "hello"}]
    p = build("electron_apps", "shoshin", {"apps": apps, "session": "x11"}, hw)
    text = nix_module("electron_apps", p.home_config)[0]
    templates = re.findall(r'"--unit=(app-[^"]+)"', text)
    assert len(templates) == len(apps) and '"--scope"' in text
    # the wrapper is bash: $$ is its PID, $EPOCHSECONDS the time; systemd-run --scope names the unit <name>.scope
    return [t.replace("$$", "4242").replace("$EPOCHSECONDS", "1767225600") + ".scope" for t in templates]


def test_appmon_lists_the_scopes_of_the_electron_wrappers():
    units = electron_units()
    assert units[0] == "app-discord-4242-1767225600.scope" and "app-my-app.x_2-4242-1767225600.scope" in units
    # systemctl matches unit patterns with fnmatch(3); these patterns have no escapes, so fnmatchcase agrees
    assert all(fnmatch.fnmatchcase(u, M.UNIT_GLOB) for u in units)
    assert "'%s'" % M.UNIT_GLOB in FIXED["appmon"]


@pytest.mark.parametrize("unit", [
    "app-org.kde.konsole@autostart.service",  # XDG autostart (systemd-xdg-autostart-generator)
    "app-org.kde.dolphin@3d9f2e0c5b8a4d6e9f1a2b3c4d5e6f70.service",  # KDE's launcher, service mode
    "app-org.kde.dolphin-3d9f2e0c5b8a4d6e9f1a2b3c4d5e6f70.scope",  # KDE's launcher, scope mode
    "app-gnome-org.gnome.Terminal-12345.scope",  # GNOME Shell
    "app-flatpak-com.discordapp.Discord-4242.scope",  # flatpak
    "app-discord-4242-1767225600.service",
])
def test_appmon_leaves_the_desktops_own_units_out(unit):
    assert fnmatch.fnmatchcase(unit, "app-*")  # the plan's pattern takes them all
    assert not fnmatch.fnmatchcase(unit, M.UNIT_GLOB)


# ------------------------------------------------------------------------------------------------ extra

def test_extra_aliases_beside_the_plans():
    p = plan({"aliases": ["memtop"], "extra": {"gpumon": "watch -n 1 nvidia-smi", "_x-1": "true"}})
    assert p.derived["aliases"] == {"memtop": FIXED["memtop"], "gpumon": "watch -n 1 nvidia-smi", "_x-1": "true"}
    assert p.derived["extra"] == ["_x-1", "gpumon"]


def test_extra_alone_writes_only_those():
    p = plan({"extra": {"sysmon": "htop"}})  # the user's own sysmon, not the plan's
    assert {k: v.value for k, v in p.home_config["home"]["shellAliases"].items()} == {"sysmon": "htop"}
    assert p.derived["gpu"] is None and "sysmon with" not in p.note


@pytest.mark.parametrize("settings,needle", [
    ({"aliases": ["sysmon", "gpumon"]}, "monitoring_aliases[1] is 'gpumon', not an alias this role knows (known: "
     "sysmon, appmon, crashmon, mempress, memtop; your own go in monitoring_extra)"),
    ({"aliases": [{"name": "sysmon"}]}, "monitoring_aliases[0] is {'name': 'sysmon'}, not an alias this role knows"),
    ({"aliases": ["memtop", "memtop"]}, "monitoring_aliases names memtop twice"),
    ({"aliases": "sysmon"}, "monitoring_aliases must be a list, got 'sysmon'"),
    ({"extra": ["sysmon"]}, "monitoring_extra must be a mapping"),
    ({"extra": {"9lives": "true"}}, "monitoring_extra has the alias name '9lives'"),
    ({"extra": {"a b": "true"}}, "monitoring_extra has the alias name 'a b'"),
    ({"extra": {"a=b": "true"}}, "monitoring_extra has the alias name 'a=b'"),
    ({"extra": {"": "true"}}, "monitoring_extra has the alias name ''"),
    ({"extra": {7: "true"}}, "monitoring_extra has the alias name 7"),
    ({"aliases": ["memtop"], "extra": {"memtop": "top"}}, "monitoring_extra.memtop is also in monitoring_aliases"),
    ({"extra": {"x": ""}}, "monitoring_extra.x must be a command line (a non-empty string), got ''"),
    ({"extra": {"x": "  "}}, "monitoring_extra.x must be a command line"),
    ({"extra": {"x": 3}}, "monitoring_extra.x must be a command line (a non-empty string), got 3"),
    ({"extra": {"x": ["ls", "-l"]}}, "monitoring_extra.x must be a command line"),
    ({"extra": {"x": "echo a\0b"}}, "monitoring_extra.x holds a NUL character"),
    ({"extra": {"x": {"_nix": "pkgs.htop"}}}, "monitoring_extra holds a Nix code marker at x; this variable does "
     "not take Nix code"),
    ({"enable": "maybe"}, "monitoring_enable must be true or false"),
    ({"alias": ["sysmon"]}, "phase monitoring has no settings alias (known: enable, aliases, extra)"),
])
def test_bad_input_names_the_variable(settings, needle):
    with pytest.raises(PhaseError) as err:
        plan(settings)
    assert str(err.value).startswith("host shoshin: ")
    assert needle in str(err.value)


def test_the_gpu_vendor_is_required():
    with pytest.raises(PhaseError, match="nixperf_hardware"):
        build("monitoring", "shoshin", {"aliases": ["sysmon"]}, {}, USERS)


# ------------------------------------------------------------------------------------------------ real Nix

def test_the_rendered_values_evaluate_to_the_exact_strings(nix, tmp_path):
    """Quotes, ${, backslashes, '' and newlines are escaped: the evaluator reads back each command as it was given,
    at the nixperf priority; nothing became Nix code."""
    p = plan({"aliases": ALL, "extra": NASTY})
    path = render(p, tmp_path, nix)
    text = path.read_text()
    assert "\\${HOME}" in text and "''${HOME}" in text  # both string forms: "..." and ''...''
    got = aliases_in_nix(nix, path)
    expected = dict(p.derived["aliases"])
    assert sorted(got) == sorted(ALL + list(NASTY)) and len(expected) == len(got)
    assert got == {k: {"_priority": DEFAULT_PRIORITY, "content": v} for k, v in expected.items()}
    assert {k: got[k]["content"] for k in NASTY} == NASTY


def test_the_priority_follows_nixperf_priority(nix, tmp_path):
    p = plan({"aliases": ["mempress"]}, priority=60)
    path = render(p, tmp_path, nix)
    assert aliases_in_nix(nix, path) == {"mempress": {"_priority": 60, "content": FIXED["mempress"]}}


def test_switched_off_the_module_stays_inert(nix, tmp_path):
    p = plan({"aliases": ALL, "enable": "false"})
    assert p.enable is False and p.home_enable is False and p.home_config is not None
    path = render(p, tmp_path, nix)
    assert "default = false;" in path.read_text()
    assert aliases_in_nix(nix, path, enable=False) == {}
    assert sorted(aliases_in_nix(nix, path, enable=True)) == sorted(ALL)


def test_a_marker_dict_in_a_command_is_refused_before_rendering():
    """A marker as an alias's command never reaches the serializer, whichever marker it is."""
    with pytest.raises(PhaseError, match="holds a Nix code marker at x"):
        plan({"extra": {"x": {"_nix_force": "builtins.readFile /etc/shadow"}}})
    with pytest.raises(PhaseError, match="holds a Nix code marker at x"):
        plan({"extra": {"x": {"_nix": "builtins.readFile /etc/shadow"}}})


# ------------------------------------------------------------------------------------------------ real bash

# Fake programs for bash: each writes its name and arguments as JSON to a file of its own in $LOGDIR (the two sides of
# a pipeline run at once: one shared file could interleave them).
FAKES = ["watch", "free", "nvidia-smi", "grep", "ps", "head", "systemctl", "journalctl", "cat"]
FAKE = "import json, os, sys; open(os.path.join(os.environ['LOGDIR'], str(os.getpid())), 'w').write(json.dumps(sys.argv[1:]))"


def bash_aliases(nix, path):
    """The alias lines home-manager's programs.bash writes for this module (evaluated by the real evaluator)."""
    expr = BASH_ALIASES.replace("@MODULE@", module(path))
    return nix.eval_json(expr)


def run_alias(tmp_path, lines, name, noglob=False):
    """Define ``lines`` in a bash with the fake programs, run the alias ``name``; every command it ran, sorted."""
    logdir = tmp_path / ("%s.calls" % name)
    logdir.mkdir()
    fakes = "".join('%s() { python3 -c "$FAKE" %s "$@"; }\n' % (f, f) for f in FAKES)
    script = "shopt -s expand_aliases\n%s%s%s\n%s\n" % ("set -f\n" if noglob else "", fakes, lines, name)
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True, text=True,
                          env={"PATH": os.environ["PATH"], "LOGDIR": str(logdir), "FAKE": FAKE}, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    return sorted(json.loads(p.read_text()) for p in logdir.iterdir())


SMI_ARGV = ["nvidia-smi", "--query-gpu=memory.used,utilization.gpu", "--format=csv"]
SYSFS_ARGV = ["grep", "-H", ".", "/sys/class/drm/card*/device/gpu_busy_percent",
              "/sys/class/drm/card*/device/mem_info_vram_used"]


@pytest.mark.parametrize("hardware,gpu", [(NVIDIA, SMI_ARGV), (AMD, SYSFS_ARGV), (VM, None)])
def test_bash_runs_exactly_the_commands(nix, tmp_path, hardware, gpu):
    p = plan({"aliases": ALL}, hardware)
    lines = bash_aliases(nix, render(p, tmp_path, nix))
    assert lines.splitlines()[0].startswith("alias -- appmon='systemctl")
    assert run_alias(tmp_path, lines, "appmon") == [["systemctl", "--user", "list-units", "--no-pager",
                                                     "app-*-[0-9]*-[0-9]*.scope"]]
    assert run_alias(tmp_path, lines, "crashmon") == [["journalctl", "-b", "-p", "err", "-n", "20", "-x",
                                                       "--no-pager"]]
    assert run_alias(tmp_path, lines, "mempress") == [["cat", "/proc/pressure/memory"]]
    assert run_alias(tmp_path, lines, "memtop") == [["head", "-20"],
                                                    ["ps", "-eo", "pid,ppid,%mem,%cpu,cmd", "--sort=-%mem"]]
    # watch gets one command line, the glob unexpanded (watch hands it to sh -c, which expands it)
    [watch] = run_alias(tmp_path, lines, "sysmon")
    assert ("/sys/class/drm/card*/device/gpu_busy_percent" in watch[-1]) is (gpu == SYSFS_ARGV)
    assert watch[:3] == ["watch", "-n", "2"] and len(watch) == 4
    inner = watch[3]
    assert subprocess.run(["sh", "-n", "-c", inner], check=False).returncode == 0  # POSIX sh parses it
    # what sh -c runs (bash here, for the fake programs; no globbing, so the sysfs paths stay as written)
    got = run_alias(tmp_path, "alias -- inner=%s" % shell_quote(inner), "inner", noglob=True)
    expected = [["free", "-h"], ["head", "-10"], ["ps", "aux", "--sort=-%mem"]] + ([gpu] if gpu else [])
    assert got == sorted(expected)


def shell_quote(text):
    return "'%s'" % text.replace("'", "'\\''")


def test_bash_defines_each_nasty_alias_as_given(nix, tmp_path):
    """Through the Nix string, home-manager's quoting and bash, every alias's text arrives unchanged."""
    p = plan({"extra": NASTY})
    lines = bash_aliases(nix, render(p, tmp_path, nix))
    script = "%s\nfor k in \"${!BASH_ALIASES[@]}\"; do printf '%%s\\0%%s\\0' \"$k\" \"${BASH_ALIASES[$k]}\"; done\n" % lines
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    words = proc.stdout.split("\0")[:-1]
    assert dict(zip(words[::2], words[1::2])) == NASTY
