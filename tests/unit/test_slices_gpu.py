"""resource_slices and gpu_video builders: derivations, vendors, every check, and what the real evaluator reads back
from the generated modules, alone and together with stubs of what NixOS does with them.

The stubs (``NIXOS_STUB`` below) carry the upstream behaviour the generated values meet; every line names its source:

* the module system keeps, per option, the definitions at the best (lowest) priority and fails on two different
  values there (nixpkgs ``lib/modules.nix`` ``filterOverrides``, ``mergeEqualOption``; systemd unit options merge
  the same way, ``nixos/lib/systemd-unit-options.nix``);
* ``hardware.nvidia.videoAcceleration`` (default true) adds ``pkgs.nvidia-vaapi-driver`` to
  ``hardware.graphics.extraPackages``, ``hardware.nvidia.modesetting.enable`` (default: driver 535 or later) writes
  ``nvidia-drm.modeset=1`` (``nixos/modules/hardware/video/nvidia.nix``);
* ``hardware.graphics`` links ``[ package ] ++ extraPackages`` with ``pkgs.buildEnv``, which fails on two packages
  holding one file (``nixos/modules/hardware/graphics.nix``); ``libva-vdpau-driver`` installs ``vdpau``, ``nvidia``
  and ``s3g`` ``_drv_video.so`` (its ``src/Makefile.am`` ``DRIVERS``); Mesa 25.3 has no VDPAU driver any more;
* libva loads ``$LIBVA_DRIVER_NAME``, else the candidates of the DRM driver in order (``va/drm/va_drm_utils.c``:
  ``i915`` -> iHD, i965; ``amdgpu`` -> radeonsi; ``nvidia-drm`` -> nvidia); libvdpau loads ``$VDPAU_DRIVER``, else
  the X server's DRI2 driver name, else ``nvidia`` (``src/vdpau_wrapper.c``).
"""
from __future__ import annotations

import json

import pytest
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixOverride, NixRaw, nix_module
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import DEFAULT_PRIORITY, PhaseError, build
from ansible_collections.nixperf.tuning.plugins.module_utils.phases import gpu_video as G
from ansible_collections.nixperf.tuning.plugins.module_utils.phases import resource_slices as S

SHOSHIN = {"memory": {"total_mib": 16384}, "cpu": {"threads": 8},
           "gpu": {"vendor": "nvidia", "model": "GeForce GTX 960", "architecture": "maxwell", "driver": "nvidia",
                   "decode": ["h264", "hevc", "vp8", "vp9"]}}
KENSHO = {"memory": {"total_mib": 32768}, "cpu": {"threads": 16},
          "gpu": {"vendor": "amd", "model": "Radeon RX 6700 XT", "architecture": "rdna2", "driver": "amdgpu",
                  "decode": ["h264", "hevc", "vp9", "av1"]}}
VM = {"memory": {"total_mib": 16384}, "cpu": {"threads": 8}, "gpu": {"vendor": "none"}}
X11 = {"session": "x11"}
WAYLAND = {"session": "wayland"}
LIB = "{ mkOption = x: x; types.bool = null; mkIf = c: v: v; mkForce = v: v; mkOverride = p: v: v; }"

