# -*- coding: utf-8 -*-
"""The benchmark report: rows and verdicts from two snapshots (the targets of ``targets.py``), the Markdown's exact
numbers, snapshot checks, label checks, the ``benchmark_report`` module (check mode, idempotence, diff, stale charts,
matplotlib missing) and the charts (valid PNGs, identical bytes, the targets drawn in their verdict's colour)."""
from __future__ import annotations

import io
import json
import os
import shutil
import struct
import sys
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
from conftest import run_module
from support import snapshot

from ansible_collections.nixperf.tuning.plugins.module_utils import charts, report, targets
from ansible_collections.nixperf.tuning.plugins.module_utils.report import ReportError
from ansible_collections.nixperf.tuning.plugins.modules import benchmark_report

SNAPSHOTS = Path(__file__).resolve().parents[1] / "fixtures" / "snapshots"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def load(host: str, label: str) -> Dict[str, Any]:
    return report.load_snapshot(str(SNAPSHOTS / host / ("%s.json" % label)), host=host, label=label)


def raw(host: str, label: str) -> Dict[str, Any]:
    return json.loads((SNAPSHOTS / host / ("%s.json" % label)).read_text())


@pytest.fixture(scope="module")
def shoshin() -> Dict[str, Any]:
    return report.compare(load("shoshin", "baseline"), load("shoshin", "optimized"))


@pytest.fixture(scope="module")
def vm() -> Dict[str, Any]:
    return report.compare(load("plasma-vm-01", "baseline"), load("plasma-vm-01", "optimized"))


def lines(text: str) -> List[str]:
    return text.splitlines()


def line_starting(text: str, start: str) -> str:
    found = [ln for ln in lines(text) if ln.startswith(start)]
    assert len(found) == 1, (start, found)
    return found[0]


def verdict(comparison: Dict[str, Any], target: str, metric: str) -> Dict[str, Any]:
    found = [v for v in comparison["verdicts"] if v["target"] == target and v["metric"] == metric]
    assert len(found) == 1, (target, metric, comparison["verdicts"])
    return found[0]


# ------------------------------------------------------------------------------------------------ rows, verdicts


def test_rows_of_every_metric_in_either_snapshot_by_family(shoshin: Dict[str, Any]) -> None:
    before, after = raw("shoshin", "baseline")["metrics"], raw("shoshin", "optimized")["metrics"]
    for family in shoshin["families"]:
        assert family["rows"] == [r for r in shoshin["rows"] if r["family"] == family["name"]]
    assert {r["metric"] for r in shoshin["rows"]} == set(before) | set(after)
    assert [f["name"] for f in shoshin["families"]] == ["memory", "zram", "pressure", "cpu", "slices", "boot", "startup", "gpu"]
    memory = [r["metric"] for r in shoshin["families"][0]["rows"]]
    assert memory == ["memory.total_mib", "memory.used_mib", "memory.available_mib", "memory.cached_mib", "swap.used_mib"]
    rows = {r["metric"]: r for r in shoshin["rows"]}
    used = rows["memory.used_mib"]
    assert (used["before"], used["after"], used["unit"], used["change"]) == (3712.4, 3104.0, "MiB", "better")
    assert used["delta"] == pytest.approx(-608.4)
    assert used["delta_pct"] == pytest.approx(-16.389, abs=1e-3)
    assert rows["memory.total_mib"]["change"] == "same"
    assert rows["memory.available_mib"]["change"] == "better"  # more available memory is better
    assert rows["zram.ratio"]["unit"] == "x" and rows["zram.ratio"]["before"] is None and rows["zram.ratio"]["change"] is None
    assert rows["cpu.process.baloo_file.pct"]["after"] is None
    assert {rows[m]["unit"] for m in ("psi.io.some_avg10", "cpu.total.pct", "cpu.process.kwin_x11.pct", "gpu.util_pct")} == {"%"}
    assert (rows["boot.total_s"]["unit"], rows["startup.konsole.cold_ms"]["unit"]) == ("s", "ms")


def test_units_directions_and_unknown_metrics() -> None:
    assert [report.unit_of(m) for m in ("slice.user.slice.memory_mib", "cpu.process.Xorg.pct", "psi.memory.full_avg10",
                                        "boot.initrd_s", "startup.konsole.warm_ms", "zram.ratio", "net.rx_packets")] == \
        ["MiB", "%", "%", "s", "ms", "x", ""]
    b, a = raw("shoshin", "baseline"), raw("shoshin", "optimized")
    b["metrics"].update({"net.rx_packets": 1200, "zram.ratio": 3.0, "memory.total_mib": 16000.0})
    a["metrics"].update({"net.rx_packets": 900, "zram.ratio": 2.5})
    rows = {r["metric"]: r for r in report.compare(b, a)["rows"]}
    assert (rows["net.rx_packets"]["family"], rows["net.rx_packets"]["change"]) == ("other", "better")
    assert rows["zram.ratio"]["change"] == "worse"  # a higher compression ratio is better
    assert rows["memory.total_mib"]["change"] == "changed"  # neither better nor worse
    text = report.markdown(report.compare(b, a))
    assert "## Other metrics" in text
    assert line_starting(text, "| net.rx_packets |") == "| net.rx_packets | 1200 | 900 | -300 (-25.0 %), better |"


def test_verdicts_on_the_workstation(shoshin: Dict[str, Any]) -> None:
    assert shoshin["guest"] is False
    assert [(v["target"], v["metric"], v["verdict"]) for v in shoshin["verdicts"]] == [
        ("idle_ram", "memory.used_mib", "met"),
        ("compositor_cpu", "cpu.compositor.pct", "met"),
        ("boot_time", "boot.total_s", "met"),
        ("boot_critical_chain", "boot.critical_chain_s", "missed"),
        ("startup_cold", "startup.dolphin.cold_ms", "met"),
        ("startup_cold", "startup.firefox.cold_ms", "missed"),
        ("startup_cold", "startup.konsole.cold_ms", "met"),
        ("startup_warm", "startup.dolphin.warm_ms", "met"),
        ("startup_warm", "startup.firefox.warm_ms", "met"),
        ("startup_warm", "startup.konsole.warm_ms", "missed"),
        ("compile_scaling", "compile.scaling_efficiency_pct", "unknown"),
    ]
    assert shoshin["summary"] == "7 met, 3 missed, 1 unknown"
    assert verdict(shoshin, "compile_scaling", "compile.scaling_efficiency_pct")["why"] == \
        "not measured at baseline nor at optimized"
    assert {s["target"] for s in shoshin["skipped"]} == {"idle_ram_decrease", "background_cpu"}
    idle = verdict(shoshin, "idle_ram", "memory.used_mib")
    assert idle["why"] == "3104 MiB (target <= 4096 MiB)" and idle["goal"] == targets.get("idle_ram").value
    konsole = verdict(shoshin, "startup_cold", "startup.konsole.cold_ms")
    assert konsole["why"] == "-19.3 % (target -15 %)"
    assert konsole["goal"] == pytest.approx(812.0 * 0.85)


