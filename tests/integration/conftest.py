"""Run playbooks through ansible-runner, the way AWX does, and read the results."""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import ansible_runner
import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
WRITE_ACTIONS = {"nixperf.tuning.write_files", "nixperf.tuning.nix_file", "nixperf.tuning.write_plan",
                 "nixperf.tuning.phase", "nixperf.tuning.kubevirt_vm_spec"}


@dataclass
class Run:
    rc: int
    status: str
    stats: Dict[str, Dict[str, int]]
    events: List[Dict[str, Any]]
    stdout: str = ""
    changed_files: Dict[str, List[str]] = field(default_factory=dict)

    def changed(self, host: str) -> int:
        return (self.stats.get("changed") or {}).get(host, 0)

    def failures(self) -> List[Dict[str, Any]]:
        """(host, task, msg) of every failed task."""
        out = []
        for e in self.events:
            if e.get("event") == "runner_on_failed":
                d = e["event_data"]
                out.append({"host": d["host"], "task": d.get("task"), "msg": str(d["res"].get("msg", ""))})
        return out

    def results(self, action: str) -> List[Dict[str, Any]]:
        return [e["event_data"] for e in self.events
                if e.get("event") == "runner_on_ok" and e["event_data"].get("task_action") == action]


@pytest.fixture
def play(tmp_path):
    """play(playbook, check=False, diff=False, inventory=None, limit=None, env=None, args=None, **extravars) -> Run."""
    if not (VENV_BIN / "ansible-playbook").exists():
        pytest.fail("the venv is missing: run `make test`")
    counter = {"n": 0}
    build = tmp_path / "build"

    def run(playbook: str = "site.yml", check: bool = False, diff: bool = False, inventory: Optional[str] = None,
            limit: Optional[str] = None, env: Optional[Dict[str, str]] = None, args: Optional[List[str]] = None,
            **extravars: Any) -> Run:
        counter["n"] += 1
        pdd = tmp_path / ("runner%d" % counter["n"])
        pdd.mkdir()
        cmdline = []
        if check:
            cmdline.append("--check")
        if diff:
            cmdline.append("--diff")
        cmdline += list(args or [])  # e.g. ["-e", "gpu_video_enable=false"]: text, as a user types it
        extravars.setdefault("nixperf_build_dir", str(build))
        envvars = {
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "ANSIBLE_COLLECTIONS_PATH": "%s:%s" % (ROOT / ".collections", ROOT / ".venv" / "collections"),
            "ANSIBLE_HOME": str(tmp_path / ".ansible"),
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / ".ansible" / "tmp"),
            "PATH": "%s:%s" % (VENV_BIN, os.environ.get("PATH", "")),
            "NIX_REMOTE": "dummy://",
        }
        for key, value in (env or {}).items():
            envvars[key] = value if key != "PATH" else "%s:%s" % (value, envvars["PATH"])
        r = ansible_runner.run(
            private_data_dir=str(pdd),
            project_dir=str(ROOT),
            playbook=str(ROOT / playbook) if not os.path.isabs(playbook) else playbook,
            inventory=inventory or str(ROOT / "inventories" / "local"),
            extravars=extravars,
            cmdline=" ".join(cmdline) or None,
            limit=limit,
            envvars=envvars,
            quiet=True,
        )
        events = list(r.events)
        result = Run(rc=r.rc, status=r.status, stats=r.stats or {}, events=events, stdout=r.stdout.read())
        for e in events:
            d = e.get("event_data") or {}
            if e.get("event") == "runner_on_ok" and d.get("task_action") in WRITE_ACTIONS:
                result.changed_files.setdefault(d["host"], []).extend(d["res"].get("changed_files", []))
        shutil.rmtree(pdd / "artifacts", ignore_errors=True)
        return result

    run.build = build
    return run
