#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: benchmark_snapshot
short_description: Measure a live host once and return a labelled snapshot (memory, CPU, pressure, boot, start-up)
version_added: 0.5.0
description:
  - Takes one snapshot of the host in one run (schema 1, C(plugins/module_utils/snapshot.py)); the C(benchmark) role
    saves it on the controller as C(reports/<host>/<label>.json) and the report compares two labels.
  - "Memory: C(/proc/meminfo) (used = MemTotal - MemAvailable, as C(free) computes it), swap, the top processes by RSS,
    C(memory.current) of every top-level and user slice. zram: the compression ratio from C(mm_stat). Pressure:
    C(/proc/pressure/*) avg10."
  - "CPU: C(/proc/stat) and C(/proc/<pid>/stat) of the named processes (KWin, plasmashell, Xorg) sampled over
    O(window) seconds; the compositor's share is the KWin processes' sum."
  - "Boot: C(systemd-analyze time), C(blame) and C(critical-chain), parsed into numbers. Start-up: each program of
    O(programs) run O(runs) times after a warm-up (median), and with O(cold) as often after dropping the page cache."
  - "GPU: C(nvidia-smi), else amdgpu's C(gpu_busy_percent). Whatever cannot be measured is listed under
    C(details.unavailable) with the reason; nothing is made up."
  - "Compile scaling, only with O(build): C(nix build --no-link) of the installable once (not timed:
    C(--rebuild) needs its outputs built), then C(nix build --rebuild --max-jobs 1 --option cores N) of the same
    derivation O(build_runs) times per core count of O(build_cores), wall time by the monotonic clock, the median
    kept: C(compile.cores_<N>.wall_s), C(.speedup) (time at 1 core / time at N), C(.efficiency_pct)
    (speedup / N; 100 is linear scaling) and, at the most cores, C(compile.scaling_efficiency_pct)."
  - "C(--rebuild) rebuilds the named derivation only, never its dependencies, and C(cores) reaches the builder as
    C(NIX_BUILD_CORES), which nixpkgs passes to make / ninja only when the derivation builds in parallel: name a
    package that compiles (a system's C(toplevel) only links files). A failed build leaves the section
    unavailable with the tail of Nix's error output; output that differs from the first build (not reproducible)
    is noted in C(details.compile.nondeterministic), its time kept."
author:
  - nixperf.tuning contributors (@nixperf)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  host:
    description: The host's inventory name, recorded in the snapshot.
    type: str
    required: true
  label:
    description: The snapshot's label (V(baseline), V(optimized), any C([A-Za-z0-9][A-Za-z0-9._-]*)).
    type: str
    required: true
  guest:
    description: Whether the host is a VM (C(nixperf_hardware.virtualization.guest)); the report picks targets by it.
    type: bool
  processes:
    description: Process names (C(comm)) whose CPU use is sampled.
    type: list
    elements: str
    default: [kwin_x11, kwin_wayland, plasmashell, Xorg]
  window:
    description: Seconds of CPU sampling.
    type: float
    default: 30
  programs:
    description: Hot programs whose start-up is timed, each C({name, argv}) (a program that exits, e.g. C(git --version)).
    type: list
    elements: dict
    default: []
  runs:
    description: Timed runs per program and kind (the median is reported).
    type: int
    default: 5
  cold:
    description: Also time cold starts, each after dropping the page cache (needs root; never in check mode).
    type: bool
    default: false
  timeout:
    description: Seconds one program run may take.
    type: float
    default: 60
  top:
    description: How many processes the RSS list keeps.
    type: int
    default: 15
  root:
    description: Prefix of every path read (V(/) on a real host).
    type: path
    default: /
  build:
    description:
      - What the compile benchmark builds, as C(nix build) takes it; none (the default) leaves the section out.
      - An installable (V(nixpkgs#zstd), V(/etc/nixos#nixosConfigurations.shoshin.config.system.build.toplevel);
        a relative flake path is relative to the module's working directory on the host, so give it absolute), or
        with O(build_file) an attribute path of that file.
    type: str
  build_file:
    description: A Nix file whose attribute O(build) names (C(nix build --file)).
    type: path
  build_cores:
    description:
      - Core counts (Nix's C(cores) setting) to time the rebuild with, each at least 1; 1 is always added (it is
        the reference of the speedup).
      - Empty (the default) takes 1, half the host's CPU threads and all of them.
    type: list
    elements: int
    default: []
  build_runs:
    description: Timed rebuilds per core count (the median is kept).
    type: int
    default: 3
  build_timeout:
    description: Seconds one build may take; a build past it is stopped and the section is unavailable.
    type: float
    default: 3600
attributes:
  check_mode:
    support: full
    details: Measures as in a normal run, but never drops the page cache (no cold starts) and builds nothing (no
      compile section) in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Take the baseline
  nixperf.tuning.benchmark_snapshot:
    host: "{{ inventory_hostname }}"
    label: baseline
    window: 30
    programs:
      - {name: git, argv: [git, --version]}
  register: snap

- name: The same, with the compile benchmark (zstd builds with cmake, in parallel) at 1, 4 and 8 cores
  nixperf.tuning.benchmark_snapshot:
    host: "{{ inventory_hostname }}"
    label: optimized
    build: nixpkgs#zstd
    build_cores: [1, 4, 8]
    build_runs: 3
  register: snap
"""

RETURN = r"""
snapshot:
  description: The snapshot (schema, host, label, taken, system, metrics, details).
  returned: always
  type: dict
  sample:
    schema: 1
    host: shoshin
    label: baseline
    metrics: {memory.used_mib: 3712.4, cpu.compositor.pct: 14.2, boot.total_s: 20.142, compile.cores_1.wall_s: 96.412,
              compile.cores_8.wall_s: 17.905, compile.cores_8.speedup: 5.385, compile.cores_8.efficiency_pct: 67.3,
              compile.scaling_efficiency_pct: 67.3, compile.max_cores: 8}
summary:
  description: A one-line digest (metrics measured, unavailable ones).
  returned: always
  type: str
"""

import re  # noqa: E402
import time  # noqa: E402
from typing import Dict, Optional, Sequence, Tuple  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.nixperf.tuning.plugins.module_utils.cmd import NIX_BIN_DIRS, run  # noqa: E402
from ansible_collections.nixperf.tuning.plugins.module_utils.snapshot import take  # noqa: E402
from ansible_collections.nixperf.tuning.plugins.module_utils.verify import Host  # noqa: E402

LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            host=dict(type="str", required=True),
            label=dict(type="str", required=True),
            guest=dict(type="bool"),
            processes=dict(type="list", elements="str", default=["kwin_x11", "kwin_wayland", "plasmashell", "Xorg"]),
            window=dict(type="float", default=30.0),
            programs=dict(type="list", elements="dict", default=[]),
            runs=dict(type="int", default=5),
            cold=dict(type="bool", default=False),
            timeout=dict(type="float", default=60.0),
            top=dict(type="int", default=15),
            root=dict(type="path", default="/"),
            build=dict(type="str"),
            build_file=dict(type="path"),
            build_cores=dict(type="list", elements="int", default=[]),
            build_runs=dict(type="int", default=3),
            build_timeout=dict(type="float", default=3600.0),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not LABEL.fullmatch(p["label"]):
        module.fail_json(msg="label %r: use letters, digits, '.', '_' and '-', starting with a letter or digit" % p["label"])
    if p["window"] < 0 or p["runs"] < 1 or p["timeout"] <= 0 or p["top"] < 0:
        module.fail_json(msg="window must be >= 0, runs >= 1, timeout > 0 and top >= 0; got %s, %d, %s, %d" % (
            p["window"], p["runs"], p["timeout"], p["top"]))
    for prog in p["programs"]:
        argv = prog.get("argv")
        if not isinstance(prog.get("name"), str) or not LABEL.fullmatch(prog["name"]) or not isinstance(argv, list) \
                or not argv or not all(isinstance(a, str) and a for a in argv):
            module.fail_json(msg="each of programs needs a name ([A-Za-z0-9._-]) and argv (a non-empty list of "
                             "strings); got %r" % (prog,))

    if p["build_file"] and not p["build"]:
        module.fail_json(msg="build_file needs build: the attribute path of the file to build")
    if p["build_runs"] < 1 or p["build_timeout"] <= 0 or any(n < 1 for n in p["build_cores"]):
        module.fail_json(msg="build_runs must be >= 1, build_timeout > 0 and every build_cores >= 1; got %d, %s, %s" % (
            p["build_runs"], p["build_timeout"], p["build_cores"]))
    build = None
    if p["build"] and not module.check_mode:
        build = dict(installable=p["build"], file=p["build_file"], cores=p["build_cores"], runs=p["build_runs"],
                     timeout=p["build_timeout"])

    def runner(argv: Sequence[str], env: Optional[Dict[str, str]]) -> Tuple[int, str, str]:
        return run(module, argv, env=env, timeout=int(p["timeout"]) + 1)

    def which(name: str) -> Optional[str]:
        return module.get_bin_path(name, required=False, opt_dirs=NIX_BIN_DIRS)

    host = Host(p["root"], runner, which)
    taken = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    snap = take(host, p["host"], p["label"], taken, guest=p["guest"], processes=p["processes"], window=p["window"],
                programs=p["programs"], runs=p["runs"], cold=p["cold"] and not module.check_mode,
                timeout=p["timeout"], top=p["top"], build=build)
    if p["cold"] and module.check_mode:
        snap["details"]["unavailable"]["startup.cold"] = "check mode: the page cache is not dropped"
    if p["build"] and module.check_mode:
        snap["details"]["unavailable"]["compile"] = "check mode: nothing is built"
    missing = len(snap["details"]["unavailable"])
    module.exit_json(changed=False, snapshot=snap, summary="%s %s: %d metrics, %d unavailable (%s)" % (
        p["host"], p["label"], len(snap["metrics"]), missing, ", ".join(sorted(snap["details"]["unavailable"]))))


if __name__ == "__main__":
    main()
