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


# ------------------------------------------------------------------------------------------------ boot, captured


DOUBLES = Path(__file__).resolve().parents[1] / "doubles"


def real_run(argv, env):
    import subprocess

    proc = subprocess.run(list(argv), capture_output=True, text=True, env=dict(os.environ, **(env or {})), check=False)
    return proc.returncode, proc.stdout, proc.stderr


def captures(root: Path, **outputs) -> None:
    """What the systemd-analyze double prints per subcommand: name -> (fixture or text for stdout, stderr, rc)."""
    out = root / "state" / "out"
    out.mkdir(parents=True, exist_ok=True)
    for name, (stdout, stderr, rc) in outputs.items():
        base = out / ("systemd-analyze-" + name.replace("_", "-"))
        base.with_suffix(".stdout").write_text(stdout)
        base.with_suffix(".stderr").write_text(stderr)
        base.with_suffix(".rc").write_text(str(rc))


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def calls(root: Path, prog: str):
    import json

    path = root / "calls.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return [r["argv"] for r in rows if r["prog"] == prog]


def test_boot_through_the_double_on_a_kubevirt_guest(tmp_path, monkeypatch):
    """A VM: no firmware or loader time, an initrd; the ASCII tree of the critical chain."""
    monkeypatch.setenv("NIXPERF_FAKE_ROOT", str(tmp_path))
    captures(tmp_path, time=(fixture("systemd-analyze-time-kubevirt.txt"), "", 0),
             blame=(fixture("systemd-analyze-blame-workstation.txt"), "", 0),
             critical_chain=(fixture("systemd-analyze-critical-chain-kubevirt-ascii.txt"), "", 0))
    metrics, details, unavailable = {}, {}, {}
    S.boot(Host(str(tmp_path), real_run, lambda name: str(DOUBLES / name)), metrics, details, unavailable)
    assert metrics == {"boot.kernel_s": 1.532, "boot.initrd_s": 3.87, "boot.userspace_s": 62.503, "boot.total_s": 67.905,
                       "boot.critical_chain_s": 62.48}
    assert not unavailable
    assert details["blame"][0] == ["nix-gc.service", 62.003] and len(details["blame"]) == 15
    assert details["critical_chain"][-1] == {"unit": "cloud-init.service", "at_s": 51.873, "took_s": 6.42, "depth": 3}
    assert calls(tmp_path, "systemd-analyze") == [["time"], ["blame", "--no-pager"], ["critical-chain", "--no-pager"]]


def test_boot_not_finished_through_the_double(tmp_path, monkeypatch):
    """systemd-analyze writes "Bootup is not yet finished" to stderr and exits 1 while jobs run: no number at all."""
    monkeypatch.setenv("NIXPERF_FAKE_ROOT", str(tmp_path))
    captures(tmp_path, time=("", fixture("systemd-analyze-time-not-finished.txt"), 1))
    metrics, details, unavailable = {}, {}, {}
    S.boot(Host(str(tmp_path), real_run, lambda name: str(DOUBLES / name)), metrics, details, unavailable)
    assert (metrics, details) == ({}, {})
    assert unavailable == {"boot": "systemd-analyze time: Bootup is not yet finished "
                                   "(org.freedesktop.systemd1.Manager.FinishTimestampMonotonic=0)."}
    assert calls(tmp_path, "systemd-analyze") == [["time"]]


def test_boot_in_a_container_without_systemd(fake):
    """Captured on this project's Debian 12 container (systemd 252): PID 1 is not systemd, nothing can be asked."""
    fake.tools["systemd-analyze"] = "/usr/bin/systemd-analyze"
    fake.answers["systemd-analyze"] = (1, "", fixture("systemd-analyze-no-systemd-252.stderr.txt"))
    metrics, details, unavailable = sections(fake)
    S.boot(fake.host(), metrics, details, unavailable)
    assert metrics == {} and details == {}
    assert unavailable == {"boot": "systemd-analyze time: System has not been booted with systemd as init system "
                                   "(PID 1). Can't operate."}
    assert fake.calls == [["/usr/bin/systemd-analyze", "time"]]