def test_unknown_verdicts_when_metrics_are_missing(vm: Dict[str, Any]) -> None:
    assert vm["guest"] is True
    assert vm["summary"] == "2 met, 0 missed, 6 unknown"
    assert "idle_ram" not in {v["target"] for v in vm["verdicts"]}  # a workstation target
    decrease = verdict(vm, "idle_ram_decrease", "memory.used_mib")
    assert (decrease["verdict"], decrease["why"]) == ("met", "-1208.4 MiB (target -1024 MiB)")
    assert decrease["goal"] == pytest.approx(5420.7 - 1024)
    compositor = verdict(vm, "compositor_cpu", "cpu.compositor.pct")
    assert compositor["verdict"] == "unknown"
    assert compositor["why"] == ("no value at the second label "
                                 "(cpu.compositor at optimized: kwin_x11 not running (no session on the display))")
    boot = verdict(vm, "boot_time", "boot.total_s")
    assert (boot["verdict"], boot["before"], boot["after"]) == ("unknown", None, 12.26)
    assert boot["why"] == "no value at the first label (boot at baseline: systemd-analyze: Bootup is not yet finished)"
    chain = verdict(vm, "boot_critical_chain", "boot.critical_chain_s")
    assert chain["verdict"] == "unknown"
    assert chain["why"].startswith("not measured at baseline nor at optimized (boot at baseline: ")
    assert "boot.critical_chain at optimized: systemd-analyze critical-chain: no output" in chain["why"]
    for name, pattern in (("startup_cold", "startup.*.cold_ms"), ("startup_warm", "startup.*.warm_ms")):
        v = verdict(vm, name, pattern)
        assert v["verdict"] == "unknown" and "no start-up programs configured for this host" in v["why"]


def test_guest_chooses_the_targets() -> None:
    b, a = load("plasma-vm-01", "baseline"), load("plasma-vm-01", "optimized")
    as_workstation = report.compare(b, a, guest=False)
    assert verdict(as_workstation, "idle_ram", "memory.used_mib")["verdict"] == "missed"  # 4212.3 MiB > 4096 MiB
    assert not {"idle_ram_decrease", "background_cpu"} & {v["target"] for v in as_workstation["verdicts"]}
    for snap in (b, a):
        snap["system"]["guest"] = None
    unknown = report.compare(b, a)
    assert unknown["guest"] is None
    assert {v["target"] for v in unknown["verdicts"]} == {t.name for t in targets.TARGETS if t.hosts == "all"}
    assert "Host: unknown (no system.guest in the snapshots)" in report.markdown(unknown)


def test_the_targets_come_from_targets_py(monkeypatch: pytest.MonkeyPatch) -> None:
    stricter = replace(targets.get("idle_ram"), value=3000.0)
    monkeypatch.setattr(report, "TARGETS", (stricter,))
    c = report.compare(load("shoshin", "baseline"), load("shoshin", "optimized"))
    assert [(v["target"], v["verdict"], v["why"]) for v in c["verdicts"]] == [
        ("idle_ram", "missed", "3104 MiB (target <= 3000 MiB)")]
    assert "| Idle RAM <= 3000 MiB | memory.used_mib |" in report.markdown(c)


def test_goal_of_each_kind() -> None:
    assert report.goal(targets.get("idle_ram"), 5000.0) == targets.get("idle_ram").value
    assert report.goal(targets.get("boot_time"), 30.0) == pytest.approx(30.0 * (1 - targets.get("boot_time").value / 100))
    assert report.goal(targets.get("idle_ram_decrease"), 5000.0) == 5000.0 - targets.get("idle_ram_decrease").value
    assert report.goal(targets.get("boot_time"), None) is None
    assert report.goal(targets.get("boot_time"), 0.0) is None


def test_two_hosts_are_not_compared() -> None:
    with pytest.raises(ReportError, match="two hosts"):
        report.compare(load("shoshin", "baseline"), load("plasma-vm-01", "optimized"))


# ------------------------------------------------------------------------------------------------ Markdown