NIXOS_STUB = r"""
{ module, host ? { }, drm, dri2 ? null, driverVersion ? "580.173.02", nvidiaDriver ? true }:
let
  inherit (builtins) all attrNames concatMap elem filter foldl' head isAttrs length listToAttrs map;
  lib = {
    mkOption = x: x;
    types.bool = null;
    mkIf = c: v: if c then v else { };
    mkOverride = priority: content: { _type = "override"; inherit priority content; };
    mkDefault = lib.mkOverride 1000;
    mkForce = lib.mkOverride 50;
  };
  # what each package puts under /run/opengl-driver: lib/dri (VA-API) and lib/vdpau
  pkgs = {
    nvidia-vaapi-driver = { name = "nvidia-vaapi-driver"; dri = [ "nvidia_drv_video.so" ]; vdpau = [ ]; };
    libva-vdpau-driver = { name = "libva-vdpau-driver";
                           dri = [ "vdpau_drv_video.so" "nvidia_drv_video.so" "s3g_drv_video.so" ]; vdpau = [ ]; };
    libvdpau-va-gl = { name = "libvdpau-va-gl"; dri = [ ]; vdpau = [ "libvdpau_va_gl.so.1" ]; };
    intel-media-driver = { name = "intel-media-driver"; dri = [ "iHD_drv_video.so" ]; vdpau = [ ]; };
    intel-vaapi-driver = { name = "intel-vaapi-driver"; dri = [ "i965_drv_video.so" ]; vdpau = [ ]; };
  };
  mesa = { name = "mesa"; dri = [ "radeonsi_drv_video.so" "r600_drv_video.so" "nouveau_drv_video.so" ]; vdpau = [ ]; };
  nvidia_x11 = { name = "nvidia-x11"; dri = [ ]; vdpau = [ "libvdpau_nvidia.so.1" ]; };

  generated = (import module { config.nixperf.gpu_video.enable = true; inherit lib pkgs; }).config;
  at = path: set: foldl' (s: k: if isAttrs s && s ? ${k} then s.${k} else null) set path;
  isOverride = d: isAttrs d && (d._type or null) == "override";
  prio = d: if isOverride d then d.priority else 100;
  strip = d: if isOverride d then d.content else d;
  # lib/modules.nix: the definitions at the best priority win; two different values there fail
  option = path: default:
    let
      defs = filter (d: d != null) [ (at path generated) (at path host) ];
      best = foldl' (m: d: if prio d < m then prio d else m) 1500 defs;
      values = map strip (filter (d: prio d == best) defs);
    in
    if defs == [ ] then default
    else if all (v: v == head values) values then head values
    else throw "The option `${builtins.concatStringsSep "." path}' has conflicting definition values";
  list = path: (let v = at path generated; in if v == null then [ ] else v)
    ++ (let v = at path host; in if v == null then [ ] else v);

  # nixos/modules/hardware/video/nvidia.nix (X11 branch: "nvidia" in services.xserver.videoDrivers)
  videoAcceleration = option [ "hardware" "nvidia" "videoAcceleration" ] true;
  modesetting = option [ "hardware" "nvidia" "modesetting" "enable" ] (builtins.compareVersions driverVersion "535" >= 0);
  extraPackages = list [ "hardware" "graphics" "extraPackages" ]
    ++ (if nvidiaDriver then [ nvidia_x11 ] ++ (if videoAcceleration then [ pkgs.nvidia-vaapi-driver ] else [ ]) else [ ]);
  kernelParams = list [ "boot" "kernelParams" ]
    ++ (if nvidiaDriver && modesetting then [ "nvidia-drm.modeset=1" ] else [ ]);

  # nixos/modules/hardware/graphics.nix: pkgs.buildEnv over [ package ] ++ extraPackages fails when two different
  # packages hold one file (the same package twice is merely listed twice)
  drivers = [ mesa ] ++ extraPackages;
  files = kind: concatMap (p: map (f: { pkg = p.name; file = f; }) p.${kind}) drivers;
  unique = kind: map (e: e.file) (foldl' (acc: e:
    let same = filter (a: a.file == e.file) acc; in
    if same == [ ] then acc ++ [ e ]
    else if (head same).pkg == e.pkg then acc
    else throw "collision between two packages holding lib/${kind}/${e.file}") [ ] (files kind));
  dri = unique "dri";
  vdpauLibs = unique "vdpau";

  attrsAt = path: let v = at path generated; in if v == null then { } else v;
  envNames = attrNames (attrsAt [ "environment" "sessionVariables" ] // attrsAt [ "environment" "variables" ]);
  env = listToAttrs (map (n: { name = n; value = option [ "environment" "sessionVariables" n ]
    (option [ "environment" "variables" n ] null); }) envNames);

  # va/drm/va_drm_utils.c and va/va.c: LIBVA_DRIVER_NAME, else the DRM driver's candidates in order
  candidates = { i915 = [ "iHD" "i965" ]; xe = [ "iHD" ]; amdgpu = [ "radeonsi" ]; radeon = [ "r600" "radeonsi" ];
                 nvidia-drm = [ "nvidia" ]; nouveau = [ "nouveau" ]; }.${drm} or [ drm ];
  tried = if env ? LIBVA_DRIVER_NAME then [ env.LIBVA_DRIVER_NAME ] else candidates;
  loadable = filter (d: elem "${d}_drv_video.so" dri) tried;
  # src/vdpau_wrapper.c: VDPAU_DRIVER, else the DRI2 driver of the X server, else nvidia
  vdpauName = if env ? VDPAU_DRIVER then env.VDPAU_DRIVER else if dri2 != null then dri2 else "nvidia";
in
{
  inherit videoAcceleration modesetting kernelParams env;
  extraPackages = map (p: p.name) extraPackages;
  dri = dri;
  libva = if loadable == [ ] then null else head loadable;
  vdpau = if elem "libvdpau_${vdpauName}.so.1" vdpauLibs then vdpauName else null;
  vdpauTried = vdpauName;
}
"""


