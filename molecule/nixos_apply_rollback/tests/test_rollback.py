"""The failed health check left generation 1 running and no generated files behind."""
from __future__ import annotations

import json
import os

ROOT = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "root")


def test_back_on_generation_1(host):
    current = host.file(os.path.join(ROOT, "run/current-system")).linked_to
    assert current == host.file(os.path.join(ROOT, "nix/var/nix/profiles/system-1-link")).linked_to


def test_switch_then_rollback(host):
    rows = [json.loads(ln) for ln in host.file(os.path.join(ROOT, "calls.jsonl")).content_string.splitlines()]
    rebuilds = [r["argv"] for r in rows if r["prog"] == "nixos-rebuild"]
    assert [a[0] for a in rebuilds] == ["dry-build", "build", "switch", "switch"]
    assert rebuilds[-1][-1] == "--rollback"


def test_generated_files_restored(host):
    # the files did not exist before this run: restoring means removing them
    assert not host.file(os.path.join(ROOT, "etc/nixos/nixperf/memory.nix")).exists
    assert host.file(os.path.join(ROOT, "etc/nixos/configuration.nix")).exists
    assert not host.file(os.path.join(ROOT, "run/nixperf/apply.lock")).exists