def test_boot_times_kept_when_the_bus_fails_afterwards(fake):
    """The time is read; blame then cannot reach the bus (the wording of bus_log_connect_full() in systemd's
    src/shared/bus-util.c) and critical-chain prints its header only: the numbers stay, each gap says why."""
    fake.tools["systemd-analyze"] = "/bin/systemd-analyze"
    table = {"time": (0, fixture("systemd-analyze-time-workstation.txt"), ""),
             "blame": (1, "", fixture("systemd-analyze-bus-missing.stderr.txt")),
             "critical-chain": (0, fixture("systemd-analyze-critical-chain-header-only.txt"), "")}
    fake.answers["systemd-analyze"] = lambda argv, env: table[argv[1]]
    metrics, details, unavailable = sections(fake)
    S.boot(fake.host(), metrics, details, unavailable)
    assert metrics == {"boot.firmware_s": 4.102, "boot.loader_s": 2.005, "boot.kernel_s": 1.234, "boot.initrd_s": 2.345,
                       "boot.userspace_s": 10.456, "boot.total_s": 20.142}
    assert details == {}
    assert unavailable == {
        "boot.blame": "systemd-analyze blame: Failed to connect to system scope bus via local transport: No such file "
                      "or directory",
        "boot.critical_chain": "systemd-analyze critical-chain: no chain printed"}


def test_boot_critical_chain_failures(fake):
    fake.tools["systemd-analyze"] = "/bin/systemd-analyze"
    table = {"time": (0, fixture("systemd-analyze-time-container.txt"), ""),
             "blame": (0, "", ""),
             "critical-chain": (1, "", fixture("systemd-analyze-critical-chain-not-finished.txt"))}
    fake.answers["systemd-analyze"] = lambda argv, env: table[argv[1]]
    metrics, details, unavailable = sections(fake)
    S.boot(fake.host(), metrics, details, unavailable)
    assert metrics == {"boot.userspace_s": 1.102}  # a container: userspace only, no total
    assert details == {"blame": []}
    assert unavailable == {"boot.critical_chain": "systemd-analyze critical-chain: Bootup is not yet finished "
                                                  "(org.freedesktop.systemd1.Manager.FinishTimestampMonotonic=0)."}
    # a chain whose target has no activation time, and a line that cannot be read: reasons, never numbers
    table["critical-chain"] = (0, "multi-user.target\n`-foo.service @1.2s +3ms\n", "")
    table["blame"] = (0, "garbage\n", "")
    metrics, details, unavailable = sections(fake)
    S.boot(fake.host(), metrics, details, unavailable)
    assert "boot.critical_chain_s" not in metrics and details == {}
    assert unavailable["boot.critical_chain"] == "systemd-analyze critical-chain: multi-user.target has no activation time"
    assert unavailable["boot.blame"].startswith("systemd-analyze blame: ") and "garbage" in unavailable["boot.blame"]


# ------------------------------------------------------------------------------------------------ compile scaling


FEATURES = ["--extra-experimental-features", "nix-command flakes"]


def rebuild(cores, *tail, nix="/bin/nix"):
    return [nix] + FEATURES + ["build", "--no-link", "--rebuild", "--max-jobs", "1", "--option", "cores", str(cores)] + list(tail)


@pytest.mark.parametrize("asked,threads,expected", [
    ((), 1, [1]), ((), 2, [1, 2]), ((), 3, [1, 3]), ((), 16, [1, 8, 16]), ((), 12, [1, 6, 12]),
    ([8, 4, 4], 16, [1, 4, 8]), ([1], 16, [1]), ([0, 2], 4, [1, 2]),
])
def test_core_counts(asked, threads, expected):
    assert S.core_counts(asked, threads) == expected


def test_build_argv():
    assert S.build_argv("/bin/nix", "nixpkgs#zstd", None, None) == ["/bin/nix"] + FEATURES + ["build", "--no-link", "nixpkgs#zstd"]
    assert S.build_argv("/bin/nix", "nixpkgs#zstd", None, 4) == rebuild(4, "nixpkgs#zstd")
    assert S.build_argv("/bin/nix", "hello", "/srv/bench.nix", 2) == rebuild(2, "--file", "/srv/bench.nix", "hello")
    assert 0 < S.cpu_threads() <= (os.cpu_count() or 1)


class Builds:
    """A build runner answering from a table: seconds per core count (as if timed), a failure per core count."""

    def __init__(self, seconds, fail=None, first=(0, "")):
        self.seconds, self.fail, self.first = dict(seconds), dict(fail or {}), first
        self.calls = []
        self.taken = {}

    def __call__(self, argv, timeout):
        self.calls.append((list(argv), timeout))
        if "--rebuild" not in argv:
            return self.first[0], self.first[1], 42.0
        cores = int(argv[argv.index("cores") + 1])
        if cores in self.fail:
            return self.fail[cores]  # (exit status, stderr, seconds)
        times = self.seconds[cores]
        seconds = times[self.taken.get(cores, 0) % len(times)]
        self.taken[cores] = self.taken.get(cores, 0) + 1
        return 0, "", seconds


