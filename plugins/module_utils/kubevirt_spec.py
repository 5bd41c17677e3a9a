# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A KubeVirt VM's ``kubevirt.io/v1`` VirtualMachine, built from the same facts that tune its guest (pure).

The VM's host file is the one source: ``nixperf_hardware.cpu`` (sockets, cores, threads) is the vCPU topology,
``nixperf_hardware.memory.total_mib`` the guest memory, ``nixperf_hardware.storage`` the disks (``virtio`` or
``scsi`` bus, size).  The ``kubevirt_vm_*`` variables say how the VM sits on the cluster: dedicated or shared CPUs,
QoS class, IOThreads, where each disk's volume comes from, network, run strategy, labels, node selector, video.

Before anything is built, the rules KubeVirt's admission webhook enforces (``pkg/virt-api/webhooks/validating-
webhook/admitters/vmi-create-admitter.go``, ``vms-admitter.go``, ``pkg/storage/admitters/disks.go``) are checked,
plus a few of the collection's own where KubeVirt would accept a VM that does not do what its facts say (a
dedicated-CPU VM that is not Guaranteed, guest memory below its request).  Every error names the host, the
variable and what is allowed.  ``restart_paths`` and ``vmi_problems`` compare the wanted VM with the running VMI.
"""
from __future__ import annotations

import re
from fractions import Fraction
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

MANAGER = "nixperf.tuning"
PLACEMENTS = ("dedicated", "shared")
QOS_CLASSES = ("Guaranteed", "Burstable")
IO_THREADS_POLICIES = ("shared", "auto", "supplementalPool")
RUN_STRATEGIES = ("Always", "Halted", "Manual", "RerunOnFailure", "Once")
NETWORKS = ("pod", "multus")
# amd64 video models the VMI admitter accepts (pkg/virt-api/webhooks/amd64.go)
VIDEO_TYPES = ("virtio", "vga", "bochs", "cirrus", "ramfb")
# nixperf_hardware.storage type -> KubeVirt disk bus; other storage types are not VM disks
BUSES = {"virtio": "virtio", "scsi": "scsi"}
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
DNS_SUBDOMAIN = re.compile(r"(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?")
QUANTITY = re.compile(r"([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?")
SUFFIX = {None: 1, "m": Fraction(1, 1000), "k": 10 ** 3, "M": 10 ** 6, "G": 10 ** 9, "T": 10 ** 12, "P": 10 ** 15,
          "E": 10 ** 18, "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60}
MIB = 2 ** 20
# The VMI admitter's smallest memory request (validateMemoryRequestsNegativeOrNull: 1M)
MIN_MEMORY = 10 ** 6
# A Burstable VM's CPU request when none is given: a quarter of its vCPUs (at least 100m)
BURSTABLE_CPU_SHARE = Fraction(1, 4)

# Every kubevirt_vm_* setting with its default (None: derived from the facts or the other settings).
DEFAULTS: Dict[str, Any] = {
    "name": None,
    "namespace": None,
    "cpu_placement": "dedicated",
    "isolate_emulator_thread": None,
    "qos": "Guaranteed",
    "cpu_request": None,
    "cpu_limit": None,
    "memory_request": None,
    "memory_limit": None,
    "cpu_model": None,
    "io_threads_policy": "auto",
    "supplemental_pool_threads": None,
    "volumes": {},
    "network": {"type": "pod"},
    "run_strategy": "Always",
    "labels": {},
    "annotations": {},
    "node_selector": {},
    "video": "virtio",
    "tablet": True,
}


class SpecError(ValueError):
    """Settings or facts KubeVirt would refuse, or that would not make the VM the facts describe."""


def quantity(value: Any) -> Fraction:
    """A Kubernetes quantity (``16Gi``, ``1500m``, ``8``, 8) as an exact number; ValueError when it is none."""
    if isinstance(value, bool):
        raise ValueError("%r is not a quantity" % (value,))
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(value).limit_denominator(1000)
    m = QUANTITY.fullmatch(str(value).strip())
    if not m:
        raise ValueError("%r is not a quantity" % (value,))
    return Fraction(m.group(1)) * SUFFIX[m.group(2)]


def memory_text(size: Fraction) -> str:
    """Bytes as the shortest exact binary quantity (``16Gi``, ``1536Mi``, ``1000000``)."""
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        unit = SUFFIX[suffix]
        if size >= unit and size % unit == 0:
            return "%d%s" % (size // unit, suffix)
    return "%d" % size if size.denominator == 1 else "%dm" % (size * 1000)


def cpu_text(cpus: Fraction) -> str:
    """CPUs as a quantity: ``8`` when whole, else millicores (``1500m``)."""
    return "%d" % cpus if cpus.denominator == 1 else "%dm" % (cpus * 1000)


class _Spec:
    """One VM's settings checked against its facts; ``fail`` names host and variable."""

    def __init__(self, host: str, hardware: Mapping[str, Any], settings: Mapping[str, Any]) -> None:
        self.host = host
        self.hw = hardware
        unknown = sorted(set(settings) - set(DEFAULTS))
        if unknown:
            raise self.fail(unknown[0], "is not a kubevirt_vm setting (known: %s)"
                            % ", ".join("kubevirt_vm_" + k for k in DEFAULTS))
        self.s = dict(DEFAULTS)
        self.s.update({k: v for k, v in settings.items() if v is not None})

    def fail(self, var: str, problem: str) -> SpecError:
        name = var if var.startswith("nixperf_") else "kubevirt_vm_" + var
        return SpecError("host %s: %s %s" % (self.host, name, problem))

    def choice(self, var: str, allowed: Sequence[str]) -> str:
        value = self.s[var]
        if value not in allowed:
            raise self.fail(var, "must be one of %s, got %r" % (", ".join(allowed), value))
        return value

    def flag(self, var: str) -> bool:
        value = self.s[var]
        if not isinstance(value, bool):
            raise self.fail(var, "must be true or false, got %r" % (value,))
        return value

    def amount(self, var: str, value: Any) -> Fraction:
        try:
            out = quantity(value)
        except ValueError:
            raise self.fail(var, "must be a Kubernetes quantity such as 8, 1500m or 16Gi, got %r" % (value,)) from None
        if out <= 0:
            raise self.fail(var, "must be greater than 0, got %r" % (value,))
        if var.startswith("cpu_") and (out * 1000).denominator != 1:
            raise self.fail(var, "must be a whole number of millicores (Kubernetes keeps no finer CPU amounts), got %r"
                            % (value,))
        return out

    def mapping(self, var: str, check_keys: bool = True, values: Optional[re.Pattern] = LABEL_VALUE) -> Dict[str, str]:
        value = self.s[var]
        if not isinstance(value, Mapping):
            raise self.fail(var, "must be a mapping of names to strings, got %r" % (value,))
        out: Dict[str, str] = {}
        for key, item in value.items():
            if not isinstance(key, str) or (check_keys and not qualified_name(key)):
                raise self.fail(var, "has %r, which is not a Kubernetes qualified name ([prefix/]name: a DNS "
                                "subdomain prefix, a name of up to 63 letters, digits, '-', '_', '.')" % (key,))
            if isinstance(item, bool) or not isinstance(item, (str, int)):
                raise self.fail(var, "%s must be a string, got %r" % (key, item))
            item = str(item)
            if values is not None and not values.fullmatch(item):
                raise self.fail(var, "%s has %r: a label value is empty or up to 63 letters, digits, '-', '_', "
                                "'.', starting and ending with a letter or digit" % (key, item))
            out[key] = item
        return out


