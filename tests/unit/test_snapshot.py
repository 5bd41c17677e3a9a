"""benchmark snapshots (module_utils/snapshot.py): every section on a host in a temp root, and once on this machine
for real."""
from __future__ import annotations

import os
import statistics
from pathlib import Path

import pytest
from ansible_collections.nixperf.tuning.plugins.module_utils import snapshot as S
from ansible_collections.nixperf.tuning.plugins.module_utils.probes import ProbeError
from ansible_collections.nixperf.tuning.plugins.module_utils.verify import Host
from support import FakeHost

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "probes"
PSI_MEMORY = "some avg10=1.53 avg60=0.87 avg300=0.31 total=4093212\nfull avg10=0.40 avg60=0.21 avg300=0.07 total=1209311\n"
PSI_CPU = "some avg10=4.20 avg60=3.10 avg300=2.55 total=98102311\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
ANALYZE_TIME = ("Startup finished in 4.102s (firmware) + 2.005s (loader) + 1.234s (kernel) + 2.345s (initrd) + "
                "10.456s (userspace) = 20.142s\ngraphical.target reached after 10.203s in userspace.\n")
BLAME = "5.123s NetworkManager-wait-online.service\n1.234s systemd-udev-settle.service\n345ms sddm.service\n"
CHAIN = ("The time when unit became active or started is printed after the \"@\" character.\n"
         "The time the unit took to start is printed after the \"+\" character.\n\n"
         "graphical.target @10.203s\n\u2514\u2500display-manager.service @9.871s +331ms\n"
         "  \u2514\u2500systemd-user-sessions.service @9.850s +19ms\n")


@pytest.fixture
def fake(tmp_path):
    return FakeHost(tmp_path / "root")


def sections(fake: FakeHost):
    return {}, {}, {}


def test_memory_from_meminfo(fake):
    metrics, _details, unavailable = sections(fake)
    S.memory(fake.host(), metrics, unavailable)
    assert metrics == {"memory.total_mib": 15931.7, "memory.used_mib": 3712.7, "memory.available_mib": 12219.1,
                       "memory.cached_mib": 2411.3, "swap.used_mib": 0.0}
    empty = FakeHost(fake.root)
    empty.put("proc/meminfo", "")
    metrics, _details, unavailable = sections(empty)
    S.memory(empty.host(), metrics, unavailable)
    assert metrics == {} and "MemAvailable" in unavailable["memory"]


def test_top_processes_by_rss(fake):
    fake.process(10, "kwin_x11")
    fake.process(11, "plasmashell")
    fake.put("proc/11/status", "Name:\tplasmashell\nUid:\t1000\t1000\t1000\t1000\nVmRSS:\t  422400 kB\n")
    fake.put("proc/12/comm", "kthreadd\n")
    fake.put("proc/12/status", "Name:\tkthreadd\nUid:\t0\t0\t0\t0\n")
    top = S.top_processes(fake.host(), 15)
    assert top == [{"pid": 11, "comm": "plasmashell", "rss_mib": 412.5}, {"pid": 10, "comm": "kwin_x11", "rss_mib": 200.0}]
    assert S.top_processes(fake.host(), 1) == top[:1]


def test_slices_from_cgroup_v2(fake):
    fake.put("sys/fs/cgroup/system.slice/memory.current", "734003200\n")
    fake.put("sys/fs/cgroup/user.slice/memory.current", "2202009600\n")
    fake.put("sys/fs/cgroup/user.slice/user-1000.slice/memory.current", "2097152000\n")
    metrics, _details, unavailable = sections(fake)
    found = S.slices(fake.host(), metrics, unavailable)
    assert found == {"system.slice": 700.0, "user.slice": 2100.0, "user-1000.slice": 2000.0}
    assert metrics["slice.user-1000.slice.memory_mib"] == 2000.0 and not unavailable
    metrics, _details, unavailable = sections(fake)
    S.slices(FakeHost(fake.root / "elsewhere").host(), metrics, unavailable)
    assert "no cgroup v2 slice" in unavailable["slices"]


