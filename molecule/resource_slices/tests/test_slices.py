"""The generated slices module: parses, evaluates to the plan's user limits and, on X11, display-manager bounds the
session's X server (inside display-manager.service) cannot hit."""
from __future__ import annotations

import json
import os

BUILD = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "build", "instance", "etc", "nixos", "nixperf")
LIB = "{ mkOption = x: x; types.bool = null; mkIf = c: v: v; mkOverride = p: v: v; }"


def test_module_evaluates_to_the_limits(host):
    path = os.path.join(BUILD, "resource_slices.nix")
    assert host.file(path).mode == 0o644
    assert 'MemoryMax = lib.mkOverride 75 "14G";' in host.file(path).content_string
    expr = "(import %s { config.nixperf.resource_slices.enable = true; pkgs = {}; lib = %s; }).config" % (path, LIB)
    cmd = host.run("NIX_REMOTE=dummy:// nix-instantiate --eval --strict --json -E %s", expr)
    assert cmd.rc == 0, cmd.stderr
    systemd = json.loads(cmd.stdout)["systemd"]
    assert systemd["slices"]["user-"]["sliceConfig"] == {"MemoryHigh": "12G", "MemoryMax": "14G", "CPUQuota": "600%"}
    assert systemd["slices"]["user-"]["overrideStrategy"] == "asDropin"
    assert systemd["services"]["display-manager"]["serviceConfig"] == {
        "OOMScoreAdjust": -900, "MemoryHigh": "4G", "MemoryMax": "8G", "ManagedOOMPreference": "avoid"}
    assert "./resource_slices.nix" in host.file(os.path.join(BUILD, "default.nix")).content_string