def qualified_name(key: str) -> bool:
    """A Kubernetes qualified name: ``[prefix/]name``, the prefix (when there is a '/') a DNS subdomain."""
    if "/" not in key:
        return bool(LABEL_NAME.fullmatch(key))
    prefix, name = key.split("/", 1)
    return bool(LABEL_NAME.fullmatch(name)) and bool(DNS_SUBDOMAIN.fullmatch(prefix))


def _topology(sp: _Spec) -> Tuple[int, int, int]:
    """(sockets, cores per socket, threads per core) from ``nixperf_hardware.cpu``."""
    cpu = sp.hw.get("cpu") or {}
    for key in ("cores", "threads"):
        if not isinstance(cpu.get(key), int) or isinstance(cpu.get(key), bool):
            raise sp.fail("nixperf_hardware.cpu." + key, "is missing; a KubeVirt VM's vCPU topology comes from "
                          "cpu.sockets, cpu.cores (all cores) and cpu.threads (all vCPUs) in its host file")
    sockets = cpu.get("sockets") or 1
    cores, threads = cpu["cores"], cpu["threads"]
    if cores % sockets:
        raise sp.fail("nixperf_hardware.cpu.cores", "(%d) must be a multiple of cpu.sockets (%d): each socket has "
                      "as many cores" % (cores, sockets))
    if threads % cores:
        raise sp.fail("nixperf_hardware.cpu.threads", "(%d) must be a multiple of cpu.cores (%d): each core has as "
                      "many threads (allowed: %s)" % (threads, cores, ", ".join(str(cores * n) for n in (1, 2))))
    return sockets, cores // sockets, threads // cores


