#!/usr/bin/env python
"""Measure the performance targets of the collection and print one table.

Every figure is a ratio measured in one run on this machine, so the machine's
speed cancels out:

* no-op converge of site.yml on the local inventory against the floor (a
  one-task play over the same hosts, same forks);
* our first and no-op converge against a naive playbook producing the same
  files with one ansible.builtin.template execution per file (benchmarks/naive.yml);
* a generated fleet of VMs like plasma-vm-01 at 1, 10 and 100 hosts;
* check mode against a normal no-op run;
* the serializer on the largest generated module;
* the programs a no-op run starts: nixos-rebuild, home-manager, chezmoi and
  nix-instantiate are shimmed on PATH and counted; and an apply-mode no-op on a
  fake NixOS root (the recording test doubles) must call nixos-rebuild and
  home-manager zero times.

Usage: bench.py [--repeat N] [--fleet N] [--forks N] [--quick] [--json PATH]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DOUBLES = ROOT / "tests" / "doubles"
RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
SHIMMED = ["nixos-rebuild", "home-manager", "chezmoi", "nix-instantiate"]
CPUINFO = "".join(
    "processor\t: %d\nmodel name\t: Intel(R) Core(TM) i7-6700K CPU @ 4.00GHz\nflags\t\t: fpu cx8 cmov mmx fxsr sse "
    "sse2 cx16 lahf_lm popcnt sse4_1 sse4_2 ssse3 avx avx2 bmi1 bmi2 f16c fma abm movbe xsave adx rdseed "
    "clflushopt\n\n" % i for i in range(8))


@dataclass
class Run:
    wall: float
    rc: int
    changed: Dict[str, int]
    calls: Dict[str, int]
    stdout: str

    @property
    def total_changed(self) -> int:
        return sum(self.changed.values())


@dataclass
class Row:
    figure: str
    ours: Any
    reference: Any
    ratio: Optional[float]
    target: str
    met: Optional[bool]
    unit: str = ""


@dataclass
class Bench:
    work: Path
    forks: int
    repeat: int
    rows: List[Row] = field(default_factory=list)
    raw: Dict[str, Any] = field(default_factory=dict)

    # -- running plays ----------------------------------------------------
    def shims(self) -> Path:
        """A PATH directory whose nixos-rebuild / home-manager / chezmoi / nix-instantiate log each call."""
        d = self.work / "shims"
        if d.exists():
            return d
        d.mkdir(parents=True)
        for prog in SHIMMED:
            real = shutil.which(prog)
            tail = 'exec "%s" "$@"\n' % real if real else 'echo "%s: not available here" >&2; exit 127\n' % prog
            (d / prog).write_text('#!/bin/sh\necho "%s $*" >> "$NIXPERF_BENCH_CALLS"\n%s' % (prog, tail))
            (d / prog).chmod(0o755)
        return d

    def play(self, playbook: str, inventory: Path, extra: Optional[Dict[str, Any]] = None, check: bool = False,
             env: Optional[Dict[str, str]] = None, limit: Optional[str] = None) -> Run:
        calls = self.work / "calls.log"
        calls.unlink(missing_ok=True)
        cmd = [str(BIN / "ansible-playbook"), "-i", str(inventory), "-f", str(self.forks), playbook]
        if extra:
            cmd += ["-e", json.dumps(extra)]
        if check:
            cmd.append("--check")
        if limit:
            cmd += ["--limit", limit]
        full_env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), NIXPERF_BENCH_CALLS=str(calls),
                        PATH="%s:%s:%s" % (self.shims(), BIN, os.environ.get("PATH", "")), ANSIBLE_NOCOLOR="1",
                        ANSIBLE_FORCE_COLOR="0")
        full_env.update(env or {})
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=str(ROOT), env=full_env, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-2000:])
            raise SystemExit("bench: %s failed (rc %d)" % (" ".join(cmd), proc.returncode))
        counted = {p: 0 for p in SHIMMED}
        if calls.exists():
            for line in calls.read_text().splitlines():
                counted[line.split(" ", 1)[0]] += 1
        changed = {m.group(1): int(m.group(3)) for m in RECAP.finditer(proc.stdout)}
        return Run(wall, proc.returncode, changed, counted, proc.stdout)

    def median(self, runs: List[Run]) -> float:
        return statistics.median(r.wall for r in runs)

    def add(self, figure: str, ours: Any, reference: Any, ratio: Optional[float], target: str, met: Optional[bool],
            unit: str = "") -> None:
        self.rows.append(Row(figure, ours, reference, ratio, target, met, unit))

    # -- the figures ------------------------------------------------------
    def local(self) -> None:
        """Targets 1, 2, 4: the local inventory, ours against the floor, the naive playbook and check mode."""
        inv = ROOT / "inventories" / "local"
        ours_dir, naive_dir = self.work / "ours", self.work / "naive"
        floor = [self.play("benchmarks/floor.yml", inv) for _run in range(self.repeat)]
        first: List[Run] = []
        for _run in range(self.repeat):
            shutil.rmtree(ours_dir, ignore_errors=True)
            first.append(self.play("site.yml", inv, {"nixperf_build_dir": str(ours_dir)}))
        noop = [self.play("site.yml", inv, {"nixperf_build_dir": str(ours_dir)}) for _run in range(self.repeat)]
        check = [self.play("site.yml", inv, {"nixperf_build_dir": str(ours_dir)}, check=True)
                 for _run in range(self.repeat)]
        files = self.naive_fixture(ours_dir)
        naive_vars = {"naive_build_dir": str(naive_dir), "naive_templates": str(self.work / "templates"),
                      "naive_files": files}
        naive_first: List[Run] = []
        for _run in range(self.repeat):
            shutil.rmtree(naive_dir, ignore_errors=True)
            naive_first.append(self.play("benchmarks/naive.yml", inv, naive_vars))
        naive_noop = [self.play("benchmarks/naive.yml", inv, naive_vars) for _run in range(self.repeat)]
        same = all((naive_dir / h / rel).read_bytes() == (ours_dir / h / rel).read_bytes()
                   for h, rels in files.items() for rel in rels)
        rebuild_vars = dict(naive_vars, naive_rebuild=True)
        for host in files:
            conf = naive_dir / host / "etc/nixos/configuration.nix"
            conf.write_text("{ ... }: { imports = [ ./nixperf ]; }\n")
        naive_rebuild = self.play("benchmarks/naive.yml", inv, rebuild_vars, env={"PATH": "%s:%s:%s" % (
            DOUBLES, BIN, os.environ.get("PATH", ""))})
        f, o, c = self.median(floor), self.median(noop), self.median(check)
        nf, nn, of = self.median(naive_first), self.median(naive_noop), self.median(first)
        hosts = len(files)
        self.add("no-op converge, %d hosts (wall)" % hosts, o, f, o / f, "<= 4.0x floor", o / f <= 4.0, "s")
        self.add("no-op converge: changed tasks", sum(r.total_changed for r in noop), "-", None, "0",
                 all(r.total_changed == 0 for r in noop))
        started = {p: sum(r.calls[p] for r in noop + check) for p in SHIMMED}
        self.add("no-op + check runs: rebuild/home-manager/chezmoi started", sum(
            started[p] for p in ["nixos-rebuild", "home-manager", "chezmoi"]), "-", None, "0",
            all(started[p] == 0 for p in ["nixos-rebuild", "home-manager", "chezmoi"]))
        self.add("no-op + check runs: nix-instantiate started", started["nix-instantiate"], "-", None,
                 "0 (only changed files are parsed)", started["nix-instantiate"] == 0)
        parses = statistics.median(r.calls["nix-instantiate"] for r in first)
        self.add("first converge: nix-instantiate started", parses, hosts, None, "<= 1 per host", parses <= hosts)
        self.add("no-op vs naive template-per-file (wall)", o, nn, nn / o, ">= 4.0x faster", nn / o >= 4.0, "s")
        self.add("first converge vs naive (wall)", of, nf, nf / of, ">= 2.0x faster", nf / of >= 2.0, "s")
        self.add("naive output byte-identical to ours", same, "-", None, "true", same)
        naive_switches = 0
        for host in files:
            log = naive_dir / host / "calls.jsonl"
            naive_switches += sum(1 for ln in log.read_text().splitlines()
                                  if json.loads(ln)["prog"] == "nixos-rebuild") if log.exists() else 0
        self.add("nixos-rebuild per no-op run: ours vs naive", started["nixos-rebuild"], naive_switches, None,
                 "ours 0 (a real one costs 20 s+ per host)", started["nixos-rebuild"] == 0 and naive_switches == hosts)
        self.add("check mode no-op vs normal no-op (wall)", c, o, c / o, "<= 1.2x", c / o <= 1.2, "s")
        self.raw["local"] = {"floor": [r.wall for r in floor], "first": [r.wall for r in first],
                             "noop": [r.wall for r in noop], "check": [r.wall for r in check],
                             "naive_first": [r.wall for r in naive_first], "naive_noop": [r.wall for r in naive_noop],
                             "naive_rebuild_noop": naive_rebuild.wall, "files": sum(map(len, files.values()))}

    def naive_fixture(self, ours_dir: Path) -> Dict[str, List[str]]:
        """One template per file of our output; the file list per host."""
        templates = self.work / "templates"
        shutil.rmtree(templates, ignore_errors=True)
        files: Dict[str, List[str]] = {}
        for host_dir in sorted(p for p in ours_dir.iterdir() if p.is_dir()):
            files[host_dir.name] = []
            for path in sorted(p for p in host_dir.rglob("*") if p.is_file()):
                rel = str(path.relative_to(host_dir))
                files[host_dir.name].append(rel)
                dest = templates / host_dir.name / (rel + ".j2")
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_text("{% raw %}" + path.read_text() + "{% endraw %}")
        return files

    def fleet(self, sizes: List[int]) -> None:
        """Target 3: VMs like plasma-vm-01, from scratch (one run) and no-op (median), at growing sizes."""
        import yaml  # the venv has PyYAML (ansible-core depends on it)

        vm = yaml.safe_load((ROOT / "inventories/fleet/plasma-vm-01.yml").read_text())
        facts = vm["kubevirt_vms"]["hosts"]["plasma-vm-01"]
        results = {}
        for n in sizes:
            inv = self.work / ("fleet-%d" % n)
            shutil.rmtree(inv, ignore_errors=True)
            (inv / "group_vars").mkdir(parents=True)
            shutil.copy(ROOT / "inventories/local/group_vars/all.yml", inv / "group_vars/all.yml")
            hosts = {"vm-%03d" % i: facts for i in range(n)}
            # the fleet's cluster (its namespace): each VM's VirtualMachine is rendered too
            clusters = yaml.safe_load((ROOT / "inventories/fleet/clusters.yml").read_text())
            (inv / "hosts.yml").write_text(yaml.safe_dump(
                {"all": {"children": {"nixos": {"children": {"kubevirt_vms": {"hosts": hosts}}},
                                      "kubevirt_clusters": clusters["kubevirt_clusters"]}},
                 "kubevirt_vms": clusters["kubevirt_vms"]}))
            out = self.work / ("fleet-build-%d" % n)
            shutil.rmtree(out, ignore_errors=True)
            first = self.play("site.yml", inv, {"nixperf_build_dir": str(out)})
            noops = [self.play("site.yml", inv, {"nixperf_build_dir": str(out)}) for _run in range(self.repeat)]
            assert all(r.total_changed == 0 for r in noops) and len(first.changed) == n, first.changed
            results[n] = (first.wall, self.median(noops))
        big = max(sizes)
        first_ph, noop_ph = results[big][0] / big, results[big][1] / big
        self.add("fleet of %d VMs, first converge per host" % big, first_ph, "-", None, "<= 0.5 s", first_ph <= 0.5,
                 "s")
        self.add("fleet of %d VMs, no-op per host" % big, noop_ph, "-", None, "<= 0.3 s", noop_ph <= 0.3, "s")
        if len(sizes) >= 3:
            a, b, c = sorted(sizes)[:3]
            low = (results[b][0] - results[a][0]) / (b - a)
            high = (results[c][0] - results[b][0]) / (c - b)
            self.add("fleet growth: s per extra host, %d->%d vs %d->%d" % (b, c, a, b), high, low, high / low,
                     "<= 1.5x (linear, no quadratic step)", high / low <= 1.5, "s")
        self.raw["fleet"] = {str(n): {"first": w[0], "noop": w[1]} for n, w in results.items()}

    def serializer(self) -> None:
        """Target 5: to_nix / nix_module on the largest module planned for shoshin."""
        sys.path.insert(0, str(ROOT / ".collections"))
        import yaml
        from ansible_collections.nixperf.tuning.plugins.module_utils.nix import nix_module, to_nix
        from ansible_collections.nixperf.tuning.plugins.module_utils.phase import build, known_phases

        host = yaml.safe_load((ROOT / "inventories/fleet/shoshin.yml").read_text())["workstations"]["hosts"]["shoshin"]
        settings = {
            "electron_apps": {"session": host["nixperf_desktop"]["session"], "apps": host["electron_apps_apps"]},
            "runtimes": {k[len("runtimes_"):]: v for k, v in host.items() if k.startswith("runtimes_")},
        }
        largest = None
        for phase in known_phases():
            plan = build(phase, "shoshin", settings.get(phase, {}), host["nixperf_hardware"], host["nixperf_users"],
                         host["nixperf_desktop"])
            for config in (plan.config, plan.home_config):
                if config:
                    size = len(nix_module(phase, config)[0])
                    if largest is None or size > largest[0]:
                        largest = (size, phase, config)
        size, phase, config = largest
        timings = []
        for _run in range(7):
            n = 200
            start = time.perf_counter()
            for _run in range(n):
                to_nix(config)
            timings.append((time.perf_counter() - start) / n * 1000)
        ms = statistics.median(timings)
        whole = []
        for _run in range(7):
            start = time.perf_counter()
            for _run in range(200):
                nix_module(phase, config)
            whole.append((time.perf_counter() - start) / 200 * 1000)
        self.add("to_nix of the largest module (%s, %d bytes)" % (phase, size), ms, "-", None, "< 1 ms",
                 ms < 1.0, "ms")
        self.add("nix_module (whole file) of the same", statistics.median(whole), "-", None, "< 1 ms",
                 statistics.median(whole) < 1.0, "ms")
        self.raw["serializer"] = {"phase": phase, "bytes": size, "to_nix_ms": timings, "nix_module_ms": whole}

    def apply_noop(self) -> None:
        """Apply mode on a fake NixOS root: converge, then a no-op run must start no rebuild at all."""
        root = self.work / "apply-root"
        shutil.rmtree(root, ignore_errors=True)
        (root / "etc/nixos").mkdir(parents=True)
        conf = root / "etc/nixos/configuration.nix"
        conf.write_text("{ ... }: { imports = [ ./hardware-configuration.nix ./nixperf ]; }\n")
        (root / "etc/nixos/hardware-configuration.nix").write_text("{ ... }: { }\n")
        (root / "proc").mkdir()
        (root / "proc/cpuinfo").write_text(CPUINFO)
        home = root / "home/mitsio/.config/home-manager"
        home.mkdir(parents=True)
        (home / "home.nix").write_text("{ ... }: { home.stateVersion = \"25.05\"; }\n")
        path = "%s:%s:%s" % (DOUBLES, BIN, os.environ.get("PATH", ""))
        env = {"NIXPERF_FAKE_ROOT": str(root), "PATH": path}
        subprocess.run(["nixos-rebuild", "switch", "-I", "nixos-config=%s" % conf], env=dict(os.environ, **env),
                       check=True, capture_output=True, cwd=str(self.work))
        extra = {"nixperf_mode": "apply", "nixperf_root": str(root), "nixos_apply_nixos_config": str(conf),
                 "nixos_apply_check_reconnect": True,
                 "home_manager_apply_become": False, "nixperf_phase_system_libs": False,
                 "nixperf_phase_runtimes": False}
        inv = ROOT / "inventories" / "local"
        self.play("site.yml", inv, extra, env=env, limit="shoshin")
        (root / "calls.jsonl").unlink(missing_ok=True)
        noop = self.play("site.yml", inv, extra, env=env, limit="shoshin")
        calls = [json.loads(x)["prog"] for x in (root / "calls.jsonl").read_text().splitlines()] \
            if (root / "calls.jsonl").exists() else []
        builds = [c for c in calls if c in ("nixos-rebuild", "home-manager")]
        self.add("apply-mode no-op: nixos-rebuild + home-manager calls", len(builds), "-", None, "0",
                 not builds and noop.total_changed == 0)
        self.raw["apply_noop"] = {"wall": noop.wall, "calls": calls}

    # -- output -------------------------------------------------------------
    def table(self) -> str:
        def fmt(v: Any, unit: str) -> str:
            if isinstance(v, float):
                return ("%.3f" % v if v < 10 else "%.1f" % v) + (" " + unit if unit else "")
            return str(v)

        head = ["figure", "ours", "reference", "ratio", "target", "met?"]
        body = [[r.figure, fmt(r.ours, r.unit), fmt(r.reference, r.unit), "%.2fx" % r.ratio if r.ratio else "-",
                 r.target, {True: "yes", False: "NO", None: "-"}[r.met]] for r in self.rows]
        widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
        lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(head, widths)) + " |",
                 "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
        lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in body]
        return "\n".join(lines)


def machine() -> Dict[str, Any]:
    model = ""
    try:
        model = next(ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    ansible = subprocess.run([str(BIN / "ansible"), "--version"], capture_output=True, text=True,
                             check=False).stdout.split("\n")[0]
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(), "ansible": ansible,
            "system": platform.platform()}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per local figure (median)")
    parser.add_argument("--fleet", type=int, default=100, help="largest fleet size")
    parser.add_argument("--forks", type=int, default=8, help="forks for every play")
    parser.add_argument("--quick", action="store_true", help="1 repeat, fleet of 10: checks the machinery")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/latest.json")
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat, args.fleet = 1, 10
    work = args.work or Path(tempfile.mkdtemp(prefix="nixperf-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    bench = Bench(work=work, forks=args.forks, repeat=args.repeat)
    started = time.time()
    bench.serializer()
    bench.local()
    bench.apply_noop()
    sizes = sorted({1, max(2, args.fleet // 10), args.fleet})
    bench.fleet(sizes)
    table = bench.table()
    info = machine()
    print("nixperf.tuning benchmarks on %s (%d cores), %s, forks %d, median of %d"
          % (info["cpu"] or "unknown CPU", info["cores"], info["ansible"], args.forks, args.repeat))
    print(table)
    ok = all(r.met is not False for r in bench.rows)
    print("all targets met" if ok else "SOME TARGETS MISSED")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)), "machine": info, "forks": args.forks,
        "repeat": args.repeat, "seconds": round(time.time() - started, 1), "all_met": ok,
        "rows": [r.__dict__ for r in bench.rows], "raw": bench.raw, "table": table}, indent=2) + "\n")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
