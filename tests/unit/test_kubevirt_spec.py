# -*- coding: utf-8 -*-
"""The pure KubeVirt VirtualMachine builder (module_utils/kubevirt_spec.py): the manifest plasma-vm-01's facts give,
every rule it enforces (each error naming the host and the variable), the comparisons with a running VMI, and the
Jinja filters around them.  Every manifest built here also passes the strict offline schema check."""
from __future__ import annotations

import copy
from fractions import Fraction
from typing import Any, Dict, List, Mapping, Optional

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.nixperf.tuning.plugins.filter import kubevirt as F
from ansible_collections.nixperf.tuning.plugins.module_utils import kubevirt_schema as K
from ansible_collections.nixperf.tuning.plugins.module_utils import kubevirt_spec as S

HOST = "vm1"
GIB = 2 ** 30

PLASMA_HW: Dict[str, Any] = {
    "cpu": {"vendor": "intel", "family": "x86-64-v2", "x86_64_level": 2, "cores": 8, "threads": 8},
    "memory": {"total_mib": 16384},
    "storage": [{"device": "vda", "type": "virtio", "size_gb": 100}],
    "virtualization": {"guest": True, "platform": "kubevirt"},
}
PLASMA_SETTINGS: Dict[str, Any] = {"volumes": {"vda": {"claim": "nixos-vm-pvc"}}}

PLASMA_MANIFEST: Dict[str, Any] = {
    "apiVersion": "kubevirt.io/v1",
    "kind": "VirtualMachine",
    "metadata": {
        "name": "plasma-vm-01",
        "namespace": "desktops",
        "labels": {"app.kubernetes.io/managed-by": "nixperf.tuning"},
    },
    "spec": {
        "runStrategy": "Always",
        "template": {
            "metadata": {"labels": {"kubevirt.io/domain": "plasma-vm-01"}},
            "spec": {
                "domain": {
                    "cpu": {"sockets": 1, "cores": 8, "threads": 1, "dedicatedCpuPlacement": True,
                            "isolateEmulatorThread": True},
                    "memory": {"guest": "16Gi"},
                    "resources": {"requests": {"cpu": "8", "memory": "16Gi"}, "limits": {"cpu": "8", "memory": "16Gi"}},
                    "ioThreadsPolicy": "auto",
                    "devices": {
                        "autoattachGraphicsDevice": True,
                        "video": {"type": "virtio"},
                        "disks": [{"name": "vda", "disk": {"bus": "virtio"}, "dedicatedIOThread": True, "bootOrder": 1}],
                        "interfaces": [{"name": "default", "masquerade": {}, "model": "virtio"}],
                        "inputs": [{"name": "tablet", "type": "tablet", "bus": "virtio"}],
                    },
                },
                "networks": [{"name": "default", "pod": {}}],
                "volumes": [{"name": "vda", "persistentVolumeClaim": {"claimName": "nixos-vm-pvc"}}],
            },
        },
    },
}

SHARED = {"cpu_placement": "shared", "qos": "Burstable"}


def hardware(cores: int = 8, threads: int = 8, sockets: Optional[int] = None, mib: int = 16384,
             storage: Optional[List[Dict[str, Any]]] = None, platform: Optional[str] = "kubevirt") -> Dict[str, Any]:
    """A VM's nixperf_hardware (plasma-vm-01's by default)."""
    cpu: Dict[str, Any] = {"vendor": "intel", "family": "x86-64-v2", "x86_64_level": 2, "cores": cores, "threads": threads}
    if sockets is not None:
        cpu["sockets"] = sockets
    return {
        "cpu": cpu,
        "memory": {"total_mib": mib},
        "storage": copy.deepcopy(PLASMA_HW["storage"]) if storage is None else storage,
        "virtualization": {"guest": True, "platform": platform},
    }


def build_ok(settings: Optional[Mapping[str, Any]] = None, hw: Optional[Mapping[str, Any]] = None, host: str = HOST,
             namespace: Optional[str] = "ns") -> Dict[str, Any]:
    """Build a manifest and check that the strict schema accepts it."""
    manifest = S.build(host, hardware() if hw is None else hw, settings or {}, namespace)
    assert K.problems(manifest) == []
    return manifest


def refused(var: str, settings: Optional[Mapping[str, Any]] = None, hw: Optional[Mapping[str, Any]] = None,
            words: str = "", namespace: Optional[str] = "ns", host: str = HOST) -> str:
    """Build, expect a SpecError naming the host and ``var`` (and containing ``words``), return its text."""
    with pytest.raises(S.SpecError) as info:
        S.build(host, hardware() if hw is None else hw, settings or {}, namespace)
    text = str(info.value)
    assert text.startswith("host %s: %s " % (host, var)), text
    assert words in text, text
    return text


def domain(manifest: Mapping[str, Any]) -> Dict[str, Any]:
    return manifest["spec"]["template"]["spec"]["domain"]


def template_spec(manifest: Mapping[str, Any]) -> Dict[str, Any]:
    return manifest["spec"]["template"]["spec"]


# --- plasma-vm-01 -------------------------------------------------------------------------------------------------


def test_plasma_vm_01_gives_the_whole_expected_manifest():
    manifest = build_ok(PLASMA_SETTINGS, copy.deepcopy(PLASMA_HW), host="plasma-vm-01", namespace="desktops")
    assert manifest == PLASMA_MANIFEST


def test_plasma_vm_01_key_figures():
    manifest = build_ok(PLASMA_SETTINGS, copy.deepcopy(PLASMA_HW), host="plasma-vm-01", namespace="desktops")
    dom = domain(manifest)
    assert (dom["cpu"]["sockets"], dom["cpu"]["cores"], dom["cpu"]["threads"]) == (1, 8, 1)
    assert dom["cpu"]["dedicatedCpuPlacement"] is True
    assert dom["memory"] == {"guest": "16Gi"}
    assert dom["resources"]["requests"] == dom["resources"]["limits"] == {"cpu": "8", "memory": "16Gi"}
    assert dom["ioThreadsPolicy"] == "auto"
    assert "ioThreadsPolicy" not in template_spec(manifest)  # the plan's misplaced key stays out
    disk = dom["devices"]["disks"][0]
    assert disk == {"name": "vda", "disk": {"bus": "virtio"}, "dedicatedIOThread": True, "bootOrder": 1}
    assert "dedicatedIOThread" not in disk["disk"]  # beside disk:, not inside it
    assert template_spec(manifest)["volumes"] == [{"name": "vda", "persistentVolumeClaim": {"claimName": "nixos-vm-pvc"}}]
    assert dom["devices"]["video"] == {"type": "virtio"}
    assert dom["devices"]["autoattachGraphicsDevice"] is True
    assert dom["devices"]["inputs"] == [{"name": "tablet", "type": "tablet", "bus": "virtio"}]
    assert dom["devices"]["interfaces"] == [{"name": "default", "masquerade": {}, "model": "virtio"}]
    assert template_spec(manifest)["networks"] == [{"name": "default", "pod": {}}]
    assert manifest["spec"]["runStrategy"] == "Always"
    assert manifest["metadata"]["labels"]["app.kubernetes.io/managed-by"] == S.MANAGER == "nixperf.tuning"
    assert manifest["spec"]["template"]["metadata"]["labels"]["kubevirt.io/domain"] == "plasma-vm-01"


def test_plasma_vm_01_summary():
    manifest = build_ok(PLASMA_SETTINGS, copy.deepcopy(PLASMA_HW), host="plasma-vm-01", namespace="desktops")
    assert S.summary(manifest) == {
        "vcpus": 8,
        "topology": "1 socket(s) x 8 core(s) x 1 thread(s)",
        "placement": "dedicated",
        "isolate_emulator_thread": True,
        "guest_memory": "16Gi",
        "qos": "Guaranteed",
        "io_threads_policy": "auto",
        "disks": ["vda (virtio, dedicated IOThread)"],
        "run_strategy": "Always",
    }


