"""The live CPU guard at write time (hardware_facts with every target of the plan, run by the write_files action)
and the summary callback's count of removed files."""
from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
from conftest import run_module

from ansible_collections.nixperf.tuning.plugins.action.write_files import Writer, live_cpu_arguments
from ansible_collections.nixperf.tuning.plugins.callback.summary import CallbackModule
from ansible_collections.nixperf.tuning.plugins.modules import hardware_facts

SKYLAKE = ("fpu cx8 cmov mmx fxsr sse sse2 cx16 lahf_lm popcnt sse4_1 sse4_2 ssse3 avx avx2 bmi1 bmi2 f16c fma abm "
           "movbe xsave adx rdseed clflushopt aes pclmulqdq rdrand")
IVYBRIDGE = "fpu cx8 cmov mmx fxsr sse sse2 cx16 lahf_lm popcnt sse4_1 sse4_2 ssse3 avx f16c rdrand pclmulqdq aes xsave"


def cpu_root(path, model, flags):
    (path / "proc").mkdir(parents=True, exist_ok=True)
    (path / "proc/cpuinfo").write_text("".join("processor\t: %d\nmodel name\t: %s\nflags\t\t: %s\n\n"
                                               % (i, model, flags) for i in range(4)))
    return str(path)


# ---------------------------------------------------------------- hardware_facts: every value, GOAMD64 levels


def test_every_march_and_goamd64_level_is_checked(tmp_path, capsys):
    root = cpu_root(tmp_path, "Intel(R) Core(TM) i7-3770 CPU @ 3.40GHz", IVYBRIDGE)
    r = run_module(hardware_facts.main, dict(root=root, march=["x86-64-v2", "skylake"], goamd64=["v2", "v3"]), capsys)
    assert r["failed"] is True and r["march_ok"] is False and r["goamd64_ok"] is False
    assert [(p["kind"], p["value"]) for p in r["cpu_problems"]] == [("march", "skylake"), ("goamd64", "v3")]
    assert "avx2" in r["cpu_problems"][0]["missing"] and "bmi2" in r["cpu_problems"][1]["missing"]
    assert "-march=skylake: it lacks" in r["msg"] and "GOAMD64=v3: it lacks" in r["msg"] and "i7-3770" in r["msg"]
    assert r["ansible_facts"]["nixperf_live_hardware"]["cpu"]["x86_64_level"] == 2
    ok = run_module(hardware_facts.main, dict(root=root, march="ivybridge", goamd64=["v1", "v2"]), capsys)
    assert ok["march_ok"] is True and ok["goamd64_ok"] is True and ok["cpu_problems"] == []


def test_goamd64_v4_needs_avx512_and_bad_levels_are_refused(tmp_path, capsys):
    root = cpu_root(tmp_path, "Skylake", SKYLAKE)
    r = run_module(hardware_facts.main, dict(root=root, goamd64=["v4"]), capsys)
    assert r["failed"] is True and "march_ok" not in r and r["cpu_problems"][0]["missing"][0] == "avx512f"
    r = run_module(hardware_facts.main, dict(root=root, goamd64=["v5"]), capsys)
    assert r["failed"] is True and "v5" in r["msg"] and "v1, v2, v3, v4" in r["msg"]
    r = run_module(hardware_facts.main, dict(root=str(tmp_path / "empty"), goamd64=["v3"]), capsys)
    assert r["failed"] is True and "Cannot check GOAMD64=v3: no CPU flags" in r["msg"]


# ---------------------------------------------------------------- the guard in the write_files action


class FakeAction(Writer):
    """The write_files action without a task: modules run in this process."""

    def __init__(self, capsys, check=False):
        self._play_context = SimpleNamespace(check_mode=check, become=False)
        self._connection = SimpleNamespace(transport="local")
        self.capsys = capsys
        self.calls = []

    def _execute_module(self, module_name, module_args, task_vars):
        self.calls.append((module_name, module_args))
        assert module_name == "nixperf.tuning.hardware_facts"
        return run_module(hardware_facts.main, module_args, self.capsys, check=self._play_context.check_mode)


def plan(root, cpu_root, **kw):
    path = os.path.join(root, "etc/nixos/nixperf/hardware_profile.nix")
    out = {"files": {path: {"path": path, "content": "{ }\n", "phase": "hardware_profile"}},
           "indexes": [os.path.dirname(path)], "mode": "apply", "root": root, "scope": ["hardware_profile"],
           "cpu_targets": {"march": ["skylake"], "goamd64": ["v3"]},
           "live_cpu": {"enabled": True, "root": cpu_root, "expected": {"cpu": {"threads": 4}}}}
    out.update(kw)
    return out


