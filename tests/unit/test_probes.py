# -*- coding: utf-8 -*-
"""Parsers of what Linux tools print on a live host, read against captured outputs: the exact numbers come out,
every format variant the tools have printed is understood, and anything else is refused with a message that
names the tool and the line."""
from __future__ import annotations

import os

import pytest
from ansible_collections.nixperf.tuning.plugins.module_utils import probes
from ansible_collections.nixperf.tuning.plugins.module_utils.probes import ProbeError

GIB = 1024 ** 3
MIB = 1024 ** 2


def fixture(name):
    path = os.path.join(os.path.dirname(__file__), "..", "fixtures", "probes", name)
    with open(path, encoding="utf-8") as handle:
        return handle.read()


# --- values as systemd prints them ------------------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [
    ("12884901888", 12884901888),
    ("0", 0),
    ("  1073741824\n", 1073741824),
    ("infinity", None),
    ("18446744073709551615", None),
])
def test_parse_bytes(value, expected):
    assert probes.parse_bytes(value) == expected


@pytest.mark.parametrize("value", ["[not set]", "12G", "-1", "", "1.5"])
def test_parse_bytes_refuses(value):
    with pytest.raises(ProbeError, match="not a byte count"):
        probes.parse_bytes(value)


@pytest.mark.parametrize("value, expected", [
    ("12G", 12 * GIB),
    ("512M", 512 * MIB),
    ("1.5G", 1536 * MIB),
    ("2048K", 2 * MIB),
    ("1T", 1024 * GIB),
    ("1073741824", GIB),
    ("4096B", 4096),
    ("2.5 G", 2560 * MIB),
    ("0.333K", 340),  # 0.333 * 1024 = 340.99, rounded down
    ("1E", 1024 ** 6),
    ("infinity", None),
])
def test_parse_size(value, expected):
    assert probes.parse_size(value) == expected


@pytest.mark.parametrize("value, expected", [("50%", 8157052 * 1024), ("87.5%", 14274841 * 1024), ("100%", 16314104 * 1024),
                                             ("0.01%", 1670564)])
def test_parse_size_percentage_of_total(value, expected):
    assert probes.parse_size(value, total_bytes=16314104 * 1024) == expected


def test_parse_size_percentage_needs_total():
    with pytest.raises(ProbeError, match="percentage of the host's memory"):
        probes.parse_size("50%")


@pytest.mark.parametrize("value", ["12g", "12GB", "", "G", "1.5.2G", "50.125%", "12 apples", "-1G"])
def test_parse_size_refuses(value):
    with pytest.raises(ProbeError, match="not a size"):
        probes.parse_size(value, total_bytes=GIB)


@pytest.mark.parametrize("value, expected", [
    ("6s", 6.0),
    ("1.500000s", 1.5),
    ("1min 2.503s", 62.503),
    ("500ms", 0.5),
    ("250us", 0.00025),
    ("2h 3min 4s", 7384.0),
    ("1d 2h", 93600.0),
    ("1w 1d", 691200.0),
    ("1month", 2629800.0),
    ("1y 1month", 34187400.0),
    ("0", 0.0),
    ("90", 90.0),
    ("5 min", 300.0),
    ("1m 30sec", 90.0),
    ("2.020ms", 0.00202),
    ("987\u00b5s", 0.000987),
    ("750ns", 7.5e-07),
    ("infinity", None),
    (" 1min 30s \n", 90.0),
])
def test_parse_timespan(value, expected):
    assert probes.parse_timespan(value) == expected


def test_parse_timespan_empty():
    with pytest.raises(ProbeError, match="empty time span"):
        probes.parse_timespan("  ")


@pytest.mark.parametrize("value", ["1 fortnight", "s", "1.5.2s", "soon", "1min -2s"])
def test_parse_timespan_refuses(value):
    with pytest.raises(ProbeError, match="not a time span"):
        probes.parse_timespan(value)


@pytest.mark.parametrize("parser", [probes.parse_bytes, probes.parse_size, probes.parse_timespan, probes.parse_zramctl,
                                    probes.parse_meminfo, probes.parse_systemctl_show])
def test_text_is_required(parser):
    with pytest.raises(ProbeError, match="expected the output as text, got bytes"):
        parser(b"12G")


# --- zram -----------------------------------------------------------------------------------------------------


def test_zramctl_bytes_one_zstd_swap():
    assert probes.parse_zramctl(fixture("zramctl-bytes-one-zstd.txt")) == [{
        "name": "/dev/zram0", "algorithm": "zstd", "disksize": 8589934592, "data": 209190912, "compr": 52169011,
        "total": 56623104, "streams": 8, "mountpoint": "[SWAP]"}]


def test_zramctl_human_sizes_at_base_1024():
    assert probes.parse_zramctl(fixture("zramctl-human-one-zstd.txt")) == [{
        "name": "/dev/zram0", "algorithm": "zstd", "disksize": 8 * GIB, "data": 209190912, "compr": 52219084,
        "total": 54 * MIB, "streams": 8, "mountpoint": "[SWAP]"}]


