"""The writer owns what it wrote, through a playbook: nixperf.tuning.write_files with explicit plans.

A phase left out of a plan that speaks for it loses its file (with a backup) and its import; check mode predicts
exactly that; a second run changes nothing; hand-written files and phases the plan does not speak for stay.
In apply mode, check mode lays the planned files over shadow copies of /etc/nixos and each user's home-manager
configuration, and the live CPU guard refuses a -march the CPU cannot run before anything is written.
"""
from __future__ import annotations

import json
import os
import sys

import pytest
from support import snapshot

from ansible_collections.nixperf.tuning.plugins.module_utils.nix import header_comment, nix_module

PLAYBOOK = """\
- hosts: target
  gather_facts: false
  tasks:
    - name: Write the plan
      nixperf.tuning.write_files:
        role: write
        plan: "{{ plan }}"
        in_process: "{{ in_process | default(true) | bool }}"
        validate: always
"""
PHASES = ["memory", "resource_slices", "gpu_video", "hardware_profile", "runtimes"]
MANIFEST = "var/lib/nixperf/manifest.json"
IVYBRIDGE = "fpu cx8 cmov mmx fxsr sse sse2 cx16 lahf_lm popcnt sse4_1 sse4_2 ssse3 avx f16c rdrand aes xsave"


@pytest.fixture
def target(tmp_path):
    """A playbook and a local inventory whose one host, ``target``, is this machine."""
    (tmp_path / "write.yml").write_text(PLAYBOOK)
    (tmp_path / "hosts").write_text("target ansible_connection=local ansible_python_interpreter=%s\n"
                                    % sys.executable)
    return dict(playbook=str(tmp_path / "write.yml"), inventory=str(tmp_path / "hosts"))


def nixos(root):
    return os.path.join(root, "etc/nixos/nixperf")


def hm(root):
    return os.path.join(root, "home/mitsio/.config/home-manager")


def plan(root, phases=("memory", "resource_slices", "gpu_video", "hardware_profile", "runtimes"), scope=tuple(PHASES),
         mode="render", **extra):
    files = {}
    for phase in phases:
        where = os.path.join(hm(root), "nixperf") if phase == "runtimes" else nixos(root)
        path = os.path.join(where, phase + ".nix")
        files[path] = {"path": path, "content": nix_module(phase, {"a": {"b": 1}})[0], "raw_fragments": [],
                       "phase": phase}
    if "hardware_profile" in phases:
        path = os.path.join(nixos(root), "profile/hardware.nix")
        files[path] = {"path": path, "phase": "hardware_profile", "raw_fragments": [],
                       "content": header_comment("hardware_profile", "Data, not a module.") + "{ }\n"}
    out = {"files": files, "indexes": sorted({os.path.dirname(p) for p in files if "/profile/" not in p}),
           "mode": mode, "root": root, "require_import": None, "scope": list(scope)}
    out.update(extra)
    return out


def result(run):
    (r,) = run.results("nixperf.tuning.write_files")
    return r["res"]


def test_a_phase_left_out_is_removed_predicted_and_then_stable(play, target, tmp_path, nix):
    root = str(tmp_path / "host")
    first = play(**target, plan=plan(root))
    assert first.rc == 0, first.failures()
    assert first.changed("target") == 1
    assert os.path.isfile(os.path.join(root, MANIFEST))
    mine = os.path.join(nixos(root), "mine.nix")
    with open(mine, "w") as f:
        f.write("{ }\n")
    gpu = os.path.join(nixos(root), "gpu_video.nix")
    old = open(gpu).read()
    smaller = plan(root, phases=("memory", "resource_slices", "hardware_profile", "runtimes"))

    before = snapshot(tmp_path / "host")
    check = play(**target, check=True, diff=True, plan=smaller)
    assert check.rc == 0, check.failures()
    assert snapshot(tmp_path / "host") == before
    assert check.changed("target") == 1
    predicted = result(check)
    assert sorted(predicted["changed_files"]) == sorted([gpu, os.path.join(nixos(root), "default.nix")])
    assert predicted["removed_files"] == [gpu]
    (removal,) = [d for d in predicted["diff"] if d["after"] == ""]
    assert removal == {"before_header": gpu, "after_header": gpu + " (absent)", "before": old, "after": ""}
    assert "1 would change, 1 to be removed" in check.stdout

    real = play(**target, plan=smaller)
    assert real.rc == 0, real.failures()
    done = result(real)
    assert done["changed_files"] == predicted["changed_files"] and done["diff"] == predicted["diff"]
    assert not os.path.exists(gpu)
    (entry,) = [f for f in done["files"] if f.get("removed")]
    assert open(entry["backup_file"]).read() == old
    index = open(os.path.join(nixos(root), "default.nix")).read()
    assert "imports = [ ./hardware_profile.nix ./memory.nix ./resource_slices.nix ];" in index
    assert nix.parses(os.path.join(nixos(root), "default.nix"))
    assert open(mine).read() == "{ }\n"  # hand-written: kept, never imported
    assert "etc/nixos/nixperf/gpu_video.nix" not in json.load(open(os.path.join(root, MANIFEST)))["files"]
    assert "1 changed, 1 removed" in real.stdout

    stable = snapshot(tmp_path / "host")
    again = play(**target, plan=smaller)
    assert again.rc == 0 and again.changed("target") == 0
    assert result(again)["changed_files"] == []
    assert snapshot(tmp_path / "host") == stable  # the record is not rewritten

    # a role used on its own speaks for its phase only: the other phases keep their files and imports
    alone = play(**target, plan=plan(root, phases=("memory",), scope=["memory"]))
    assert alone.rc == 0 and alone.changed("target") == 0
    assert snapshot(tmp_path / "host") == stable
    assert os.path.isfile(os.path.join(nixos(root), "resource_slices.nix"))
    assert os.path.isfile(os.path.join(hm(root), "nixperf/runtimes.nix"))


