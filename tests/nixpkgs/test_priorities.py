"""The nixperf priority against the real nixpkgs module system (``lib.evalModules``).

Runs when ``NIXPKGS`` names a nixpkgs checkout or a folder holding nixpkgs' ``lib/``
(``NIXPKGS=/path/to/nixpkgs make nixpkgs``); ``make test`` says so when it did not run. The option declarations
are ``options.nix`` here, with the merge of nixpkgs' ``nixos/modules/config/sysctl.nix`` (``mergeOneOption`` after
``filterOverrides``); with a full checkout, a test checks that its sysctl.nix still merges that way.

The host module is ``plan-host.nix``: the plan's phase 0 as a user has it today (four sysctls under
``lib.mkForce``, the rest plain). The generated module must evaluate together with it, whatever the values.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixForce, nix_module
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import DEFAULT_PRIORITY, build

HERE = Path(__file__).resolve().parent
SHOSHIN = {"memory": {"total_mib": 16384}}


@pytest.fixture(scope="module")
def nixpkgs() -> Path:
    value = os.environ.get("NIXPKGS")
    if not value:
        pytest.skip("NIXPKGS is not set: the real-module-system tier did not run")
    root = Path(value).resolve()
    if not (root / "lib" / "default.nix").is_file():
        pytest.fail("NIXPKGS=%s holds no lib/default.nix: give a nixpkgs checkout or a folder with nixpkgs' lib/"
                    % value)
    return root


def memory_module(tmp_path: Path, settings=None, priority=None, force_like_the_plan=False) -> Path:
    plan = build("memory", "shoshin", settings or {}, SHOSHIN, priority=priority)
    config = plan.config
    if force_like_the_plan:
        # what the plan advises (and this collection once generated): the four keys forced, the rest plain
        sysctl = {k: (NixForce(v.value) if k in ("vm.swappiness", "vm.vfs_cache_pressure", "vm.dirty_ratio",
                                                 "vm.dirty_background_ratio") else v.value)
                  for k, v in config["boot"]["kernel"]["sysctl"].items()}
        config = dict(config, boot={"kernel": {"sysctl": sysctl}},
                      zramSwap={k: v.value for k, v in config["zramSwap"].items()})
    path = tmp_path / "memory.nix"
    path.write_text(nix_module("memory", config, role="memory", priority=priority or DEFAULT_PRIORITY)[0])
    return path


def evaluate(nix, nixpkgs: Path, *modules: Path, expect_ok: bool = True):
    expr = (
        "let lib = import %s/lib; r = lib.evalModules { modules = [ %s %s { _module.args.pkgs = { }; } ]; };"
        " in { sysctl = r.config.boot.kernel.sysctl; zram = r.config.zramSwap; }"
        % (nixpkgs, HERE / "options.nix", " ".join(str(m) for m in modules)))
    proc = nix.run(["--eval", "--strict", "--json", "-E", expr], expect_ok=False)
    if expect_ok:
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)
    assert proc.returncode != 0, "evaluation succeeded: %s" % proc.stdout[:300]
    return proc.stderr


def test_the_plan_advice_collides_with_the_plan_host(nix, nixpkgs, tmp_path):
    """Forcing the keys the host forces too fails evaluation, even with equal values: the bug fixed here."""
    err = evaluate(nix, nixpkgs, memory_module(tmp_path, force_like_the_plan=True), HERE / "plan-host.nix",
                   expect_ok=False)
    assert "is defined multiple times" in err and "boot.kernel.sysctl" in err, err


def test_the_generated_module_evaluates_with_the_plan_host(nix, nixpkgs, tmp_path):
    # values unlike the host's, to see who wins
    ours = memory_module(tmp_path, {"swappiness": 80, "overcommit_memory": 1, "zram_memory_percent": 50,
                                    "panic_on_oom": 1})
    got = evaluate(nix, nixpkgs, ours, HERE / "plan-host.nix")
    sysctl = got["sysctl"]
    assert sysctl["vm.swappiness"] == 67  # the host's lib.mkForce wins over the nixperf priority
    assert sysctl["vm.dirty_ratio"] == 10
    assert sysctl["vm.overcommit_memory"] == 1  # ours win over the host's plain definitions
    assert sysctl["vm.panic_on_oom"] == 1
    assert got["zram"]["memoryPercent"] == 50


def test_equal_values_at_the_plan_priorities_evaluate_too(nix, nixpkgs, tmp_path):
    got = evaluate(nix, nixpkgs, memory_module(tmp_path), HERE / "plan-host.nix")
    assert got["sysctl"]["vm.swappiness"] == 67 and got["sysctl"]["vm.panic_on_oom"] == 0
    assert got["zram"] == {"enable": True, "algorithm": "zstd", "memoryPercent": 75, "priority": 100}


def test_a_priority_below_mkforce_wins_over_the_host(nix, nixpkgs, tmp_path):
    ours = memory_module(tmp_path, {"swappiness": 80}, priority=40)
    got = evaluate(nix, nixpkgs, ours, HERE / "plan-host.nix")
    assert got["sysctl"]["vm.swappiness"] == 80


def test_alone_every_value_is_ours(nix, nixpkgs, tmp_path):
    got = evaluate(nix, nixpkgs, memory_module(tmp_path, {"swappiness": 80}))
    assert got["sysctl"]["vm.swappiness"] == 80 and got["sysctl"]["vm.dirty_background_ratio"] == 5


def test_a_checkout_still_merges_sysctls_that_way(nixpkgs):
    real = nixpkgs / "nixos" / "modules" / "config" / "sysctl.nix"
    if not real.is_file():
        pytest.skip("NIXPKGS holds lib/ only: no nixos/modules/config/sysctl.nix to compare options.nix with")
    text = real.read_text()
    assert "mergeOneOption" in text and "filterOverrides" in text, \
        "nixpkgs' sysctl.nix merges differently now: update tests/nixpkgs/options.nix and the priority strategy"