def test_zramctl_two_devices():
    devices = probes.parse_zramctl(fixture("zramctl-two-devices.txt"))
    assert [d["name"] for d in devices] == ["/dev/zram0", "/dev/zram1"]
    assert devices[1] == {"name": "/dev/zram1", "algorithm": "lz4", "disksize": 4 * GIB, "data": 4521984,
                          "compr": 1107533, "total": 1298432, "streams": 8, "mountpoint": "/tmp"}
    assert devices[0]["data"] == 1181257728 and devices[0]["mountpoint"] == "[SWAP]"


def test_zramctl_human_two_devices_empty_mountpoint():
    zram0, zram1 = probes.parse_zramctl(fixture("zramctl-human-two-devices.txt"))
    assert (zram0["disksize"], zram0["data"], zram0["compr"], zram0["total"]) == (8267812044, 1181116006, 285422387, 299053875)
    assert zram1 == {"name": "/dev/zram1", "algorithm": "lzo-rle", "disksize": 512 * MIB, "data": 4096, "compr": 0,
                     "total": 12288, "streams": 8, "mountpoint": ""}


def test_zramctl_kernel_without_max_comp_streams():
    # captured on Linux 6.18 with util-linux 2.38.1: the STREAMS cell is empty, so is MOUNTPOINT
    assert probes.parse_zramctl(fixture("zramctl-bytes-kernel-6.18-no-streams.txt")) == [{
        "name": "/dev/zram0", "algorithm": "lzo-rle", "disksize": 0, "data": 0, "compr": 0, "total": 0,
        "streams": None, "mountpoint": ""}]


@pytest.mark.parametrize("name", ["zramctl-no-devices.txt", "zramctl-header-only.txt"])
def test_zramctl_nothing_set_up(name):
    assert probes.parse_zramctl(fixture(name)) == []


def test_zramctl_mountpoint_with_space_and_other_column_order():
    text = ("NAME       DISKSIZE ALGORITHM DATA COMPR TOTAL STREAMS ZERO-PAGES MOUNTPOINT\n"
            "/dev/zram1       4G zstd        8K   65B   12K       4          0 /mnt/build cache\n")
    assert probes.parse_zramctl(text) == [{"name": "/dev/zram1", "algorithm": "zstd", "disksize": 4 * GIB, "data": 8192,
                                           "compr": 65, "total": 12288, "streams": 4, "mountpoint": "/mnt/build cache"}]


def test_zramctl_decimal_comma_of_a_translated_locale():
    text = ("NAME       ALGORITHM DISKSIZE DATA COMPR TOTAL STREAMS MOUNTPOINT\n"
            "/dev/zram0 zstd          7,7G 1,1G  272M  285M       8 [SWAP]\n")
    assert probes.parse_zramctl(text)[0]["data"] == 1181116006


@pytest.mark.parametrize("text, message", [
    ("/dev/zram0 zstd 8G 0B 0B 0B 8 [SWAP]\n", "expected the header of --output"),
    ("NAME ALGORITHM DISKSIZE DATA COMPR TOTAL MOUNTPOINT\n", "expected the header of --output"),
    ("NAME ALGORITHM DISKSIZE DATA COMPR TOTAL STREAMS MOUNTPOINT NAME\n", "expected the header of --output"),
    ("NAME       ALGORITHM DISKSIZE DATA COMPR TOTAL STREAMS MOUNTPOINT\n"
     "/dev/zram0 zstd            8G lots    0B    0B       8 [SWAP]\n", "DATA 'lots' is not a size"),
    ("NAME       ALGORITHM DISKSIZE DATA COMPR TOTAL STREAMS MOUNTPOINT\n"
     "/dev/zram0 zstd            8G   0B    0B    0B     all [SWAP]\n", "'all' is not a whole number"),
    ("NAME       ALGORITHM DISKSIZE DATA COMPR TOTAL STREAMS MOUNTPOINT\n"
     "/dev/zram0 zstd            8G   0B    0B             8 [SWAP]\n", "no TOTAL"),
    ("NAME       ALGORITHM DISKSIZE DATA COMPR TOTAL STREAMS MOUNTPOINT\n"
     "           zstd            8G   0B    0B    0B       8 [SWAP]\n", "no device name"),
    ("NAME       ALGORITHM MOUNTPOINT DISKSIZE DATA COMPR TOTAL STREAMS\n"
     "/dev/zram0 zstd      [SWAP]           8G   0B    0B    0B       8 extra\n", "'extra' is under no column"),
    ("NAME       ALGORITHM DISKSIZE DATA COMPR TOTAL STREAMS MOUNTPOINT\n"
     "/dev/zram0 zstd            8G 0B 1B 0B    0B       8 [SWAP]\n", "two values in column DATA"),
    ("NAME       ALGORITHM DISKSIZE DATA COMPR TOTAL STREAMS MOUNTPOINT\n"
     "zramctl: /dev/zram7: No such file or directory\n", "line 2"),
])
def test_zramctl_refuses(text, message):
    with pytest.raises(ProbeError, match=message):
        probes.parse_zramctl(text)