def module_file(tmp_path, plan, config=None):
    path = tmp_path / (plan.phase + ".nix")
    path.write_text(nix_module(plan.phase, plan.config if config is None else config, role=plan.phase)[0])
    return path


def evaluate(nix, tmp_path, plan):
    path = module_file(tmp_path, plan)
    pkgs = "{ nvidia-vaapi-driver = \"nv\"; libva-vdpau-driver = \"vdpau\"; libvdpau-va-gl = \"va-gl\";" \
           " intel-media-driver = \"ihd\"; intel-vaapi-driver = \"i965\"; }"
    return nix.eval_json("(import %s { config.nixperf.%s.enable = true; pkgs = %s; lib = %s; }).config"
                         % (path, plan.phase, pkgs, LIB))


def on_nixos(nix, tmp_path, plan, drm, host="{ }", config=None, **args):
    """The generated module as NixOS sees it (``NIXOS_STUB``), beside a host configuration in Nix."""
    stub = tmp_path / "nixos-stub.nix"
    stub.write_text(NIXOS_STUB)
    extra = " ".join("%s = %s;" % (k, json.dumps(v)) for k, v in args.items())
    expr = "import %s { module = %s; host = %s; drm = %s; %s }" % (
        stub, module_file(tmp_path, plan, config), host, json.dumps(drm), extra)
    return nix.run(["--eval", "--strict", "--json", "-E", expr], expect_ok=False)


def nixos_json(nix, tmp_path, plan, drm, **kw):
    proc = on_nixos(nix, tmp_path, plan, drm, **kw)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


# ---------------------------------------------------------------- slices


@pytest.mark.parametrize("gib,threads,high,hard,quota", [
    (16, 8, 12288, 14336, 600), (32, 16, 24576, 28672, 1200), (8, 4, 6144, 7168, 300),
    # small hosts: high stays below max, the quota never reaches 0
    (4, 2, 2816, 3072, 150), (2, 2, 1408, 1536, 150), (1, 1, 704, 768, 75), (1, 3, 704, 768, 225),
])
def test_user_limit_formula(gib, threads, high, hard, quota):
    assert S.user_limits(gib * 1024, threads) == {
        "memory_high_mib": high, "memory_max_mib": hard, "cpu_quota_percent": quota}


def test_shoshin_slices_match_the_plan(nix, tmp_path):
    plan = build("resource_slices", "shoshin", {}, SHOSHIN, desktop=X11)
    got = evaluate(nix, tmp_path, plan)["systemd"]
    assert got["slices"]["user-"] == {"overrideStrategy": "asDropin", "sliceConfig": {
        "MemoryHigh": "12G", "MemoryMax": "14G", "CPUQuota": "600%"}}
    assert got["services"]["nix-daemon"]["serviceConfig"]["MemoryMax"] == "12G"
    assert got["oomd"]["enableUserSlices"] is True
    assert got["oomd"]["settings"]["OOM"]["DefaultMemoryPressureDurationSec"] == "20s"
    assert "user-.slice" not in nix_module(plan.phase, plan.config)[0]  # the wrong name of the plan's v2.0


@pytest.mark.parametrize("gib,session,high,hard,avoid", [
    # X11: SDDM's X server (the whole session's) runs inside display-manager.service
    (16, "x11", "4G", "8G", True), (32, "x11", "8G", "16G", True), (1, "x11", "256M", "512M", True),
    # not known: taken as X11, the bounds that are safe for both
    (16, None, "4G", "8G", True),
    # Wayland: the compositor runs in the user's session scope; the plan's bounds fit the display manager alone
    (16, "wayland", "512M", "1G", False), (32, "wayland", "512M", "1G", False), (1, "wayland", "256M", "512M", False),
])
def test_display_manager_bounds_follow_the_session(nix, tmp_path, gib, session, high, hard, avoid):
    hw = dict(SHOSHIN, memory={"total_mib": gib * 1024})
    plan = build("resource_slices", "h", {}, hw, desktop={"session": session} if session else None)
    dm = evaluate(nix, tmp_path, plan)["systemd"]["services"]["display-manager"]["serviceConfig"]
    expected = {"OOMScoreAdjust": -900, "MemoryHigh": high, "MemoryMax": hard}
    if avoid:
        expected["ManagedOOMPreference"] = "avoid"
    assert dm == expected
    assert plan.derived["x_server_in_display_manager"] is avoid
    assert (plan.derived["display_manager_memory_high"], plan.derived["display_manager_memory_max"]) == (high, hard)