def test_markdown_numbers(shoshin: Dict[str, Any]) -> None:
    text = report.markdown(shoshin)
    assert lines(text)[0] == "# Benchmark report: shoshin, baseline vs optimized"
    assert line_starting(text, "| Before |") == ("| Before | baseline | 2026-11-25T10:00:00+00:00 | 6.12.58 | "
                                                 "26.05.20261101.abcdef0 | 42 | 612 s |")
    assert line_starting(text, "| After |").startswith("| After | optimized | 2026-11-27T18:30:00+00:00 | 6.12.60 |")
    # The verdict table first, then the families.
    assert text.index("## Targets") < text.index("## Memory") < text.index("## zram") < text.index("## Boot") \
        < text.index("## Program start-up")
    assert "\n7 met, 3 missed, 1 unknown.\n" in text
    assert line_starting(text, "| Idle RAM <= 4096 MiB |") == (
        "| Idle RAM <= 4096 MiB | memory.used_mib | 3712.4 MiB | 3104.0 MiB | **met**: 3104 MiB (target <= 4096 MiB) | "
        "workstation plan, Resource Targets: RAM (Idle) < 4GB; Validation Checklist: Idle memory < 4GB |")
    assert "| Program start-up (cold) -15 % | startup.konsole.cold_ms | 812 ms | 655 ms | **met**: -19.3 % (target -15 %) |" in text
    assert "| Program start-up (cold) -15 % | startup.firefox.cold_ms | 2870 ms | 2580 ms | **missed**: -10.1 % (target -15 %) |" in text
    assert "| Program start-up (warm) -15 % | startup.konsole.warm_ms | 214 ms | 198 ms | **missed**: -7.5 % (target -15 %) |" in text
    assert "| Boot time -20 % | boot.total_s | 30.30 s | 20.91 s | **met**: -31.0 % (target -20 %) |" in text
    assert "| Boot critical chain -20 % | boot.critical_chain_s | 10.95 s | 9.12 s | **missed**: -16.7 % (target -20 %) |" in text
    assert "Not set for this host: Idle RAM decrease (vm hosts), Background CPU (vm hosts)." in text
    # Family rows: MiB 1 decimal, per cent 1 (pressure 2, as the kernel writes it), s 2, ms 0, ratios 2.
    assert line_starting(text, "| memory.used_mib |") == "| memory.used_mib | 3712.4 MiB | 3104.0 MiB | -608.4 MiB (-16.4 %), better |"
    assert line_starting(text, "| memory.total_mib |") == "| memory.total_mib | 15903.2 MiB | 15903.2 MiB | same |"
    assert line_starting(text, "| cpu.compositor.pct |") == "| cpu.compositor.pct | 14.2 % | 8.7 % | -5.5 pp (-38.7 %), better |"
    assert line_starting(text, "| psi.memory.some_avg10 |") == "| psi.memory.some_avg10 | 0.12 % | 0.05 % | -0.07 pp (-58.3 %), better |"
    assert line_starting(text, "| boot.loader_s |") == "| boot.loader_s | 3.02 s | 1.01 s | -2.01 s (-66.6 %), better |"
    assert line_starting(text, "| startup.dolphin.cold_ms |") == "| startup.dolphin.cold_ms | 1460 ms | 1135 ms | -325 ms (-22.3 %), better |"
    assert line_starting(text, "| zram.ratio |") == "| zram.ratio | n/a | 4.17 x | not measured at baseline |"
    assert line_starting(text, "| cpu.process.baloo_file.pct |") == "| cpu.process.baloo_file.pct | 11.5 % | n/a | not measured at optimized |"
    assert line_starting(text, "| konsole | baseline |") == "| konsole | baseline | 845, 790, 812, 830, 805 | 221, 214, 209, 218, 212 |"


def test_markdown_details(shoshin: Dict[str, Any], vm: Dict[str, Any]) -> None:
    text = report.markdown(shoshin)
    top = text[text.index("## Top processes"):text.index("## Boot: slowest")]
    assert "| 1 | plasmashell (1874) | 412.3 MiB | firefox (2140) | 371.2 MiB |" in top
    assert "| 10 | krunner (1888) | 58.2 MiB | systemd (1) | 13.9 MiB |" in top
    assert "systemd (1) | 14.6" not in top  # the baseline's 11th process
    blame = text[text.index("## Boot: slowest"):text.index("## Boot: critical chain")]
    assert "| 1 | NetworkManager-wait-online.service | 5.12 s | nix-daemon.service | 1.52 s |" in blame
    assert "| 10 | bluetooth.service | 0.21 s | systemd-logind.service | 0.11 s |" in blame
    assert "polkit.service" not in blame and "| 11 |" not in blame
    assert "| 5 | NetworkManager-wait-online.service | @4.17 s +5.12 s | network.target | @8.79 s |" in text
    branching = [dict(unit="graphical.target", at_s=9.0, took_s=None, depth=0), dict(unit="a.service", at_s=8.0, took_s=1.0, depth=1),
                 dict(unit="b.service", at_s=8.5, took_s=0.25, depth=1)]
    assert report._chain(dict(critical_chain=branching)) == [
        ["graphical.target", "@9.00 s"], ["&nbsp;&nbsp;a.service", "@8.00 s +1.00 s"], ["&nbsp;&nbsp;b.service", "@8.50 s +0.25 s"]]
    assert text.rstrip().endswith("| baseline | zram | no zram device (/sys/block/zram0 absent) |")
    vm_text = report.markdown(vm)
    missing = vm_text[vm_text.index("## Not measured"):]
    assert "| baseline | boot | systemd-analyze: Bootup is not yet finished |" in missing
    assert "| optimized | gpu | nvidia-smi not found |" in missing
    assert "| 3 | kwin_x11 (1420) | 176.3 MiB |  |  |" in vm_text
    assert "## GPU" not in vm_text and "## Program start-up" not in vm_text  # no data at either label
    assert "| Program start-up (cold) -15 % | startup.*.cold_ms | n/a | n/a | **unknown**: not measured at baseline nor at optimized" in vm_text


def test_markdown_charts_and_determinism(shoshin: Dict[str, Any]) -> None:
    assert "![" not in report.markdown(shoshin)
    links = {"memory": "charts/baseline-vs-optimized-memory.png", "boot": "charts/baseline-vs-optimized-boot.png"}
    text = report.markdown(shoshin, links)
    memory = text[text.index("## Memory"):text.index("## zram")]
    assert "\n![Memory: shoshin, baseline vs optimized](charts/baseline-vs-optimized-memory.png)\n" in memory
    assert text.count("![") == 2
    # The same snapshots, their keys in another order: the same text.
    b, a = raw("shoshin", "baseline"), raw("shoshin", "optimized")
    for snap in (b, a):
        snap["metrics"] = dict(reversed(list(snap["metrics"].items())))
        snap["details"]["unavailable"] = dict(reversed(list(snap["details"]["unavailable"].items())))
    assert report.markdown(report.compare(b, a), dict(reversed(list(links.items())))) == text
    assert "|" not in report._cell("a|b").replace("\\|", "")


# ------------------------------------------------------------------------------------------------ snapshot checks


