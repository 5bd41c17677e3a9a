"""playbooks/validate.yml and playbooks/benchmark.yml through ansible-runner: this machine for real (render mode,
the local inventory), and a NixOS host in a temp root (apply mode, after site.yml applied the phases) whose sysctl
drifts."""
from __future__ import annotations

import json
import os
import re

import pytest
# the apply tests' NixOS host in a temp root, as a fixture here too
from test_apply import host  # noqa: F401  # pylint: disable=unused-import

SHOSHIN_SYSCTLS = {"vm/swappiness": "67", "vm/vfs_cache_pressure": "125", "vm/dirty_ratio": "10",
                   "vm/dirty_background_ratio": "5", "vm/overcommit_memory": "0", "vm/panic_on_oom": "0"}
MEMINFO = "MemTotal:       16314104 kB\nMemFree:         9123456 kB\nMemAvailable:   12512340 kB\n"
LINE = re.compile(r"^(ok|DRIFT|n/a)\s+\S+\s+.+: (expected|not applicable)")


def lines_of(run, host):
    out = [e["event_data"]["res"] for e in run.events
           if e.get("event") == "runner_on_ok" and e["event_data"].get("task_action") == "nixperf.tuning.validate"
           and e["event_data"]["host"] == host]
    assert len(out) == 1, "one validate task (one module run) per host"
    return out[0]


def test_this_machine_for_real_checks_only_what_applies(play):
    assert play("site.yml", limit="shoshin").rc == 0
    run = play("playbooks/validate.yml", limit="shoshin")
    assert run.rc == 0, run.failures()
    res = lines_of(run, "shoshin")
    nixos = os.path.exists("/etc/NIXOS")
    by_id = {r["id"]: r for r in res["results"]}
    assert all(LINE.match(line) for line in res["lines"][:-1])
    assert res["lines"][-1] == "shoshin: %(ok)d ok, %(drift)d drift, %(na)d not applicable" % res["summary"]
    if not nixos:
        # never a pass for what cannot be in effect here
        gated = [r for r in res["results"] if r["id"].split(":")[1] not in ("files", "target")]
        # (a value the evaluator computes, such as sccache's store path, cannot be compared anywhere)
        assert gated and [r for r in gated if r["status"] != "na"
                          or not r["reason"].startswith(("not NixOS", "the value is Nix code"))] == []
        assert by_id["memory:sysctl:vm.swappiness"]["expected"] == "67"
    # the generated files of the render are what the manifest says; the idle memory is this machine's, measured
    assert by_id["host:files"]["status"] == "ok"
    with open("/proc/meminfo") as f:
        info = {ln.split(":")[0]: int(ln.split()[1]) for ln in f if ln.split()[1:2] and ln.split()[1].isdigit()}
    used = (info["MemTotal"] - info["MemAvailable"]) / 1024.0
    actual = float(by_id["host:target:idle_ram"]["actual"].split()[0])
    assert abs(actual - used) < 256 and by_id["host:target:idle_ram"]["expected"] == "<= 4096 MiB"
    assert run.changed("shoshin") == 0
    assert "render mode" in res["note"]
    # an edited generated file is drift
    memory_nix = play.build / "shoshin/etc/nixos/nixperf/memory.nix"
    memory_nix.write_text(memory_nix.read_text() + "# edited by hand\n")
    run = play("playbooks/validate.yml", limit="shoshin")
    assert run.rc != 0
    res = lines_of(run, "shoshin")
    files = {r["id"]: r for r in res["results"]}["host:files"]
    assert files["status"] == "drift" and files["actual"] == "edited: etc/nixos/nixperf/memory.nix"
    assert "1 check(s) drifted" in run.failures()[0]["msg"]