def test_zram_ratio(fake):
    fake.put("proc/swaps", (FIXTURES / "proc-swaps-zram.txt").read_text())
    fake.put("sys/block/zram0/mm_stat", (FIXTURES / "mm-stat-workstation.txt").read_text())
    metrics, _details, unavailable = sections(fake)
    S.zram(fake.host(), metrics, unavailable)
    fields = (FIXTURES / "mm-stat-workstation.txt").read_text().split()
    orig, compr = int(fields[0]), int(fields[1])
    assert metrics["zram.ratio"] == round(orig / compr, 2)
    assert metrics["zram.orig_mib"] == round(orig / S.MIB, 1)
    none = FakeHost(fake.root / "none")
    none.put("proc/swaps", (FIXTURES / "proc-swaps-none.txt").read_text())
    metrics, _details, unavailable = sections(none)
    S.zram(none.host(), metrics, unavailable)
    assert metrics == {} and "no zram swap" in unavailable["zram"]


def test_pressure(fake):
    fake.put("proc/pressure/memory", PSI_MEMORY)
    fake.put("proc/pressure/cpu", PSI_CPU)
    metrics, _details, unavailable = sections(fake)
    S.pressure(fake.host(), metrics, unavailable)
    assert metrics == {"psi.memory.some_avg10": 1.53, "psi.memory.full_avg10": 0.4, "psi.cpu.some_avg10": 4.2,
                       "psi.cpu.full_avg10": 0.0}
    assert "no /proc/pressure/io" in unavailable["psi.io"]


def stat_line(pid: int, comm: str, utime: int, stime: int) -> str:
    return "%d (%s) S 1 %d %d 0 -1 4194560 51203 0 12 0 %d %d 0 0 20 0 9 0 4242 3021012992 51200 " \
           "18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 3 0 0 0 0 0\n" % (pid, comm, pid, pid, utime, stime)


def test_cpu_over_the_window(fake):
    hz = os.sysconf("SC_CLK_TCK")
    fake.process(100, "kwin_x11")
    fake.process(200, "plasmashell")
    fake.put("proc/100/stat", stat_line(100, "kwin_x11", 1000, 500))
    fake.put("proc/200/stat", stat_line(200, "plasmashell", 3000, 100))
    fake.put("proc/stat", "cpu  10000 0 5000 85000 0 0 0 0 0 0\ncpu0 1 2 3 4\n")
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        # over the window: kwin 0.3 s of CPU per second, plasmashell 0.05 s; the machine 25 % busy
        fake.put("proc/100/stat", stat_line(100, "kwin_x11", 1000 + int(0.2 * hz * seconds), 500 + int(0.1 * hz * seconds)))
        fake.put("proc/200/stat", stat_line(200, "plasmashell", 3000 + int(0.05 * hz * seconds), 100))
        fake.put("proc/stat", "cpu  10250 0 5000 85750 0 0 0 0 0 0\n")

    metrics, _details, unavailable = sections(fake)
    host = fake.host()
    S.cpu(host, ["plasmashell"], 0.0, metrics, unavailable, sleep=sleep)
    assert slept == [0.0]
    assert metrics["cpu.total.pct"] == 25.0
    # the window is measured, not assumed: near-zero elapsed time makes any tick count huge, so check the ratio
    assert metrics["cpu.process.kwin_x11.pct"] >= 0 and metrics["cpu.compositor.pct"] == metrics["cpu.process.kwin_x11.pct"]
    assert "no kwin_wayland process" in unavailable["cpu.process.kwin_wayland"]


def test_cpu_percentages_over_a_real_second(fake):
    hz = os.sysconf("SC_CLK_TCK")
    fake.process(100, "kwin_wayland")
    fake.put("proc/100/stat", stat_line(100, "kwin_wayland", 0, 0))
    fake.put("proc/stat", "cpu  0 0 0 100 0 0 0 0\n")

    def sleep(seconds):
        import time

        time.sleep(seconds)
        fake.put("proc/100/stat", stat_line(100, "kwin_wayland", int(0.3 * hz * seconds), 0))
        fake.put("proc/stat", "cpu  30 0 0 170 0 0 0 0\n")

    metrics, _details, unavailable = sections(fake)
    S.cpu(fake.host(), [], 1.0, metrics, unavailable, sleep=sleep)
    assert 25.0 <= metrics["cpu.process.kwin_wayland.pct"] <= 30.0
    assert metrics["cpu.compositor.pct"] == metrics["cpu.process.kwin_wayland.pct"]
    assert metrics["cpu.total.pct"] == 30.0


def test_no_compositor(fake):
    fake.put("proc/stat", "cpu  0 0 0 100 0 0 0 0\n")
    metrics, _details, unavailable = sections(fake)
    S.cpu(fake.host(), [], 0.0, metrics, unavailable, sleep=lambda s: None)
    assert "cpu.compositor.pct" not in metrics and "no compositor" in unavailable["cpu.compositor"]