def bad_snapshots() -> List[Tuple[str, Any, str]]:
    good = raw("shoshin", "baseline")

    def edit(**changes: Any) -> Dict[str, Any]:
        data = json.loads(json.dumps(good))
        for key, value in changes.items():
            target = data
            path = key.split("__")
            for part in path[:-1]:
                target = target[part]
            if value is KeyError:
                del target[path[-1]]
            else:
                target[path[-1]] = value
        return data

    return [
        ("not-json", "{\"schema\": 1,", "not valid JSON"),
        ("list", [good], "a snapshot is a JSON object, not list"),
        ("schema-2", edit(schema=2), "schema 2 is not supported (this report reads schema 1 snapshots)"),
        ("no-schema", edit(schema=KeyError), "schema None is not supported"),
        ("wrong-host", edit(host="kensho"), "the snapshot is of host 'kensho', not 'shoshin'"),
        ("wrong-label", edit(label="optimized"), "the snapshot has label 'optimized', not 'baseline'"),
        ("no-taken", edit(taken=KeyError), "taken must be a non-empty string"),
        ("metric-string", edit(**{"metrics": dict(good["metrics"], **{"memory.used_mib": "3712"})}),
         "metric memory.used_mib must be a finite number, not '3712'"),
        ("metric-bool", edit(**{"metrics": {"swap.used_mib": True}}), "metric swap.used_mib must be a finite number"),
        ("metric-nan", edit(**{"metrics": {"swap.used_mib": float("nan")}}), "metric swap.used_mib must be a finite number"),
        ("metric-name", edit(**{"metrics": {"a|b": 1}}), "metric name 'a|b' is not allowed"),
        ("metrics-list", edit(metrics=[1, 2]), "metrics must be a mapping"),
        ("guest-text", edit(system__guest="yes"), "system.guest must be true, false or null"),
        ("blame", edit(details__blame=[["a.service"]]), "details.blame[0] must be a pair [unit, seconds]"),
        ("top", edit(details__top_processes=[{"pid": 1}]), "details.top_processes[0] must be a mapping with comm"),
        ("unavailable", edit(details__unavailable={"boot": 3}), "details.unavailable must be a mapping"),
        ("startup", edit(details__startup={"konsole": {"cold_ms": ["fast"]}}), "details.startup.konsole.cold_ms must be a list"),
    ]


@pytest.mark.parametrize("name,data,message", bad_snapshots(), ids=[c[0] for c in bad_snapshots()])
def test_bad_snapshots_are_refused_naming_the_file(tmp_path: Path, name: str, data: Any, message: str) -> None:
    path = tmp_path / "shoshin" / "baseline.json"
    path.parent.mkdir()
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    with pytest.raises(ReportError) as err:
        report.load_snapshot(str(path), host="shoshin", label="baseline")
    assert str(err.value).startswith("%s: " % path)
    assert message in str(err.value)


def test_missing_file_and_null_metrics(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="no such snapshot"):
        report.load_snapshot(str(tmp_path / "absent.json"))
    data = raw("shoshin", "baseline")
    data["metrics"]["gpu.util_pct"] = None  # measured nothing: as if absent
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    assert "gpu.util_pct" not in report.load_snapshot(str(path))["metrics"]


@pytest.mark.parametrize("label", ["../etc", "..", ".hidden", "a/b", "a b", "", "-x", "base\nline", "x\\y"])
def test_bad_labels(label: str) -> None:
    with pytest.raises(ReportError, match="is not allowed"):
        report.check_name(label)


@pytest.mark.parametrize("label", ["baseline", "optimized", "phase-3.1_b", "2026-11-25", "A"])
def test_good_labels(label: str) -> None:
    assert report.check_name(label) == label


# ------------------------------------------------------------------------------------------------ module


@pytest.fixture()
def reports(tmp_path: Path) -> Path:
    root = tmp_path / "reports"
    shutil.copytree(SNAPSHOTS, root)
    return root


def params(reports: Path, **kw: Any) -> Dict[str, Any]:
    return dict(dict(reports_dir=str(reports), host="shoshin", before="baseline", after="optimized", guest=None,
                     charts=True), **kw)


def test_module_check_mode_run_and_idempotence(reports: Path) -> None:
    untouched = snapshot(reports)
    predicted = benchmark_report.run(params(reports), check_mode=True)
    assert snapshot(reports) == untouched  # check mode writes nothing
    assert predicted["changed"] is True
    out = reports / "shoshin"
    assert predicted["report"] == str(out / "baseline-vs-optimized.md")
    assert predicted["charts"] == sorted(str(out / "charts" / ("baseline-vs-optimized-%s.png" % f))
                                         for f in ("memory", "zram", "pressure", "cpu", "slices", "boot", "startup", "gpu"))

    first = benchmark_report.run(params(reports))
    assert first["changed"] is True
    assert sorted(first["changed_files"]) == sorted(predicted["changed_files"]) == sorted(first["charts"] + [first["report"]])
    assert first["summary"] == "7 met, 3 missed, 1 unknown"
    assert first["verdicts"][0] == dict(target="idle_ram", metric="memory.used_mib", verdict="met",
                                        why="3104 MiB (target <= 4096 MiB)")
    text = Path(first["report"]).read_text()
    assert "| memory.used_mib | 3712.4 MiB | 3104.0 MiB | -608.4 MiB (-16.4 %), better |" in text
    assert "![Memory: shoshin, baseline vs optimized](charts/baseline-vs-optimized-memory.png)" in text
    for chart in first["charts"]:
        assert Path(chart).read_bytes().startswith(PNG_MAGIC)
    assert oct(os.stat(first["report"]).st_mode & 0o777) == "0o644"

    written = snapshot(reports)
    second = benchmark_report.run(params(reports), diff_mode=True)
    assert (second["changed"], second["changed_files"]) == (False, [])
    assert "diff" not in second
    assert snapshot(reports) == written  # not even rewritten (same mtimes)