@pytest.mark.parametrize("name, expected", [
    ("comp-algorithm-zstd.txt", ("zstd", ["lzo", "lzo-rle", "lz4", "lz4hc", "842", "zstd"])),
    ("comp-algorithm-lzo-rle.txt", ("lzo-rle", ["lzo-rle", "lzo", "lz4"])),
    ("comp-algorithm-uninitialised-old.txt", (None, ["lzo", "lz4", "lz4hc", "842", "zstd"])),
])
def test_comp_algorithm(name, expected):
    assert probes.parse_comp_algorithm(fixture(name)) == expected


@pytest.mark.parametrize("text, message", [
    ("\n", "comp_algorithm is empty"),
    ("[lzo] [zstd]\n", "selects two algorithms"),
    ("lzo [zstd\n", "'\\[zstd' is not an algorithm name"),
])
def test_comp_algorithm_refuses(text, message):
    with pytest.raises(ProbeError, match=message):
        probes.parse_comp_algorithm(text)


def test_mm_stat_all_nine_fields():
    assert probes.parse_mm_stat(fixture("mm-stat-workstation.txt")) == {
        "orig_data_size": 209190912, "compr_data_size": 52169011, "mem_used_total": 56623104, "mem_limit": 0,
        "mem_used_max": 60817408, "same_pages": 3114, "pages_compacted": 0, "huge_pages": 97, "huge_pages_since": 112}


def test_mm_stat_older_kernel_has_seven_fields():
    stat = probes.parse_mm_stat(fixture("mm-stat-seven-fields.txt"))
    assert stat == {"orig_data_size": 4096000, "compr_data_size": 1288762, "mem_used_total": 1470464, "mem_limit": 0,
                    "mem_used_max": 1470464, "same_pages": 211, "pages_compacted": 0}


def test_mm_stat_unused_device_and_future_fields():
    assert probes.parse_mm_stat(fixture("mm-stat-kernel-6.18-unused.txt")) == dict.fromkeys(probes.MM_STAT_FIELDS, 0)
    assert len(probes.parse_mm_stat("1 2 3 4 5 6 7 8 9 10\n")) == 9


@pytest.mark.parametrize("text, message", [
    ("", "mm_stat is empty"),
    ("1 2 3 4 5 6\n", "expected at least 7 numbers"),
    ("1 2 3 4 5 6 x\n", "'x' is not a whole number"),
    ("1 2 3 4 5 6 7\n1 2 3 4 5 6 7\n", "mm_stat is a single line"),
])
def test_mm_stat_refuses(text, message):
    with pytest.raises(ProbeError, match=message):
        probes.parse_mm_stat(text)


def test_swaps_zram():
    assert probes.parse_swaps(fixture("proc-swaps-zram.txt")) == [
        {"filename": "/dev/zram0", "type": "partition", "size_kib": 8388604, "used_kib": 204288, "priority": 5}]


def test_swaps_zram_and_file_with_negative_priority():
    assert probes.parse_swaps(fixture("proc-swaps-zram-and-file.txt")) == [
        {"filename": "/dev/zram0", "type": "partition", "size_kib": 8388604, "used_kib": 1153572, "priority": 5},
        {"filename": "/var/lib/swapfile", "type": "file", "size_kib": 16777212, "used_kib": 0, "priority": -2}]


def test_swaps_header_only_and_empty():
    assert probes.parse_swaps(fixture("proc-swaps-none.txt")) == []
    assert probes.parse_swaps("") == []


def test_swaps_escaped_filename():
    text = "/swap\\040space/file                     file\t\t1048572\t0\t\t-3\n"
    assert probes.parse_swaps(text)[0]["filename"] == "/swap space/file"


@pytest.mark.parametrize("text, message", [
    ("/dev/zram0 partition 8388604 0\n", "expected 5 fields"),
    ("/dev/zram0 partition 8388604 0 high\n", "priority 'high' is not a number"),
    ("/dev/zram0 partition 8G 0 5\n", "'8G' is not a whole number"),
])
def test_swaps_refuses(text, message):
    with pytest.raises(ProbeError, match=message):
        probes.parse_swaps(text)


# --- systemd ----------------------------------------------------------------------------------------------------


def test_systemctl_show_two_units_in_order():
    daemon, user = probes.parse_systemctl_show(fixture("systemctl-show-two-units.txt"))
    assert daemon["Id"] == "nix-daemon.service" and user["Id"] == "user@1000.service"
    assert probes.parse_bytes(daemon["MemoryMax"]) == 12 * GIB
    assert probes.parse_bytes(daemon["MemoryHigh"]) is None
    assert probes.parse_bytes(user["MemoryHigh"]) == 14495514624
    assert probes.parse_timespan(daemon["TimeoutStartUSec"]) == 90.0
    assert daemon["Environment"].startswith("CURL_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt LOCALE_ARCHIVE=/nix/store/")
    assert user["Environment"] == "" and user["CPUWeight"] == "200"
    assert len(daemon) == 9 and len(user) == 9