def _resources(sp: _Spec, vcpus: int, guest: Fraction, dedicated: bool) -> Dict[str, Dict[str, str]]:
    qos = sp.choice("qos", QOS_CLASSES)
    if dedicated and qos != "Guaranteed":
        raise sp.fail("qos", "must be Guaranteed when kubevirt_vm_cpu_placement is dedicated: the kubelet's static "
                      "CPU manager pins CPUs only for Guaranteed pods (allowed: Guaranteed, or cpu_placement shared)")
    cpu_limit = sp.amount("cpu_limit", sp.s["cpu_limit"]) if sp.s["cpu_limit"] is not None else Fraction(vcpus)
    if sp.s["cpu_request"] is not None:
        cpu_request = sp.amount("cpu_request", sp.s["cpu_request"])
    elif qos == "Guaranteed":
        cpu_request = cpu_limit
    else:
        cpu_request = max(Fraction(vcpus) * BURSTABLE_CPU_SHARE, Fraction(1, 10))
    mem_request = sp.amount("memory_request", sp.s["memory_request"]) if sp.s["memory_request"] is not None else guest
    mem_limit = sp.amount("memory_limit", sp.s["memory_limit"]) if sp.s["memory_limit"] is not None else guest
    if mem_request < MIN_MEMORY:
        raise sp.fail("memory_request", "(%s) must be at least 1M, the smallest request KubeVirt admits"
                      % memory_text(mem_request))
    if cpu_request > cpu_limit:
        if sp.s["cpu_request"] is None:
            raise sp.fail("cpu_limit", "(%s) must not be below the CPU request (%s, a quarter of the vCPUs when "
                          "Burstable; set kubevirt_vm_cpu_request too)" % (cpu_text(cpu_limit), cpu_text(cpu_request)))
        raise sp.fail("cpu_request", "(%s) must not be greater than kubevirt_vm_cpu_limit (%s)"
                      % (cpu_text(cpu_request), cpu_text(cpu_limit)))
    if mem_request > mem_limit:
        if sp.s["memory_request"] is None:
            raise sp.fail("memory_limit", "(%s) must not be below the memory request (%s, the guest memory; set "
                          "kubevirt_vm_memory_request too)" % (memory_text(mem_limit), memory_text(mem_request)))
        raise sp.fail("memory_request", "(%s) must not be greater than kubevirt_vm_memory_limit (%s)"
                      % (memory_text(mem_request), memory_text(mem_limit)))
    if not mem_request <= guest <= mem_limit:
        raise sp.fail("nixperf_hardware.memory.total_mib", "(guest memory %s) must lie between the memory request "
                      "(kubevirt_vm_memory_request, %s) and limit (kubevirt_vm_memory_limit, %s): above the limit the "
                      "guest is killed when it uses its memory, below the request the pod reserves memory the guest "
                      "never sees" % (memory_text(guest), memory_text(mem_request), memory_text(mem_limit)))
    if qos == "Guaranteed" and (cpu_request != cpu_limit or mem_request != mem_limit):
        which = "cpu" if cpu_request != cpu_limit else "memory"
        raise sp.fail("%s_request" % which, "must equal kubevirt_vm_%s_limit for Guaranteed QoS (requests == limits "
                      "for cpu and memory); got %s and %s (allowed: equal values, or kubevirt_vm_qos Burstable)"
                      % (which, *((cpu_text(cpu_request), cpu_text(cpu_limit)) if which == "cpu"
                                  else (memory_text(mem_request), memory_text(mem_limit)))))
    if qos == "Burstable" and cpu_request == cpu_limit and mem_request == mem_limit:
        raise sp.fail("qos", "is Burstable, but requests equal limits for cpu (%s) and memory (%s), which Kubernetes "
                      "classes as Guaranteed: set kubevirt_vm_cpu_request or kubevirt_vm_memory_request lower, or "
                      "kubevirt_vm_qos Guaranteed" % (cpu_text(cpu_limit), memory_text(mem_limit)))
    if dedicated:
        for var, value in (("cpu_limit", cpu_limit), ("cpu_request", cpu_request)):
            if value.denominator != 1:
                raise sp.fail(var, "(%s) must be a whole number of CPUs when kubevirt_vm_cpu_placement is dedicated"
                              % cpu_text(value))
        if cpu_limit != vcpus:
            raise sp.fail("cpu_limit", "(%s) must equal the vCPU count (%d, from nixperf_hardware.cpu) when CPUs are "
                          "dedicated: set the count once, in the facts (allowed: %d, or leave it unset)"
                          % (cpu_text(cpu_limit), vcpus, vcpus))
    return {"requests": {"cpu": cpu_text(cpu_request), "memory": memory_text(mem_request)},
            "limits": {"cpu": cpu_text(cpu_limit), "memory": memory_text(mem_limit)}}