def test_the_builder_does_not_change_its_inputs():
    hw, settings = copy.deepcopy(PLASMA_HW), copy.deepcopy(PLASMA_SETTINGS)
    build_ok(settings, hw, host="plasma-vm-01", namespace="desktops")
    assert hw == PLASMA_HW and settings == PLASMA_SETTINGS


def test_a_shared_4_vcpu_burstable_vm():
    manifest = build_ok(dict(SHARED, volumes={"vda": {"claim": "nixos-vm-pvc"}}), hardware(cores=4, threads=4, mib=8192),
                        host="plasma-vm-01", namespace="desktops")
    dom = domain(manifest)
    assert dom["cpu"] == {"sockets": 1, "cores": 4, "threads": 1}  # no dedicatedCpuPlacement, no isolateEmulatorThread
    assert dom["resources"] == {"requests": {"cpu": "1", "memory": "8Gi"}, "limits": {"cpu": "4", "memory": "8Gi"}}
    assert dom["memory"] == {"guest": "8Gi"}
    plasma = build_ok(PLASMA_SETTINGS, copy.deepcopy(PLASMA_HW), host="plasma-vm-01", namespace="desktops")
    assert manifest != plasma
    assert domain(plasma)["cpu"] != dom["cpu"] and domain(plasma)["resources"] != dom["resources"]
    want = S.summary(manifest)
    assert (want["vcpus"], want["placement"], want["qos"], want["isolate_emulator_thread"]) == (4, "shared", "Burstable", False)
    assert want["guest_memory"] == "8Gi"


# --- topology ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sockets,cores,threads,want", [
    (2, 8, 16, (2, 4, 2)),
    (None, 8, 8, (1, 8, 1)),
    (1, 4, 8, (1, 4, 2)),
    (4, 4, 4, (4, 1, 1)),
    (None, 1, 1, (1, 1, 1)),
])
def test_topology_from_the_facts(sockets, cores, threads, want):
    manifest = build_ok(hw=hardware(cores=cores, threads=threads, sockets=sockets))
    cpu = domain(manifest)["cpu"]
    assert (cpu["sockets"], cpu["cores"], cpu["threads"]) == want
    vcpus = want[0] * want[1] * want[2]
    assert domain(manifest)["resources"]["limits"]["cpu"] == str(vcpus)
    assert S.summary(manifest)["vcpus"] == vcpus
    assert S.summary(manifest)["topology"] == "%d socket(s) x %d core(s) x %d thread(s)" % want


def test_three_threads_per_core_are_fine_with_shared_cpus():
    manifest = build_ok(dict(SHARED), hardware(cores=2, threads=6))
    assert domain(manifest)["cpu"] == {"sockets": 1, "cores": 2, "threads": 3}


def test_cores_not_a_multiple_of_sockets():
    refused("nixperf_hardware.cpu.cores", hw=hardware(cores=8, threads=8, sockets=3),
            words="(8) must be a multiple of cpu.sockets (3)")


def test_threads_not_a_multiple_of_cores():
    refused("nixperf_hardware.cpu.threads", hw=hardware(cores=8, threads=12),
            words="(12) must be a multiple of cpu.cores (8): each core has as many threads (allowed: 8, 16)")


@pytest.mark.parametrize("cores,threads,per_core", [(2, 6, 3), (2, 8, 4)])
def test_dedicated_cpus_allow_at_most_two_threads_per_core(cores, threads, per_core):
    refused("nixperf_hardware.cpu.threads", hw=hardware(cores=cores, threads=threads),
            words="gives %d threads per core; KubeVirt admits at most 2 with dedicated CPUs" % per_core)


@pytest.mark.parametrize("cpu,var", [
    ({"threads": 8}, "nixperf_hardware.cpu.cores"),
    ({"cores": 8}, "nixperf_hardware.cpu.threads"),
    ({}, "nixperf_hardware.cpu.cores"),
    (None, "nixperf_hardware.cpu.cores"),
    ({"cores": True, "threads": 8}, "nixperf_hardware.cpu.cores"),
    ({"cores": "8", "threads": 8}, "nixperf_hardware.cpu.cores"),
    ({"cores": 8, "threads": 8.0}, "nixperf_hardware.cpu.threads"),
])
def test_missing_cores_or_threads(cpu, var):
    hw = hardware()
    hw["cpu"] = cpu
    refused(var, hw=hw, words="is missing; a KubeVirt VM's vCPU topology comes from")


# --- quantities ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value,want", [
    ("16Gi", 16 * GIB),
    ("1500m", Fraction(3, 2)),
    ("8", 8),
    (8, 8),
    ("0.5", Fraction(1, 2)),
    ("12Mi", 12 * 2 ** 20),
    (" 8 ", 8),
    ("1k", 1000),
    ("1M", 10 ** 6),
    ("2Ki", 2048),
    ("1.5Gi", 3 * 2 ** 29),
    (0.5, Fraction(1, 2)),
    (0, 0),
])
def test_quantity(value, want):
    got = S.quantity(value)
    assert isinstance(got, Fraction)
    assert got == want


@pytest.mark.parametrize("value", ["1e3", "1E3", "", "Gi", "16GB", "16gi", "-1", "1.", "8 cpus", "0x10", None, [8], True, False])
def test_not_a_quantity(value):
    with pytest.raises(ValueError, match="is not a quantity"):
        S.quantity(value)


@pytest.mark.parametrize("size,want", [
    (16 * GIB, "16Gi"),
    (1536 * 2 ** 20, "1536Mi"),
    (3 * GIB, "3Gi"),
    (1024, "1Ki"),
    (2 ** 60, "1Ei"),
    (2 ** 40 * 5, "5Ti"),
    (10 ** 6, "1000000"),
    (10 ** 9, "1000000000"),
    (1500, "1500"),
    (1025, "1025"),
    (1000, "1000"),
    (0, "0"),
    (Fraction(1, 2), "500m"),
])
def test_memory_text(size, want):
    assert S.memory_text(Fraction(size)) == want
    assert S.quantity(want) == size  # exact: the text reads back as the same number


@pytest.mark.parametrize("cpus,want", [(8, "8"), (1, "1"), (Fraction(3, 2), "1500m"), (Fraction(1, 4), "250m"),
                                       (Fraction(1, 10), "100m"), (0, "0")])
def test_cpu_text(cpus, want):
    assert S.cpu_text(Fraction(cpus)) == want
    assert S.quantity(want) == cpus


