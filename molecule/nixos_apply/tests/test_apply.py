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


def test_magic_rollback_armed_before_the_switch_and_confirmed_after_the_checks(host):
    rows = [json.loads(ln) for ln in host.file(os.path.join(ROOT, "calls.jsonl")).content_string.splitlines()]
    progs = ("systemd-run", "nixos-rebuild", "systemctl")
    order = [r["prog"] + " " + r["argv"][0] for r in rows if r["prog"] in progs]
    unit = calls(host, "systemd-run")[0][0][len("--unit="):]
    assert order == ["nixos-rebuild dry-build", "nixos-rebuild build", "systemd-run --unit=" + unit,
                     "nixos-rebuild switch", "systemctl is-system-running", "systemctl stop"]
    assert calls(host, "systemctl")[-1] == ["stop", unit + ".timer"]
    assert "--on-active=60s" in calls(host, "systemd-run")[0]
    assert not host.file(os.path.join(ROOT, "state/timers", unit + ".timer")).exists  # stopped, never fires
    assert not host.file(os.path.join(ROOT, "run/nixperf", unit + ".sh")).exists