def test_module_diff_and_removed_charts(reports: Path) -> None:
    benchmark_report.run(params(reports))
    out = reports / "shoshin"
    for label in ("baseline", "optimized"):
        path = out / ("%s.json" % label)
        data = json.loads(path.read_text())
        data["metrics"] = {k: v for k, v in data["metrics"].items() if not k.startswith("gpu.")}
        if label == "optimized":
            data["metrics"]["memory.used_mib"] = 4200.5
        path.write_text(json.dumps(data))
    before = snapshot(reports)
    predicted = benchmark_report.run(params(reports), check_mode=True, diff_mode=True)
    assert snapshot(reports) == before
    gpu = str(out / "charts" / "baseline-vs-optimized-gpu.png")
    assert gpu in predicted["changed_files"] and str(out / "charts" / "baseline-vs-optimized-memory.png") in predicted["changed_files"]
    diff = predicted["diff"]
    assert diff["before_header"] == diff["after_header"] == str(out / "baseline-vs-optimized.md")
    assert "| memory.used_mib | 3712.4 MiB | 3104.0 MiB |" in diff["before"]
    assert "| memory.used_mib | 3712.4 MiB | 4200.5 MiB | +488.1 MiB (+13.1 %), worse |" in diff["after"]
    assert "**missed**: 4200.5 MiB (target <= 4096 MiB)" in diff["after"] and "## GPU" not in diff["after"]

    result = benchmark_report.run(params(reports))
    assert result["changed_files"] == predicted["changed_files"]
    assert not os.path.exists(gpu) and gpu not in result["charts"]
    assert result["summary"] == "6 met, 4 missed, 1 unknown"
    assert Path(result["report"]).read_text() == diff["after"]


def test_module_without_charts_and_as_a_vm(reports: Path) -> None:
    result = benchmark_report.run(params(reports, host="plasma-vm-01", charts=False), diff_mode=True)
    out = reports / "plasma-vm-01"
    assert result["charts"] == [] and not (out / "charts").exists()
    assert result["summary"] == "2 met, 0 missed, 6 unknown"
    assert result["diff"]["before_header"] == "%s (absent)" % (out / "baseline-vs-optimized.md")
    assert result["diff"]["before"] == ""
    assert "![" not in Path(result["report"]).read_text()
    forced = benchmark_report.run(params(reports, host="plasma-vm-01", charts=False, guest=False))
    assert forced["changed"] is True
    assert ("idle_ram", "missed") in {(v["target"], v["verdict"]) for v in forced["verdicts"]}


@pytest.mark.parametrize("change,message", [
    (dict(after="phase3"), "no snapshot of shoshin at label phase3 (%s/shoshin/phase3.json): capture it with "
                           "`ansible-playbook playbooks/benchmark.yml -e label=phase3 --limit shoshin`"),
    (dict(before="../shoshin/baseline"), "label '../shoshin/baseline' is not allowed"),
    (dict(host="../etc"), "host '../etc' is not allowed"),
    (dict(after="baseline"), "before and after are both 'baseline'"),
])
def test_module_refusals(reports: Path, change: Dict[str, Any], message: str) -> None:
    untouched = snapshot(reports)
    with pytest.raises(ReportError) as err:
        benchmark_report.run(params(reports, **change))
    assert (message % reports if "%s" in message else message) in str(err.value)
    assert snapshot(reports) == untouched


def test_module_wrong_host_in_the_file(reports: Path) -> None:
    shutil.copy(reports / "plasma-vm-01" / "optimized.json", reports / "shoshin" / "optimized.json")
    with pytest.raises(ReportError, match="optimized.json: the snapshot is of host 'plasma-vm-01', not 'shoshin'"):
        benchmark_report.run(params(reports))


def test_module_main_and_missing_matplotlib(reports: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    args = dict(reports_dir=str(reports), host="plasma-vm-01")
    ok = run_module(benchmark_report.main, dict(args, charts=False), capsys, check=True)
    assert ok["changed"] is True and ok["summary"] == "2 met, 0 missed, 6 unknown" and "diff" in ok
    assert not (reports / "plasma-vm-01" / "baseline-vs-optimized.md").exists()
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    failed = run_module(benchmark_report.main, args, capsys)
    assert failed["failed"] is True
    assert "Failed to import the required Python library (matplotlib)" in failed["msg"]
    assert "charts=false" in failed["msg"]
    assert not (reports / "plasma-vm-01" / "baseline-vs-optimized.md").exists()
    without = run_module(benchmark_report.main, dict(args, charts=False), capsys)
    assert without["changed"] is True and without["charts"] == []
    missing = run_module(benchmark_report.main, dict(args, before="phase0"), capsys)
    assert missing["failed"] is True and "ansible-playbook playbooks/benchmark.yml -e label=phase0" in missing["msg"]


def test_modules_import_without_matplotlib() -> None:
    import subprocess

    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "from ansible_collections.nixperf.tuning.plugins.module_utils import charts\n"
            "from ansible_collections.nixperf.tuning.plugins.modules import benchmark_report\n"
            "problem = charts.available()\n"
            "assert problem and 'matplotlib' in problem.splitlines()[-1], problem\n")
    collections = str(Path(__file__).resolve().parents[2] / ".collections")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ, PYTHONPATH=collections))
    assert proc.returncode == 0, proc.stderr


# ------------------------------------------------------------------------------------------------ charts


def png_info(data: bytes) -> Tuple[int, int, List[bytes]]:
    """Width, height and the chunk types of a PNG, its CRCs checked."""
    assert data.startswith(PNG_MAGIC)
    pos, kinds, size = len(PNG_MAGIC), [], (0, 0)
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0] == zlib.crc32(kind + body)
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        kinds.append(kind)
        pos += 12 + length
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
    return size[0], size[1], kinds


def colour_pixels(data: bytes, hex_colour: str) -> int:
    """How many pixels of the PNG are exactly ``hex_colour``."""
    from matplotlib import image

    pixels = image.imread(io.BytesIO(data), format="png")
    rgb = tuple(int(hex_colour[i:i + 2], 16) / 255.0 for i in (1, 3, 5))
    close = abs(pixels[:, :, :3] - rgb).max(axis=2) < 1.5 / 255
    return int(close.sum())


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, shoshin: Dict[str, Any], vm: Dict[str, Any]) -> Dict[str, Any]:
    out = tmp_path_factory.mktemp("charts")
    return dict(out=out, shoshin=charts.render(shoshin, str(out / "shoshin")), vm=charts.render(vm, str(out / "vm")))