# --- resources -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("settings,var,words", [
    ({"qos": "Burstable"}, "kubevirt_vm_qos", "must be Guaranteed when kubevirt_vm_cpu_placement is dedicated"),
    ({"qos": "BestEffort"}, "kubevirt_vm_qos", "must be one of Guaranteed, Burstable, got 'BestEffort'"),
    (dict(SHARED, cpu_request="6", cpu_limit="4"), "kubevirt_vm_cpu_request",
     "(6) must not be greater than kubevirt_vm_cpu_limit (4)"),
    (dict(SHARED, cpu_limit="1"), "kubevirt_vm_cpu_limit",
     "(1) must not be below the CPU request (2, a quarter of the vCPUs when Burstable; set kubevirt_vm_cpu_request too)"),
    (dict(SHARED, cpu_limit="1", cpu_request="2"), "kubevirt_vm_cpu_request",
     "(2) must not be greater than kubevirt_vm_cpu_limit (1)"),
    (dict(SHARED, memory_request="20Gi", memory_limit="18Gi"), "kubevirt_vm_memory_request",
     "(20Gi) must not be greater than kubevirt_vm_memory_limit (18Gi)"),
    ({"memory_limit": "8Gi"}, "kubevirt_vm_memory_limit",
     "(8Gi) must not be below the memory request (16Gi, the guest memory; set kubevirt_vm_memory_request too)"),
    ({"memory_limit": "8Gi", "memory_request": "16Gi"}, "kubevirt_vm_memory_request",
     "(16Gi) must not be greater than kubevirt_vm_memory_limit (8Gi)"),
    (dict(SHARED, memory_request="17Gi", memory_limit="20Gi"), "nixperf_hardware.memory.total_mib",
     "(guest memory 16Gi) must lie between the memory request (kubevirt_vm_memory_request, 17Gi) and limit "
     "(kubevirt_vm_memory_limit, 20Gi)"),
    (dict(SHARED, memory_request="4Gi", memory_limit="8Gi"), "nixperf_hardware.memory.total_mib",
     "(guest memory 16Gi) must lie between the memory request (kubevirt_vm_memory_request, 4Gi) and limit "
     "(kubevirt_vm_memory_limit, 8Gi)"),
    ({"cpu_placement": "shared", "cpu_request": "2", "cpu_limit": "4"}, "kubevirt_vm_cpu_request",
     "must equal kubevirt_vm_cpu_limit for Guaranteed QoS (requests == limits for cpu and memory); got 2 and 4"),
    ({"cpu_placement": "shared", "cpu_request": "2"}, "kubevirt_vm_cpu_request", "got 2 and 8"),
    ({"memory_limit": "20Gi"}, "kubevirt_vm_memory_request",
     "must equal kubevirt_vm_memory_limit for Guaranteed QoS (requests == limits for cpu and memory); got 16Gi and 20Gi"),
    (dict(SHARED, cpu_request="8"), "kubevirt_vm_qos",
     "is Burstable, but requests equal limits for cpu (8) and memory (16Gi), which Kubernetes classes as Guaranteed"),
    (dict(SHARED, cpu_limit="2", memory_limit="16384Mi"), "kubevirt_vm_qos",
     "requests equal limits for cpu (2) and memory (16Gi)"),
    ({"cpu_request": "7.5", "cpu_limit": "7.5"}, "kubevirt_vm_cpu_limit",
     "(7500m) must be a whole number of CPUs when kubevirt_vm_cpu_placement is dedicated"),
    ({"cpu_limit": "7500m"}, "kubevirt_vm_cpu_limit", "(7500m) must be a whole number of CPUs"),
    ({"cpu_limit": "4"}, "kubevirt_vm_cpu_limit",
     "(4) must equal the vCPU count (8, from nixperf_hardware.cpu) when CPUs are dedicated: set the count once, in the "
     "facts (allowed: 8, or leave it unset)"),
    ({"cpu_limit": 16, "cpu_request": 16}, "kubevirt_vm_cpu_limit", "(16) must equal the vCPU count (8"),
    (dict(SHARED, memory_request="999999"), "kubevirt_vm_memory_request",
     "(999999) must be at least 1M, the smallest request KubeVirt admits"),
    (dict(SHARED, memory_request="500Ki"), "kubevirt_vm_memory_request", "(500Ki) must be at least 1M"),
])
def test_resource_rules(settings, var, words):
    refused(var, settings, words=words)


@pytest.mark.parametrize("var", ["cpu_request", "cpu_limit", "memory_request", "memory_limit"])
@pytest.mark.parametrize("value", ["lots", "16GB", "1e3", True, [1], {"cpu": 1}, "-1"])
def test_resource_values_must_be_quantities(var, value):
    refused("kubevirt_vm_" + var, dict(SHARED, **{var: value}),
            words="must be a Kubernetes quantity such as 8, 1500m or 16Gi, got %r" % (value,))


@pytest.mark.parametrize("var", ["cpu_request", "cpu_limit", "memory_request", "memory_limit"])
@pytest.mark.parametrize("value", [0, "0", "0Gi", "0m", -1, -0.5])
def test_resource_values_must_be_positive(var, value):
    refused("kubevirt_vm_" + var, dict(SHARED, **{var: value}), words="must be greater than 0, got %r" % (value,))


@pytest.mark.parametrize("threads,want", [(1, "250m"), (2, "500m"), (3, "750m"), (4, "1"), (6, "1500m"), (8, "2"),
                                          (16, "4")])
def test_burstable_default_cpu_request_is_a_quarter_of_the_vcpus(threads, want):
    manifest = build_ok(dict(SHARED), hardware(cores=threads, threads=threads))
    res = domain(manifest)["resources"]
    assert res["requests"]["cpu"] == want
    assert res["limits"]["cpu"] == str(threads)
    assert S.quantity(want) == max(Fraction(threads, 4), Fraction(1, 10))


def test_the_smallest_vm_is_above_the_100m_floor():
    # One vCPU is the smallest VM the facts allow (cpu.cores >= 1): a quarter of it, 250m, is above the 100m floor.
    manifest = build_ok(dict(SHARED), hardware(cores=1, threads=1, mib=512))
    assert domain(manifest)["resources"] == {"requests": {"cpu": "250m", "memory": "512Mi"},
                                             "limits": {"cpu": "1", "memory": "512Mi"}}
    assert S.quantity(domain(manifest)["resources"]["requests"]["cpu"]) >= Fraction(1, 10)


@pytest.mark.parametrize("settings,requests,limits", [
    (dict(SHARED, cpu_request="1500m", cpu_limit="6", memory_request="8Gi"), {"cpu": "1500m", "memory": "8Gi"},
     {"cpu": "6", "memory": "16Gi"}),
    (dict(SHARED, cpu_request="4", cpu_limit="4", memory_request="12Gi"), {"cpu": "4", "memory": "12Gi"},
     {"cpu": "4", "memory": "16Gi"}),
    (dict(SHARED, memory_limit="20Gi"), {"cpu": "2", "memory": "16Gi"}, {"cpu": "8", "memory": "20Gi"}),
    (dict(SHARED, cpu_request=0.5), {"cpu": "500m", "memory": "16Gi"}, {"cpu": "8", "memory": "16Gi"}),
    ({"cpu_placement": "shared", "cpu_limit": "1.5"}, {"cpu": "1500m", "memory": "16Gi"}, {"cpu": "1500m", "memory": "16Gi"}),
    ({"cpu_placement": "shared", "cpu_limit": 4}, {"cpu": "4", "memory": "16Gi"}, {"cpu": "4", "memory": "16Gi"}),
    ({"cpu_limit": "8", "cpu_request": 8, "memory_request": "16384Mi", "memory_limit": "16Gi"},
     {"cpu": "8", "memory": "16Gi"}, {"cpu": "8", "memory": "16Gi"}),
    ({"cpu_limit": "8000m"}, {"cpu": "8", "memory": "16Gi"}, {"cpu": "8", "memory": "16Gi"}),
])
def test_resources_given_explicitly(settings, requests, limits):
    manifest = build_ok(settings)
    assert domain(manifest)["resources"] == {"requests": requests, "limits": limits}
    assert S.summary(manifest)["qos"] == ("Guaranteed" if requests == limits else "Burstable")


def test_a_guaranteed_vm_may_share_its_cpus():
    manifest = build_ok({"cpu_placement": "shared"})
    assert domain(manifest)["cpu"] == {"sockets": 1, "cores": 8, "threads": 1}
    assert S.summary(manifest)["qos"] == "Guaranteed" and S.summary(manifest)["placement"] == "shared"


def test_a_burstable_vm_is_not_written_as_guaranteed_by_millicore_rounding():
    # finer than a millicore: refused, never rounded into requests == limits (a Guaranteed pod)
    refused("kubevirt_vm_cpu_limit", dict(SHARED, cpu_request="1.0001", cpu_limit="1.0004"),
            words="must be a whole number of millicores")


def test_a_positive_cpu_request_is_never_written_as_zero():
    refused("kubevirt_vm_cpu_request", dict(SHARED, cpu_request="0.0001"), words="must be a whole number of millicores")


# --- emulator thread, placement, CPU model -------------------------------------------------------------------------


