"""site.yml on the local inventory: idempotence, exact check mode, diff."""
from __future__ import annotations

from support import eval_modules, snapshot

HOSTS = ["shoshin", "kensho", "plasma-vm-01"]
MODULES = ["boot.nix", "build_perf.nix", "default.nix", "gpu_video.nix", "hardware_profile.nix", "memory.nix", "profile",
           "resource_slices.nix", "system_libs.nix"]
# the NixOS modules, default.nix, profile/hardware.nix and the user's home-manager modules with their
# default.nix: system_libs, runtimes and electron_apps on workstations (and shoshin's opt-in monitoring aliases),
# electron_apps alone on the VM (a VM's CPU model can change: no -march rebuilds there)
# and the desktop: shoshin's chezmoi scripts (3) with the plasma-manager alternative (2) and its session variables
# (plasma.nix); kensho (direct backend) the chezmoi (3) and plasma-manager (2) alternatives; plasma-vm-01
# (plasma-manager) its plasma / kde_services home modules, kde_services.nix (Akonadi), rustdesk.nix and the chezmoi
# alternative (3)
# boot.nix and build_perf.nix (NixOS) and startup.nix (home) on every host: inert unless the inventory opts in (the
# local inventory opts shoshin in, inventories/local/host_vars/shoshin.yml)
FILES = {"shoshin": 21, "kensho": 19, "plasma-vm-01": 19}  # the VM: and its VirtualMachine
HOME = {"shoshin": ["default.nix", "electron_apps.nix", "monitoring.nix", "plasma.nix", "runtimes.nix", "startup.nix",
                    "system_libs.nix"],
        "kensho": ["default.nix", "electron_apps.nix", "runtimes.nix", "startup.nix", "system_libs.nix"],
        "plasma-vm-01": ["default.nix", "electron_apps.nix", "kde_services.nix", "plasma.nix", "startup.nix"]}
VM_MODULES = ["kde_services.nix", "rustdesk.nix"]


def test_first_run_changes_second_run_does_not(play, nix):
    first = play()
    assert first.rc == 0, first.failures()
    for host in HOSTS:
        assert first.changed(host) > 0
        d = play.build / host / "etc/nixos/nixperf"
        expected = MODULES if host != "plasma-vm-01" else sorted(
            [m for m in MODULES if m != "system_libs.nix"] + VM_MODULES)
        assert sorted(p.name for p in d.iterdir()) == expected
        assert nix.parses(*(d / m for m in expected if m.endswith(".nix")), d / "profile/hardware.nix")
        index = (d / "default.nix").read_text()
        assert all("./%s" % m in index for m in expected if m.endswith(".nix") and m != "default.nix")
        assert "./profile" not in index  # data, not a module
        home = play.build / host / "home/mitsio/.config/home-manager/nixperf"
        assert sorted(p.name for p in home.iterdir()) == HOME[host]
        assert nix.parses(*home.iterdir())
    text = (play.build / "shoshin/etc/nixos/nixperf/memory.nix").read_text()
    assert '"vm.swappiness" = lib.mkOverride 75 67;' in text  # the nixperf priority, never lib.mkForce
    assert "memoryPercent = lib.mkOverride 75 75;" in text
    before = snapshot(play.build)
    second = play()
    assert second.rc == 0
    assert {h: second.changed(h) for h in HOSTS} == {h: 0 for h in HOSTS}
    assert second.changed_files == {h: [] for h in HOSTS}
    assert snapshot(play.build) == before
    # the summary callback: one line per host, then the totals
    assert "NIXPERF SUMMARY" in second.stdout
    assert "3 hosts, 59 generated files, 0 changed" in second.stdout
    assert "59 generated files, 59 changed" in first.stdout
    assert "owned desktop keys: 0 set, 0 given back, 15 left to chezmoi / home-manager" in second.stdout
    home = play.build / "shoshin/home/mitsio/.config/home-manager/nixperf"
    imports = ["electron_apps", "monitoring", "plasma", "runtimes", "startup", "system_libs"]
    assert "imports = [\n%s  ];" % "".join("    ./%s.nix\n" % m for m in imports) in (home / "default.nix").read_text()
    assert "prev.openssl.overrideAttrs" in (home / "system_libs.nix").read_text()
    assert "prev.glibc" not in (play.build / "shoshin/etc/nixos/nixperf/system_libs.nix").read_text()  # stage home
    assert 'march = "znver3";' in (play.build / "kensho/etc/nixos/nixperf/profile/hardware.nix").read_text()
    # a second, different workstation gets visibly different, correct values
    kensho = play.build / "kensho/etc/nixos/nixperf"
    assert "memoryPercent = lib.mkOverride 75 50;" in (kensho / "memory.nix").read_text()
    assert 'CPUQuota = lib.mkOverride 75 "1200%";' in (kensho / "resource_slices.nix").read_text()
    video = (kensho / "gpu_video.nix").read_text()
    assert "VDPAU_DRIVER" not in video and "LIBVA_DRIVER_NAME" not in video  # Mesa 25.3: no VDPAU; libva chooses
    assert "nvidia" not in video
    assert 'CPUQuota = lib.mkOverride 75 "600%";' in (play.build / "shoshin/etc/nixos/nixperf/resource_slices.nix").read_text()
    # runtimes and Electron apps: from the CPU level, the GPU vendor and the session
    kensho_home = play.build / "kensho/home/mitsio/.config/home-manager/nixperf"
    assert 'RUSTFLAGS = "-C target-cpu=znver3";' in (kensho_home / "runtimes.nix").read_text()
    assert "python313" in (home / "runtimes.nix").read_text() and 'GOAMD64 = "v3";' in (home / "runtimes.nix").read_text()
    assert '"--ozone-platform=wayland"' in (kensho_home / "electron_apps.nix").read_text()
    shoshin_apps = (home / "electron_apps.nix").read_text()
    assert '"--ozone-platform=x11"' in shoshin_apps and '(lib.getExe\' pkgs.discord "Discord")' in shoshin_apps
    vm_apps = (play.build / "plasma-vm-01/home/mitsio/.config/home-manager/nixperf/electron_apps.nix").read_text()
    assert "--ozone-platform" not in vm_apps and '"MemoryMax=5G"' in vm_apps
    assert not (play.build / "plasma-vm-01/etc/nixos/nixperf/electron_apps.nix").exists()  # home-manager only