def test_x11_never_gets_the_1g_cap_that_kills_the_session():
    """The plan's MemoryMax=1G on an X11 host caps Xorg, and with it the whole session (SDDM starts X inside the
    display manager's cgroup): no X11 host of 4 GiB or more may get it."""
    for gib in (4, 8, 16, 64, 1024):
        derived = build("resource_slices", "h", {}, dict(SHOSHIN, memory={"total_mib": gib * 1024}),
                        desktop=X11).derived
        assert S.parse_mib(derived["display_manager_memory_max"]) >= gib * 1024 // 2 >= 2048


def test_the_session_setting_wins_over_the_desktop_fact():
    plan = build("resource_slices", "h", {"session": "wayland"}, SHOSHIN, desktop=X11)
    assert plan.derived["session"] == "wayland" and plan.derived["display_manager_memory_max"] == "1G"


def test_generated_limits_win_over_the_plans_own_resource_control_module(nix, tmp_path):
    """The plan's host already sets the display manager's limits plainly (resource-control.nix): two different
    plain values of a systemd option fail evaluation; at the nixperf priority the generated ones win, and a value
    the host forces still wins over them."""
    plan = build("resource_slices", "shoshin", {}, SHOSHIN, desktop=X11)
    text = nix_module(plan.phase, plan.config)[0]
    assert 'MemoryMax = lib.mkOverride %d "8G";' % DEFAULT_PRIORITY in text
    stub = tmp_path / "merge.nix"
    stub.write_text(r"""
{ module, host }:
let
  inherit (builtins) all attrNames filter foldl' head isAttrs listToAttrs map;
  lib = { mkOption = x: x; types.bool = null; mkIf = c: v: v;
          mkOverride = priority: content: { _type = "override"; inherit priority content; };
          mkForce = lib.mkOverride 50; };
  generated = (import module { config.nixperf.resource_slices.enable = true; inherit lib; pkgs = { }; }).config;
  ours = generated.systemd.services.display-manager.serviceConfig;
  isOverride = d: isAttrs d && (d._type or null) == "override";
  prio = d: if isOverride d then d.priority else 100;
  strip = d: if isOverride d then d.content else d;
  resolve = name: defs:
    let best = foldl' (m: d: if prio d < m then prio d else m) 1500 defs;
        values = map strip (filter (d: prio d == best) defs);
    in if all (v: v == head values) values then head values
       else throw "The option `systemd.services.display-manager.serviceConfig.${name}' has conflicting definition values";
  names = attrNames (ours // host);
in listToAttrs (map (n: { name = n; value = resolve n (filter (d: d != null) [ (ours.${n} or null) (host.${n} or null) ]); }) names)
""")
    plain = '{ OOMScoreAdjust = -900; MemoryHigh = "512M"; MemoryMax = "1G"; }'  # the plan's resource-control.nix
    expr = "import %s { module = %s; host = %s; }" % (stub, module_file(tmp_path, plan), plain)
    got = json.loads(nix.run(["--eval", "--strict", "--json", "-E", expr]).stdout)
    assert got == {"OOMScoreAdjust": -900, "MemoryHigh": "4G", "MemoryMax": "8G", "ManagedOOMPreference": "avoid"}
    forced = '{ MemoryMax = lib.mkForce "2G"; }'.replace("lib.mkForce", "(v: { _type = \"override\"; priority = 50;"
                                                                        " content = v; })")
    got = json.loads(nix.run(["--eval", "--strict", "--json", "-E", "import %s { module = %s; host = %s; }" % (
        stub, module_file(tmp_path, plan), forced)]).stdout)
    assert got["MemoryMax"] == "2G"
    # the same module with plain values (what this phase generated before) fails next to the host's
    bare = tmp_path / "bare.nix"
    bare.write_text(nix_module(plan.phase, _strip(plan.config), role=plan.phase)[0])
    proc = nix.run(["--eval", "--strict", "--json", "-E", "import %s { module = %s; host = %s; }" % (
        stub, bare, plain)], expect_ok=False)
    assert proc.returncode != 0 and "conflicting definition values" in proc.stderr


def _strip(value):
    if isinstance(value, NixOverride):
        return _strip(value.value)
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items()}
    return value