def test_systemctl_show_unit_not_found():
    (unit,) = probes.parse_systemctl_show(fixture("systemctl-show-not-found.txt"))
    assert unit["LoadState"] == "not-found" and unit["MemoryCurrent"] == "[not set]"
    with pytest.raises(ProbeError, match="not a byte count: '\\[not set\\]'"):
        probes.parse_bytes(unit["MemoryCurrent"])


def test_systemctl_show_empty_and_extra_blank_lines():
    assert probes.parse_systemctl_show("") == []
    assert probes.parse_systemctl_show("\nId=a.service\n\n\nId=b.service\n\n") == [{"Id": "a.service"}, {"Id": "b.service"}]


def test_systemctl_show_refuses_a_line_without_equals():
    with pytest.raises(ProbeError, match="line 2: 'Failed to get properties: Access denied'"):
        probes.parse_systemctl_show("Id=a.service\nFailed to get properties: Access denied\n")


def test_analyze_time_workstation():
    assert probes.parse_analyze_time(fixture("systemd-analyze-time-workstation.txt")) == {
        "firmware_s": 4.102, "loader_s": 2.005, "kernel_s": 1.234, "initrd_s": 2.345, "userspace_s": 10.456,
        "total_s": 20.142, "target": "graphical.target", "target_s": 10.203}


def test_analyze_time_kubevirt_vm_has_no_firmware_or_loader():
    assert probes.parse_analyze_time(fixture("systemd-analyze-time-kubevirt.txt")) == {
        "kernel_s": 1.532, "initrd_s": 3.87, "userspace_s": 62.503, "total_s": 67.905, "target": "multi-user.target",
        "target_s": 62.48}


def test_analyze_time_container_has_no_total():
    assert probes.parse_analyze_time(fixture("systemd-analyze-time-container.txt")) == {
        "userspace_s": 1.102, "target": "multi-user.target", "target_s": 1.096}


def test_analyze_time_soft_reboot_and_colour():
    text = "\x1b[0;1;39mStartup finished in 2.331s (soft reboot) + 3.012s (userspace) \x1b[0m\n"
    assert probes.parse_analyze_time(text) == {"soft_reboot_s": 2.331, "userspace_s": 3.012}


@pytest.mark.parametrize("second_line, target", [
    ("graphical.target was never reached.", "graphical.target"),
    ("Could not get time to reach graphical.target.", "graphical.target"),
])
def test_analyze_time_target_without_time(second_line, target):
    result = probes.parse_analyze_time("Startup finished in 1.234s (kernel) + 9.1s (userspace) = 10.334s \n%s\n" % second_line)
    assert result["target"] == target and result["target_s"] is None and result["total_s"] == 10.334


def test_analyze_time_without_default_target():
    result = probes.parse_analyze_time("Startup finished in 1.234s (kernel) + 9.1s (userspace) = 10.334s \n"
                                       "could not find default.target.\n")
    assert "target" not in result and result["kernel_s"] == 1.234


def test_analyze_time_not_finished():
    with pytest.raises(ProbeError) as raised:
        probes.parse_analyze_time(fixture("systemd-analyze-time-not-finished.txt"))
    assert str(raised.value) == ("systemd-analyze time: Bootup is not yet finished "
                                 "(org.freedesktop.systemd1.Manager.FinishTimestampMonotonic=0).")


def test_analyze_time_empty():
    with pytest.raises(ProbeError, match="printed nothing"):
        probes.parse_analyze_time(fixture("systemd-analyze-time-empty.txt"))


@pytest.mark.parametrize("text, message", [
    ("Failed to connect to bus: No medium found\n", "line 1"),
    ("graphical.target reached after 10.203s in userspace.\n", "no 'Startup finished in' line"),
    ("Startup finished in 1.2s (bootloader) + 3s (userspace) = 4.2s\n", "cannot read '1.2s \\(bootloader\\)'"),
    ("Startup finished in 1.2s (kernel) + 1.2s (kernel) + 3s (userspace)\n", "kernel twice"),
    ("Startup finished in 1.2s (kernel) + 3s (userspace) = soon\n", "not a time span: 'soon'"),
    ("Startup finished in 3s (userspace) = infinity\n", "cannot be infinite"),
    ("Startup finished in 3s (userspace)\nStartup finished in 3s (userspace)\n", "a second startup line"),
])
def test_analyze_time_refuses(text, message):
    with pytest.raises(ProbeError, match=message):
        probes.parse_analyze_time(text)