def compile_fake(fake: FakeHost, builds, cores=(), runs=3, threads=8, build_file=None, installable="nixpkgs#zstd"):
    fake.tools["nix"] = "/bin/nix"
    metrics, details, unavailable = sections(fake)
    S.compile_scaling(fake.host(), installable, build_file, cores, runs, 900.0, metrics, details, unavailable,
                      threads=threads, builder=builds)
    return metrics, details, unavailable


def test_compile_scaling_medians_speedup_and_efficiency(fake):
    builds = Builds({1: [100.0, 96.0, 98.0], 4: [30.0, 26.0, 27.0], 8: [19.0, 17.5, 18.2]})
    metrics, details, unavailable = compile_fake(fake, builds)
    assert unavailable == {}
    # medians 98, 27, 18.2: speedup 98 / 27 = 3.630, 98 / 18.2 = 5.385; efficiency speedup / cores
    assert metrics == {
        "compile.cores_1.wall_s": 98.0, "compile.cores_1.speedup": 1.0, "compile.cores_1.efficiency_pct": 100.0,
        "compile.cores_4.wall_s": 27.0, "compile.cores_4.speedup": 3.63, "compile.cores_4.efficiency_pct": 90.7,
        "compile.cores_8.wall_s": 18.2, "compile.cores_8.speedup": 5.385, "compile.cores_8.efficiency_pct": 67.3,
        "compile.scaling_efficiency_pct": 67.3, "compile.max_cores": 8}
    assert details["compile"] == {"installable": "nixpkgs#zstd", "file": None, "threads": 8, "cores": [1, 4, 8], "runs": 3,
                                  "runs_s": {"1": [100.0, 96.0, 98.0], "4": [30.0, 26.0, 27.0], "8": [19.0, 17.5, 18.2]},
                                  "nondeterministic": False}
    # the build once, untimed, then every run of each core count, in order, with the timeout
    assert builds.calls == [(["/bin/nix"] + FEATURES + ["build", "--no-link", "nixpkgs#zstd"], 900.0)] + \
        [(rebuild(n, "nixpkgs#zstd"), 900.0) for n in (1, 1, 1, 4, 4, 4, 8, 8, 8)]


def test_compile_scaling_of_a_file_attribute_and_one_thread(fake):
    builds = Builds({1: [12.0]})
    metrics, details, unavailable = compile_fake(fake, builds, runs=1, threads=1, build_file="/srv/bench.nix",
                                                 installable="hello")
    assert metrics == {"compile.cores_1.wall_s": 12.0, "compile.cores_1.speedup": 1.0, "compile.cores_1.efficiency_pct": 100.0}
    assert unavailable == {"compile.scaling": "1 core is the only count (the host has 1 CPU thread): no scaling"}
    assert builds.calls[1] == (rebuild(1, "--file", "/srv/bench.nix", "hello"), 900.0)
    assert details["compile"]["file"] == "/srv/bench.nix"


def test_compile_scaling_failures_say_why(fake):
    fake.tools.clear()
    metrics, details, unavailable = sections(fake)
    S.compile_scaling(fake.host(), "nixpkgs#zstd", None, (), 1, 60.0, metrics, details, unavailable, threads=4,
                      builder=Builds({}))
    assert (metrics, details, unavailable) == ({}, {}, {"compile": "nix not found"})

    log = "\n".join(["line %d" % i for i in range(1, 15)] + ["error: builder for '/nix/store/x-zstd.drv' failed with exit code 2"])
    metrics, details, unavailable = compile_fake(fake, Builds({}, first=(1, log)))
    assert metrics == {} and details == {}
    assert unavailable["compile"] == ("nix build nixpkgs#zstd (before the timed rebuilds) exited 1: line 6 / line 7 / "
                                      "line 8 / line 9 / line 10 / line 11 / line 12 / line 13 / line 14 / "
                                      "error: builder for '/nix/store/x-zstd.drv' failed with exit code 2")

    builds = Builds({1: [10.0]}, fail={4: (100, "error: build of '/nix/store/x-zstd.drv' failed: out of memory\n", 2.0)})
    metrics, details, unavailable = compile_fake(fake, builds, runs=1)
    assert metrics == {} and details == {}  # half a measurement is none
    assert unavailable == {"compile": "nix build --rebuild nixpkgs#zstd with 4 cores exited 100: "
                                      "error: build of '/nix/store/x-zstd.drv' failed: out of memory"}
    assert len(builds.calls) == 3  # the build, 1 core, 4 cores: nothing after the failure

    def too_slow(argv, timeout):
        if "--rebuild" in argv:
            raise ProbeError("%s: still running after %g s (the build timeout), stopped" % (" ".join(argv), timeout))
        return 0, "", 1.0

    metrics, details, unavailable = compile_fake(fake, too_slow, runs=1)
    assert metrics == {} and unavailable["compile"].endswith("still running after 900 s (the build timeout), stopped")