def test_check_mode_after_convergence_changes_nothing(play):
    assert play().rc == 0
    before = snapshot(play.build)
    check = play(check=True, diff=True)
    assert check.rc == 0
    assert {h: check.changed(h) for h in HOSTS} == {h: 0 for h in HOSTS}
    assert snapshot(play.build) == before


def test_check_mode_on_a_fresh_tree_predicts_the_real_run(play):
    check = play(check=True)
    assert check.rc == 0, check.failures()
    assert not play.build.exists(), "check mode wrote files"
    real = play()
    assert real.rc == 0
    assert {h: sorted(f) for h, f in check.changed_files.items()} == \
        {h: sorted(f) for h, f in real.changed_files.items()}
    assert {h: check.changed(h) for h in HOSTS} == {h: real.changed(h) for h in HOSTS}
    assert {h: len(real.changed_files[h]) for h in HOSTS} == FILES


def test_check_mode_predicts_a_settings_change_with_a_real_diff(play):
    assert play().rc == 0
    before = snapshot(play.build)
    check = play(check=True, diff=True, limit="shoshin", memory_zram_algorithm="lz4")
    assert check.changed("shoshin") == 1
    assert check.changed_files["shoshin"] == [str(play.build / "shoshin/etc/nixos/nixperf/memory.nix")]
    diffs = [d for r in check.results("nixperf.tuning.write_plan") for d in r["res"]["diff"]]
    assert len(diffs) == 1
    assert 'algorithm = lib.mkOverride 75 "zstd";' in diffs[0]["before"]
    assert 'algorithm = lib.mkOverride 75 "lz4";' in diffs[0]["after"]
    assert snapshot(play.build) == before
    real = play(limit="shoshin", memory_zram_algorithm="lz4")
    assert real.changed_files == check.changed_files


def test_phase_skipped_per_host(play):
    run = play(limit="plasma-vm-01", nixperf_phase_gpu_video=False)
    assert run.rc == 0
    assert not (play.build / "plasma-vm-01/etc/nixos/nixperf/gpu_video.nix").exists()


