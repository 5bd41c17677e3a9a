"""A shared, 4 vCPU, Burstable VM applied through the role: what reached the (simulated) cluster, with which
arguments, and that the running instance is what the VM asks for."""
from __future__ import annotations

import json
import os

STATE = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "cluster.json")


def state():
    with open(STATE, encoding="utf-8") as handle:
        return json.load(handle)


def test_the_vm_is_what_its_facts_say():
    vm = state()["objects"]["VirtualMachine/lab-desktops/plasma-vm-02"]
    domain = vm["spec"]["template"]["spec"]["domain"]
    assert domain["cpu"] == {"sockets": 1, "cores": 4, "threads": 1}  # shared: no dedicatedCpuPlacement
    assert domain["resources"] == {"requests": {"cpu": "1", "memory": "8Gi"}, "limits": {"cpu": "4", "memory": "8Gi"}}
    assert domain["memory"] == {"guest": "8Gi"}
    assert domain["ioThreadsPolicy"] == "auto"
    assert domain["devices"]["disks"] == [
        {"name": "vda", "disk": {"bus": "virtio"}, "dedicatedIOThread": True, "bootOrder": 1},
        {"name": "vdb", "disk": {"bus": "scsi"}},
    ]
    assert vm["spec"]["dataVolumeTemplates"] == [{
        "metadata": {"name": "plasma-vm-02-vda"},
        "spec": {"source": {"pvc": {"namespace": "kubevirt-images", "name": "nixos-plasma"}},
                 "storage": {"resources": {"requests": {"storage": "60Gi"}}, "storageClassName": "local-path"}},
    }]
    assert vm["spec"]["template"]["spec"]["nodeSelector"] == {"kubernetes.io/arch": "amd64"}
    assert vm["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "nixperf.tuning"


def test_the_instance_runs_burstable():
    vmi = state()["objects"]["VirtualMachineInstance/lab-desktops/plasma-vm-02"]
    assert vmi["status"]["phase"] == "Running"
    assert vmi["status"]["qosClass"] == "Burstable"


def test_the_apply_was_server_side_with_the_clusters_settings():
    applies = [c for c in state()["calls"] if c["module"] == "kubernetes.core.k8s"
               and c["params"]["state"] == "present"]
    # converge, idempotence, check: three applies, the last one a dry run
    assert [c["check_mode"] for c in applies] == [False, False, True]
    for call in applies:
        p = call["params"]
        assert p["apply"] is True
        assert p["server_side_apply"] == {"field_manager": "nixperf.tuning", "force_conflicts": False}
        assert p["kubeconfig"] == "/etc/nixperf/lab-kubeconfig"
        assert p["api_key"] == "molecule-secret-token"
        assert p["definition"]["metadata"] == {
            "name": "plasma-vm-02", "namespace": "lab-desktops",
            "labels": {"app.kubernetes.io/managed-by": "nixperf.tuning"}}
    # never restarted: nothing asked for it
    assert not [c for c in state()["calls"] if c["params"].get("state") == "absent"]