def test_compile_scaling_keeps_times_of_a_build_that_is_not_reproducible(fake):
    """Nix exits 104 when the rebuilt output differs from the first (nix-store(1), special exit codes): the rebuild
    ran to the end, so its time counts; the snapshot notes that the derivation is not reproducible."""
    differs = (104, "error: derivation '/nix/store/x-zstd.drv' may not be deterministic: output '/nix/store/y-zstd' "
                    "differs\n", 6.0)
    metrics, details, unavailable = compile_fake(fake, Builds({1: [10.0]}, fail={2: differs}), cores=[2], runs=1, threads=2)
    assert unavailable == {}
    assert metrics["compile.cores_2.wall_s"] == 6.0 and metrics["compile.scaling_efficiency_pct"] == 83.3
    assert details["compile"]["nondeterministic"] is True
    worded = (1, differs[1], 6.0)  # the message without the exit status (several failures or-ed together)
    metrics, details, unavailable = compile_fake(fake, Builds({1: [10.0]}, fail={2: worded}), cores=[2], runs=1, threads=2)
    assert unavailable == {} and details["compile"]["nondeterministic"] is True


def double_env(monkeypatch, root: Path, seconds=None, **state):
    monkeypatch.setenv("NIXPERF_FAKE_ROOT", str(root))
    monkeypatch.setenv("PATH", "%s:%s" % (DOUBLES, os.environ["PATH"]))
    (root / "state").mkdir(parents=True, exist_ok=True)
    if seconds:
        (root / "state" / "build-seconds").write_text("".join("%d %s\n" % kv for kv in seconds.items()))
    for name, text in state.items():
        (root / "state" / name.replace("_", "-")).write_text(text)
    return Host(str(root), real_run, lambda name: str(DOUBLES / name))


def test_compile_scaling_through_the_nix_double(tmp_path, monkeypatch):
    """Real processes timed by the monotonic clock: the double takes 0.9 s at 1 core, 0.45 s at 2, 0.3 s at 4."""
    host = double_env(monkeypatch, tmp_path, seconds={1: 0.9, 2: 0.45, 4: 0.3})
    metrics, details, unavailable = {}, {}, {}
    S.compile_scaling(host, "path:/srv/flake#packages.x86_64-linux.zstd", None, (), 1, 30.0, metrics, details,
                      unavailable, threads=4)
    assert unavailable == {}
    nix = str(DOUBLES / "nix")
    assert calls(tmp_path, "nix") == [
        FEATURES + ["build", "--no-link", "path:/srv/flake#packages.x86_64-linux.zstd"],
        FEATURES + ["build", "--no-link", "--rebuild", "--max-jobs", "1", "--option", "cores", "1",
                    "path:/srv/flake#packages.x86_64-linux.zstd"],
        FEATURES + ["build", "--no-link", "--rebuild", "--max-jobs", "1", "--option", "cores", "2",
                    "path:/srv/flake#packages.x86_64-linux.zstd"],
        FEATURES + ["build", "--no-link", "--rebuild", "--max-jobs", "1", "--option", "cores", "4",
                    "path:/srv/flake#packages.x86_64-linux.zstd"]]
    runs = details["compile"]["runs_s"]
    # each run took the double's sleep and a process start (well under 0.4 s here)
    for cores, sleep in ((1, 0.9), (2, 0.45), (4, 0.3)):
        assert sleep <= runs[str(cores)][0] < sleep + 0.4, (cores, runs)
        assert metrics["compile.cores_%d.wall_s" % cores] == runs[str(cores)][0]
    assert metrics["compile.cores_4.speedup"] == round(runs["1"][0] / runs["4"][0], 3)
    assert metrics["compile.scaling_efficiency_pct"] == round(100.0 * runs["1"][0] / runs["4"][0] / 4, 1)
    assert 45.0 < metrics["compile.scaling_efficiency_pct"] < 76.0  # 0.9 / 0.3 / 4 = 75 % less the start-up
    assert metrics["compile.max_cores"] == 4 and nix.endswith("/nix")


