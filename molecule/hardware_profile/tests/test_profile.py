"""The profile is data for znver3, exposed through _module.args, not imported as a module."""
from __future__ import annotations

import json
import os

BUILD = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "build", "instance", "etc", "nixos", "nixperf")


def test_profile_data(host):
    cmd = host.run("NIX_REMOTE=dummy:// nix-instantiate --eval --strict --json %s",
                   os.path.join(BUILD, "profile", "hardware.nix"))
    assert cmd.rc == 0, cmd.stderr
    profile = json.loads(cmd.stdout)
    assert profile["build"]["compiler"] == {"march": "znver3", "mtune": "znver3", "optimizationLevel": 3,
                                            "goamd64": "v3"}
    assert profile["cpu"]["threads"] == 16


def test_module_exposes_it_and_index_skips_the_data(host):
    module = host.file(os.path.join(BUILD, "hardware_profile.nix")).content_string
    assert "_module.args.currentHardwareProfile = (import ./profile/hardware.nix);" in module
    index = host.file(os.path.join(BUILD, "default.nix")).content_string
    assert "imports = [ ./hardware_profile.nix ];" in index