def test_charts_are_valid_pngs_of_sensible_size(rendered: Dict[str, Any]) -> None:
    out = rendered["out"]
    assert sorted(rendered["shoshin"]) == sorted(["memory", "zram", "pressure", "cpu", "slices", "boot", "startup", "gpu"])
    assert sorted(rendered["vm"]) == sorted(["memory", "zram", "pressure", "cpu", "slices", "boot"])  # no gpu, no startup
    assert rendered["shoshin"]["memory"] == "baseline-vs-optimized-memory.png"
    for host in ("shoshin", "vm"):
        assert sorted(os.listdir(out / host)) == sorted(rendered[host].values())
        for name in rendered[host].values():
            data = (out / host / name).read_bytes()
            width, height, kinds = png_info(data)
            assert width == int(charts.WIDTH_IN * charts.DPI)
            assert 300 <= height <= 2400, (name, height)
            assert 10_000 < len(data) < 400_000
            assert b"tEXt" not in kinds and b"tIME" not in kinds  # no software name, no date: same bytes every time
    # The panel height follows the number of metrics: 6 start-up rows make a taller chart than 2 GPU rows.
    assert png_info((out / "shoshin" / rendered["shoshin"]["startup"]).read_bytes())[1] > \
        png_info((out / "shoshin" / rendered["shoshin"]["gpu"]).read_bytes())[1]


def test_charts_identical_bytes(rendered: Dict[str, Any], shoshin: Dict[str, Any]) -> None:
    again = charts.render_bytes(shoshin)
    for family, name in rendered["shoshin"].items():
        assert again[family] == (rendered["out"] / "shoshin" / name).read_bytes(), family


def test_charts_draw_the_targets_in_their_verdict_colour(rendered: Dict[str, Any]) -> None:
    def pixels(host: str, family: str, colour: str) -> int:
        return colour_pixels((rendered["out"] / host / rendered[host][family]).read_bytes(), colour)

    met, missed, unknown = (charts.VERDICT_COLORS[v] for v in ("met", "missed", "unknown"))
    assert pixels("shoshin", "memory", met) > 100  # the dashed line at 4096 MiB and its label
    assert pixels("shoshin", "memory", missed) == 0
    assert pixels("shoshin", "startup", missed) > 100 and pixels("shoshin", "startup", met) > 100  # the diamonds
    assert pixels("shoshin", "boot", missed) > 100  # the critical chain's reduction, missed
    assert pixels("vm", "cpu", unknown) > 100  # the compositor's bound, no value at the second label
    assert pixels("shoshin", "pressure", met) == 0  # no target there
    for family in rendered["shoshin"]:  # the bars (the legend alone is a few hundred pixels); zram has no baseline
        assert pixels("shoshin", family, charts.AFTER_COLOR) > 2000
        assert (pixels("shoshin", family, charts.BEFORE_COLOR) > 2000) == (family != "zram"), family


def test_chart_labels_wrap_at_dots() -> None:
    name = "slice.user@1000.service.app.slice.app-org.kde.konsole-1234.scope.memory_mib"
    wrapped = charts._wrap(name)
    assert wrapped.replace("\n", "") == name
    assert max(len(line) for line in wrapped.splitlines()) <= charts.LABEL_WIDTH
    assert charts._wrap("memory.used_mib") == "memory.used_mib"


def test_chart_panels_split_units_and_scales(shoshin: Dict[str, Any]) -> None:
    families = {f["name"]: f for f in shoshin["families"]}
    zram = charts._panels(families["zram"]["rows"])
    assert [(unit, [r["metric"] for r in rows]) for unit, rows in zram] == [
        ("MiB", ["zram.orig_mib", "zram.compr_mib"]), ("x", ["zram.ratio"])]
    assert charts._axis_label("x", zram[1][1]) == "ratio (x), higher is better"
    cpu = charts._panels(families["cpu"]["rows"])
    assert [[r["metric"] for r in rows] for _unit, rows in cpu] == [
        ["cpu.total.pct"],
        ["cpu.compositor.pct", "cpu.process.Xorg.pct", "cpu.process.baloo_file.pct", "cpu.process.kwin_x11.pct",
         "cpu.process.plasmashell.pct"]]
    assert [charts._axis_label(unit, rows) for unit, rows in cpu] == [
        "per cent of the whole machine, lower is better", "per cent of one CPU (as top shows), lower is better"]
    assert charts._axis_label("MiB", families["memory"]["rows"]) == "MiB"  # used lower, available higher: no direction
    other = [dict(metric=m, unit="", higher_is_better=False) for m in ("net.rx_packets", "thermal.cpu_package")]
    assert [[r["metric"] for r in rows] for _unit, rows in charts._panels(other)] == [["net.rx_packets"], ["thermal.cpu_package"]]


# ------------------------------------------------------------------------------------------------ plan section E


def with_compile(snap: Dict[str, Any], runs: Dict[int, List[float]], metrics: Dict[str, float], **details: Any) -> Dict[str, Any]:
    """``snap`` with a compile section: the runs behind the medians and the metrics the snapshot computes of them."""
    snap["metrics"].update(metrics)
    snap["details"]["compile"] = dict(dict(installable="nixpkgs#zstd", file=None, threads=8, cores=sorted(runs), runs=3,
                                           runs_s={str(n): v for n, v in runs.items()}, nondeterministic=False), **details)
    snap["details"]["unavailable"].pop("compile", None)
    return snap


# medians 98 / 27 / 18.2 s and 91.5 / 24.4 / 14.1 s: speedups 98 / 27 = 3.630, 98 / 18.2 = 5.385, 91.5 / 24.4 = 3.750,
# 91.5 / 14.1 = 6.489; efficiency = speedup / cores
BASE_RUNS = {1: [100.0, 96.0, 98.0], 4: [30.0, 26.0, 27.0], 8: [19.0, 17.5, 18.2]}
BASE_COMPILE = {"compile.cores_1.wall_s": 98.0, "compile.cores_1.speedup": 1.0, "compile.cores_1.efficiency_pct": 100.0,
                "compile.cores_4.wall_s": 27.0, "compile.cores_4.speedup": 3.63, "compile.cores_4.efficiency_pct": 90.7,
                "compile.cores_8.wall_s": 18.2, "compile.cores_8.speedup": 5.385, "compile.cores_8.efficiency_pct": 67.3,
                "compile.scaling_efficiency_pct": 67.3, "compile.max_cores": 8}
