"""Jinja filters, output layout and the command runner."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.nixperf.tuning.plugins.filter.nix import FilterModule
from ansible_collections.nixperf.tuning.plugins.module_utils import cmd
from ansible_collections.nixperf.tuning.plugins.module_utils.layout import LayoutError, layout

F = FilterModule().filters()


def test_filters_build_markers_the_serializer_understands():
    data = {
        "a": F["nix_raw"]("pkgs.zstd"),
        "b": F["nix_force"](67),
        "c": F["nix_default"]("x"),
        "d": F["nix_override"](True, 50),
        "e": F["nix_if"]([1], "config.services.xserver.enable"),
    }
    assert data["a"] == {"_nix": "pkgs.zstd"}
    assert F["to_nix"](data) == (
        '{\n  a = pkgs.zstd;\n  b = lib.mkForce 67;\n  c = lib.mkDefault "x";\n  d = lib.mkOverride 50 true;\n'
        "  e = lib.mkIf (config.services.xserver.enable) [ 1 ];\n}")
    assert F["to_nix"]({"a": {"b": 1}}, dotted=True) == "{\n  a.b = 1;\n}"


@pytest.mark.parametrize("call", [
    lambda: F["nix_raw"](""),
    lambda: F["nix_override"](1, "high"),
    lambda: F["nix_if"](1, 3),
    lambda: F["to_nix"](float("nan")),
])
def test_filter_errors_are_filter_errors(call):
    with pytest.raises(AnsibleFilterError):
        call()


def test_render_layout_under_build_dir():
    lay = layout("shoshin", "render", build_dir="/srv/b")
    assert lay.root == "/srv/b/shoshin"
    assert lay.nixos_dir == "/srv/b/shoshin/etc/nixos/nixperf"
    assert lay.nixos_module("memory") == "/srv/b/shoshin/etc/nixos/nixperf/memory.nix"
    assert lay.entry_files == ["/srv/b/shoshin/etc/nixos/configuration.nix", "/srv/b/shoshin/etc/nixos/flake.nix"]


def test_render_layout_defaults_beside_ansible_cfg_then_cwd():
    assert layout("h", None, config_file="/repo/ansible.cfg").root == "/repo/build/h"
    assert layout("h", "render", cwd="/work").root == "/work/build/h"


def test_apply_layout_is_the_real_paths():
    lay = layout("shoshin", "apply", build_dir="/ignored")
    assert lay.root == "/" and lay.nixos_dir == "/etc/nixos/nixperf"
    assert lay.entry_files == ["/etc/nixos/configuration.nix", "/etc/nixos/flake.nix"]


def test_explicit_root_and_entry_files():
    lay = layout("h", "apply", root="/tmp/r/", entry_files=["/etc/nixos/hosts/h.nix", "etc/nixos/flake.nix"])
    assert lay.root == "/tmp/r"
    assert lay.entry_files == ["/tmp/r/etc/nixos/hosts/h.nix", "/tmp/r/etc/nixos/flake.nix"]


@pytest.mark.parametrize("kwargs,needle", [
    (dict(mode="deploy"), "nixperf_mode must be one of render, apply"),
    (dict(mode="apply", root="rel"), "nixperf_root must be an absolute path"),
    (dict(mode="render", build_dir="rel"), "nixperf_build_dir must be an absolute path"),
])
def test_layout_errors(kwargs, needle):
    with pytest.raises(LayoutError, match="host h: " + needle):
        layout("h", **kwargs)


def test_layout_refuses_host_names_that_escape_the_build_dir():
    with pytest.raises(LayoutError, match="cannot name a build directory"):
        layout("../etc", "render", build_dir="/b")


class RecordingModule:
    """Stands in for AnsibleModule: records every command line."""

    def __init__(self, bins=None, result=(0, "", "")):
        self.bins = bins or {}
        self.calls = []
        self.result = result

    def get_bin_path(self, name, required=False, opt_dirs=None):
        self.opt_dirs = opt_dirs
        return self.bins.get(name)

    def run_command(self, argv, **kwargs):
        self.calls.append((argv, kwargs))
        return self.result


def test_parse_command_lines():
    assert cmd.parse_argv("/usr/bin/nix-instantiate", ["/a.nix", "/b.nix"]) == [
        "/usr/bin/nix-instantiate", "--parse", "/a.nix", "/b.nix"]
    assert cmd.parse_expr_argv("nix-instantiate", "1") == ["nix-instantiate", "--parse", "-E", "1"]
    assert cmd.fragment_expr("pkgs.zstd # c") == "with { }; pkgs.zstd # c\n"


def test_fragment_expr_parses_exactly_when_the_fragment_does(nix):
    for good in ["pkgs.zstd", "x: x + 1", "./hardware.nix", "pkgs.zstd # comment", "{ a = 1; }"]:
        assert nix.parse_error(cmd.fragment_expr(good)) == "", good
    for bad in ["1 +", "pkgs.(x", "1) (2", "{ a = 1 }", "''"]:
        assert nix.parse_error(cmd.fragment_expr(bad)) != "", bad


def test_run_uses_c_locale_no_shell_and_timeout():
    m = RecordingModule(bins={"timeout": "/usr/bin/timeout"})
    cmd.run(m, ["nix-instantiate", "--parse", "/a.nix"], env=cmd.PARSE_ENV, timeout=30)
    argv, kwargs = m.calls[0]
    assert argv == ["/usr/bin/timeout", "--kill-after=10", "30", "nix-instantiate", "--parse", "/a.nix"]
    assert kwargs["environ_update"] == {"LANG": "C", "LC_ALL": "C", "NIX_REMOTE": "dummy://"}
    assert kwargs["check_rc"] is False
    assert "/run/current-system/sw/bin" in m.opt_dirs


def test_run_without_timeout_binary_or_timeout():
    m = RecordingModule()
    cmd.run(m, ["x"], timeout=5)
    cmd.run(m, ["y"], data="input")
    assert m.calls[0][0] == ["x"]
    assert m.calls[1][0] == ["y"] and m.calls[1][1]["data"] == "input"


def test_stderr_tail():
    assert cmd.stderr_tail("\n".join(str(i) for i in range(30)), 3) == "27\n28\n29"
    assert cmd.stderr_tail(None) == ""