def test_analyze_blame_workstation():
    blame = probes.parse_analyze_blame(fixture("systemd-analyze-blame-workstation.txt"))
    assert len(blame) == 15
    assert blame[:3] == [("nix-gc.service", 62.003), ("NetworkManager-wait-online.service", 5.428), ("docker.service", 2.968)]
    assert blame[9] == ("systemd-fsck@dev-disk-by\\x2duuid-4A1B\\x2d2C3D.service", 0.238)
    assert blame[-1] == ("sys-kernel-config.mount", 0.000987)


def test_analyze_blame_empty():
    assert probes.parse_analyze_blame("") == []


def test_analyze_blame_not_finished_is_only_a_message():
    with pytest.raises(ProbeError, match="^systemd-analyze blame: Bootup is not yet finished"):
        probes.parse_analyze_blame(fixture("systemd-analyze-time-not-finished.txt"))


@pytest.mark.parametrize("text, message", [
    ("NetworkManager.service\n", "expected a time and a unit name"),
    ("5.2s Failed to connect\n", "expected a time and a unit name"),
    ("quick docker.service\n", "not a time span: 'quick'"),
])
def test_analyze_blame_refuses(text, message):
    with pytest.raises(ProbeError, match=message):
        probes.parse_analyze_blame(text)


def test_critical_chain_workstation():
    chain = probes.parse_critical_chain(fixture("systemd-analyze-critical-chain-workstation.txt"))
    assert len(chain) == 16
    assert chain[0] == {"unit": "graphical.target", "at_s": 10.203, "took_s": None, "depth": 0}
    assert chain[1] == {"unit": "display-manager.service", "at_s": 9.871, "took_s": 0.331, "depth": 1}
    assert chain[4] == {"unit": "NetworkManager.service", "at_s": 8.112, "took_s": 1.724, "depth": 4}
    assert chain[-1] == {"unit": "dev-disk-by\\x2duuid-4A1B\\x2d2C3D.device", "at_s": 7.118, "took_s": None, "depth": 15}
    assert [entry["depth"] for entry in chain] == list(range(16))


def test_critical_chain_ascii_branches_and_units_without_times():
    chain = probes.parse_critical_chain(fixture("systemd-analyze-critical-chain-kubevirt-ascii.txt"))
    assert [(e["unit"], e["depth"]) for e in chain] == [
        ("multi-user.target", 0), ("cloud-final.service", 1), ("cloud-config.service", 2), ("network-online.target", 3),
        ("systemd-networkd-wait-online.service", 4), ("systemd-networkd.service", 5), ("systemd-udevd.service", 6),
        ("systemd-tmpfiles-setup-dev.service", 7), ("kmod-static-nodes.service", 8), ("systemd-journald.socket", 9),
        ("cloud-init.service", 3)]
    assert chain[0]["at_s"] == 62.48
    assert chain[1] == {"unit": "cloud-final.service", "at_s": 61.912, "took_s": 0.566, "depth": 1}
    assert chain[4]["took_s"] == 56.185
    assert chain[9] == {"unit": "systemd-journald.socket", "at_s": None, "took_s": None, "depth": 9}


def test_critical_chain_target_with_start_time_only_and_loop_marker():
    text = ("foo.service +2.001s\n"
            "\u2514\u2500bar.service @1.200s +800ms\n"
            "  \u2514\u2500...\n")
    assert probes.parse_critical_chain(text) == [
        {"unit": "foo.service", "at_s": None, "took_s": 2.001, "depth": 0},
        {"unit": "bar.service", "at_s": 1.2, "took_s": 0.8, "depth": 1},
        {"unit": "...", "at_s": None, "took_s": None, "depth": 2}]


def test_critical_chain_older_header_and_colour():
    text = ('The time after the unit is active or started is printed after the "@" character.\n'
            'The time the unit takes to start is printed after the "+" character.\n\n'
            "graphical.target @20.049s\n"
            "\u2514\u2500\x1b[0;1;31mshorewall6.service @18.139s +1.909s\x1b[0m\n")
    assert probes.parse_critical_chain(text) == [
        {"unit": "graphical.target", "at_s": 20.049, "took_s": None, "depth": 0},
        {"unit": "shorewall6.service", "at_s": 18.139, "took_s": 1.909, "depth": 1}]


@pytest.mark.parametrize("name", ["systemd-analyze-critical-chain-header-only.txt", "systemd-analyze-time-empty.txt"])
def test_critical_chain_empty(name):
    assert probes.parse_critical_chain(fixture(name)) == []


def test_critical_chain_not_finished():
    with pytest.raises(ProbeError, match="^systemd-analyze critical-chain: Bootup is not yet finished"):
        probes.parse_critical_chain(fixture("systemd-analyze-critical-chain-not-finished.txt"))