AFTER_RUNS = {1: [90.0, 91.5, 92.0], 4: [24.0, 24.4, 25.0], 8: [14.1, 14.4, 14.0]}
AFTER_COMPILE = {"compile.cores_1.wall_s": 91.5, "compile.cores_1.speedup": 1.0, "compile.cores_1.efficiency_pct": 100.0,
                 "compile.cores_4.wall_s": 24.4, "compile.cores_4.speedup": 3.75, "compile.cores_4.efficiency_pct": 93.8,
                 "compile.cores_8.wall_s": 14.1, "compile.cores_8.speedup": 6.489, "compile.cores_8.efficiency_pct": 81.1,
                 "compile.scaling_efficiency_pct": 81.1, "compile.max_cores": 8}


@pytest.fixture(scope="module")
def compiled() -> Dict[str, Any]:
    return report.compare(with_compile(raw("shoshin", "baseline"), BASE_RUNS, BASE_COMPILE),
                          with_compile(raw("shoshin", "optimized"), AFTER_RUNS, AFTER_COMPILE))


def test_compile_scaling_target_is_on_the_second_label_alone(compiled: Dict[str, Any]) -> None:
    target = targets.get("compile_scaling")
    assert (target.metric, target.kind, target.value, target.unit, target.needs_baseline) == \
        ("compile.scaling_efficiency_pct", "min", 80, "%", False)
    assert "Section E" in target.source and "linear scaling with cores" in target.source
    met = verdict(compiled, "compile_scaling", "compile.scaling_efficiency_pct")
    assert (met["verdict"], met["why"], met["before"], met["after"], met["goal"]) == (
        "met", "81.1 % (target >= 80 %)", 67.3, 81.1, 80)
    assert compiled["summary"] == "8 met, 3 missed, 0 unknown"
    # the first label's 67.3 % does not matter; the second's alone does
    worse = with_compile(raw("shoshin", "optimized"), AFTER_RUNS, dict(AFTER_COMPILE, **{"compile.scaling_efficiency_pct": 79.9}))
    missed = verdict(report.compare(raw("shoshin", "baseline"), worse), "compile_scaling", "compile.scaling_efficiency_pct")
    assert (missed["verdict"], missed["why"], missed["before"]) == ("missed", "79.9 % (target >= 80 %)", None)
    # not asked for at either label: unknown, and why
    b, a = raw("plasma-vm-01", "baseline"), raw("plasma-vm-01", "optimized")
    for snap in (b, a):
        snap["details"]["unavailable"]["compile"] = "not asked for (benchmark_build names what to build)"
    unknown = verdict(report.compare(b, a), "compile_scaling", "compile.scaling_efficiency_pct")
    assert unknown["verdict"] == "unknown"
    assert unknown["why"] == ("not measured at baseline nor at optimized (compile at baseline: not asked for "
                              "(benchmark_build names what to build); compile at optimized: not asked for "
                              "(benchmark_build names what to build))")


def test_compile_rows_units_and_directions(compiled: Dict[str, Any]) -> None:
    families = {f["name"]: f for f in compiled["families"]}
    assert [f["name"] for f in compiled["families"]] == [
        "memory", "zram", "pressure", "cpu", "slices", "boot", "startup", "compile", "gpu"]
    rows = {r["metric"]: r for r in families["compile"]["rows"]}
    # the summary first, then the core counts by number (not by name: 8 before 12)
    assert [r["metric"] for r in families["compile"]["rows"]][:5] == [
        "compile.max_cores", "compile.scaling_efficiency_pct", "compile.cores_1.efficiency_pct", "compile.cores_1.speedup",
        "compile.cores_1.wall_s"]
    assert [r["metric"] for r in families["compile"]["rows"]][-3:] == [
        "compile.cores_8.efficiency_pct", "compile.cores_8.speedup", "compile.cores_8.wall_s"]
    assert sorted(["compile.cores_12.wall_s", "compile.cores_8.wall_s"], key=report._sort_key) == \
        ["compile.cores_8.wall_s", "compile.cores_12.wall_s"]
    assert (rows["compile.cores_8.speedup"]["unit"], rows["compile.cores_8.speedup"]["change"]) == ("x", "better")
    assert (rows["compile.cores_8.efficiency_pct"]["unit"], rows["compile.cores_8.efficiency_pct"]["change"]) == ("%", "better")
    assert (rows["compile.cores_8.wall_s"]["unit"], rows["compile.cores_8.wall_s"]["change"]) == ("s", "better")
    assert rows["compile.max_cores"]["change"] == "same"
    assert report.compile_cores([{"metric": "compile.cores_12.wall_s"}, {"metric": "compile.cores_2.speedup"},
                                 {"metric": "compile.max_cores"}]) == [2, 12]


def test_compile_markdown_numbers(compiled: Dict[str, Any]) -> None:
    text = report.markdown(compiled, {"compile": "charts/baseline-vs-optimized-compile.png"})
    section = text[text.index("## Compile scaling"):text.index("## GPU")]
    assert "\n![Compile scaling: shoshin, baseline vs optimized](charts/baseline-vs-optimized-compile.png)\n" in section
    assert "| Cores | baseline | Speedup | Efficiency | optimized | Speedup | Efficiency | Change |" in section
    assert line_starting(section, "| 1 | 98") == \
        "| 1 | 98.00 s | 1.00 x | 100.0 % | 91.50 s | 1.00 x | 100.0 % | -6.50 s (-6.6 %), better |"
    assert line_starting(section, "| 4 | 27") == \
        "| 4 | 27.00 s | 3.63 x | 90.7 % | 24.40 s | 3.75 x | 93.8 % | -2.60 s (-9.6 %), better |"
    assert line_starting(section, "| 8 | 18") == \
        "| 8 | 18.20 s | 5.38 x | 67.3 % | 14.10 s | 6.49 x | 81.1 % | -4.10 s (-22.5 %), better |"
    verdict_row = ("| Compile scaling efficiency >= 80 % | compile.scaling_efficiency_pct | 67.3 % | 81.1 % | "
                   "**met**: 81.1 % (target >= 80 %) | boot / startup / compile plan, Section E: nix build "
                   ".#nixosConfigurations.<HOST>.config.system.build.toplevel, expected linear scaling with cores |")
    assert verdict_row in section and verdict_row in text[:text.index("## Memory")]  # and in the verdict table
    assert "Built: `nixpkgs#zstd` at baseline and optimized. CPU threads of the host: 8." in section
    assert "| 8 | baseline | 19.00, 17.50, 18.20 |" in section and "| 8 | optimized | 14.10, 14.40, 14.00 |" in section
    assert "| compile.cores_8.wall_s |" not in text  # one table per core count, not a row per metric
    assert "not deterministic" not in section