def analyze_answers(fake: FakeHost, time_answer=(0, ANALYZE_TIME, "")):
    fake.tools["systemd-analyze"] = "/bin/systemd-analyze"
    table = {"time": time_answer, "blame": (0, BLAME, ""), "critical-chain": (0, CHAIN, "")}
    fake.answers["systemd-analyze"] = lambda argv, env: table[argv[1]]


def test_boot_numbers(fake):
    analyze_answers(fake)
    metrics, details, unavailable = sections(fake)
    S.boot(fake.host(), metrics, details, unavailable)
    assert metrics == {"boot.firmware_s": 4.102, "boot.loader_s": 2.005, "boot.kernel_s": 1.234, "boot.initrd_s": 2.345,
                       "boot.userspace_s": 10.456, "boot.total_s": 20.142, "boot.critical_chain_s": 10.203}
    assert details["blame"][0] == ["NetworkManager-wait-online.service", 5.123]
    assert details["blame"][2] == ["sddm.service", 0.345]
    units = ["graphical.target", "display-manager.service", "systemd-user-sessions.service"]
    assert [c["unit"] for c in details["critical_chain"]] == units
    assert fake.calls == [["/bin/systemd-analyze", "time"], ["/bin/systemd-analyze", "blame", "--no-pager"],
                          ["/bin/systemd-analyze", "critical-chain", "--no-pager"]]
    assert not unavailable


def test_boot_not_finished_and_not_systemd(fake):
    analyze_answers(fake, (1, "", "Bootup is not yet finished (org.freedesktop.systemd1.Manager."
                              "FinishTimestampMonotonic=0).\nPlease try again later.\n"))
    metrics, details, unavailable = sections(fake)
    S.boot(fake.host(), metrics, details, unavailable)
    assert metrics == {} and unavailable["boot"].startswith("systemd-analyze time: Bootup is not yet finished")
    missing = FakeHost(fake.root)
    metrics, details, unavailable = sections(missing)
    S.boot(missing.host(), metrics, details, unavailable)
    assert unavailable == {"boot": "systemd-analyze not found"}


def test_startup_medians_warm_and_cold(fake):
    fake.tools["git"] = "/bin/git"
    fake.put("proc/sys/vm/drop_caches", "0\n")
    times = iter([90.0, 80.0, 100.0,   # cold
                  50.0,                # warm-up, not counted
                  12.0, 11.0, 30.0])   # warm
    seen = []

    def timer(argv, timeout):
        seen.append(list(argv))
        return next(times)

    metrics, details, unavailable = sections(fake)
    S.startup(fake.host(), [{"name": "git", "argv": ["git", "--version"]}], 3, True, 10, metrics, details,
              unavailable, timer=timer)
    assert metrics == {"startup.git.cold_ms": 90.0, "startup.git.warm_ms": 12.0}
    assert details["startup"]["git"] == {"cold_ms": [90.0, 80.0, 100.0], "warm_ms": [12.0, 11.0, 30.0]}
    assert seen == [["/bin/git", "--version"]] * 7
    assert (fake.root / "proc/sys/vm/drop_caches").read_text() == "3\n"
    assert statistics.median([12.0, 11.0, 30.0]) == 12.0


def test_startup_without_cold_missing_and_failing(fake):
    fake.tools["git"] = "/bin/git"
    metrics, details, unavailable = sections(fake)
    S.startup(fake.host(), [{"name": "git", "argv": ["git"]}, {"name": "nope", "argv": ["nope"]}], 2, False, 10,
              metrics, details, unavailable, timer=lambda argv, t: 5.0)
    assert metrics == {"startup.git.warm_ms": 5.0}
    assert unavailable["startup.nope"] == "nope not found"
    assert "not asked for" in unavailable["startup.cold"] and "startup.git.cold" not in unavailable

    def failing(argv, timeout):
        raise ProbeError("git exited 1: fatal")

    metrics, details, unavailable = sections(fake)
    S.startup(fake.host(), [{"name": "git", "argv": ["git"]}], 2, False, 10, metrics, details, unavailable,
              timer=failing)
    assert metrics == {} and unavailable["startup.git"] == "git exited 1: fatal"