def test_bigger_machine_gets_bigger_limits():
    plan = build("resource_slices", "kensho", {}, KENSHO, desktop=WAYLAND)
    assert plan.derived["user_memory_high"] == "24G" and plan.derived["user_cpu_quota"] == "1200%"


def test_explicit_limits():
    plan = build("resource_slices", "h", {"user_memory_high": "10G", "user_memory_max": "13312M",
                                          "user_cpu_quota_percent": 400}, SHOSHIN)
    assert _strip(plan.config["systemd"]["slices"]["user-"]["sliceConfig"]) == {
        "MemoryHigh": "10G", "MemoryMax": "13G", "CPUQuota": "400%"}


@pytest.mark.parametrize("settings,needle", [
    ({"user_memory_high": "14G", "user_memory_max": "12G"}, "resource_slices_user_memory_high (14G) must be below"),
    ({"user_memory_max": "20G"}, "resource_slices_user_memory_max (20G) is more than the host's RAM (16G)"),
    ({"user_memory_high": "12 G"}, "must be a size of at least 1M such as 512M, 2.5G or 12G"),
    ({"user_memory_high": 12}, "must be a size of at least 1M such as 512M, 2.5G or 12G"),
    ({"user_cpu_quota_percent": 900}, "resource_slices_user_cpu_quota_percent (900) is more than the host's 8 threads can give (at most 800)"),
    ({"display_manager_memory_high": "9G"}, "resource_slices_display_manager_memory_high (9G) must be below "
                                            "resource_slices_display_manager_memory_max (8G)"),
    ({"session": "wayland", "display_manager_memory_high": "2G"}, "resource_slices_display_manager_memory_high (2G) "
                                                                  "must be below resource_slices_display_manager_memory_max (1G)"),
    ({"display_manager_memory_max": "17G"}, "resource_slices_display_manager_memory_max (17G) is more than the host's RAM"),
    ({"session": "mir"}, "resource_slices_session must be one of x11, wayland, got 'mir'"),
    ({"display_manager_oom_score_adjust": -1001}, "from -1000 to 1000"),
    ({"oomd_pressure_duration": "soon"}, "must be a duration above 0 such as 20s"),
])
def test_slice_checks(settings, needle):
    with pytest.raises(PhaseError, match="^host h: ") as err:
        build("resource_slices", "h", settings, SHOSHIN)
    assert needle in str(err.value)


def test_slices_need_threads():
    with pytest.raises(PhaseError, match="nixperf_hardware.cpu.threads is missing"):
        build("resource_slices", "h", {}, {"memory": {"total_mib": 16384}})


# ---------------------------------------------------------------- gpu: what the module holds


def test_nvidia_sets_the_nixos_options_instead_of_the_driver_and_the_kernel_parameter(nix, tmp_path):
    plan = build("gpu_video", "shoshin", {}, SHOSHIN)
    got = evaluate(nix, tmp_path, plan)
    assert got["hardware"] == {"graphics": {"enable": True, "enable32Bit": True},
                               "nvidia": {"videoAcceleration": True, "modesetting": {"enable": True}}}
    assert got["environment"] == {"sessionVariables": {
        "LIBVA_DRIVER_NAME": "nvidia", "NVD_BACKEND": "direct", "MOZ_DISABLE_RDD_SANDBOX": "1"}}
    assert "boot" not in got
    text = nix_module(plan.phase, plan.config)[0]
    for absent in ("nvidia-vaapi-driver", "libva-vdpau-driver", "vaapiVdpau", "libvdpau-va-gl", "extraPackages",
                   "nvidia-drm.modeset", "kernelParams", "VDPAU_DRIVER"):
        assert absent not in text
    assert "videoAcceleration = lib.mkOverride %d true;" % DEFAULT_PRIORITY in text
    assert plan.derived == {"vendor": "nvidia", "decode": ["h264", "hevc", "vp8", "vp9"], "av1": False,
                            "architecture": "maxwell", "libva_driver": "nvidia", "vdpau_driver": "nvidia",
                            "nvd_backend": "direct", "packages": [],
                            "variables": {"LIBVA_DRIVER_NAME": "nvidia", "NVD_BACKEND": "direct",
                                          "MOZ_DISABLE_RDD_SANDBOX": "1"}}