@pytest.mark.parametrize("text, message", [
    ("\u2514\u2500multi-user.target @1s\n", "does not start with its target"),
    ("graphical.target @1s\n    network.target @1s\n", "no tree branch before the unit"),
    ("graphical.target @soon\n", "not a time span: 'soon'"),
    ("graphical.target @1s\n\u2514\u2500 network.target @1s\n", "line 2"),
])
def test_critical_chain_refuses(text, message):
    with pytest.raises(ProbeError, match=message):
        probes.parse_critical_chain(text)


# --- memory, pressure, processes --------------------------------------------------------------------------------


def test_meminfo_workstation():
    info = probes.parse_meminfo(fixture("proc-meminfo-workstation.txt"))
    assert info["MemTotal"] == 16314104 and info["MemAvailable"] == 11419756 and info["SwapFree"] == 8184316
    assert info["Active(anon)"] == 3150204 and info["VmallocTotal"] == 34359738367
    assert info["HugePages_Total"] == 0 and info["Hugepagesize"] == 2048
    assert len(info) == 55


@pytest.mark.parametrize("text, message", [
    ("", "/proc/meminfo is empty"),
    ("MemTotal:       16314104 kB\nMemFree: lots\n", "line 2: 'MemFree: lots'"),
    ("MemTotal 16314104 kB\n", "expected 'Name: value kB'"),
])
def test_meminfo_refuses(text, message):
    with pytest.raises(ProbeError, match=message):
        probes.parse_meminfo(text)


def test_free_procps_4():
    assert probes.parse_free(fixture("free-b-procps-4.0.4.txt")) == {
        "mem": {"total": 16705642496, "used": 4341067776, "free": 6828998656, "shared": 412315648,
                "buff/cache": 5535576064, "available": 11693830144},
        "swap": {"total": 8589930496, "used": 209190912, "free": 8380739584}}


def test_free_agrees_with_meminfo_of_the_same_host():
    mem = probes.parse_free(fixture("free-b-procps-4.0.4.txt"))["mem"]
    info = probes.parse_meminfo(fixture("proc-meminfo-workstation.txt"))
    assert mem["total"] == info["MemTotal"] * 1024 and mem["available"] == info["MemAvailable"] * 1024
    assert mem["buff/cache"] == (info["Buffers"] + info["Cached"] + info["SReclaimable"]) * 1024


def test_free_total_row():
    assert probes.parse_free(fixture("free-bt-procps-4.0.4.txt"))["total"] == {
        "total": 25295572992, "used": 4550258688, "free": 15209738240}


def test_free_wide_buffers_and_cache():
    mem = probes.parse_free(fixture("free-bw-procps-3.3.12.txt"))["mem"]
    assert (mem["buffers"], mem["cache"], mem["buff/cache"]) == (412090368, 5123485696, 5535576064)
    assert mem["available"] == 11693830144


def test_free_procps_3_2_8():
    assert probes.parse_free(fixture("free-b-procps-3.2.8.txt")) == {
        "mem": {"total": 16705642496, "used": 9876543488, "free": 6829099008, "shared": 0, "buffers": 412090368,
                "cached": 5123457024, "buff/cache": 5535547392},
        "-/+ buffers/cache": {"used": 4340996096, "free": 12364646400},
        "swap": {"total": 8589930496, "used": 209715200, "free": 8380215296}}


def test_free_translated_output_is_refused():
    with pytest.raises(ProbeError, match="expected the header line"):
        probes.parse_free(fixture("free-b-procps-4.0.4-de.txt"))


@pytest.mark.parametrize("text, message", [
    ("", "free printed nothing"),
    ("               total        used        free\nSwap:  0 0 0\n", "no 'Mem:' row"),
    ("               total        used        free\nMem:  1 2 3 4\n", "expected 1 to 3 numbers"),
    ("               total        used        free\nMem:\n", "expected 1 to 3 numbers"),
    ("               total        used        free\nMem:  15Gi 2Gi 13Gi\n", "'15Gi' is not a whole number"),
    ("               total        used        free\nthat is all\n", "expected 'Label: numbers'"),
])
def test_free_refuses(text, message):
    with pytest.raises(ProbeError, match=message):
        probes.parse_free(text)


def test_pressure_memory():
    assert probes.parse_pressure(fixture("pressure-memory-workstation.txt")) == {
        "some": {"avg10": 0.31, "avg60": 1.27, "avg300": 0.62, "total": 18424390.0},
        "full": {"avg10": 0.12, "avg60": 0.58, "avg300": 0.29, "total": 9812044.0}}


def test_pressure_cpu_before_full_line():
    assert probes.parse_pressure(fixture("pressure-cpu-kernel-5.10.txt")) == {
        "some": {"avg10": 2.04, "avg60": 1.11, "avg300": 0.45, "total": 73215877.0}}


def test_pressure_idle():
    assert probes.parse_pressure(fixture("pressure-io-idle.txt"))["full"] == {"avg10": 0.0, "avg60": 0.0, "avg300": 0.0, "total": 0.0}