def test_the_module_and_the_in_process_writer_remove_alike(play, target, tmp_path):
    trees, results = [], []
    for in_process in (True, False):
        root = str(tmp_path / ("host-%s" % in_process))
        assert play(**target, plan=plan(root), in_process=in_process).rc == 0
        run = play(**target, plan=plan(root, phases=("memory", "runtimes")), in_process=in_process)
        assert run.rc == 0, run.failures()
        res = result(run)
        assert bool(res["invocation"].get("in_process")) is in_process
        results.append(sorted(os.path.relpath(p, root) for p in res["changed_files"]))
        trees.append({os.path.relpath(p, root): (v[0], v[2]) for p, v in snapshot(tmp_path / os.path.basename(root))
                      .items() if not p.endswith("~")})
    assert results[0] == results[1] == sorted([
        "etc/nixos/nixperf/default.nix", "etc/nixos/nixperf/gpu_video.nix", "etc/nixos/nixperf/hardware_profile.nix",
        "etc/nixos/nixperf/profile/hardware.nix", "etc/nixos/nixperf/resource_slices.nix"])
    assert trees[0] == trees[1]


def test_apply_mode_check_shadows_and_the_live_cpu_guard(play, target, tmp_path):
    root = str(tmp_path / "host")
    os.makedirs(hm(root))
    with open(os.path.join(hm(root), "home.nix"), "w") as f:
        f.write("{ imports = [ ./nixperf ]; }\n")
    apply = dict(mode="apply", home_configs={"mitsio": hm(root)})
    assert play(**target, plan=plan(root, **apply)).rc == 0
    smaller = plan(root, phases=("memory", "hardware_profile"), **apply)

    def host_files():  # the shadows go to <root>/tmp, for the apply roles to remove
        return {p: v for p, v in snapshot(tmp_path / "host").items() if "/host/tmp/" not in p}

    before = host_files()
    check = play(**target, check=True, plan=smaller)
    assert check.rc == 0, check.failures()
    assert host_files() == before
    res = result(check)
    assert res["shadow_root"] == os.path.join(root, "tmp/nixperf-shadow")
    assert res["home_shadows"] == {"mitsio": os.path.join(root, "tmp/nixperf-shadow-home/mitsio")}
    shadow_home = res["home_shadows"]["mitsio"]
    assert sorted(os.listdir(os.path.join(shadow_home, "nixperf"))) == ["default.nix"]  # runtimes.nix: absent
    assert "imports = [ ];" in open(os.path.join(shadow_home, "nixperf/default.nix")).read()
    assert os.path.isfile(os.path.join(shadow_home, "home.nix"))
    assert not os.path.exists(os.path.join(res["shadow_root"], "nixperf/gpu_video.nix"))

    # the live CPU cannot run what the plan builds for: refused, nothing written, the host and fix named
    live = tmp_path / "live"
    (live / "proc").mkdir(parents=True)
    (live / "proc/cpuinfo").write_text("processor\t: 0\nmodel name\t: Intel(R) Core(TM) i7-3770\nflags\t\t: %s\n"
                                       % IVYBRIDGE)
    guarded = dict(smaller, cpu_targets={"march": ["x86-64-v2", "skylake"], "goamd64": ["v3"]},
                   live_cpu={"enabled": True, "root": str(live), "expected": None})
    for check_mode in (True, False):
        run = play(**target, check=check_mode, plan=guarded)
        (failure,) = run.failures()
        assert failure["msg"].startswith("host target: refusing to write: the live CPU (Intel(R) Core(TM) i7-3770")
        assert "-march=skylake: it lacks avx2" in failure["msg"] and "GOAMD64=v3: it lacks avx2" in failure["msg"]
        assert "x86-64-v2" not in failure["msg"]  # that one it runs
        assert "hardware_profile_march" in failure["msg"] and "runtimes_go_amd64" in failure["msg"]
        assert host_files() == before
