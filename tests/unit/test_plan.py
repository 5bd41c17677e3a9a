"""The planning action's pure parts: the files a phase puts on a host (of any kind), and a plan that lives for one
play (never continued from another play, another run or another root)."""
from __future__ import annotations

import pytest
from ansible_collections.nixperf.tuning.plugins.action import phase as A
from ansible_collections.nixperf.tuning.plugins.module_utils.layout import layout
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import PhaseError, PhasePlan

WHERE = layout("vm", mode="render", build_dir="/b")


def test_files_of_any_kind_are_owned_by_their_phase():
    built = PhasePlan(phase="rustdesk", config=None, files={
        "home/u/.config/rustdesk/RustDesk2.toml": "[options]\ncodec-preference = 'vp9'\n",
        "home/u/.local/share/chezmoi/run_onchange_tune.sh": {"content": "#!/bin/sh\n", "mode": "0755"}})
    files = A.plan_files(built, WHERE, "rustdesk", None, {}, {})
    assert files == {
        "/b/vm/home/u/.config/rustdesk/RustDesk2.toml": {
            "path": "/b/vm/home/u/.config/rustdesk/RustDesk2.toml", "content": "[options]\ncodec-preference = 'vp9'\n",
            "raw_fragments": [], "phase": "rustdesk"},
        "/b/vm/home/u/.local/share/chezmoi/run_onchange_tune.sh": {
            "path": "/b/vm/home/u/.local/share/chezmoi/run_onchange_tune.sh", "content": "#!/bin/sh\n",
            "raw_fragments": [], "phase": "rustdesk", "mode": "0755"}}


@pytest.mark.parametrize("rel", ["/etc/passwd", "../outside", "home/../../x", "."])
def test_files_stay_below_the_root(rel):
    with pytest.raises(PhaseError, match="must be a path below the host's root"):
        A.plan_files(PhasePlan(phase="p", config=None, files={rel: "x"}), WHERE, "p", None, {}, {})


def test_nix_module_data_and_home_files():
    built = PhasePlan(phase="memory", config={})
    files = A.plan_files(built, WHERE, "memory", ("module", []), {"profile/x.nix": ("{ }", [])},
                         {"u": ("/b/vm/home/u/.config/home-manager/nixperf", ("home", ["pkgs.x"]))})
    assert sorted(files) == ["/b/vm/etc/nixos/nixperf/memory.nix", "/b/vm/etc/nixos/nixperf/profile/x.nix",
                             "/b/vm/home/u/.config/home-manager/nixperf/memory.nix"]
    assert {f["phase"] for f in files.values()} == {"memory"}
    assert files["/b/vm/home/u/.config/home-manager/nixperf/memory.nix"]["raw_fragments"] == ["pkgs.x"]


def test_a_plan_is_continued_only_within_its_play_and_root():
    plan = dict(A.new_plan(WHERE, "play-1"), files={"/b/vm/x.nix": {"phase": "memory"}}, scope=["memory"])
    task_vars = {A.PLANNED_VAR: {"plan": plan}}
    assert A.current_plan(task_vars, WHERE, "play-1")["scope"] == ["memory"]
    assert A.current_plan(task_vars, WHERE, "play-2")["files"] == {}  # another play (or run) starts afresh
    other = layout("vm", mode="render", build_dir="/elsewhere")
    assert A.current_plan(task_vars, other, "play-1")["files"] == {}  # another build dir starts afresh
    assert A.current_plan({}, WHERE, "play-1") == A.new_plan(WHERE, "play-1")
    continued = A.current_plan(task_vars, WHERE, "play-1")
    continued["files"]["/b/vm/y.nix"] = {}
    assert "/b/vm/y.nix" not in plan["files"]  # the registered result is never modified
