"""After converge + idempotence: one switch, generation 2 running, lock released."""
from __future__ import annotations

import json
import os

ROOT = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "root")


def calls(host, prog):
    text = host.file(os.path.join(ROOT, "calls.jsonl")).content_string
    return [c["argv"] for c in map(json.loads, text.splitlines()) if c["prog"] == prog]


def test_rebuilt_once_idempotence_run_never_called_nixos_rebuild(host):
    assert [c[0] for c in calls(host, "nixos-rebuild")] == ["dry-build", "build", "switch"]


def test_generation_2_is_running(host):
    current = host.file(os.path.join(ROOT, "run/current-system")).linked_to
    gen2 = host.file(os.path.join(ROOT, "nix/var/nix/profiles/system-2-link")).linked_to
    assert current == gen2
    assert host.check_output("readlink %s", os.path.join(ROOT, "nix/var/nix/profiles/system")) == "system-2-link"


def test_files_and_lock(host):
    assert host.file(os.path.join(ROOT, "etc/nixos/nixperf/memory.nix")).contains("zramSwap")
    assert not host.file(os.path.join(ROOT, "run/nixperf/apply.lock")).exists
    assert calls(host, "systemctl") == [["is-system-running"]]