@pytest.mark.parametrize("check", [False, True])
def test_the_guard_refuses_before_anything_is_written(tmp_path, capsys, check):
    live = cpu_root(tmp_path / "live", "Intel(R) Core(TM) i7-3770 CPU @ 3.40GHz", IVYBRIDGE)
    root = tmp_path / "root"
    action = FakeAction(capsys, check=check)
    r = action.write({"plan": plan(str(root), live), "role": "write"}, {"inventory_hostname": "shoshin"})
    assert r["failed"] is True
    expected = {"march": ["skylake"], "goamd64": ["v3"], "root": live, "expected": {"cpu": {"threads": 4}}}
    assert action.calls == [("nixperf.tuning.hardware_facts", expected)]
    msg = r["msg"]
    assert msg.startswith("host shoshin: refusing to write: the live CPU (Intel(R) Core(TM) i7-3770")
    assert "x86-64 level 2, read under %s" % live in msg
    assert "-march=skylake: it lacks avx2, bmi1, bmi2" in msg and "GOAMD64=v3: it lacks avx2" in msg
    assert "hardware_profile_march" in msg and "runtimes_go_amd64" in msg and "Nothing was written." in msg
    assert not root.exists()


def test_the_guard_passes_and_returns_the_live_facts(tmp_path, capsys):
    live = cpu_root(tmp_path / "live", "Skylake", SKYLAKE)
    root = tmp_path / "root"
    action = FakeAction(capsys)
    r = action.write({"plan": plan(str(root), live), "role": "write"}, {"inventory_hostname": "shoshin"})
    assert not r.get("failed") and r["changed"] is True, r
    assert r["ansible_facts"]["nixperf_live_hardware"]["cpu"]["x86_64_level"] == 3
    assert r["live_cpu"] == {"march_ok": True, "goamd64_ok": True, "mismatches": []}
    assert (root / "etc/nixos/nixperf/hardware_profile.nix").exists()
    assert len(action.calls) == 1


def test_only_an_enabled_apply_mode_guard_runs():
    base = {"mode": "apply", "live_cpu": {"enabled": True, "root": "/"}, "cpu_targets": {"march": ["znver3"]}}
    assert live_cpu_arguments(base) == {"march": ["znver3"], "goamd64": [], "root": "/"}
    assert live_cpu_arguments(dict(base, mode="render")) is None
    assert live_cpu_arguments(dict(base, live_cpu={"enabled": "false", "root": "/"})) is None
    assert live_cpu_arguments(dict(base, live_cpu=None)) is None
    assert live_cpu_arguments({"mode": "apply"}) is None


# ---------------------------------------------------------------- the summary callback


def ok(host, files):
    return SimpleNamespace(_task=SimpleNamespace(action="nixperf.tuning.write_files"),
                           _host=SimpleNamespace(get_name=lambda: host), _result={"files": files})


@pytest.mark.parametrize("check", [False, True])
def test_summary_counts_removed_files_apart(check):
    cb = CallbackModule()
    cb.check = check
    cb.v2_runner_on_ok(ok("shoshin", [
        {"path": "/b/shoshin/etc/nixos/nixperf/default.nix", "changed": True},
        {"path": "/b/shoshin/etc/nixos/nixperf/memory.nix", "changed": False},
        {"path": "/b/shoshin/etc/nixos/nixperf/gpu_video.nix", "changed": True, "removed": True},
        {"path": "/b/shoshin/var/lib/nixperf/manifest.json", "changed": True, "manifest": True},
    ]))
    cb.v2_runner_on_ok(ok("kensho", [{"path": "/b/kensho/etc/nixos/nixperf/memory.nix", "changed": False}]))
    verb, gone = ("would change", "to be removed") if check else ("changed", "removed")
    assert cb.lines() == [
        "kensho    1 files,  0 %s, 0 %s  under /b/kensho/etc/nixos/nixperf/memory.nix: -" % (verb, gone),
        "shoshin   2 files,  1 %s, 1 %s  under /b/shoshin/etc/nixos/nixperf: default.nix, gpu_video.nix (%s)"
        % (verb, gone, gone),
        "2 hosts, 3 generated files, 1 %s, 1 %s" % (verb, gone),
    ]