def test_compile_markdown_of_different_builds_and_one_label(compiled: Dict[str, Any]) -> None:
    b = with_compile(raw("shoshin", "baseline"), BASE_RUNS, BASE_COMPILE, installable="nixpkgs#xz", threads=4)
    a = with_compile(raw("shoshin", "optimized"), AFTER_RUNS, AFTER_COMPILE, nondeterministic=True, file="/srv/b.nix")
    section = report.markdown(report.compare(b, a)).split("## Compile scaling")[1]
    assert "Built: `nixpkgs#xz` at baseline, `nixpkgs#zstd` of `/srv/b.nix` at optimized; different derivations, " \
           "their times do not compare." in section
    assert "CPU threads of the host: 4 at baseline, 8 at optimized." in section
    assert "At optimized a rebuild's output differed from the first build (Nix: \"may not be deterministic\")" in section
    only = report.compare(raw("shoshin", "baseline"), a)
    section = report.markdown(only).split("## Compile scaling")[1]
    assert line_starting(section, "| 4 | n/a") == "| 4 | n/a | n/a | n/a | 24.40 s | 3.75 x | 93.8 % | not measured at baseline |"
    bad = with_compile(raw("shoshin", "baseline"), {1: ["fast"]}, {})
    with pytest.raises(ReportError, match=r"details.compile.runs_s.1 must be a list of numbers"):
        report.compare(bad, a)


def test_compile_chart(tmp_path: Path) -> None:
    b, a = raw("shoshin", "baseline"), raw("shoshin", "optimized")
    for snap in (b, a):
        snap["metrics"] = {}  # the compile family alone: one chart to draw
    compiled = report.compare(with_compile(b, BASE_RUNS, BASE_COMPILE), with_compile(a, AFTER_RUNS, AFTER_COMPILE))
    names = charts.render(compiled, str(tmp_path))
    assert names == {"compile": "baseline-vs-optimized-compile.png"}
    data = (tmp_path / names["compile"]).read_bytes()
    width, height, kinds = png_info(data)
    assert (width, height) == (int(charts.WIDTH_IN * charts.DPI), int(charts.COMPILE_HEIGHT_IN * charts.DPI))
    assert b"tEXt" not in kinds and b"tIME" not in kinds
    assert charts.compile_png(compiled, compiled["families"][0]) == data  # the line chart, the same bytes every time
    assert colour_pixels(data, charts.IDEAL_COLOR) > 300  # the dashed linear line
    assert colour_pixels(data, charts.VERDICT_COLORS["met"]) > 300  # the target's dotted line, met
    assert colour_pixels(data, charts.VERDICT_COLORS["missed"]) == 0
    assert colour_pixels(data, charts.BEFORE_COLOR) > 300 and colour_pixels(data, charts.AFTER_COLOR) > 300
    assert "![Compile scaling: shoshin, baseline vs optimized](%s)" % names["compile"] in report.markdown(compiled, names)
    # missed at the second label: the dotted line turns red
    worse = with_compile(raw("shoshin", "optimized"), AFTER_RUNS, dict(AFTER_COMPILE, **{"compile.scaling_efficiency_pct": 70.0}))
    worse["metrics"] = {k: v for k, v in worse["metrics"].items() if k.startswith("compile.")}
    missed = report.compare(with_compile(b, BASE_RUNS, BASE_COMPILE), worse)
    data = charts.compile_png(missed, missed["families"][0])
    assert colour_pixels(data, charts.VERDICT_COLORS["missed"]) > 300 and colour_pixels(data, charts.VERDICT_COLORS["met"]) == 0


def edited(metric: str, before: Any, after: Any, why_after: str = "") -> Dict[str, Any]:
    b, a = raw("shoshin", "baseline"), raw("shoshin", "optimized")
    for snap, value in ((b, before), (a, after)):
        if value is None:
            snap["metrics"].pop(metric, None)
        else:
            snap["metrics"][metric] = value
    if why_after:
        a["details"]["unavailable"]["boot"] = why_after
    return report.compare(b, a)


@pytest.mark.parametrize("target,metric,before,after,expected", [
    ("boot_time", "boot.total_s", 10.0, 8.0, ("met", "-20.0 % (target -20 %)")),  # exactly the plan's ~20 %
    ("boot_time", "boot.total_s", 10.0, 8.01, ("missed", "-19.9 % (target -20 %)")),
    ("boot_time", "boot.total_s", 10.0, 11.0, ("missed", "+10.0 % (target -20 %)")),  # slower
    ("boot_critical_chain", "boot.critical_chain_s", 12.5, 10.0, ("met", "-20.0 % (target -20 %)")),
    ("boot_time", "boot.total_s", 0.0, 8.0, ("unknown", "the first label's value is 0: no reduction can be computed")),
    ("startup_warm", "startup.konsole.warm_ms", 100.0, 85.0, ("met", "-15.0 % (target -15 %)")),  # the plan's ~15 %
    ("startup_warm", "startup.konsole.warm_ms", 100.0, 85.1, ("missed", "-14.9 % (target -15 %)")),
    ("startup_cold", "startup.konsole.cold_ms", 800.0, None, ("unknown", "no value at the second label")),
])
def test_boot_and_startup_against_the_plan(target: str, metric: str, before: Any, after: Any, expected: Tuple[str, str]) -> None:
    v = verdict(edited(metric, before, after), target, metric)
    assert (v["verdict"], v["why"]) == expected


def test_boot_missing_after_names_the_reason() -> None:
    why = "systemd-analyze time: System has not been booted with systemd as init system (PID 1). Can't operate."
    c = edited("boot.total_s", 30.3, None, why_after=why)
    v = verdict(c, "boot_time", "boot.total_s")
    assert (v["verdict"], v["before"], v["after"]) == ("unknown", 30.3, None)
    assert v["why"] == "no value at the second label (boot at optimized: %s)" % why
    assert "| optimized | boot | %s |" % why in report.markdown(c)