@pytest.mark.parametrize("text, message", [
    ("", "the pressure file is empty"),
    ("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nsome avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", "one 'some'"),
    ("most avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", "line 1"),
    ("some avg10=0.00 avg60=0.00 total=0\n", "expected avg10, avg60, avg300, total"),
    ("some avg10=high avg60=0.00 avg300=0.00 total=0\n", "cannot read 'avg10=high'"),
])
def test_pressure_refuses(text, message):
    with pytest.raises(ProbeError, match=message):
        probes.parse_pressure(text)


def test_ps_workstation():
    processes = probes.parse_ps(fixture("ps-workstation.txt"))
    assert len(processes) == 16
    assert processes[0] == {"pid": 1, "rss_kib": 12876, "comm": "systemd"}
    assert {"pid": 3120, "rss_kib": 289340, "comm": "Isolated Web Co"} in processes
    assert {"pid": 1502, "rss_kib": 6104, "comm": "(sd-pam)"} in processes
    assert {"pid": 3402, "rss_kib": 1087512, "comm": "electron"} in processes


def test_ps_empty():
    assert probes.parse_ps(fixture("ps-empty.txt")) == []


@pytest.mark.parametrize("text", ["    PID   RSS COMMAND\n", "  1203 20716\n", "  1203 - NetworkManager\n"])
def test_ps_refuses(text):
    with pytest.raises(ProbeError, match="expected pid, rss and command name"):
        probes.parse_ps(text)


@pytest.mark.parametrize("name, expected", [
    ("proc-pid-stat-web-content.txt", {"pid": 3188, "comm": "Web Content", "state": "S", "utime": 13872, "stime": 2211}),
    ("proc-pid-stat-sd-pam.txt", {"pid": 1502, "comm": "(sd-pam)", "state": "S", "utime": 0, "stime": 1}),
])
def test_proc_stat(name, expected):
    assert probes.parse_proc_stat(fixture(name)) == expected


def test_proc_stat_splits_at_the_last_parenthesis():
    text = "4242 (a) R (b) R 1 4242 4242 0 -1 4194304 99 0 0 0 77 5 0 0 20 0 1 0 3918373 3133440 363\n"
    assert probes.parse_proc_stat(text) == {"pid": 4242, "comm": "a) R (b", "state": "R", "utime": 77, "stime": 5}


@pytest.mark.parametrize("text, message", [
    ("", "/proc/<pid>/stat is empty"),
    ("4242 cat R 1 2 3\n", "no '\\(comm\\)'"),
    ("4242 (cat) R 1 4242 4242 0 -1\n", "expected state and at least 15 fields"),
    ("x (cat) R 1 4242 4242 0 -1 4194304 99 0 0 0 77 5 0 0\n", "'x' is not a whole number"),
])
def test_proc_stat_refuses(text, message):
    with pytest.raises(ProbeError, match=message):
        probes.parse_proc_stat(text)


@pytest.mark.parametrize("name, expected", [
    ("proc-stat-workstation.txt", {"busy": 184720 + 1203 + 51877 + 2203, "idle": 3012554 + 8421, "total": 3260978}),
    # guest (120004) is part of user already and is not added
    ("proc-stat-cpu-line-steal.txt", {"busy": 512033 + 1022 + 140211 + 9108 + 34512, "idle": 8811204 + 20533, "total": 9528623}),
    ("proc-stat-cpu-line-2.6.9.txt", {"busy": 2255 + 34 + 2290 + 127 + 456, "idle": 22625563 + 6290, "total": 22637015}),
])
def test_cpu_stat(name, expected):
    assert probes.parse_cpu_stat(fixture(name)) == expected


@pytest.mark.parametrize("text, message", [
    ("cpu0 1 2 3 4 5 6 7 8 0 0\nintr 1 2\n", "no aggregate 'cpu' line"),
    ("", "no aggregate 'cpu' line"),
    ("cpu  1 2 3\n", "expected at least user nice system idle"),
    ("cpu  1 2 3 four 5\n", "'four' is not a whole number"),
])
def test_cpu_stat_refuses(text, message):
    with pytest.raises(ProbeError, match=message):
        probes.parse_cpu_stat(text)


# --- GPUs -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, expected", [
    ("nvidia-smi-gtx960.txt", [{"util_pct": 3.0, "memory_used_mib": 412.0, "memory_total_mib": 4096.0}]),
    ("nvidia-smi-not-supported.txt", [{"util_pct": None, "memory_used_mib": 387.0, "memory_total_mib": 4096.0}]),
    ("nvidia-smi-two-gpus.txt", [{"util_pct": 97.0, "memory_used_mib": 10724.0, "memory_total_mib": 24576.0},
                                 {"util_pct": None, "memory_used_mib": 0.0, "memory_total_mib": 81920.0}]),
    ("nvidia-smi-empty.txt", []),
])
def test_nvidia_smi(name, expected):
    assert probes.parse_nvidia_smi(fixture(name)) == expected