@pytest.mark.parametrize("settings,cpu", [
    ({}, {"sockets": 1, "cores": 8, "threads": 1, "dedicatedCpuPlacement": True, "isolateEmulatorThread": True}),
    ({"isolate_emulator_thread": None}, {"sockets": 1, "cores": 8, "threads": 1, "dedicatedCpuPlacement": True,
                                         "isolateEmulatorThread": True}),
    ({"isolate_emulator_thread": False}, {"sockets": 1, "cores": 8, "threads": 1, "dedicatedCpuPlacement": True}),
    ({"isolate_emulator_thread": True}, {"sockets": 1, "cores": 8, "threads": 1, "dedicatedCpuPlacement": True,
                                         "isolateEmulatorThread": True}),
    (dict(SHARED), {"sockets": 1, "cores": 8, "threads": 1}),
    (dict(SHARED, isolate_emulator_thread=False), {"sockets": 1, "cores": 8, "threads": 1}),
])
def test_isolate_emulator_thread_follows_the_placement(settings, cpu):
    manifest = build_ok(settings)
    assert domain(manifest)["cpu"] == cpu
    assert S.summary(manifest)["isolate_emulator_thread"] is ("isolateEmulatorThread" in cpu)


def test_isolate_emulator_thread_needs_dedicated_cpus():
    refused("kubevirt_vm_isolate_emulator_thread", dict(SHARED, isolate_emulator_thread=True),
            words="needs kubevirt_vm_cpu_placement dedicated")


@pytest.mark.parametrize("value", ["yes", 1, 0, "true", [True]])
def test_isolate_emulator_thread_must_be_a_bool(value):
    refused("kubevirt_vm_isolate_emulator_thread", {"isolate_emulator_thread": value},
            words="must be true or false, got %r" % (value,))


@pytest.mark.parametrize("value", ["pinned", "Dedicated", 1])
def test_cpu_placement_choice(value):
    refused("kubevirt_vm_cpu_placement", {"cpu_placement": value}, words="must be one of dedicated, shared, got %r" % (value,))


@pytest.mark.parametrize("model", ["host-passthrough", "host-model", "Skylake-Client-IBRS", "EPYC-Rome", "x86_64.v2", "486"])
def test_cpu_model_valid(model):
    assert domain(build_ok({"cpu_model": model}))["cpu"]["model"] == model


def test_no_cpu_model_by_default():
    assert "model" not in domain(build_ok())["cpu"]


@pytest.mark.parametrize("model", ["", "-host", "host model", "model;rm", ".x", 5, True, ["host-model"]])
def test_cpu_model_invalid(model):
    refused("kubevirt_vm_cpu_model", {"cpu_model": model}, words="must be a libvirt CPU model name")


# --- IOThreads -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["shared", "auto"])
def test_io_threads_policy_without_pool(policy):
    dom = domain(build_ok({"io_threads_policy": policy}))
    assert dom["ioThreadsPolicy"] == policy
    assert "ioThreads" not in dom


@pytest.mark.parametrize("threads", [1, 4])
def test_supplemental_pool_with_threads(threads):
    manifest = build_ok({"io_threads_policy": "supplementalPool", "supplemental_pool_threads": threads})
    assert domain(manifest)["ioThreadsPolicy"] == "supplementalPool"
    assert domain(manifest)["ioThreads"] == {"supplementalPoolThreadCount": threads}
    assert S.summary(manifest)["io_threads_policy"] == "supplementalPool"


@pytest.mark.parametrize("threads", [None, 0, -1, True, "2", 1.5])
def test_supplemental_pool_needs_threads(threads):
    refused("kubevirt_vm_supplemental_pool_threads", {"io_threads_policy": "supplementalPool", "supplemental_pool_threads": threads},
            words="must be a whole number of at least 1 when kubevirt_vm_io_threads_policy is supplementalPool, got %r" % (threads,))


@pytest.mark.parametrize("policy", ["auto", "shared"])
def test_pool_threads_without_supplemental_pool(policy):
    refused("kubevirt_vm_supplemental_pool_threads", {"io_threads_policy": policy, "supplemental_pool_threads": 2},
            words="is used only with kubevirt_vm_io_threads_policy supplementalPool (got policy %s)" % policy)


@pytest.mark.parametrize("policy", ["dedicated", "Auto", "", 1])
def test_bad_io_threads_policy(policy):
    refused("kubevirt_vm_io_threads_policy", {"io_threads_policy": policy},
            words="must be one of shared, auto, supplementalPool, got %r" % (policy,))


# --- storage -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("storage", [[], None])
def test_no_storage(storage):
    hw = hardware()
    hw["storage"] = storage
    refused("nixperf_hardware.storage", hw=hw, words="is missing; a KubeVirt VM needs at least its root disk")


def test_storage_key_absent():
    hw = hardware()
    del hw["storage"]
    refused("nixperf_hardware.storage", hw=hw, words="is missing")


def test_a_volume_for_an_unknown_device():
    refused("kubevirt_vm_volumes", {"volumes": {"vdb": {"claim": "x"}}},
            words="names 'vdb', which is not a disk of nixperf_hardware.storage (allowed: vda)")


@pytest.mark.parametrize("volumes", [["vda"], "vda", 5])
def test_volumes_must_be_a_mapping(volumes):
    refused("kubevirt_vm_volumes", {"volumes": volumes}, words="must be a mapping of disk devices")


@pytest.mark.parametrize("storage_class", [None, "fast-ssd"])
def test_golden_image_becomes_a_data_volume(storage_class):
    source: Dict[str, Any] = {"golden_image": {"pvc": {"namespace": "images", "name": "nixos-plasma"}}}
    if storage_class:
        source["storage_class"] = storage_class
    manifest = build_ok({"name": "desk", "volumes": {"vda": source}})
    storage: Dict[str, Any] = {"resources": {"requests": {"storage": "100Gi"}}}
    if storage_class:
        storage["storageClassName"] = storage_class
    assert manifest["spec"]["dataVolumeTemplates"] == [
        {"metadata": {"name": "desk-vda"},
         "spec": {"source": {"pvc": {"namespace": "images", "name": "nixos-plasma"}}, "storage": storage}}]
    assert template_spec(manifest)["volumes"] == [{"name": "vda", "dataVolume": {"name": "desk-vda"}}]
    assert list(manifest["spec"]) == ["runStrategy", "dataVolumeTemplates", "template"]
    assert domain(manifest)["devices"]["disks"][0]["dedicatedIOThread"] is True


def test_golden_image_from_a_registry_with_the_disk_size():
    image = {"registry": {"url": "docker://registry.example/nixos:25.05"}}
    manifest = build_ok({"volumes": {"vda": {"golden_image": image}}},
                        hardware(storage=[{"device": "vda", "type": "virtio", "size_gb": 40}]))
    assert manifest["spec"]["dataVolumeTemplates"] == [
        {"metadata": {"name": "vm1-vda"}, "spec": {"source": image, "storage": {"resources": {"requests": {"storage": "40Gi"}}}}}]


def test_no_data_volume_templates_without_a_golden_image():
    assert "dataVolumeTemplates" not in build_ok()["spec"]


@pytest.mark.parametrize("image", [{}, {"pvc": {"name": "a"}, "http": {"url": "http://x"}}, "docker://x", ["pvc"], None])
def test_golden_image_must_be_one_source(image):
    refused("kubevirt_vm_volumes.vda.golden_image", {"volumes": {"vda": {"golden_image": image}}},
            words="must be one DataVolume source")


def test_golden_image_needs_the_disk_size():
    refused("nixperf_hardware.storage[0].size_gb", {"volumes": {"vda": {"golden_image": {"blank": {}}}}},
            hw=hardware(storage=[{"device": "vda", "type": "virtio"}]), words="is missing; a DataVolume imported")


def test_claim_and_golden_image_together():
    refused("kubevirt_vm_volumes.vda", {"volumes": {"vda": {"claim": "a", "golden_image": {"blank": {}}}}},
            words="sets both claim and golden_image")


@pytest.mark.parametrize("source", [{"storage_class": "fast"}, {"claim": "a", "storage_class": "fast"}])
def test_storage_class_without_golden_image(source):
    refused("kubevirt_vm_volumes.vda.storage_class", {"volumes": {"vda": source}},
            words="applies only to a disk imported from a golden_image")