Entries = List[Dict[str, Any]]


def _storage(sp: _Spec, name: str, namespace: str) -> Tuple[Entries, Entries, Entries]:
    """(disks, volumes, dataVolumeTemplates) from ``nixperf_hardware.storage`` and ``kubevirt_vm_volumes``."""
    storage = sp.hw.get("storage") or []
    if not storage:
        raise sp.fail("nixperf_hardware.storage", "is missing; a KubeVirt VM needs at least its root disk there "
                      "(device, type virtio or scsi, size_gb)")
    sources = sp.s["volumes"]
    if not isinstance(sources, Mapping):
        raise sp.fail("volumes", "must be a mapping of disk devices (from nixperf_hardware.storage) to volume "
                      "sources, got %r" % (sources,))
    devices = [d.get("device") for d in storage]
    for device in sources:
        if device not in devices:
            raise sp.fail("volumes", "names %r, which is not a disk of nixperf_hardware.storage (allowed: %s)"
                          % (device, ", ".join(map(str, devices))))
    disks: List[Dict[str, Any]] = []
    volumes: List[Dict[str, Any]] = []
    templates: List[Dict[str, Any]] = []
    seen: List[str] = []
    for index, entry in enumerate(storage):
        device = entry.get("device")
        var = "volumes.%s" % device
        if not isinstance(device, str) or not DNS_LABEL.fullmatch(device):
            raise sp.fail("nixperf_hardware.storage[%d].device" % index, "(%r) names a KubeVirt disk and must be a "
                          "DNS label (lower-case letters, digits, '-', at most 63)" % (device,))
        if device in seen:
            raise sp.fail("nixperf_hardware.storage[%d].device" % index, "names %s twice" % device)
        seen.append(device)
        kind = entry.get("type", "virtio")
        if kind not in BUSES:
            raise sp.fail("nixperf_hardware.storage[%d].type" % index, "is %r, which is no KubeVirt disk bus "
                          "(allowed on a VM: %s)" % (kind, ", ".join(BUSES)))
        bus = BUSES[kind]
        source = sources.get(device) or {}
        if not isinstance(source, Mapping):
            raise sp.fail(var, "must be a mapping with claim, or golden_image and storage_class (and "
                          "dedicated_io_thread), got %r" % (source,))
        source = dict(source)
        unknown = sorted(set(source) - {"claim", "golden_image", "storage_class", "dedicated_io_thread"})
        if unknown:
            raise sp.fail(var, "has unknown keys %s (known: claim, golden_image, storage_class, dedicated_io_thread)"
                          % ", ".join(map(str, unknown)))
        dedicated_io = source.get("dedicated_io_thread", index == 0 and bus == "virtio")
        if not isinstance(dedicated_io, bool):
            raise sp.fail(var + ".dedicated_io_thread", "must be true or false, got %r" % (dedicated_io,))
        if dedicated_io and bus != "virtio":
            raise sp.fail(var + ".dedicated_io_thread", "needs a virtio disk; %s is on the %s bus (KubeVirt: "
                          "IOThreads are not supported for disks on a %s bus)" % (device, bus, bus))
        disk: Dict[str, Any] = {"name": device, "disk": {"bus": bus}}
        if dedicated_io:
            disk["dedicatedIOThread"] = True
        if index == 0:
            disk["bootOrder"] = 1
        disks.append(disk)
        if "claim" in source and "golden_image" in source:
            raise sp.fail(var, "sets both claim and golden_image: a disk comes from an existing claim or is imported "
                          "from a golden image into a new DataVolume, not both")
        if "golden_image" in source:
            image = source["golden_image"]
            if not isinstance(image, Mapping) or len(image) != 1:
                raise sp.fail(var + ".golden_image", "must be one DataVolume source, e.g. {pvc: {namespace: "
                              "images, name: nixos-plasma}} or {registry: {url: 'docker://...'}}, got %r" % (image,))
            size = entry.get("size_gb")
            if not isinstance(size, int):
                raise sp.fail("nixperf_hardware.storage[%d].size_gb" % index, "is missing; a DataVolume imported "
                              "from a golden image needs its size")
            dv_name = "%s-%s" % (name, device)
            storage_spec: Dict[str, Any] = {"resources": {"requests": {"storage": "%dGi" % size}}}
            if source.get("storage_class"):
                storage_spec["storageClassName"] = str(source["storage_class"])
            templates.append({"metadata": {"name": dv_name},
                              "spec": {"source": _plain(image), "storage": storage_spec}})
            volumes.append({"name": device, "dataVolume": {"name": dv_name}})
        else:
            if "storage_class" in source:
                raise sp.fail(var + ".storage_class", "applies only to a disk imported from a golden_image; an "
                              "existing claim already has its storage class")
            claim = source.get("claim", "%s-%s" % (name, device))
            if not isinstance(claim, str) or not DNS_SUBDOMAIN.fullmatch(claim):
                raise sp.fail(var + ".claim", "must name a PersistentVolumeClaim in namespace %s (a DNS subdomain), "
                              "got %r" % (namespace, claim))
            volumes.append({"name": device, "persistentVolumeClaim": {"claimName": claim}})
    return disks, volumes, templates