@pytest.mark.parametrize("gpu,arch,backend", [
    # generation from the model name when gpu.architecture is not given
    ({"model": "NVIDIA GeForce GTX 960"}, "maxwell", "direct"),
    ({"model": "GeForce GTX 750 Ti"}, "maxwell", "direct"),
    ({"model": "GeForce GTX 780"}, "kepler", "direct"),
    ({"model": "GeForce GTX 1080 Ti"}, "pascal", "direct"),
    ({"model": "GeForce GTX 1660 SUPER"}, "turing", "direct"),
    ({"model": "GeForce RTX 3060"}, "ampere", "direct"),
    ({"model": "GeForce RTX 4090"}, "ada", "direct"),
    ({"model": "GeForce RTX 5080"}, "blackwell", "direct"),
    ({"model": "NVIDIA TITAN V"}, "volta", "direct"),
    # before Kepler: the legacy 390 driver, which nvidia-vaapi-driver (470+) cannot use
    ({"model": "GeForce GTX 580"}, "fermi", None),
    ({"model": "GeForce GTS 250"}, "tesla", None),
    ({"architecture": "Fermi"}, "fermi", None),
    # architecture wins over the model; names are case-insensitive, aliases accepted
    ({"architecture": "Lovelace", "model": "GeForce GTX 960"}, "ada", "direct"),
    # not known (a Quadro, no model): what NixOS does by default, VA-API on
    ({"model": "Quadro M4000"}, None, "direct"),
    ({}, None, "direct"),
])
def test_nvidia_generation_picks_vaapi_and_its_backend(nix, tmp_path, gpu, arch, backend):
    hw = dict(SHOSHIN, gpu=dict({"vendor": "nvidia", "decode": ["h264"]}, **gpu))
    plan = build("gpu_video", "h", {}, hw)
    got = evaluate(nix, tmp_path, plan)
    assert plan.derived["architecture"] == arch
    assert plan.derived["nvd_backend"] == backend
    assert got["hardware"]["nvidia"]["videoAcceleration"] is (backend is not None)
    if backend is None:
        assert "environment" not in got and "modesetting" not in got["hardware"]["nvidia"]
        assert plan.derived["libva_driver"] is None
    else:
        assert got["environment"]["sessionVariables"]["NVD_BACKEND"] == backend


def test_nouveau_gets_mesa_and_no_nvidia_settings(nix, tmp_path):
    hw = dict(SHOSHIN, gpu=dict(SHOSHIN["gpu"], driver="nouveau"))
    plan = build("gpu_video", "h", {}, hw)
    got = evaluate(nix, tmp_path, plan)
    assert got == {"hardware": {"graphics": {"enable": True, "enable32Bit": True}}}
    assert plan.derived["libva_driver"] == "nouveau"


def test_amd_needs_nothing_but_mesa(nix, tmp_path):
    plan = build("gpu_video", "kensho", {"enable_32bit": False}, KENSHO)
    got = evaluate(nix, tmp_path, plan)
    assert got == {"hardware": {"graphics": {"enable": True, "enable32Bit": False}}}
    text = nix_module(plan.phase, plan.config)[0]
    assert "radeonsi" not in text and "VDPAU_DRIVER" not in text and "nvidia" not in text
    assert plan.derived["libva_driver"] == "radeonsi" and plan.derived["vdpau_driver"] is None


@pytest.mark.parametrize("generation,package,driver", [
    (12, "ihd", "iHD"), (9, "ihd", "iHD"), (8, "ihd", "iHD"), (7, "i965", "i965"), (4, "i965", "i965")])
def test_intel_driver_by_generation(nix, tmp_path, generation, package, driver):
    hw = dict(SHOSHIN, gpu={"vendor": "intel", "generation": generation, "decode": ["h264"]})
    plan = build("gpu_video", "h", {}, hw)
    got = evaluate(nix, tmp_path, plan)
    assert got["hardware"]["graphics"]["extraPackages"] == [package]
    assert "environment" not in got  # libva finds the one installed (i915 -> iHD, then i965)
    assert plan.derived["libva_driver"] == driver


def test_intel_before_g45_has_no_vaapi_driver(nix, tmp_path):
    hw = dict(SHOSHIN, gpu={"vendor": "intel", "generation": 3, "decode": []})
    assert evaluate(nix, tmp_path, build("gpu_video", "h", {}, hw)) == {
        "hardware": {"graphics": {"enable": True, "enable32Bit": True}}}