def test_nvidia_smi_without_driver():
    with pytest.raises(ProbeError, match="line 1: \"NVIDIA-SMI has failed because it couldn't communicate"):
        probes.parse_nvidia_smi(fixture("nvidia-smi-no-driver.txt"))


def test_nvidia_smi_refuses_an_unknown_marker():
    with pytest.raises(ProbeError, match="util_pct '\\[Unknown Error\\]' is not a number"):
        probes.parse_nvidia_smi("[Unknown Error], 412, 4096\n")


def test_vainfo_intel_ihd():
    info = probes.parse_vainfo(fixture("vainfo-intel-ihd.stdout.txt"), fixture("vainfo-intel-ihd.stderr.txt"))
    assert info["driver"] == "Intel iHD driver for Intel(R) Gen Graphics - 24.1.0 ()"
    assert info["va_api"] == "1.22" and info["error"] is None
    assert len(info["profiles"]) == 22
    assert info["profiles"]["VAProfileH264Main"] == ["VAEntrypointVLD", "VAEntrypointEncSlice", "VAEntrypointEncSliceLP"]
    assert info["profiles"]["VAProfileH264ConstrainedBaseline"][0] == "VAEntrypointVLD"
    assert info["profiles"]["VAProfileAV1Profile0"] == ["VAEntrypointVLD"]
    assert info["profiles"]["VAProfileNone"] == ["VAEntrypointVideoProc", "VAEntrypointStats"]


def test_vainfo_x11_refused_then_drm_worked():
    info = probes.parse_vainfo(fixture("vainfo-intel-ihd-x11-refused.combined.txt"))
    assert info["error"] is None and info["va_api"] == "1.22"
    assert sorted(info["profiles"]) == ["VAProfileH264High", "VAProfileH264Main", "VAProfileMPEG2Main", "VAProfileMPEG2Simple",
                                        "VAProfileNone"]


def test_vainfo_without_driver():
    assert probes.parse_vainfo(fixture("vainfo-no-driver.stdout.txt"), fixture("vainfo-no-driver.stderr.txt")) == {
        "driver": None, "va_api": None, "profiles": {},
        "error": "libva error: vaGetDriverNameByIndex() failed with unknown libva error, driver_name = (null); "
                 "vaInitialize failed with error code -1 (unknown libva error),exit"}


def test_vainfo_without_x_server():
    info = probes.parse_vainfo(fixture("vainfo-no-x-server.stdout.txt"), fixture("vainfo-no-x-server.stderr.txt"))
    assert info["error"] == "error: can't connect to X server!; error: failed to initialize display"
    assert info["profiles"] == {} and info["driver"] is None


def test_vainfo_failure_after_the_version_drops_the_profiles():
    stdout = ("vainfo: VA-API version: 1.22 (libva 2.22.0)\nvainfo: Driver version: <unknown>\n"
              "vainfo: Supported profile and entrypoints\n      VAProfileH264Main               :\tVAEntrypointVLD\n")
    info = probes.parse_vainfo(stdout, "vaQueryConfigEntrypoints failed with error code 12 (the requested VAProfile is not supported),exit\n")
    assert info == {"driver": None, "va_api": "1.22", "profiles": {},
                    "error": "vaQueryConfigEntrypoints failed with error code 12 (the requested VAProfile is not supported),exit"}


def test_vainfo_unknown_stderr_is_the_error_when_nothing_else_is_known():
    info = probes.parse_vainfo("", "Segmentation fault (core dumped)\n")
    assert info["error"] == "Segmentation fault (core dumped)"
    assert probes.parse_vainfo("", "")["error"] == "vainfo printed no VA-API version"


def test_vainfo_ignores_driver_noise_on_stderr_but_not_on_stdout():
    stderr = fixture("vainfo-intel-ihd.stderr.txt") + "MESA-LOADER: failed to open iris: driver not found\nFailed to open VDPAU backend\n"
    assert probes.parse_vainfo(fixture("vainfo-intel-ihd.stdout.txt"), stderr)["error"] is None
    with pytest.raises(ProbeError, match="vainfo output, line 2: 'VAProfileH264Main VLD'"):
        probes.parse_vainfo("vainfo: VA-API version: 1.22 (libva 2.22.0)\nVAProfileH264Main VLD\n")


def test_vainfo_failure_of_its_own_on_stdout():
    info = probes.parse_vainfo("Trying display: drm\nFailed to open the given device!\n")
    assert info == {"driver": None, "va_api": None, "profiles": {}, "error": "Failed to open the given device!"}


def test_vainfo_same_pair_twice_is_listed_once():
    # stdout and stderr both holding the whole run (2>&1 captured into both)
    run = fixture("vainfo-intel-ihd.stdout.txt")
    assert probes.parse_vainfo(run, run)["profiles"] == probes.parse_vainfo(run)["profiles"]
    assert probes.parse_vainfo(run, run)["profiles"]["VAProfileHEVCMain10"] == [
        "VAEntrypointVLD", "VAEntrypointEncSlice", "VAEntrypointEncSliceLP"]