def test_phase_switched_off_keeps_an_inert_module(play, nix):
    assert play(memory_enable=False).rc == 0
    text = (play.build / "shoshin/etc/nixos/nixperf/memory.nix").read_text()
    assert "    default = false;" in text
    assert nix.parses(play.build / "shoshin/etc/nixos/nixperf/memory.nix")


# the packages the generated modules name (the test module system reads a value's type to push lib.mkIf down)
PKGS = '{ sccache = { outPath = "/nix/store/00000000000000000000000000000000-sccache-0.10.0"; name = "sccache"; }; }'


def test_boot_startup_and_build_perf_are_inert_unless_the_inventory_opts_in(play, nix):
    assert play().rc == 0
    for host in ("kensho", "plasma-vm-01"):
        nixos = play.build / host / "etc/nixos/nixperf"
        for module in (nixos / "boot.nix", nixos / "build_perf.nix"):
            config = eval_modules(nix, module, pkgs=PKGS)
            assert list(config) == ["nixperf"], module  # only its own switches
            switches = config["nixperf"][module.stem]
            assert switches.pop("enable") is True and switches and all(v == {"enable": False} for v in switches.values())
        # the home module's wiring against home-manager's xdg options: tests/unit/test_startup.py
        startup = play.build / host / "home/mitsio/.config/home-manager/nixperf/startup.nix"
        assert startup.read_text().count("    default = false;") == 2 and nix.parses(startup)
    shoshin = play.build / "shoshin/etc/nixos/nixperf"
    boot = eval_modules(nix, shoshin / "boot.nix")
    assert boot["boot"]["kernelParams"] == ["nowatchdog"] and boot["boot"]["initrd"]["compressor"] == "lz4"
    assert boot["systemd"]["services"] == {"NetworkManager-wait-online": {"enable": False}}
    assert eval_modules(nix, shoshin / "build_perf.nix", pkgs=PKGS)["nix"]["settings"] == {
        "cores": 4, "max-jobs": 2, "extra-sandbox-paths": ["/var/cache/ccache"]}
    # one feature switched off from the command line: one file changes, and the feature's values are gone
    off = play(limit="shoshin", boot_quiet_enable="false")
    assert off.rc == 0 and off.changed_files == {"shoshin": [str(shoshin / "boot.nix")]}
    boot = eval_modules(nix, shoshin / "boot.nix")
    assert "consoleLogLevel" not in boot["boot"] and boot["nixperf"]["boot"]["quiet"] == {"enable": False}


def test_role_on_its_own_writes_immediately(play, tmp_path):
    pb = tmp_path / "alone.yml"
    pb.write_text(
        "- hosts: shoshin\n  gather_facts: false\n  roles:\n    - nixperf.tuning.memory\n")
    run = play(str(pb))
    assert run.rc == 0, run.failures()
    assert run.changed("shoshin") == 1
    assert (play.build / "shoshin/etc/nixos/nixperf/memory.nix").exists()
    assert "imports = [ ./memory.nix ];" in (play.build / "shoshin/etc/nixos/nixperf/default.nix").read_text()
    assert play(str(pb)).changed("shoshin") == 0


def test_in_process_writes_match_the_module(play):
    """Render mode writes from the controller process; the module path gives the same tree, counts and diff."""
    by_module = play(write_in_process=False)
    assert by_module.rc == 0, by_module.failures()
    assert not any(r["res"]["invocation"].get("in_process") for r in by_module.results("nixperf.tuning.write_plan"))
    tree = snapshot(play.build)
    here = play()
    assert {h: here.changed(h) for h in HOSTS} == {h: 0 for h in HOSTS}
    assert all(r["res"]["invocation"]["in_process"] for r in here.results("nixperf.tuning.write_plan"))
    assert snapshot(play.build) == tree
    diffs = []
    for in_process in (False, True):
        run = play(check=True, diff=True, limit="shoshin", memory_zram_algorithm="lz4", write_in_process=in_process)
        assert run.changed_files["shoshin"] == [str(play.build / "shoshin/etc/nixos/nixperf/memory.nix")]
        diffs.append([d for r in run.results("nixperf.tuning.write_plan") for d in r["res"]["diff"]])
    assert diffs[0] == diffs[1] and len(diffs[0]) == 1
    assert snapshot(play.build) == tree