@pytest.mark.parametrize("claim", ["Bad_Claim", "", "-pvc", 5, "a" * 254, "pvc/x"])
def test_bad_claim_name(claim):
    refused("kubevirt_vm_volumes.vda.claim", {"volumes": {"vda": {"claim": claim}}},
            words="must name a PersistentVolumeClaim in namespace ns (a DNS subdomain), got %r" % (claim,))


@pytest.mark.parametrize("claim", ["nixos-vm-pvc", "pvc.v1", "a" * 200])
def test_good_claim_names(claim):
    manifest = build_ok({"volumes": {"vda": {"claim": claim}}})
    assert template_spec(manifest)["volumes"] == [{"name": "vda", "persistentVolumeClaim": {"claimName": claim}}]


@pytest.mark.parametrize("source,unknown", [({"size": 5}, "size"), ({"claim": "a", "pvc": "b", "bus": "scsi"}, "bus, pvc")])
def test_unknown_volume_keys(source, unknown):
    refused("kubevirt_vm_volumes.vda", {"volumes": {"vda": source}},
            words="has unknown keys %s (known: claim, golden_image, storage_class, dedicated_io_thread)" % unknown)


@pytest.mark.parametrize("source", [None, {}])
def test_a_disk_without_a_volume_setting_gets_the_default_claim(source):
    manifest = build_ok({"name": "desk", "volumes": {"vda": source}})
    assert template_spec(manifest)["volumes"] == [{"name": "vda", "persistentVolumeClaim": {"claimName": "desk-vda"}}]


def test_a_scsi_root_disk_has_no_dedicated_io_thread():
    manifest = build_ok(hw=hardware(storage=[{"device": "sda", "type": "scsi", "size_gb": 50}]))
    assert domain(manifest)["devices"]["disks"] == [{"name": "sda", "disk": {"bus": "scsi"}, "bootOrder": 1}]
    assert S.summary(manifest)["disks"] == ["sda (scsi)"]


def test_dedicated_io_thread_on_a_scsi_disk_is_refused():
    refused("kubevirt_vm_volumes.sda.dedicated_io_thread", {"volumes": {"sda": {"dedicated_io_thread": True}}},
            hw=hardware(storage=[{"device": "sda", "type": "scsi", "size_gb": 50}]),
            words="needs a virtio disk; sda is on the scsi bus")


def test_a_disk_type_defaults_to_virtio():
    manifest = build_ok(hw=hardware(storage=[{"device": "vda", "size_gb": 50}]))
    assert domain(manifest)["devices"]["disks"][0]["disk"] == {"bus": "virtio"}


@pytest.mark.parametrize("kind", ["nvme", "ssd", "hdd", "emmc", "sata"])
def test_storage_types_that_are_no_vm_disk(kind):
    refused("nixperf_hardware.storage[0].type", hw=hardware(storage=[{"device": "vda", "type": kind, "size_gb": 50}]),
            words="is %r, which is no KubeVirt disk bus (allowed on a VM: virtio, scsi)" % kind)


def test_a_device_named_twice():
    refused("nixperf_hardware.storage[1].device",
            hw=hardware(storage=[{"device": "vda", "size_gb": 50}, {"device": "vda", "size_gb": 10}]), words="names vda twice")


@pytest.mark.parametrize("device", ["VDA", "sd_a", "", None, 5, "a" * 64, "-vda"])
def test_bad_device_names(device):
    refused("nixperf_hardware.storage[0].device", hw=hardware(storage=[{"device": device, "size_gb": 50}]),
            words="names a KubeVirt disk and must be a DNS label")


def test_a_second_disk():
    hw = hardware(storage=[{"device": "vda", "type": "virtio", "size_gb": 100},
                           {"device": "vdb", "type": "virtio", "size_gb": 20},
                           {"device": "sdc", "type": "scsi", "size_gb": 20}])
    manifest = build_ok({"volumes": {"vda": {"claim": "root"}}}, hw)
    assert domain(manifest)["devices"]["disks"] == [
        {"name": "vda", "disk": {"bus": "virtio"}, "dedicatedIOThread": True, "bootOrder": 1},
        {"name": "vdb", "disk": {"bus": "virtio"}},
        {"name": "sdc", "disk": {"bus": "scsi"}},
    ]
    assert template_spec(manifest)["volumes"] == [
        {"name": "vda", "persistentVolumeClaim": {"claimName": "root"}},
        {"name": "vdb", "persistentVolumeClaim": {"claimName": "vm1-vdb"}},
        {"name": "sdc", "persistentVolumeClaim": {"claimName": "vm1-sdc"}},
    ]
    assert S.summary(manifest)["disks"] == ["vda (virtio, dedicated IOThread)", "vdb (virtio)", "sdc (scsi)"]


def test_dedicated_io_thread_set_per_disk():
    hw = hardware(storage=[{"device": "vda", "size_gb": 100}, {"device": "vdb", "size_gb": 20}])
    manifest = build_ok({"volumes": {"vda": {"dedicated_io_thread": False}, "vdb": {"dedicated_io_thread": True}}}, hw)
    assert domain(manifest)["devices"]["disks"] == [
        {"name": "vda", "disk": {"bus": "virtio"}, "bootOrder": 1},
        {"name": "vdb", "disk": {"bus": "virtio"}, "dedicatedIOThread": True},
    ]


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_dedicated_io_thread_must_be_a_bool(value):
    refused("kubevirt_vm_volumes.vda.dedicated_io_thread", {"volumes": {"vda": {"dedicated_io_thread": value}}},
            words="must be true or false, got %r" % (value,))


@pytest.mark.parametrize("source", ["nixos-vm-pvc", 5, ["ab"]])
def test_a_volume_source_that_is_not_a_mapping(source):
    text = refused("kubevirt_vm_volumes.vda", {"volumes": {"vda": source}})
    assert "unknown keys" not in text


# --- network -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("settings", [{}, {"network": {"type": "pod"}}, {"network": {}}, {"network": None},
                                      {"network": {"type": "pod", "network_name": ""}}])
def test_the_pod_network(settings):
    manifest = build_ok(settings)
    assert domain(manifest)["devices"]["interfaces"] == [{"name": "default", "masquerade": {}, "model": "virtio"}]
    assert template_spec(manifest)["networks"] == [{"name": "default", "pod": {}}]


@pytest.mark.parametrize("name", ["br-desktops", "vm-net/br-desktops", "net.v1"])
def test_a_multus_network(name):
    manifest = build_ok({"network": {"type": "multus", "network_name": name}})
    assert domain(manifest)["devices"]["interfaces"] == [{"name": "default", "bridge": {}, "model": "virtio"}]
    assert template_spec(manifest)["networks"] == [{"name": "default", "multus": {"networkName": name}}]


@pytest.mark.parametrize("name", [None, "", "Bad_Name", "a/b/c", "/br", "ns/", 5])
def test_multus_needs_a_network_name(name):
    network: Dict[str, Any] = {"type": "multus"}
    if name is not None:
        network["network_name"] = name
    refused("kubevirt_vm_network.network_name", {"network": network},
            words="must name a NetworkAttachmentDefinition ([namespace/]name) for type multus, got %r" % (name,))


def test_a_network_name_with_the_pod_network():
    refused("kubevirt_vm_network.network_name", {"network": {"type": "pod", "network_name": "br"}},
            words="is for type multus only")


def test_unknown_network_keys():
    refused("kubevirt_vm_network", {"network": {"type": "pod", "mac": "x", "bridge": True}},
            words="has unknown keys bridge, mac (known: type, network_name)")


@pytest.mark.parametrize("kind", ["bridge", "Pod", None, 1])
def test_bad_network_type(kind):
    refused("kubevirt_vm_network.type", {"network": {"type": kind}}, words="must be one of pod, multus, got %r" % (kind,))


@pytest.mark.parametrize("network", ["pod", ["pod"], 1])
def test_network_must_be_a_mapping(network):
    refused("kubevirt_vm_network", {"network": network}, words="must be a mapping with type (pod, multus), got %r" % (network,))


# --- labels, annotations, node selector ----------------------------------------------------------------------------


