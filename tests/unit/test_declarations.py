"""A phase is one declaration: discovery, generated role files, and the values the planning action reads."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible_collections.nixperf.tuning.plugins.module_utils import phase as P
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import PhaseError, build

ROOT = Path(__file__).resolve().parents[2]
PHASES = ["memory", "resource_slices", "hardware_profile", "system_libs", "runtimes", "electron_apps", "gpu_video",
          "plasma", "kde_services", "monitoring", "rustdesk", "boot", "startup", "build_perf"]
SKYLAKE = {"cpu": {"vendor": "intel", "family": "skylake", "x86_64_level": 3, "cores": 4, "threads": 8},
           "memory": {"total_mib": 16384}, "gpu": {"vendor": "nvidia", "decode": ["h264"]}}


def test_phases_are_discovered_in_the_plans_order():
    assert P.known_phases() == PHASES
    for p in P.phases():
        assert (ROOT / "plugins/module_utils/phases" / (p.name + ".py")).is_file()
        assert (ROOT / "roles" / p.name / "README.md").is_file(), "every phase role has a README"


def test_generated_role_files_are_not_stale():
    proc = subprocess.run([sys.executable, str(ROOT / "scripts/generate.py"), "--check"], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, "run `make generate`:\n" + proc.stdout + proc.stderr


@pytest.mark.parametrize("phase", PHASES)
def test_defaults_and_argument_spec_come_from_the_declaration(phase):
    declared = P.get(phase)
    defaults = yaml.safe_load((ROOT / "roles" / phase / "defaults/main.yml").read_text())
    spec = yaml.safe_load((ROOT / "roles" / phase / "meta/argument_specs.yml").read_text())
    options = spec["argument_specs"]["main"]["options"]
    assert sorted(defaults) == sorted(declared.prefix + s.name for s in declared.settings)
    for s in declared.settings:
        name = declared.prefix + s.name
        assert defaults[name] == s.default
        assert options[name]["type"] == s.kind
        assert options[name].get("default") == s.default
        if s.choices is not None and s.default is not None:
            assert options[name]["choices"] == list(s.choices)
        elif s.choices is not None:  # null is not one of the choices: they are named in the description
            assert "choices" not in options[name] and "One of V(%s)" % s.choices[0] in options[name]["description"]
    tasks = yaml.safe_load((ROOT / "roles" / phase / "tasks/main.yml").read_text())
    assert tasks == [{"name": tasks[0]["name"], "nixperf.tuning.phase": {"phase": phase},
                      "register": "nixperf_planned"}]


def test_the_phase_module_documents_every_phase():
    from ansible_collections.nixperf.tuning.plugins.modules import phase as module

    doc = yaml.safe_load(module.DOCUMENTATION)
    assert doc["options"]["phase"]["choices"] == PHASES


@pytest.mark.parametrize("text,value", [("false", False), ("False", False), ("no", False), ("off", False),
                                        ("0", False), ("true", True), ("yes", True), ("on", True), ("1", True)])
def test_booleans_from_the_command_line(text, value):
    """-e gpu_video_enable=false arrives as the string 'false'."""
    assert build("gpu_video", "h", {"enable": text}, SKYLAKE).enable is value


def test_integers_from_the_command_line():
    plan = build("memory", "h", {"zram_priority": "5", "overcommit_memory": "2"}, SKYLAKE)
    assert plan.derived["zram_priority"] == 5 and plan.derived["overcommit_memory"] == 2


def test_unknown_setting_is_refused():
    with pytest.raises(PhaseError, match="host h: phase memory has no settings zram_size"):
        build("memory", "h", {"zram_size": 3}, SKYLAKE)


def test_unknown_phase_names_the_known_ones():
    with pytest.raises(PhaseError, match="unknown phase 'nosuchphase' \\(known: memory, resource_slices"):
        build("nosuchphase", "h", {}, SKYLAKE)


def test_a_declaration_must_be_named_after_its_file():
    with pytest.raises(ValueError, match="setting x: kind must be one of"):
        P.Setting("x", "float", 1.0, "no floats")


@pytest.mark.parametrize("phase", [p for p in PHASES if p not in ("monitoring",)])
def test_enable_false_makes_the_home_modules_inert_too(phase):
    """<phase>_enable: false keeps a phase's files but inert, its home-manager modules as much as its NixOS module."""
    users = [{"name": "mitsio"}]
    desktop = {"environment": "plasma6", "session": "x11"}
    settings = {"enable": False}
    if phase == "runtimes":
        settings["nodejs"] = True
    if phase == "electron_apps":
        settings["apps"] = ["discord"]
    built = build(phase, "h", settings, SKYLAKE, users, desktop)
    assert built.enable is False
    if built.home_config is not None:
        assert built.home_enable is False
