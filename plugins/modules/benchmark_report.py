#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: benchmark_report
short_description: Compare two benchmark snapshots of a host into a Markdown report, charts and a verdict per target
version_added: 0.2.0
description:
  - Reads the snapshots C(<reports_dir>/<host>/<before>.json) and C(<reports_dir>/<host>/<after>.json) (schema 1,
    written by C(playbooks/benchmark.yml)) and compares them metric by metric, in families (memory, zram, pressure,
    cpu, slices, boot, startup, gpu, compile, then any other metric).
  - Gives one verdict per target of the plans (declared once, in the collection's C(module_utils/targets.py)) that
    applies to the host and per metric it speaks of - V(met), V(missed) or V(unknown) with the reason (a metric not
    measured, and why the snapshot says it could not be).
  - Writes the report C(<reports_dir>/<host>/<before>-vs-<after>.md) and, with O(charts=true), one PNG per family with
    data, C(<reports_dir>/<host>/charts/<before>-vs-<after>-<family>.png), the targets drawn on them. A family's chart
    that no longer has data is removed.
  - Idempotent - the same snapshots give the same bytes, and a file is only written when its bytes differ.
  - 'Runs where the snapshots are, normally the controller (C(delegate_to: localhost)).'
author:
  - nixperf.tuning contributors (@nixperf)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  reports_dir:
    description: The directory holding one sub-directory of snapshots per host; the report is written there too.
    type: path
    required: true
  host:
    description: The host whose snapshots are compared (its inventory name, the sub-directory of O(reports_dir)).
    type: str
    required: true
  before:
    description:
      - The first label (the state before tuning). Letters, digits, C(.), C(_) and C(-), starting with a letter or a digit.
    type: str
    default: baseline
  after:
    description: The second label (the state the targets are checked on). Same rules as O(before), and different from it.
    type: str
    default: optimized
  guest:
    description:
      - Whether the host is a VM, which chooses the targets (the workstation plan's or the KubeVirt plan's).
      - Default is C(system.guest) of the snapshots; when they do not say, only the targets for every host apply.
    type: bool
  charts:
    description: Draw the charts (needs matplotlib where the module runs). V(false) writes the Markdown report alone.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    details: Reads the snapshots and renders the report and charts in memory; writes and removes nothing and reports
      whether a real run would change a file.
  diff_mode:
    support: full
    details: The Markdown report before and after (charts are binary and only named in RV(charts)).
  platform:
    platforms: posix
requirements:
  - matplotlib (with O(charts=true))
notes:
  - A missing snapshot fails the task with the command that captures it,
    C(ansible-playbook playbooks/benchmark.yml -e label=<label>).
seealso:
  - name: The targets of the plans
    description: C(plugins/module_utils/targets.py) in the collection, one declaration per target.
    link: https://github.com/nixperf/tuning/blob/main/plugins/module_utils/targets.py
"""

EXAMPLES = r"""
- name: Compare the baseline and optimized snapshots of every host
  nixperf.tuning.benchmark_report:
    reports_dir: "{{ playbook_dir }}/../benchmarks/reports"
    host: "{{ inventory_hostname }}"
  delegate_to: localhost
  register: benchmark_report

- name: Show the verdicts
  ansible.builtin.debug:
    msg: "{{ benchmark_report.summary }}: {{ benchmark_report.verdicts | selectattr('verdict', 'ne', 'met') | list }}"

- name: Two other labels, the report without charts, the host taken as a VM
  nixperf.tuning.benchmark_report:
    reports_dir: /srv/nixperf/reports
    host: plasma-vm-01
    before: optimized
    after: phase3
    guest: true
    charts: false
  delegate_to: localhost
"""

RETURN = r"""
report:
  description: The Markdown report (written, or that would be in check mode).
  returned: success
  type: str
  sample: /srv/nixperf/reports/shoshin/baseline-vs-optimized.md
charts:
  description: The chart of every family with data, sorted (empty with O(charts=false)).
  returned: success
  type: list
  elements: str
  sample: [/srv/nixperf/reports/shoshin/charts/baseline-vs-optimized-boot.png]
verdicts:
  description:
    - One per target that applies to the host and per metric it speaks of, in the order of the targets.
    - C(verdict) is V(met), V(missed) or V(unknown); C(why) gives the value and the target, or what was not measured.
  returned: success
  type: list
  elements: dict
  sample:
    - {target: idle_ram, metric: memory.used_mib, verdict: met, why: "3104 MiB (target <= 4096 MiB)"}
    - {target: startup_warm, metric: startup.konsole.warm_ms, verdict: missed, why: "-7.5 % (target -15 %)"}
summary:
  description: How many targets were met, missed and unknown.
  returned: success
  type: str
  sample: 7 met, 3 missed, 1 unknown
changed_files:
  description: The files written or removed (or that would be in check mode).
  returned: success
  type: list
  elements: str
"""

import os  # noqa: E402
import tempfile  # noqa: E402
from typing import Any, Dict, List, Optional, Tuple  # noqa: E402

from ansible.module_utils.basic import AnsibleModule, missing_required_lib  # noqa: E402
from ansible_collections.nixperf.tuning.plugins.module_utils.charts import (  # noqa: E402
    available,
    render_bytes,
)
from ansible_collections.nixperf.tuning.plugins.module_utils.report import (  # noqa: E402
    CAPTURE,
    FAMILY_NAMES,
    ReportError,
    chart_filename,
    check_name,
    compare,
    load_snapshot,
    markdown,
    report_filename,
)

ARGUMENT_SPEC: Dict[str, Any] = dict(
    reports_dir=dict(type="path", required=True),
    host=dict(type="str", required=True),
    before=dict(type="str", default="baseline"),
    after=dict(type="str", default="optimized"),
    guest=dict(type="bool"),
    charts=dict(type="bool", default=True),
)


class MissingLibrary(Exception):
    """matplotlib cannot be imported; ``args[0]`` is the import's traceback."""


def _read(path: str) -> Optional[bytes]:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def _write(path: str, data: bytes) -> None:
    """``data`` into ``path`` atomically (a temporary file beside it, then renamed), mode 0644."""
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(path), suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _snapshots(host_dir: str, host: str, labels: Tuple[str, str]) -> List[Dict[str, Any]]:
    paths = [os.path.join(host_dir, "%s.json" % label) for label in labels]
    missing = [(label, path) for label, path in zip(labels, paths) if not os.path.exists(path)]
    if missing:
        raise ReportError("; ".join(
            "no snapshot of %s at label %s (%s): capture it with `%s --limit %s`" % (host, label, path, CAPTURE % label, host)
            for label, path in missing))
    return [load_snapshot(path, host=host, label=label) for label, path in zip(labels, paths)]


def run(params: Dict[str, Any], check_mode: bool = False, diff_mode: bool = False) -> Dict[str, Any]:
    """The module's work, for ``params`` as the argument spec gives them: the result to return.

    Raises ReportError for what the user must fix, MissingLibrary when charts are asked for without matplotlib."""
    host = check_name(params["host"], "host")
    labels = (check_name(params["before"], "label"), check_name(params["after"], "label"))
    if labels[0] == labels[1]:
        raise ReportError("before and after are both %r: compare two labels" % labels[0])
    host_dir = os.path.join(params["reports_dir"], host)
    before, after = _snapshots(host_dir, host, labels)
    comparison = compare(before, after, guest=params.get("guest"))

    # path -> new bytes (None: remove); only this report's own chart names are ever removed.
    wanted: Dict[str, Optional[bytes]] = {}
    chart_links: Dict[str, str] = {}
    if params.get("charts", True):
        problem = available()
        if problem:
            raise MissingLibrary(problem)
        pngs = render_bytes(comparison)
        for family in FAMILY_NAMES:
            name = chart_filename(comparison, family)
            wanted[os.path.join(host_dir, "charts", name)] = pngs.get(family)
            if family in pngs:
                chart_links[family] = "charts/%s" % name
    text = markdown(comparison, chart_links)
    report = os.path.join(host_dir, report_filename(*labels))
    wanted[report] = text.encode("utf-8")

    old_report = _read(report)
    changed_files = []
    for path, data in sorted(wanted.items()):
        current = old_report if path == report else _read(path)
        if current == data:
            continue
        changed_files.append(path)
        if check_mode:
            continue
        if data is None:
            os.unlink(path)
        else:
            _write(path, data)

    result: Dict[str, Any] = dict(
        changed=bool(changed_files),
        changed_files=changed_files,
        report=report,
        charts=sorted(p for p, data in wanted.items() if data is not None and p != report),
        verdicts=[dict(target=v["target"], metric=v["metric"], verdict=v["verdict"], why=v["why"])
                  for v in comparison["verdicts"]],
        summary=comparison["summary"],
        msg="%s, %s vs %s: %s" % (host, labels[0], labels[1], comparison["summary"]),
    )
    if diff_mode and report in changed_files:
        result["diff"] = dict(before=(old_report or b"").decode("utf-8", errors="replace"), after=text,
                              before_header=report if old_report is not None else "%s (absent)" % report,
                              after_header=report)
    return result


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result = run(module.params, check_mode=module.check_mode, diff_mode=module._diff)
    except ReportError as exc:
        module.fail_json(msg=str(exc))
    except MissingLibrary as exc:
        module.fail_json(msg=missing_required_lib("matplotlib") + " (or set charts=false for the Markdown report alone)",
                         exception=exc.args[0])
    except OSError as exc:
        module.fail_json(msg="cannot write the report: %s" % exc)
    else:
        module.exit_json(**result)


if __name__ == "__main__":
    main()