def test_labels_on_the_vm_and_its_template():
    labels = {"app": "desktop", "example.com/tier": "gold", "env": "", "a.b-c_d": "A.b-C_9", "count": 5}
    manifest = build_ok({"labels": labels})
    plain = dict(labels, count="5")
    assert manifest["metadata"]["labels"] == dict(plain, **{"app.kubernetes.io/managed-by": "nixperf.tuning"})
    assert manifest["spec"]["template"]["metadata"]["labels"] == dict(plain, **{"kubevirt.io/domain": "vm1"})


def test_the_builder_owns_its_labels():
    manifest = build_ok({"labels": {"app.kubernetes.io/managed-by": "someone", "kubevirt.io/domain": "other"}})
    assert manifest["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "nixperf.tuning"
    assert manifest["spec"]["template"]["metadata"]["labels"]["kubevirt.io/domain"] == "vm1"


@pytest.mark.parametrize("var", ["labels", "annotations", "node_selector"])
@pytest.mark.parametrize("key", ["bad key", "-x", "x-", "a" * 64, "Example.com/x", "example.com/", "a/b/c", 5, "", "x/" + "a" * 64])
def test_keys_must_be_qualified_names(var, key):
    refused("kubevirt_vm_" + var, {var: {key: "v"}}, words="has %r, which is not a Kubernetes qualified name" % (key,))


@pytest.mark.parametrize("var", ["labels", "node_selector"])
@pytest.mark.parametrize("value", ["a b", "-x", "x-", "x" * 64, "a/b", "\u00e9"])
def test_label_values(var, value):
    refused("kubevirt_vm_" + var, {var: {"app": value}}, words="app has %r: a label value is empty or up to 63" % (value,))


@pytest.mark.parametrize("var", ["labels", "annotations", "node_selector"])
@pytest.mark.parametrize("value", [True, None, [1], {"a": "b"}, 1.5])
def test_values_must_be_strings(var, value):
    refused("kubevirt_vm_" + var, {var: {"app": value}}, words="app must be a string, got %r" % (value,))


@pytest.mark.parametrize("var", ["labels", "annotations", "node_selector"])
@pytest.mark.parametrize("value", [["app=x"], "app=x", 5])
def test_label_settings_must_be_mappings(var, value):
    refused("kubevirt_vm_" + var, {var: value}, words="must be a mapping of names to strings, got %r" % (value,))


def test_annotations_take_any_string():
    notes = {"example.com/note": "Any text: with spaces, / slashes and \u00e9 -", "empty": "", "n": 3}
    manifest = build_ok({"annotations": notes})
    assert manifest["metadata"]["annotations"] == dict(notes, n="3")
    assert "annotations" not in manifest["spec"]["template"]["metadata"]


def test_no_annotations_or_node_selector_by_default():
    manifest = build_ok()
    assert "annotations" not in manifest["metadata"]
    assert "nodeSelector" not in template_spec(manifest)


def test_node_selector_goes_to_the_template_spec():
    selector = {"kubernetes.io/hostname": "node-1", "cpumanager": "true"}
    manifest = build_ok({"node_selector": selector})
    assert template_spec(manifest)["nodeSelector"] == selector
    assert "nodeSelector" not in manifest["spec"] and "nodeSelector" not in manifest["metadata"]
    assert manifest["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "nixperf.tuning"}


def test_a_label_key_with_an_empty_prefix_is_refused():
    refused("kubevirt_vm_labels", {"labels": {"/app": "x"}}, words="which is not a Kubernetes qualified name")


# --- name, namespace, platform, plain settings ----------------------------------------------------------------------


def test_the_vm_is_named_after_its_host():
    manifest = build_ok(host="desk-01")
    assert manifest["metadata"]["name"] == "desk-01"
    assert manifest["spec"]["template"]["metadata"]["labels"]["kubevirt.io/domain"] == "desk-01"
    assert template_spec(manifest)["volumes"][0]["persistentVolumeClaim"]["claimName"] == "desk-01-vda"


def test_a_name_setting_wins_over_the_host():
    manifest = build_ok({"name": "plasma"}, host="Plasma_VM.example.com")
    assert manifest["metadata"]["name"] == "plasma"
    assert manifest["spec"]["template"]["metadata"]["labels"]["kubevirt.io/domain"] == "plasma"


@pytest.mark.parametrize("name", ["UPPER", "a" * 64, "-x", "x-", "x.y", "x_y", 5, ["x"]])
def test_invalid_names(name):
    refused("kubevirt_vm_name", {"name": name}, words="(%r) must be a DNS label" % (name,))


def test_an_invalid_host_name_needs_a_name_setting():
    refused("kubevirt_vm_name", host="Plasma_VM", words="('Plasma_VM') must be a DNS label")


def test_a_namespace_setting_wins_over_the_group_default():
    assert build_ok({"namespace": "vms"}, namespace="desktops")["metadata"]["namespace"] == "vms"
    assert build_ok({"namespace": "vms"}, namespace=None)["metadata"]["namespace"] == "vms"


@pytest.mark.parametrize("settings,default", [({}, None), ({}, ""), ({"namespace": "Bad_NS"}, "ns"), ({"namespace": "a.b"}, None),
                                              ({}, "a" * 64), ({"namespace": 5}, "ns")])
def test_a_bad_or_missing_namespace(settings, default):
    refused("kubevirt_vm_namespace", settings, namespace=default,
            words="must be a namespace name (a DNS label); set nixperf_kubevirt_namespace in the cluster group")


@pytest.mark.parametrize("virtualization", [None, {}, {"guest": True}, {"guest": True, "platform": "proxmox"},
                                            {"guest": False, "platform": "KubeVirt"}])
def test_only_kubevirt_guests_get_a_vm(virtualization):
    hw = hardware()
    hw["virtualization"] = virtualization
    refused("nixperf_hardware.virtualization.platform", hw=hw, words="only a host whose facts say kubevirt")


@pytest.mark.parametrize("memory", [None, {}, {"total_mib": "16384"}, {"total_mib": True}, {"total_mib": 16384.0}])
def test_guest_memory_is_required(memory):
    hw = hardware()
    hw["memory"] = memory
    refused("nixperf_hardware.memory.total_mib", hw=hw, words="is missing; it is the VM's guest memory")


def test_an_unknown_setting():
    text = refused("kubevirt_vm_gpu", {"gpu": "none", "zz": 1}, words="is not a kubevirt_vm setting (known: ")
    assert ", ".join("kubevirt_vm_" + k for k in S.DEFAULTS) in text


def test_none_settings_take_the_defaults():
    nones = {key: None for key in S.DEFAULTS}
    assert build_ok(nones) == build_ok({})


@pytest.mark.parametrize("strategy", ["Always", "Halted", "Manual", "RerunOnFailure", "Once"])
def test_run_strategies(strategy):
    manifest = build_ok({"run_strategy": strategy})
    assert manifest["spec"]["runStrategy"] == strategy
    assert S.summary(manifest)["run_strategy"] == strategy


@pytest.mark.parametrize("strategy", ["Running", "always", True])
def test_bad_run_strategy(strategy):
    refused("kubevirt_vm_run_strategy", {"run_strategy": strategy},
            words="must be one of Always, Halted, Manual, RerunOnFailure, Once, got %r" % (strategy,))


@pytest.mark.parametrize("video", ["virtio", "vga", "bochs", "cirrus", "ramfb"])
def test_video_types(video):
    assert domain(build_ok({"video": video}))["devices"]["video"] == {"type": video}


@pytest.mark.parametrize("video", ["qxl", "VGA", 1])
def test_bad_video_type(video):
    refused("kubevirt_vm_video", {"video": video}, words="must be one of virtio, vga, bochs, cirrus, ramfb, got %r" % (video,))


def test_tablet_false_removes_the_inputs():
    devices = domain(build_ok({"tablet": False}))["devices"]
    assert "inputs" not in devices
    assert devices["autoattachGraphicsDevice"] is True


@pytest.mark.parametrize("value", ["no", 0, "false"])
def test_tablet_must_be_a_bool(value):
    refused("kubevirt_vm_tablet", {"tablet": value}, words="must be true or false, got %r" % (value,))


class Tagged(str):
    """A str subclass, as the controller's templated (unsafe) strings are."""


def test_inventory_string_types_come_out_plain():
    manifest = build_ok({"name": Tagged("desk"), "labels": {Tagged("app"): Tagged("x")}}, host=Tagged("vm1"))
    labels = manifest["metadata"]["labels"]
    assert {type(manifest["metadata"]["name"])} == {type(k) for k in labels} == {type(v) for v in labels.values()} == {str}


def test_every_setting_at_once():
    hw = hardware(cores=8, threads=16, sockets=2,
                  storage=[{"device": "vda", "type": "virtio", "size_gb": 64}, {"device": "sdb", "type": "scsi", "size_gb": 8}])
    settings = {
        "name": "workstation", "namespace": "vms", "cpu_placement": "dedicated", "isolate_emulator_thread": False,
        "qos": "Guaranteed", "cpu_request": "16", "cpu_limit": 16, "memory_request": "16Gi", "memory_limit": "16384Mi",
        "cpu_model": "host-passthrough", "io_threads_policy": "supplementalPool", "supplemental_pool_threads": 2,
        "volumes": {"vda": {"golden_image": {"http": {"url": "https://images.example/nixos.qcow2"}}, "storage_class": "ceph"},
                    "sdb": {"claim": "scratch"}},
        "network": {"type": "multus", "network_name": "vms/br0"}, "run_strategy": "RerunOnFailure",
        "labels": {"team": "desk"}, "annotations": {"example.com/owner": "ops team"},
        "node_selector": {"kubevirt.io/schedulable": "true"}, "video": "vga", "tablet": False,
    }
    manifest = build_ok(settings, hw, namespace="other")
    assert S.summary(manifest) == {
        "vcpus": 16, "topology": "2 socket(s) x 4 core(s) x 2 thread(s)", "placement": "dedicated",
        "isolate_emulator_thread": False, "guest_memory": "16Gi", "qos": "Guaranteed", "io_threads_policy": "supplementalPool",
        "disks": ["vda (virtio, dedicated IOThread)", "sdb (scsi)"], "run_strategy": "RerunOnFailure",
    }
    assert manifest["metadata"] == {"name": "workstation", "namespace": "vms",
                                    "labels": {"team": "desk", "app.kubernetes.io/managed-by": "nixperf.tuning"},
                                    "annotations": {"example.com/owner": "ops team"}}
    assert domain(manifest)["cpu"] == {"sockets": 2, "cores": 4, "threads": 2, "dedicatedCpuPlacement": True,
                                       "model": "host-passthrough"}
    assert domain(manifest)["resources"]["limits"] == {"cpu": "16", "memory": "16Gi"}
    assert manifest["spec"]["dataVolumeTemplates"][0]["metadata"] == {"name": "workstation-vda"}
    assert template_spec(manifest)["nodeSelector"] == {"kubevirt.io/schedulable": "true"}


# --- restart_paths -------------------------------------------------------------------------------------------------


def running_vmi(manifest: Mapping[str, Any]) -> Dict[str, Any]:
    """A VMI as KubeVirt runs the manifest: its template plus the fields KubeVirt adds, and a healthy status."""
    template = copy.deepcopy(manifest["spec"]["template"])
    spec = template["spec"]
    cpu = spec["domain"]["cpu"]
    spec["domain"]["firmware"] = {"uuid": "4b1f5c1e-0000-4000-8000-000000000000"}
    spec["domain"]["machine"] = {"type": "q35"}
    cpu.setdefault("model", "host-model")
    spec["domain"]["devices"]["disks"][0]["serial"] = "root"
    spec["terminationGracePeriodSeconds"] = 180
    labels = dict(template["metadata"]["labels"], **{"kubevirt.io/nodeName": "node-1"})
    return {
        "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
        "metadata": {"name": manifest["metadata"]["name"], "labels": labels},
        "spec": spec,
        "status": {"phase": "Running", "qosClass": S.summary(manifest)["qos"],
                   "currentCPUTopology": {"sockets": cpu["sockets"], "cores": cpu["cores"], "threads": cpu["threads"]},
                   "memory": {"guestCurrent": spec["domain"]["memory"]["guest"], "guestAtBoot": "16Gi"}},
    }


def plasma() -> Dict[str, Any]:
    return build_ok(PLASMA_SETTINGS, copy.deepcopy(PLASMA_HW), host="plasma-vm-01", namespace="desktops")


DELETE = object()


def changed(node: Dict[str, Any], path: str, value: Any) -> Dict[str, Any]:
    """``node`` with the value at a dotted path (``[i]`` for list items) set, or removed with DELETE."""
    out = copy.deepcopy(node)
    parts: List[Any] = []
    for part in path.split("."):
        if "[" in part:
            head, index = part[:-1].split("[")
            parts += [head, int(index)]
        else:
            parts.append(part)
    where: Any = out
    for part in parts[:-1]:
        where = where[part]
    if value is DELETE:
        del where[parts[-1]]
    else:
        where[parts[-1]] = value
    return out


@pytest.mark.parametrize("vmi", [None, {}])
def test_no_vmi_no_restart(vmi):
    assert S.restart_paths(plasma(), vmi) == []


def test_a_vmi_equal_to_the_template_needs_no_restart():
    manifest = plasma()
    template = copy.deepcopy(manifest["spec"]["template"])
    assert S.restart_paths(manifest, {"metadata": template["metadata"], "spec": template["spec"]}) == []


def test_keys_kubevirt_adds_on_the_vmi_are_ignored():
    manifest = plasma()
    assert S.restart_paths(manifest, running_vmi(manifest)) == []


def test_quantity_equal_values_need_no_restart():
    manifest = plasma()
    vmi = changed(running_vmi(manifest), "spec.domain.memory.guest", "16384Mi")
    vmi = changed(vmi, "spec.domain.resources.requests.cpu", 8)
    vmi = changed(vmi, "spec.domain.resources.limits.cpu", "8000m")
    vmi = changed(vmi, "spec.domain.resources.limits.memory", "17179869184")
    assert S.restart_paths(manifest, vmi) == []


@pytest.mark.parametrize("path,value,want", [
    ("spec.domain.cpu.cores", 4, ["spec.template.spec.domain.cpu.cores"]),
    ("spec.domain.cpu.cores", "8", ["spec.template.spec.domain.cpu.cores"]),
    ("spec.domain.cpu.dedicatedCpuPlacement", DELETE, ["spec.template.spec.domain.cpu.dedicatedCpuPlacement"]),
    ("spec.domain.memory.guest", "8Gi", ["spec.template.spec.domain.memory.guest"]),
    ("spec.domain.resources.requests.cpu", True, ["spec.template.spec.domain.resources.requests.cpu"]),
    ("spec.domain.ioThreadsPolicy", "shared", ["spec.template.spec.domain.ioThreadsPolicy"]),
    ("spec.domain.devices.disks", [], ["spec.template.spec.domain.devices.disks"]),
    ("spec.domain.devices.disks[0].dedicatedIOThread", False, ["spec.template.spec.domain.devices.disks[0].dedicatedIOThread"]),
    ("spec.domain.devices.disks[0].disk", "virtio", ["spec.template.spec.domain.devices.disks[0].disk"]),
    ("spec.domain.devices.video.type", "vga", ["spec.template.spec.domain.devices.video.type"]),
    ("spec.volumes[0].persistentVolumeClaim.claimName", "other", ["spec.template.spec.volumes[0].persistentVolumeClaim.claimName"]),
    ("spec.networks", {"name": "default"}, ["spec.template.spec.networks"]),
    ("spec.domain.firmware", DELETE, []),  # a key the template does not set
    ("spec.domain.cpu.model", "Skylake-Client-IBRS", []),
])
def test_a_changed_vmi_names_its_paths(path, value, want):
    manifest = plasma()
    assert S.restart_paths(manifest, changed(running_vmi(manifest), path, value)) == want


def test_a_list_length_change():
    manifest = plasma()
    vmi = running_vmi(manifest)
    vmi["spec"]["domain"]["devices"]["disks"].append({"name": "cloudinit", "disk": {"bus": "virtio"}})
    vmi["spec"]["volumes"].append({"name": "cloudinit", "cloudInitNoCloud": {"userData": "#cloud-config"}})
    assert S.restart_paths(manifest, vmi) == ["spec.template.spec.domain.devices.disks", "spec.template.spec.volumes"]


@pytest.mark.parametrize("labels,want", [
    ({"kubevirt.io/domain": "other"}, ["spec.template.metadata.labels.kubevirt.io/domain"]),
    ({}, ["spec.template.metadata.labels.kubevirt.io/domain"]),
    (None, ["spec.template.metadata.labels.kubevirt.io/domain"]),
])
def test_a_label_difference(labels, want):
    manifest = plasma()
    vmi = running_vmi(manifest)
    vmi["metadata"]["labels"] = labels
    assert S.restart_paths(manifest, vmi) == want


def test_a_vmi_without_spec_or_metadata():
    manifest = plasma()
    assert S.restart_paths(manifest, {"status": {"phase": "Pending"}}) == [
        "spec.template.spec.domain", "spec.template.spec.networks", "spec.template.spec.volumes",
        "spec.template.metadata.labels.kubevirt.io/domain"]


def test_several_differences_in_template_order():
    manifest = plasma()
    vmi = changed(running_vmi(manifest), "spec.domain.cpu.cores", 4)
    vmi = changed(vmi, "spec.domain.memory.guest", "8Gi")
    vmi = changed(vmi, "spec.volumes[0].persistentVolumeClaim.claimName", "x")
    assert S.restart_paths(manifest, vmi) == ["spec.template.spec.domain.cpu.cores", "spec.template.spec.domain.memory.guest",
                                              "spec.template.spec.volumes[0].persistentVolumeClaim.claimName"]


# --- vmi_problems --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("vmi", [None, {}])
def test_no_vmi_is_one_problem(vmi):
    assert S.vmi_problems(plasma(), vmi) == ["no VirtualMachineInstance plasma-vm-01 is running"]


def test_a_good_vmi_has_no_problems():
    manifest = plasma()
    assert S.vmi_problems(manifest, running_vmi(manifest)) == []


@pytest.mark.parametrize("path,value", [
    ("status.currentCPUTopology", DELETE),
    ("status.currentCPUTopology", {"cores": 8}),  # sockets and threads default to 1
    ("status.memory", DELETE),
    ("status.memory.guestCurrent", "16384Mi"),
    ("spec.domain.devices.disks[0].disk", {"bus": "virtio", "cache": "none"}),
])
def test_what_is_no_problem(path, value):
    manifest = plasma()
    assert S.vmi_problems(manifest, changed(running_vmi(manifest), path, value)) == []


@pytest.mark.parametrize("path,value,problem", [
    ("status.phase", "Scheduling", "phase is Scheduling, not Running"),
    ("status.phase", DELETE, "phase is None, not Running"),
    ("status.qosClass", "Burstable",
     "QoS class is Burstable, not Guaranteed: the pod's requests and limits differ from the VM's"),
    ("spec.domain.cpu.dedicatedCpuPlacement", DELETE, "spec.domain.cpu.dedicatedCpuPlacement is not set on the running VMI"),
    ("spec.domain.cpu.dedicatedCpuPlacement", False, "spec.domain.cpu.dedicatedCpuPlacement is not set on the running VMI"),
    ("spec.domain.cpu.isolateEmulatorThread", DELETE, "spec.domain.cpu.isolateEmulatorThread is not set on the running VMI"),
    ("status.currentCPUTopology", {"sockets": 1, "cores": 4, "threads": 2},
     "CPU topology is 1/4/2 (sockets/cores/threads), not 1/8/1"),
    ("status.currentCPUTopology", {"sockets": 2, "cores": 8}, "CPU topology is 2/8/1 (sockets/cores/threads), not 1/8/1"),
    ("status.memory.guestCurrent", "8Gi", "guest memory is 8Gi, not 16Gi"),
    ("spec.domain.ioThreadsPolicy", "shared", "ioThreadsPolicy is shared, not auto"),
    ("spec.domain.ioThreadsPolicy", DELETE, "ioThreadsPolicy is None, not auto"),
    ("spec.domain.devices.disks", [], "disk vda is missing"),
    ("spec.domain.devices.disks[0].name", "rootdisk", "disk vda is missing"),
    ("spec.domain.devices.disks[0].dedicatedIOThread", DELETE, "disk vda has no dedicated IOThread"),
])
def test_each_problem_alone(path, value, problem):
    manifest = plasma()
    assert S.vmi_problems(manifest, changed(running_vmi(manifest), path, value)) == [problem]


def test_a_vmi_without_spec_lists_every_problem():
    manifest = plasma()
    assert S.vmi_problems(manifest, {"status": {"phase": "Running", "qosClass": "Guaranteed"}}) == [
        "spec.domain.cpu.dedicatedCpuPlacement is not set on the running VMI",
        "spec.domain.cpu.isolateEmulatorThread is not set on the running VMI",
        "ioThreadsPolicy is None, not auto",
        "disk vda is missing",
    ]


def test_a_shared_burstable_vmi_is_not_held_to_dedicated_cpus():
    manifest = build_ok(dict(SHARED), hardware(cores=4, threads=4, mib=8192))
    vmi = running_vmi(manifest)
    assert vmi["status"]["qosClass"] == "Burstable"
    assert S.vmi_problems(manifest, vmi) == []
    assert S.vmi_problems(manifest, changed(vmi, "status.qosClass", "Guaranteed")) == [
        "QoS class is Guaranteed, not Burstable: the pod's requests and limits differ from the VM's"]


def test_a_scsi_disk_needs_no_dedicated_io_thread():
    manifest = build_ok(hw=hardware(storage=[{"device": "sda", "type": "scsi", "size_gb": 50}]))
    vmi = running_vmi(manifest)
    assert "dedicatedIOThread" not in vmi["spec"]["domain"]["devices"]["disks"][0]
    assert S.vmi_problems(manifest, vmi) == []


# --- filters -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["kubevirt_restart_paths", "kubevirt_vmi_problems"])
@pytest.mark.parametrize("value", [None, [], "VirtualMachine", {}, {"kind": "VirtualMachineInstance"}])
def test_filters_refuse_what_is_not_a_vm(name, value):
    func = F.FilterModule().filters()[name]
    with pytest.raises(AnsibleFilterError, match=r"^%s: the input must be a VirtualMachine manifest" % name):
        func(value)


def test_the_filters_are_registered():
    assert F.FilterModule().filters() == {"kubevirt_restart_paths": F.kubevirt_restart_paths,
                                          "kubevirt_vmi_problems": F.kubevirt_vmi_problems}


def test_filters_pass_through():
    manifest = plasma()
    good = running_vmi(manifest)
    bad = changed(changed(good, "spec.domain.cpu.cores", 4), "status.phase", "Failed")
    assert F.kubevirt_restart_paths(manifest) == []
    assert F.kubevirt_restart_paths(manifest, {}) == []
    assert F.kubevirt_restart_paths(manifest, good) == []
    assert F.kubevirt_restart_paths(manifest, bad) == S.restart_paths(manifest, bad) == ["spec.template.spec.domain.cpu.cores"]
    assert F.kubevirt_vmi_problems(manifest) == ["no VirtualMachineInstance plasma-vm-01 is running"]
    assert F.kubevirt_vmi_problems(manifest, {}) == ["no VirtualMachineInstance plasma-vm-01 is running"]
    assert F.kubevirt_vmi_problems(manifest, good) == []
    assert F.kubevirt_vmi_problems(manifest, bad) == S.vmi_problems(manifest, bad) == ["phase is Failed, not Running"]
