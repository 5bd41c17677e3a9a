"""Phases as a user switches them: off for a host (the files go), off from the command line as text, a plan that
lives for one run even with a fact cache, and facts that cannot become code."""
from __future__ import annotations

import json
import os

from support import snapshot

NIXOS = "etc/nixos/nixperf"


def test_a_phase_switched_off_is_gone_from_the_host(play, nix):
    assert play(limit="shoshin").rc == 0
    d = play.build / "shoshin" / NIXOS
    assert (d / "gpu_video.nix").exists() and "./gpu_video.nix" in (d / "default.nix").read_text()
    before = snapshot(play.build)
    check = play(check=True, diff=True, limit="shoshin", nixperf_phase_gpu_video=False)
    assert check.rc == 0, check.failures()
    assert sorted(check.changed_files["shoshin"]) == sorted([str(d / "default.nix"), str(d / "gpu_video.nix")])
    assert snapshot(play.build) == before
    run = play(limit="shoshin", nixperf_phase_gpu_video=False)
    assert run.rc == 0, run.failures()
    assert sorted(run.changed_files["shoshin"]) == sorted(check.changed_files["shoshin"])
    assert not (d / "gpu_video.nix").exists()
    assert "gpu_video" not in (d / "default.nix").read_text()
    assert nix.parses(d / "default.nix")
    again = play(limit="shoshin", nixperf_phase_gpu_video=False)
    assert again.changed("shoshin") == 0
    # switched back on, it comes back
    assert play(limit="shoshin").changed("shoshin") > 0
    assert "./gpu_video.nix" in (d / "default.nix").read_text()


def test_enable_false_typed_on_the_command_line(play):
    """-e gpu_video_enable=false is the string 'false': Ansible users write booleans that way."""
    run = play(limit="shoshin", args=["-e", "gpu_video_enable=false", "-e", "memory_zram_priority=5"])
    assert run.rc == 0, run.failures()
    text = (play.build / "shoshin" / NIXOS / "gpu_video.nix").read_text()
    assert "    default = false;" in text
    assert "priority = lib.mkOverride 75 5;" in (play.build / "shoshin" / NIXOS / "memory.nix").read_text()


def test_the_plan_lives_for_one_run_even_with_a_fact_cache(play, tmp_path):
    cache = tmp_path / "facts"
    env = {"ANSIBLE_CACHE_PLUGIN": "jsonfile", "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(cache)}
    first = play(limit="shoshin", env=env, nixperf_build_dir=str(tmp_path / "a"))
    assert first.rc == 0, first.failures()
    second = play(limit="shoshin", env=env, nixperf_build_dir=str(tmp_path / "b"))
    assert second.rc == 0, second.failures()
    written = second.changed_files["shoshin"]
    assert written and all(p.startswith(str(tmp_path / "b")) for p in written), written
    assert len(written) == len(first.changed_files["shoshin"])
    assert sorted(os.listdir(tmp_path / "a" / "shoshin" / NIXOS)) == sorted(os.listdir(tmp_path / "b" / "shoshin" / NIXOS))
    for name in os.listdir(cache) if cache.exists() else []:
        facts = json.loads((cache / name).read_text())
        assert not [k for k in facts if k.startswith("nixperf_plan")], sorted(facts)


def test_code_in_a_fact_fails_before_anything_is_written(play):
    hw = {"cpu": {"vendor": "intel", "family": "skylake", "x86_64_level": 3, "cores": 4, "threads": 8},
          "memory": {"total_mib": 16384},
          "gpu": {"vendor": "nvidia", "model": {"_nix": "builtins.readFile /etc/hostname"}, "decode": ["h264"]}}
    run = play(limit="shoshin", nixperf_hardware=hw)
    assert run.rc != 0
    msg = " ".join(f["msg"] for f in run.failures())
    assert "host shoshin: nixperf_hardware.gpu.model must be a string, got a Nix code marker" in msg
    assert not play.build.exists()


def test_users_as_a_plain_string_fail_clearly(play):
    run = play(limit="shoshin", nixperf_users="mitsio")
    assert run.rc != 0
    msg = " ".join(f["msg"] for f in run.failures())
    assert "nixperf_users must be a list of users" in msg
    assert not (play.build / "shoshin/home/m").exists()


IVY_BRIDGE = "".join(
    "processor\t: %d\nmodel name\t: Intel(R) Core(TM) i7-3770 CPU @ 3.40GHz\nflags\t\t: fpu cx8 cmov mmx fxsr sse sse2 "
    "cx16 lahf_lm popcnt sse4_1 sse4_2 ssse3 avx f16c rdrand pclmulqdq aes\n\n" % i for i in range(8))


def test_the_live_cpu_guard_checks_the_march_of_every_phase(play, tmp_path):
    """Not only hardware_profile_march: the -march that system_libs writes is checked against the live CPU too."""
    root = tmp_path / "root"
    (root / "etc/nixos").mkdir(parents=True)
    (root / "etc/nixos/configuration.nix").write_text("{ ... }: { imports = [ ./nixperf ]; }\n")
    (root / "proc").mkdir()
    (root / "proc/cpuinfo").write_text(IVY_BRIDGE)  # an x86-64-v2 CPU under an inventory that says skylake
    run = play(limit="shoshin", nixperf_mode="apply", nixperf_root=str(root), nixperf_phase_hardware_profile=False,
               nixperf_phase_runtimes=False, nixperf_phase_electron_apps=False)
    assert run.rc != 0
    (failure,) = run.failures()
    assert "host shoshin: refusing to write" in failure["msg"]
    assert "-march=skylake: it lacks avx2" in failure["msg"] and "Nothing was written" in failure["msg"]
    assert not (root / "etc/nixos/nixperf").exists() and not (root / "home").exists()


def test_a_phase_switched_off_as_text_on_the_command_line(play):
    """-e nixperf_phase_gpu_video=false is the string 'false'; one planning task handles every phase."""
    assert play(limit="shoshin").rc == 0
    run = play(limit="shoshin", args=["-e", "nixperf_phase_gpu_video=false"])
    assert run.rc == 0, run.failures()
    assert not (play.build / "shoshin" / NIXOS / "gpu_video.nix").exists()
    bad = play(limit="shoshin", args=["-e", "nixperf_phase_gpu_video=maybe"])
    assert bad.rc != 0
    assert "nixperf_phase_gpu_video must be true or false" in " ".join(f["msg"] for f in bad.failures())
