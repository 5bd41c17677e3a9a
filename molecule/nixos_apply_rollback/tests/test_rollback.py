"""The failed health check left generation 1 running and no generated files behind."""
from __future__ import annotations

import json
import os

ROOT = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "root")


def test_back_on_generation_1(host):
    current = host.file(os.path.join(ROOT, "run/current-system")).linked_to
    assert current == host.file(os.path.join(ROOT, "nix/var/nix/profiles/system-1-link")).linked_to


def test_switch_then_exact_rollback(host):
    rows = [json.loads(ln) for ln in host.file(os.path.join(ROOT, "calls.jsonl")).content_string.splitlines()]
    rebuilds = [r["argv"] for r in rows if r["prog"] == "nixos-rebuild"]
    assert [a[0] for a in rebuilds] == ["dry-build", "build", "switch"]
    gen1 = host.file(os.path.join(ROOT, "nix/var/nix/profiles/system-1-link")).linked_to
    # the magic rollback stopped, then the profile and the running system put back to generation 1
    order = [(r["prog"], r["argv"]) for r in rows if r["prog"] in ("systemctl", "nix-env", "switch-to-configuration")]
    assert order[-3][0] == "systemctl" and order[-3][1][0] == "stop"
    assert order[-2] == ("nix-env", ["--profile", os.path.join(ROOT, "nix/var/nix/profiles/system"),
                                     "--switch-generation", "1"])
    assert order[-1] == ("switch-to-configuration", [gen1, "switch"])
    assert host.check_output("readlink %s", os.path.join(ROOT, "nix/var/nix/profiles/system")) == "system-1-link"


def test_generated_files_restored(host):
    # the files did not exist before this run: restoring means removing them
    assert not host.file(os.path.join(ROOT, "etc/nixos/nixperf/memory.nix")).exists
    assert host.file(os.path.join(ROOT, "etc/nixos/configuration.nix")).exists
    assert not host.file(os.path.join(ROOT, "run/nixperf/apply.lock")).exists
