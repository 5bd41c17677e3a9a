"""The generated slices module: parses, evaluates to the plan's limits."""
from __future__ import annotations

import json
import os

BUILD = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "build", "instance", "etc", "nixos", "nixperf")
LIB = "{ mkOption = x: x; types.bool = null; mkIf = c: v: v; }"


def test_module_evaluates_to_the_limits(host):
    path = os.path.join(BUILD, "resource_slices.nix")
    assert host.file(path).mode == 0o644
    expr = "(import %s { config.nixperf.resource_slices.enable = true; pkgs = {}; lib = %s; }).config" % (path, LIB)
    cmd = host.run("NIX_REMOTE=dummy:// nix-instantiate --eval --strict --json -E %s", expr)
    assert cmd.rc == 0, cmd.stderr
    systemd = json.loads(cmd.stdout)["systemd"]
    assert systemd["slices"]["user-"]["sliceConfig"] == {"MemoryHigh": "12G", "MemoryMax": "14G", "CPUQuota": "600%"}
    assert systemd["slices"]["user-"]["overrideStrategy"] == "asDropin"
    assert "./resource_slices.nix" in host.file(os.path.join(BUILD, "default.nix")).content_string