def _plain(value: Any) -> Any:
    """Inventory data (YAML mappings, lists, scalars, the controller's tagged strings) as plain JSON values."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    for kind in (str, int, float):
        if isinstance(value, kind):
            return kind(value)
    return value


def _network(sp: _Spec) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """(interface, network): the pod network behind masquerade, or a Multus network on a bridge."""
    net = sp.s["network"]
    if not isinstance(net, Mapping):
        raise sp.fail("network", "must be a mapping with type (%s), got %r" % (", ".join(NETWORKS), net))
    unknown = sorted(set(net) - {"type", "network_name"})
    if unknown:
        raise sp.fail("network", "has unknown keys %s (known: type, network_name)" % ", ".join(map(str, unknown)))
    kind = net.get("type", "pod")
    if kind not in NETWORKS:
        raise sp.fail("network.type", "must be one of %s, got %r" % (", ".join(NETWORKS), kind))
    if kind == "pod":
        if net.get("network_name"):
            raise sp.fail("network.network_name", "is for type multus only; the pod network has no name")
        return ({"name": "default", "masquerade": {}, "model": "virtio"}, {"name": "default", "pod": {}})
    target = net.get("network_name")
    if not isinstance(target, str) or not all(DNS_SUBDOMAIN.fullmatch(p) for p in target.split("/", 1)):
        raise sp.fail("network.network_name", "must name a NetworkAttachmentDefinition ([namespace/]name) for type "
                      "multus, got %r" % (target,))
    return ({"name": "default", "bridge": {}, "model": "virtio"},
            {"name": "default", "multus": {"networkName": target}})


def build(host: str, hardware: Mapping[str, Any], settings: Mapping[str, Any],
          namespace: Optional[str] = None) -> Dict[str, Any]:
    """The VirtualMachine for ``host``: ``hardware`` is its checked ``nixperf_hardware``, ``settings`` its
    ``kubevirt_vm_*`` values without the prefix, ``namespace`` the cluster group's default."""
    sp = _Spec(host, hardware, settings)
    platform = (hardware.get("virtualization") or {}).get("platform")
    if platform != "kubevirt":
        raise sp.fail("nixperf_hardware.virtualization.platform", "is %r; only a host whose facts say kubevirt gets "
                      "a VirtualMachine (allowed: kubevirt)" % (platform,))
    name = sp.s["name"] or host
    if not isinstance(name, str) or not DNS_LABEL.fullmatch(name):
        raise sp.fail("name", "(%r) must be a DNS label: lower-case letters, digits and '-', at most 63, as KubeVirt "
                      "names the VM's pod after it" % (name,))
    namespace = sp.s["namespace"] or namespace
    if not isinstance(namespace, str) or not DNS_LABEL.fullmatch(namespace):
        raise sp.fail("namespace", "(%r) must be a namespace name (a DNS label); set nixperf_kubevirt_namespace in "
                      "the cluster group or kubevirt_vm_namespace in the host file" % (namespace,))
    sockets, cores, threads = _topology(sp)
    vcpus = sockets * cores * threads
    placement = sp.choice("cpu_placement", PLACEMENTS)
    dedicated = placement == "dedicated"
    if dedicated and threads > 2:
        raise sp.fail("nixperf_hardware.cpu.threads", "gives %d threads per core; KubeVirt admits at most 2 with "
                      "dedicated CPUs (allowed: cpu.threads = cpu.cores or 2 x cpu.cores)" % threads)
    isolate = sp.s["isolate_emulator_thread"]
    if isolate is None:
        isolate = dedicated
    if not isinstance(isolate, bool):
        raise sp.fail("isolate_emulator_thread", "must be true or false, got %r" % (isolate,))
    if isolate and not dedicated:
        raise sp.fail("isolate_emulator_thread", "needs kubevirt_vm_cpu_placement dedicated: KubeVirt isolates the "
                      "emulator thread on a dedicated CPU only (allowed with shared CPUs: false)")
    memory = (hardware.get("memory") or {}).get("total_mib")
    if not isinstance(memory, int) or isinstance(memory, bool):
        raise sp.fail("nixperf_hardware.memory.total_mib", "is missing; it is the VM's guest memory")
    guest = Fraction(memory * MIB)
    resources = _resources(sp, vcpus, guest, dedicated)

    cpu: Dict[str, Any] = {"sockets": sockets, "cores": cores, "threads": threads}
    if dedicated:
        cpu["dedicatedCpuPlacement"] = True
    if isolate:
        cpu["isolateEmulatorThread"] = True
    if sp.s["cpu_model"] is not None:
        model = sp.s["cpu_model"]
        if not isinstance(model, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", model):
            raise sp.fail("cpu_model", "must be a libvirt CPU model name (host-passthrough, host-model, "
                          "Skylake-Client-IBRS, ...), got %r" % (model,))
        cpu["model"] = model

    policy = sp.choice("io_threads_policy", IO_THREADS_POLICIES)
    pool = sp.s["supplemental_pool_threads"]
    if policy == "supplementalPool":
        if isinstance(pool, bool) or not isinstance(pool, int) or pool < 1:
            raise sp.fail("supplemental_pool_threads", "must be a whole number of at least 1 when "
                          "kubevirt_vm_io_threads_policy is supplementalPool, got %r" % (pool,))
    elif pool is not None:
        raise sp.fail("supplemental_pool_threads", "is used only with kubevirt_vm_io_threads_policy "
                      "supplementalPool (got policy %s)" % policy)

    disks, volumes, templates = _storage(sp, name, namespace)
    interface, network = _network(sp)
    video = sp.choice("video", VIDEO_TYPES)
    run_strategy = sp.choice("run_strategy", RUN_STRATEGIES)
    labels = sp.mapping("labels")
    annotations = sp.mapping("annotations", values=None)
    node_selector = sp.mapping("node_selector")

    domain: Dict[str, Any] = {
        "cpu": cpu,
        "memory": {"guest": memory_text(guest)},
        "resources": resources,
        "ioThreadsPolicy": policy,
    }
    if policy == "supplementalPool":
        domain["ioThreads"] = {"supplementalPoolThreadCount": pool}
    devices: Dict[str, Any] = {
        # a desktop VM keeps its graphics device: KubeVirt's default, written down so nobody turns it off
        "autoattachGraphicsDevice": True,
        "video": {"type": video},
        "disks": disks,
        "interfaces": [interface],
    }
    if sp.flag("tablet"):
        # an absolute pointer: the VNC / remote cursor follows the client's without acceleration jumps
        devices["inputs"] = [{"name": "tablet", "type": "tablet", "bus": "virtio"}]
    domain["devices"] = devices

    template_spec: Dict[str, Any] = {"domain": domain, "networks": [network], "volumes": volumes}
    if node_selector:
        template_spec["nodeSelector"] = node_selector
    vm_labels = dict(labels)
    vm_labels["app.kubernetes.io/managed-by"] = MANAGER
    metadata: Dict[str, Any] = {"name": name, "namespace": namespace, "labels": vm_labels}
    if annotations:
        metadata["annotations"] = annotations
    spec: Dict[str, Any] = {"runStrategy": run_strategy}
    if templates:
        spec["dataVolumeTemplates"] = templates
    spec["template"] = {"metadata": {"labels": dict(labels, **{"kubevirt.io/domain": name})}, "spec": template_spec}
    return _plain({"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": metadata, "spec": spec})


def summary(manifest: Mapping[str, Any]) -> Dict[str, Any]:
    """The figures a reader checks first: vCPUs, placement, memory, QoS, IOThreads, disks."""
    domain = manifest["spec"]["template"]["spec"]["domain"]
    cpu, res = domain["cpu"], domain["resources"]
    guaranteed = res["requests"] == res["limits"]
    return {
        "vcpus": cpu["sockets"] * cpu["cores"] * cpu["threads"],
        "topology": "%d socket(s) x %d core(s) x %d thread(s)" % (cpu["sockets"], cpu["cores"], cpu["threads"]),
        "placement": "dedicated" if cpu.get("dedicatedCpuPlacement") else "shared",
        "isolate_emulator_thread": bool(cpu.get("isolateEmulatorThread")),
        "guest_memory": domain["memory"]["guest"],
        "qos": "Guaranteed" if guaranteed else "Burstable",
        "io_threads_policy": domain["ioThreadsPolicy"],
        "disks": ["%s (%s%s)" % (d["name"], d["disk"]["bus"], ", dedicated IOThread" if d.get("dedicatedIOThread")
                                 else "") for d in domain["devices"]["disks"]],
        "run_strategy": manifest["spec"]["runStrategy"],
    }


def _same(want: Any, have: Any) -> bool:
    if isinstance(want, str) and isinstance(have, (str, int)) and not isinstance(have, bool):
        try:
            return quantity(want) == quantity(have)
        except ValueError:
            return want == have
    return want == have


def _differences(want: Any, have: Any, path: str) -> List[str]:
    """Paths where ``have`` lacks or differs from a value of ``want`` (keys ``want`` does not set are ignored)."""
    if isinstance(want, Mapping):
        if not isinstance(have, Mapping):
            return [path]
        out: List[str] = []
        for key, value in want.items():
            out += _differences(value, have.get(key), "%s.%s" % (path, key))
        return out
    if isinstance(want, list):
        if not isinstance(have, list) or len(want) != len(have):
            return [path]
        out = []
        for i, (w, h) in enumerate(zip(want, have)):
            out += _differences(w, h, "%s[%d]" % (path, i))
        return out
    return [] if _same(want, have) else [path]


def restart_paths(manifest: Mapping[str, Any], vmi: Optional[Mapping[str, Any]]) -> List[str]:
    """Template paths where the running VMI differs from the wanted VM; empty when no VMI runs.

    KubeVirt applies a VM's template to its VMI only at start (bar CPU sockets and guest memory within
    ``maxSockets`` / ``maxGuest``, which this collection does not set), so every difference needs a restart.
    """
    if not vmi:
        return []
    template = manifest["spec"]["template"]
    out = _differences(template["spec"], vmi.get("spec") or {}, "spec.template.spec")
    labels = (template.get("metadata") or {}).get("labels") or {}
    out += _differences(labels, (vmi.get("metadata") or {}).get("labels") or {}, "spec.template.metadata.labels")
    return out


def vmi_problems(manifest: Mapping[str, Any], vmi: Optional[Mapping[str, Any]]) -> List[str]:
    """What the running VMI does not do of what the VM asks (the plan's ``kubectl describe vmi`` check)."""
    name = manifest["metadata"]["name"]
    if not vmi:
        return ["no VirtualMachineInstance %s is running" % name]
    status = vmi.get("status") or {}
    domain = manifest["spec"]["template"]["spec"]["domain"]
    have = (vmi.get("spec") or {}).get("domain") or {}
    out: List[str] = []
    if status.get("phase") != "Running":
        out.append("phase is %s, not Running" % status.get("phase"))
    want = summary(manifest)
    if status.get("qosClass") != want["qos"]:
        out.append("QoS class is %s, not %s: the pod's requests and limits differ from the VM's"
                   % (status.get("qosClass"), want["qos"]))
    cpu = domain["cpu"]
    live_cpu = have.get("cpu") or {}
    for key in ("dedicatedCpuPlacement", "isolateEmulatorThread"):
        if cpu.get(key) and not live_cpu.get(key):
            out.append("spec.domain.cpu.%s is not set on the running VMI" % key)
    topology = status.get("currentCPUTopology")
    if topology:
        live = tuple(topology.get(k, 1) for k in ("sockets", "cores", "threads"))
        if live != (cpu["sockets"], cpu["cores"], cpu["threads"]):
            out.append("CPU topology is %d/%d/%d (sockets/cores/threads), not %d/%d/%d"
                       % (live + (cpu["sockets"], cpu["cores"], cpu["threads"])))
    guest = (status.get("memory") or {}).get("guestCurrent")
    if guest is not None and not _same(domain["memory"]["guest"], guest):
        out.append("guest memory is %s, not %s" % (guest, domain["memory"]["guest"]))
    if have.get("ioThreadsPolicy") != domain["ioThreadsPolicy"]:
        out.append("ioThreadsPolicy is %s, not %s" % (have.get("ioThreadsPolicy"), domain["ioThreadsPolicy"]))
    live_disks = {d.get("name"): d for d in ((have.get("devices") or {}).get("disks") or [])}
    for disk in domain["devices"]["disks"]:
        live_disk = live_disks.get(disk["name"])
        if live_disk is None:
            out.append("disk %s is missing" % disk["name"])
        elif disk.get("dedicatedIOThread") and not live_disk.get("dedicatedIOThread"):
            out.append("disk %s has no dedicated IOThread" % disk["name"])
    return out