def test_compile_scaling_failures_through_the_nix_double(tmp_path, monkeypatch):
    host = double_env(monkeypatch, tmp_path / "a", rebuild_fail="make: *** [Makefile:12: all] Error 2\n")
    metrics, details, unavailable = {}, {}, {}
    S.compile_scaling(host, "nixpkgs#zstd", "/srv/bench.nix", [2], 2, 30.0, metrics, details, unavailable, threads=2)
    assert metrics == {} and details == {}
    drv = [p for p in os.listdir(tmp_path / "a" / "nix" / "store") if p.endswith("-zstd")][0] + ".drv"
    assert unavailable == {"compile": "nix build --rebuild nixpkgs#zstd of /srv/bench.nix with 1 core exited 1: "
                                      "checking outputs of '%s/nix/store/%s'... / make: *** [Makefile:12: all] Error 2 / "
                                      "error: builder for '%s/nix/store/%s' failed with exit code 2"
                                      % (tmp_path / "a", drv, tmp_path / "a", drv)}
    assert calls(tmp_path / "a", "nix")[1] == FEATURES + ["build", "--no-link", "--rebuild", "--max-jobs", "1", "--option",
                                                          "cores", "1", "--file", "/srv/bench.nix", "nixpkgs#zstd"]
    assert len(calls(tmp_path / "a", "nix")) == 2

    host = double_env(monkeypatch, tmp_path / "b", build_fail="cc1: fatal error: killed\n")
    metrics, details, unavailable = {}, {}, {}
    S.compile_scaling(host, "nixpkgs#zstd", None, [2], 2, 30.0, metrics, details, unavailable, threads=2)
    assert unavailable["compile"].startswith("nix build nixpkgs#zstd (before the timed rebuilds) exited 1: building '")
    assert "cc1: fatal error: killed" in unavailable["compile"] and len(calls(tmp_path / "b", "nix")) == 1

    host = double_env(monkeypatch, tmp_path / "c", build_nondeterministic="")
    metrics, details, unavailable = {}, {}, {}
    S.compile_scaling(host, "nixpkgs#zstd", None, [2], 1, 30.0, metrics, details, unavailable, threads=2)
    assert unavailable == {} and details["compile"]["nondeterministic"] is True
    assert sorted(details["compile"]["runs_s"]) == ["1", "2"]

    metrics, details, unavailable = {}, {}, {}
    S.compile_scaling(host, "nixpkgs#zstd", None, [2], 1, 0.05, metrics, details, unavailable, threads=2)
    assert unavailable["compile"].endswith("still running after 0.05 s (the build timeout), stopped")


def test_compile_scaling_with_the_real_nix(tmp_path, monkeypatch):
    """The real Nix (nix-bin) with a store of its own under tmp_path: a derivation whose builder sleeps 1.2 s divided
    by NIX_BUILD_CORES.  Nix itself refuses --rebuild before the first build, passes cores to the builder, and
    reports an output that depends on the core count as not deterministic (exit 104).  NIX_CONFIG sets the store
    (a chroot store: its builds run sandboxed, with the host's /bin and libraries lent to them) and no substituter."""
    import shutil
    import subprocess

    nix = shutil.which("nix")
    if not nix:
        pytest.fail("nix is required (Debian: apt-get install nix-bin); `make test` installs it")
    expr = tmp_path / "bench.nix"
    expr.write_text('''{
  spin = derivation {
    name = "spin";
    system = builtins.currentSystem;
    builder = "/bin/sh";
    args = [ "-c" "t=$((1200 / NIX_BUILD_CORES)); /bin/sleep $((t / 1000)).$(printf %03d $((t % 1000))); echo done > $out" ];
  };
  cores = derivation {
    name = "cores";
    system = builtins.currentSystem;
    builder = "/bin/sh";
    args = [ "-c" "echo $NIX_BUILD_CORES > $out" ];
  };
}
''')
    monkeypatch.setenv("NIX_CONFIG", "store = %s\nsubstituters =\nextra-sandbox-paths = /bin /lib /lib64 /usr\n"
                       % (tmp_path / "store"))
    monkeypatch.delenv("NIX_REMOTE", raising=False)
    refused = subprocess.run(S.build_argv(nix, "spin", str(expr), 2), capture_output=True, text=True, check=False)
    assert refused.returncode == 1 and "are not valid, so checking is not possible" in refused.stderr

    host = Host(str(tmp_path), real_run, lambda name: nix if name == "nix" else None)
    metrics, details, unavailable = {}, {}, {}
    S.compile_scaling(host, "spin", str(expr), [4], 1, 120.0, metrics, details, unavailable, threads=4)
    assert unavailable == {}, unavailable
    runs = details["compile"]["runs_s"]
    assert 1.2 <= runs["1"][0] and 0.3 <= runs["4"][0] < runs["1"][0] - 0.6  # the builder saw NIX_BUILD_CORES=4
    assert metrics["compile.cores_4.speedup"] == round(runs["1"][0] / runs["4"][0], 3) > 1.5
    assert details["compile"]["nondeterministic"] is False

    metrics, details, unavailable = {}, {}, {}
    S.compile_scaling(host, "cores", str(expr), [2], 1, 120.0, metrics, details, unavailable, threads=2)
    # the first build ran with Nix's default cores; the rebuilds with 1 and 2: one of them at least writes another number
    assert unavailable == {} and details["compile"]["nondeterministic"] is True
    assert sorted(details["compile"]["runs_s"]) == ["1", "2"]