@pytest.mark.parametrize("hw,packages,variables", [
    (KENSHO, ["va-gl"], {"VDPAU_DRIVER": "va_gl"}),
    (dict(SHOSHIN, gpu={"vendor": "intel", "generation": 9, "decode": ["h264"]}), ["ihd", "va-gl"],
     {"VDPAU_DRIVER": "va_gl"}),
])
def test_vdpau_through_va_gl_is_opt_in_for_amd_and_intel(nix, tmp_path, hw, packages, variables):
    got = evaluate(nix, tmp_path, build("gpu_video", "h", {"vdpau_va_gl": True}, hw))
    assert got["hardware"]["graphics"]["extraPackages"] == packages
    assert got["environment"]["sessionVariables"] == variables


@pytest.mark.parametrize("hw", [SHOSHIN, VM])
def test_vdpau_through_va_gl_is_ignored_on_nvidia_and_without_gpu(nix, tmp_path, hw):
    plan = build("gpu_video", "h", {"vdpau_va_gl": True}, hw)
    assert "extraPackages" not in evaluate(nix, tmp_path, plan)["hardware"]["graphics"]
    assert plan.derived["vdpau_driver"] in ("nvidia", None)


def test_gpu_less_vm(nix, tmp_path):
    plan = build("gpu_video", "vm", {}, VM)
    assert evaluate(nix, tmp_path, plan) == {"hardware": {"graphics": {"enable": True}}}
    assert plan.derived["decode"] == []


@pytest.mark.parametrize("gpu,needle", [
    ({"vendor": "matrox"}, "nixperf_hardware.gpu.vendor must be one of nvidia, amd, intel, none"),
    ({"vendor": "nvidia"}, "nixperf_hardware.gpu.decode is missing"),
    ({"vendor": "nvidia", "decode": "h264"}, "nixperf_hardware.gpu.decode must be a list"),
    ({"vendor": "nvidia", "decode": ["h264", "h266"]}, "gpu.decode[1] must be one of mpeg2, vc1, h264, hevc, vp8, vp9, av1, jpeg, got 'h266'"),
    ({"vendor": "intel", "decode": []}, "nixperf_hardware.gpu.generation is missing"),
    ({"vendor": "nvidia", "architecture": "maxwel", "decode": []},
     "nixperf_hardware.gpu.architecture ('maxwel') is not an NVIDIA architecture; use one of tesla, fermi, kepler"),
])
def test_gpu_checks(gpu, needle):
    with pytest.raises(PhaseError) as err:
        build("gpu_video", "h", {}, {"gpu": gpu})
    assert needle in str(err.value)


def test_packages_are_markers_not_strings():
    plan = build("gpu_video", "h", {}, dict(SHOSHIN, gpu={"vendor": "intel", "generation": 9, "decode": []}))
    assert plan.config["hardware"]["graphics"]["extraPackages"] == [NixRaw("pkgs.intel-media-driver")]


@pytest.mark.parametrize("model,arch", [("GeForce GTX 960", "maxwell"), ("GeForce GT 730", "kepler"),
                                        ("GeForce GTX 1050", "pascal"), ("TITAN RTX", "turing"),
                                        ("Radeon RX 6700 XT", None), ("", None), (None, None)])
def test_nvidia_architecture_from_the_model_name(model, arch):
    assert G.nvidia_architecture(model) == arch


# ---------------------------------------------------------------- gpu: what NixOS makes of it (NIXOS_STUB)


def old_nvidia_config():
    """What this phase generated before 0.3.0 for shoshin (and the plan's phase 5): the drivers and the kernel
    parameter by hand."""
    return {"hardware": {"graphics": {"enable": True, "enable32Bit": True, "extraPackages": [
        NixRaw("pkgs.nvidia-vaapi-driver"), NixRaw("pkgs.libva-vdpau-driver"), NixRaw("pkgs.libvdpau-va-gl")]}},
        "environment": {"variables": {"LIBVA_DRIVER_NAME": "nvidia", "NVD_BACKEND": "direct",
                                      "VDPAU_DRIVER": "nvidia", "MOZ_DISABLE_RDD_SANDBOX": "1"}},
        "boot": {"kernelParams": ["nvidia-drm.modeset=1"]}}