@pytest.fixture
def nixos_host(host):
    """The apply tests' NixOS host in a temp root, with live values as shoshin's phases declare them."""
    root = host.root
    (root / "etc/NIXOS").write_text("")
    (root / "proc/meminfo").write_text(MEMINFO)
    for key, value in SHOSHIN_SYSCTLS.items():
        path = root / "proc/sys" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value + "\n")
    size = 16314104 * 1024 * 75 // 100
    (root / "proc/swaps").write_text("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
                                     "/dev/zram0                              partition\t%d\t\t0\t\t100\n" % (size // 1024))
    (root / "sys/block/zram0").mkdir(parents=True)
    (root / "sys/block/zram0/comp_algorithm").write_text("lzo lzo-rle lz4 lz4hc 842 [zstd]\n")
    (root / "sys/block/zram0/disksize").write_text("%d\n" % size)
    # nowatchdog: the local inventory opts shoshin in to the boot phase's kernel parameters
    (root / "proc/cmdline").write_text("init=/nix/store/x-nixos-system/init nvidia-drm.modeset=1 loglevel=3 nowatchdog\n")
    show = root / "state/show"
    show.mkdir(parents=True)
    (show / "display-manager.service").write_text(
        "MemoryHigh=4294967296\nMemoryMax=8589934592\nOOMScoreAdjust=-900\nManagedOOMPreference=avoid\n")
    return host


def test_a_drifted_sysctl_is_reported_with_expected_and_actual(play, nixos_host):
    h = nixos_host
    applied = play("site.yml", limit="shoshin", env=h.env, **h.vars)
    assert applied.rc == 0, applied.failures()
    h.clear()
    run = play("playbooks/validate.yml", limit="shoshin", env=h.env, **h.vars)
    assert run.rc == 0, run.failures()
    res = lines_of(run, "shoshin")
    status = {r["id"]: r["status"] for r in res["results"]}
    for key in SHOSHIN_SYSCTLS:
        assert status["memory:sysctl:%s" % key.replace("/", ".")] == "ok"
    for cid in ("memory:zram:swap", "memory:zram:algorithm", "memory:zram:size", "memory:zram:priority",
                "gpu_video:cmdline:nvidia-drm.modeset=1", "host:generation", "host:files",
                "resource_slices:unit:display-manager.service:MemoryMax",
                "resource_slices:unit:display-manager.service:OOMScoreAdjust"):
        assert status[cid] == "ok", cid
    assert status["resource_slices:unit:nix-daemon.service:MemoryMax"] == "na"  # no such unit on this host
    assert status["gpu_video:env:LIBVA_DRIVER_NAME"] == "na"  # no Plasma session runs
    assert res["summary"]["drift"] == 0 and res["nixos"] is True
    # every unit in one systemctl show
    shows = [argv for argv in h.calls("systemctl") if argv[:1] == ["show"]]
    assert len(shows) == 1 and "display-manager.service" in shows[0] and "nix-daemon.service" in shows[0]

    (h.root / "proc/sys/vm/swappiness").write_text("60\n")
    run = play("playbooks/validate.yml", limit="shoshin", env=h.env, **h.vars)
    assert run.rc != 0 and run.changed("shoshin") == 0
    res = lines_of(run, "shoshin")
    assert "DRIFT memory           sysctl vm.swappiness: expected 67, actual 60" in res["lines"]
    assert res["summary"]["drift"] == 1
    assert "sysctl vm.swappiness" in run.failures()[0]["msg"]
    assert "DRIFT memory           sysctl vm.swappiness: expected 67, actual 60" in run.stdout

    warn = play("playbooks/validate.yml", limit="shoshin", env=h.env, check=True,
                args=["-e", "validate_on_drift=warn"], **h.vars)
    assert warn.rc == 0 and warn.changed("shoshin") == 0
    assert "1 checks drifted: sysctl vm.swappiness (expected 67, actual 60)" in warn.stdout

    skipped = play("playbooks/validate.yml", limit="shoshin", env=h.env, validate_skip=["memory:sysctl:vm.swapp*"],
                   **h.vars)
    assert skipped.rc == 0 and lines_of(skipped, "shoshin")["skipped_checks"] == 1


def test_a_phase_switched_off_or_inert_expects_nothing(play, nixos_host):
    h = nixos_host
    (h.root / "proc/sys/vm/swappiness").write_text("60\n")
    run = play("playbooks/validate.yml", limit="shoshin", env=h.env, args=["-e", "memory_enable=false"], **h.vars)
    assert run.rc == 0
    assert not [r for r in lines_of(run, "shoshin")["results"] if r["phase"] == "memory"]
    run = play("playbooks/validate.yml", limit="shoshin", env=h.env, args=["-e", "nixperf_phase_memory=false"],
               **h.vars)
    assert run.rc == 0 and "memory" not in lines_of(run, "shoshin")["phases"]


def test_bad_input_fails_before_reading_the_host(play):
    run = play("playbooks/validate.yml", limit="shoshin", args=["-e", "validate_on_drift=maybe"])
    assert run.rc != 0 and "validate_on_drift" in run.failures()[0]["msg"]
    run = play("playbooks/validate.yml", limit="shoshin", args=["-e", "memory_swappiness=900"])
    assert run.rc != 0 and "memory_swappiness" in run.failures()[0]["msg"]


def test_benchmark_baseline_then_optimized_gives_a_report_with_charts(play, tmp_path):
    reports = tmp_path / "reports"
    common = dict(benchmark_reports_dir=str(reports), benchmark_window=0.5, benchmark_poll=1, benchmark_runs=3,
                  benchmark_programs=[{"name": "true", "argv": ["true"]}, {"name": "python3", "argv": ["python3", "-c", "pass"]}])
    first = play("playbooks/benchmark.yml", limit="shoshin", label="baseline", **common)
    assert first.rc == 0, first.failures()
    base = json.loads((reports / "shoshin/baseline.json").read_text())
    assert base["label"] == "baseline" and base["host"] == "shoshin" and base["system"]["guest"] is False
    assert base["metrics"]["startup.true.warm_ms"] > 0 and "memory.used_mib" in base["metrics"]
    assert "ASYNC POLL on shoshin" in first.stdout or "ASYNC OK on shoshin" in first.stdout
    assert not (reports / "shoshin/baseline-vs-optimized.md").exists()
    second = play("playbooks/benchmark.yml", limit="shoshin", label="optimized", **common)
    assert second.rc == 0, second.failures()
    after = json.loads((reports / "shoshin/optimized.json").read_text())
    report = (reports / "shoshin/baseline-vs-optimized.md").read_text()
    assert "| startup.true.warm_ms | %.0f ms | %.0f ms |" % (
        base["metrics"]["startup.true.warm_ms"], after["metrics"]["startup.true.warm_ms"]) in report
    assert "| memory.used_mib | %.1f MiB | %.1f MiB |" % (
        base["metrics"]["memory.used_mib"], after["metrics"]["memory.used_mib"]) in report
    charts = sorted(p.name for p in (reports / "shoshin/charts").iterdir())
    assert "baseline-vs-optimized-memory.png" in charts and "baseline-vs-optimized-startup.png" in charts
    for name in charts:
        assert (reports / "shoshin/charts" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert "charts/%s" % name in report


def test_benchmark_refuses_a_bad_label_before_measuring(play, tmp_path):
    run = play("playbooks/benchmark.yml", limit="shoshin", label="../x", benchmark_reports_dir=str(tmp_path / "r"))
    assert run.rc != 0 and "benchmark_label" in run.failures()[0]["msg"]
    assert not (tmp_path / "r").exists()