def test_take_asks_for_the_compile_section_only_when_told(fake):
    snap = S.take(fake.host(), "shoshin", "baseline", "now", window=0, sleep=lambda s: None)
    assert snap["details"]["unavailable"]["compile"] == "not asked for (benchmark_build names what to build)"
    assert not [m for m in snap["metrics"] if m.startswith("compile.")]
    fake.tools["nix"] = "/bin/nix"
    builds = Builds({1: [10.0], 2: [5.5]})
    snap = S.take(fake.host(), "shoshin", "baseline", "now", window=0, sleep=lambda s: None,
                  build={"installable": "nixpkgs#zstd", "cores": [2], "runs": 1, "timeout": 50}, builder=builds, threads=2)
    assert snap["metrics"]["compile.scaling_efficiency_pct"] == 90.9 and "compile" not in snap["details"]["unavailable"]
    assert [c[1] for c in builds.calls] == [50.0, 50.0, 50.0]


def test_the_module_builds_only_outside_check_mode(tmp_path, monkeypatch, capsys):
    from conftest import run_module

    from ansible_collections.nixperf.tuning.plugins.modules import benchmark_snapshot

    double_env(monkeypatch, tmp_path, seconds={1: 0.3, 2: 0.2})
    args = dict(host="shoshin", label="baseline", window=0, programs=[], build="nixpkgs#zstd", build_cores=[2],
                build_runs=1, build_timeout=30)
    checked = run_module(benchmark_snapshot.main, args, capsys, check=True)
    assert checked["changed"] is False
    assert checked["snapshot"]["details"]["unavailable"]["compile"] == "check mode: nothing is built"
    assert calls(tmp_path, "nix") == []  # nothing built, nothing even evaluated
    done = run_module(benchmark_snapshot.main, args, capsys)
    metrics = done["snapshot"]["metrics"]
    assert metrics["compile.max_cores"] == 2 and 0.3 <= metrics["compile.cores_1.wall_s"] < 0.7
    assert "compile" not in done["snapshot"]["details"]["unavailable"]
    assert [argv[-3:] for argv in calls(tmp_path, "nix")] == [
        ["build", "--no-link", "nixpkgs#zstd"], ["cores", "1", "nixpkgs#zstd"], ["cores", "2", "nixpkgs#zstd"]]
    without = run_module(benchmark_snapshot.main, dict(host="shoshin", label="baseline", window=0, programs=[]), capsys)
    assert without["snapshot"]["details"]["unavailable"]["compile"] == \
        "not asked for (benchmark_build names what to build)"


@pytest.mark.parametrize("change,message", [
    (dict(build_file="/srv/b.nix"), "build_file needs build"),
    (dict(build="nixpkgs#zstd", build_cores=[0, 4]), "every build_cores >= 1"),
    (dict(build="nixpkgs#zstd", build_runs=0), "build_runs must be >= 1"),
    (dict(build="nixpkgs#zstd", build_timeout=0), "build_timeout > 0"),
])
def test_the_module_refuses_bad_build_options(change, message, capsys):
    from conftest import run_module

    from ansible_collections.nixperf.tuning.plugins.modules import benchmark_snapshot

    failed = run_module(benchmark_snapshot.main, dict(dict(host="shoshin", label="baseline", window=0), **change), capsys)
    assert failed["failed"] is True and message in failed["msg"]