def test_cold_start_needs_a_writable_drop_caches(fake):
    fake.tools["git"] = "/bin/git"
    metrics, details, unavailable = sections(fake)
    S.startup(fake.host(), [{"name": "git", "argv": ["git"]}], 1, True, 10, metrics, details, unavailable,
              timer=lambda argv, t: 5.0)
    assert "cannot drop the page cache" in unavailable["startup.git.cold"] and metrics == {"startup.git.warm_ms": 5.0}


def test_time_run_for_real():
    took = S.time_run(["true"], 10)
    assert 0 < took < 5000
    with pytest.raises(ProbeError, match="exited 1"):
        S.time_run(["false"], 10)
    with pytest.raises(ProbeError):
        S.time_run(["/nonexistent/program"], 10)


def test_gpu_sources(fake):
    fake.tools["nvidia-smi"] = "/bin/nvidia-smi"
    fake.answers["nvidia-smi"] = (0, "7, 412, 4096\n", "")
    metrics, _details, unavailable = sections(fake)
    S.gpu(fake.host(), metrics, unavailable)
    assert metrics == {"gpu.util_pct": 7.0, "gpu.memory_used_mib": 412.0}
    assert fake.calls == [["/bin/nvidia-smi"] + S.NVIDIA_QUERY]
    amd = FakeHost(fake.root / "amd")
    amd.put("sys/class/drm/card1/device/gpu_busy_percent", "12\n")
    amd.put("sys/class/drm/card1-DP-1/status", "connected\n")
    metrics, _details, unavailable = sections(amd)
    S.gpu(amd.host(), metrics, unavailable)
    assert metrics == {"gpu.util_pct": 12.0}
    none = FakeHost(fake.root / "none")
    metrics, _details, unavailable = sections(none)
    S.gpu(none.host(), metrics, unavailable)
    assert unavailable["gpu"] == "no nvidia-smi and no amdgpu gpu_busy_percent"


def test_whole_snapshot_shape(fake):
    fake.put("proc/uptime", "1234.56 4000.00\n")
    fake.put("proc/sys/kernel/osrelease", "6.12.58\n")
    fake.put("run/current-system/nixos-version", "26.05.20261101.abcdef0\n")
    (fake.root / "nix/var/nix/profiles").mkdir(parents=True)
    os.symlink("system-42-link", fake.root / "nix/var/nix/profiles/system")
    snap = S.take(fake.host(), "shoshin", "baseline", "2026-11-25T10:00:00+00:00", guest=False, window=0,
                  sleep=lambda s: None)
    assert snap["schema"] == 1 and snap["host"] == "shoshin" and snap["label"] == "baseline"
    assert snap["system"] == {"kernel": "6.12.58", "nixos": "26.05.20261101.abcdef0", "generation": 42,
                              "guest": False, "uptime_s": 1234.56}
    assert list(snap["metrics"]) == sorted(snap["metrics"])
    assert snap["metrics"]["memory.used_mib"] == 3712.7
    assert set(snap["details"]) >= {"slices", "top_processes", "unavailable"}
    assert "boot" in snap["details"]["unavailable"]


def test_this_machine_for_real():
    """This machine is a real Linux host: what it can measure is measured, the rest says why not."""
    import shutil
    import subprocess

    def run(argv, env):
        proc = subprocess.run(list(argv), capture_output=True, text=True, env=dict(os.environ, **(env or {})),
                              check=False)
        return proc.returncode, proc.stdout, proc.stderr

    snap = S.take(Host("/", run, shutil.which), "localhost", "real", "now", window=0.2,
                  programs=[{"name": "true", "argv": ["true"]}], runs=3)
    with open("/proc/meminfo") as f:
        total = int([ln for ln in f if ln.startswith("MemTotal:")][0].split()[1])
    assert snap["metrics"]["memory.total_mib"] == round(total / 1024.0, 1)
    assert 0 < snap["metrics"]["memory.used_mib"] < snap["metrics"]["memory.total_mib"]
    assert 0 <= snap["metrics"]["cpu.total.pct"] <= 100
    assert snap["metrics"]["startup.true.warm_ms"] > 0
    assert len(snap["details"]["startup"]["true"]["warm_ms"]) == 3
    # boot timing: numbers where systemd booted this machine, else the reason (a container has no systemd as PID 1)
    assert "boot.total_s" in snap["metrics"] or snap["details"]["unavailable"]["boot"]
    assert snap["details"]["top_processes"] and snap["system"]["kernel"] == os.uname().release