def test_the_old_nvidia_module_collides_with_what_nixos_adds(nix, tmp_path):
    """The stub catches the bug this phase had: libva-vdpau-driver's nvidia_drv_video.so next to the one NixOS
    installs (buildEnv collision), and nvidia-vaapi-driver and the kernel parameter twice."""
    plan = build("gpu_video", "shoshin", {}, SHOSHIN)
    proc = on_nixos(nix, tmp_path, plan, "nvidia-drm", config=old_nvidia_config())
    assert proc.returncode != 0 and "collision between two packages holding lib/dri/nvidia_drv_video.so" in proc.stderr
    without_vdpau = old_nvidia_config()
    without_vdpau["hardware"]["graphics"]["extraPackages"] = [NixRaw("pkgs.nvidia-vaapi-driver")]
    got = nixos_json(nix, tmp_path, plan, "nvidia-drm", config=without_vdpau)
    assert got["extraPackages"].count("nvidia-vaapi-driver") == 2  # by hand and by NixOS
    assert got["kernelParams"] == ["nvidia-drm.modeset=1", "nvidia-drm.modeset=1"]


@pytest.mark.parametrize("driver_version", ["580.173.02", "470.256.02"])
def test_shoshin_on_nixos_loads_each_driver_once(nix, tmp_path, driver_version):
    """Maxwell on the 580 branch, and a driver older than 535 whose NixOS default leaves modesetting off."""
    got = nixos_json(nix, tmp_path, build("gpu_video", "shoshin", {}, SHOSHIN), "nvidia-drm",
                     driverVersion=driver_version)
    assert got["extraPackages"] == ["nvidia-x11", "nvidia-vaapi-driver"]
    assert got["kernelParams"] == ["nvidia-drm.modeset=1"]
    assert got["dri"].count("nvidia_drv_video.so") == 1
    assert got["libva"] == "nvidia" and got["vdpau"] == "nvidia"


def test_the_host_can_still_switch_nvidia_vaapi_off(nix, tmp_path):
    plan = build("gpu_video", "shoshin", {}, SHOSHIN)
    forced = '{ hardware.nvidia.videoAcceleration = { _type = "override"; priority = 50; content = false; }; }'
    got = nixos_json(nix, tmp_path, plan, "nvidia-drm", host=forced)
    assert got["extraPackages"] == ["nvidia-x11"] and got["libva"] is None
    # a plain host value gives way to the nixperf priority instead of failing evaluation
    got = nixos_json(nix, tmp_path, plan, "nvidia-drm", host="{ hardware.nvidia.modesetting.enable = false; }")
    assert got["modesetting"] is True


def test_fermi_leaves_vaapi_off_and_keeps_the_drivers_vdpau(nix, tmp_path):
    hw = dict(SHOSHIN, gpu={"vendor": "nvidia", "model": "GeForce GTX 570", "decode": ["h264"]})
    got = nixos_json(nix, tmp_path, build("gpu_video", "h", {}, hw), "nvidia-drm", driverVersion="390.157")
    assert got["extraPackages"] == ["nvidia-x11"] and got["kernelParams"] == [] and got["libva"] is None
    assert got["vdpau"] == "nvidia"


def test_kensho_on_nixos_loads_radeonsi_and_no_dead_vdpau_driver(nix, tmp_path):
    plan = build("gpu_video", "kensho", {}, KENSHO)
    got = nixos_json(nix, tmp_path, plan, "amdgpu", dri2="radeonsi", nvidiaDriver=False)
    assert got["libva"] == "radeonsi" and got["env"] == {}
    # Mesa 25.3 has no libvdpau_radeonsi: the plan's VDPAU_DRIVER=radeonsi pointed at nothing
    old = {"hardware": {"graphics": {"enable": True}}, "environment": {"variables": {
        "LIBVA_DRIVER_NAME": "radeonsi", "VDPAU_DRIVER": "radeonsi"}}}
    got = nixos_json(nix, tmp_path, plan, "amdgpu", dri2="radeonsi", nvidiaDriver=False, config=old)
    assert got["vdpauTried"] == "radeonsi" and got["vdpau"] is None
    # the opt-in VDPAU path is one that loads
    got = nixos_json(nix, tmp_path, build("gpu_video", "kensho", {"vdpau_va_gl": True}, KENSHO), "amdgpu",
                     dri2="radeonsi", nvidiaDriver=False)
    assert got["vdpau"] == "va_gl" and got["libva"] == "radeonsi"


@pytest.mark.parametrize("generation,drm,loads", [(9, "i915", "iHD"), (7, "i915", "i965"), (12, "xe", "iHD")])
def test_intel_on_nixos_loads_the_driver_of_its_generation(nix, tmp_path, generation, drm, loads):
    hw = dict(SHOSHIN, gpu={"vendor": "intel", "generation": generation, "decode": ["h264"]})
    got = nixos_json(nix, tmp_path, build("gpu_video", "h", {}, hw), drm, nvidiaDriver=False)
    assert got["libva"] == loads
