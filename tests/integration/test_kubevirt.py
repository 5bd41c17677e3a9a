"""The kubevirt_vm role through ansible-runner: render mode on the embedded inventory and on VMs with other facts,
bad input, and apply mode against the recording stand-in of kubernetes.core (tests/doubles/collections), asserting
the exact arguments handed to the cluster modules, the changed counts and the restart contract."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Dict, Optional

import pytest
import yaml
from conftest import ROOT
from support import snapshot

from ansible_collections.nixperf.tuning.plugins.module_utils.kubevirt_schema import problems

PLAYBOOK = "playbooks/kubevirt.yml"
DOUBLES = ROOT / "tests" / "doubles" / "collections"
TOKEN = "tok-3b1f9e2d-never-in-the-output"

PLASMA = yaml.safe_load((ROOT / "inventories/fleet/plasma-vm-01.yml").read_text())["kubevirt_vms"]["hosts"]["plasma-vm-01"]
SMALL_HW = {
    "cpu": {"cores": 4, "threads": 4},
    "memory": {"total_mib": 8192},
    "storage": [{"device": "vda", "type": "virtio", "size_gb": 60}],
    "virtualization": {"guest": True, "platform": "kubevirt"},
}


def inventory(tmp_path: Path, vms: Dict[str, Dict[str, Any]], mode: str = "render") -> str:
    """A cluster group with one cluster and ``vms`` (host -> variables) in kubevirt_vms."""
    data = {
        "kubevirt_clusters": {"hosts": {"lab": {
            "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "nixperf_kubevirt_namespace": "desktops", "nixperf_kubevirt_kubeconfig": "/etc/nixperf/kubeconfig",
            "nixperf_kubevirt_context": "lab-admin", "nixperf_kubevirt_api_key": TOKEN}}},
        "kubevirt_vms": {"vars": {"nixperf_kubevirt_cluster": "lab", "nixperf_mode": mode,
                                  "ansible_connection": "local",
                                  "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                         "hosts": vms},
    }
    path = tmp_path / ("inventory-%s.yml" % mode)
    path.write_text(yaml.safe_dump(data))
    return str(path)


def plasma(**changes: Any) -> Dict[str, Any]:
    host = {k: v for k, v in copy.deepcopy(PLASMA).items() if k == "nixperf_hardware" or k.startswith("kubevirt_vm_")}
    host.update(changes)
    return host


def manifest(build: Path, host: str, name: Optional[str] = None) -> Dict[str, Any]:
    docs = list(yaml.safe_load_all((build / host / "kubevirt" / ("%s.yaml" % (name or host))).read_text()))
    assert len(docs) == 1
    return docs[0]


# render mode


def test_make_run_writes_plasma_vm_01_as_the_plan_meant_it(play):
    first = play(PLAYBOOK)
    assert first.rc == 0, first.failures()
    assert first.changed("plasma-vm-01") == 1
    vm = manifest(play.build, "plasma-vm-01")
    assert problems(vm) == []
    domain = vm["spec"]["template"]["spec"]["domain"]
    assert domain["cpu"] == {"sockets": 1, "cores": 8, "threads": 1, "dedicatedCpuPlacement": True,
                             "isolateEmulatorThread": True}
    assert domain["memory"] == {"guest": "16Gi"}
    assert domain["resources"]["requests"] == domain["resources"]["limits"] == {"cpu": "8", "memory": "16Gi"}
    assert domain["ioThreadsPolicy"] == "auto"
    assert domain["devices"]["disks"] == [{"name": "vda", "disk": {"bus": "virtio"}, "dedicatedIOThread": True,
                                           "bootOrder": 1}]
    assert vm["spec"]["template"]["spec"]["volumes"] == [
        {"name": "vda", "persistentVolumeClaim": {"claimName": "nixos-vm-pvc"}}]
    assert vm["metadata"]["namespace"] == "desktops" and vm["spec"]["runStrategy"] == "Always"
    assert "VirtualMachine: 8 vCPUs dedicated, 16Gi guest memory, Guaranteed QoS, IOThreads auto" in first.stdout
    before = snapshot(play.build)
    second = play(PLAYBOOK)
    assert second.rc == 0 and second.changed("plasma-vm-01") == 0
    assert snapshot(play.build) == before


def test_other_facts_give_another_valid_vm(play, tmp_path):
    inv = inventory(tmp_path, {
        "plasma-vm-01": plasma(),
        "plasma-vm-02": {"nixperf_hardware": SMALL_HW, "kubevirt_vm_cpu_placement": "shared",
                         "kubevirt_vm_qos": "Burstable"},
    })
    r = play(PLAYBOOK, inventory=inv)
    assert r.rc == 0, r.failures()
    big, small = manifest(play.build, "plasma-vm-01"), manifest(play.build, "plasma-vm-02")
    assert problems(big) == [] and problems(small) == []
    domain = small["spec"]["template"]["spec"]["domain"]
    assert domain["cpu"] == {"sockets": 1, "cores": 4, "threads": 1}
    assert domain["resources"] == {"requests": {"cpu": "1", "memory": "8Gi"}, "limits": {"cpu": "4", "memory": "8Gi"}}
    assert small["spec"]["template"]["spec"]["volumes"] == [
        {"name": "vda", "persistentVolumeClaim": {"claimName": "plasma-vm-02-vda"}}]
    assert big["spec"]["template"]["spec"]["domain"]["cpu"]["cores"] == 8


def test_check_mode_predicts_the_write_and_writes_nothing(play):
    r = play(PLAYBOOK, check=True, diff=True)
    assert r.rc == 0 and r.changed("plasma-vm-01") == 1
    assert not (play.build / "plasma-vm-01" / "kubevirt").exists()
    diffs = [e["event_data"]["res"].get("diff") for e in r.events if e.get("event") == "runner_on_ok"
             and e["event_data"].get("task_action") == "nixperf.tuning.kubevirt_vm_spec"]
    assert "ioThreadsPolicy: auto" in json.dumps(diffs)


@pytest.mark.parametrize("args, expected", [
    (["-e", "kubevirt_vm_qos=Burstable"],
     "host plasma-vm-01: kubevirt_vm_qos must be Guaranteed when kubevirt_vm_cpu_placement is dedicated"),
    (["-e", "kubevirt_vm_io_threads_policy=supplementalPool"],
     "host plasma-vm-01: kubevirt_vm_supplemental_pool_threads must be a whole number of at least 1"),
    (["-e", "kubevirt_vm_cpu_limit=4"], "host plasma-vm-01: kubevirt_vm_cpu_limit (4) must equal the vCPU count (8"),
    (["-e", "kubevirt_vm_run_strategy=Sometimes"], "kubevirt_vm_run_strategy"),
    ({"kubevirt_vm_volumes": {"vdz": {"claim": "x"}}},
     "host plasma-vm-01: kubevirt_vm_volumes names 'vdz', which is not a disk of nixperf_hardware.storage "
     "(allowed: vda)"),
])
def test_bad_settings_fail_before_anything_is_written(play, args, expected):
    # text as a user types it on the command line, or structured extra vars
    r = play(PLAYBOOK, args=args) if isinstance(args, list) else play(PLAYBOOK, **args)
    assert r.rc != 0
    assert any(expected in f["msg"] for f in r.failures()), r.failures()
    assert not (play.build / "plasma-vm-01" / "kubevirt").exists()


def test_bad_facts_are_named(play, tmp_path):
    hw = copy.deepcopy(PLASMA["nixperf_hardware"])
    hw["cpu"]["threads"] = 12  # not a multiple of 8 cores
    r = play(PLAYBOOK, inventory=inventory(tmp_path, {"plasma-vm-01": plasma(nixperf_hardware=hw)}))
    assert r.rc != 0
    assert any("host plasma-vm-01: nixperf_hardware.cpu.threads (12) must be a multiple of cpu.cores (8)" in f["msg"]
               for f in r.failures()), r.failures()


# apply mode, against the stand-in


@pytest.fixture
def cluster(tmp_path):
    """The simulated cluster's state file and the environment that puts the stand-in first."""
    state = tmp_path / "cluster.json"
    env = {"ANSIBLE_COLLECTIONS_PATH": "%s:%s:%s" % (DOUBLES, ROOT / ".collections", ROOT / ".venv" / "collections"),
           "NIXPERF_FAKE_CLUSTER": str(state)}

    class Cluster:
        path = state
        environ = env

        @staticmethod
        def read() -> Dict[str, Any]:
            return json.loads(state.read_text()) if state.exists() else {"objects": {}, "calls": []}

        @staticmethod
        def write(data: Dict[str, Any]) -> None:
            state.write_text(json.dumps(data))

        @classmethod
        def calls(cls, module: str, **match: Any):
            return [c for c in cls.read()["calls"] if c["module"] == module
                    and all(c["params"].get(k) == v for k, v in match.items())]

    return Cluster


def apply_inventory(tmp_path, **changes):
    return inventory(tmp_path, {"plasma-vm-01": plasma(**changes)}, mode="apply")


def test_apply_is_server_side_then_never_again(play, tmp_path, cluster):
    inv = apply_inventory(tmp_path)
    first = play(PLAYBOOK, inventory=inv, env=cluster.environ, diff=True, args=["-vvv"])
    assert first.rc == 0, first.failures()
    assert first.changed("plasma-vm-01") == 1
    applies = cluster.calls("kubernetes.core.k8s", state="present")
    assert len(applies) == 1
    params = applies[0]["params"]
    built = manifest_of(first)
    assert params["resource_definition"] == built
    assert {k: params[k] for k in ("apply", "server_side_apply", "kubeconfig", "context", "api_key")} == {
        "apply": True, "server_side_apply": {"field_manager": "nixperf.tuning", "force_conflicts": False},
        "kubeconfig": "/etc/nixperf/kubeconfig", "context": "lab-admin", "api_key": TOKEN}
    assert not (play.build / "plasma-vm-01" / "kubevirt").exists()  # apply mode writes nothing locally
    # the VMI was read before, waited for, and checked
    infos = cluster.calls("kubernetes.core.k8s_info", kind="VirtualMachineInstance", name="plasma-vm-01",
                          namespace="desktops")
    assert [bool(c["params"]["wait"]) for c in infos] == [False, True]
    assert infos[1]["params"]["wait_condition"]["type"] == "Ready"
    vmi = cluster.read()["objects"]["VirtualMachineInstance/desktops/plasma-vm-01"]
    assert vmi["status"]["qosClass"] == "Guaranteed"
    # the token never reaches the output, not even at -vvv with --diff
    assert TOKEN not in first.stdout and TOKEN not in json.dumps(first.events)
    second = play(PLAYBOOK, inventory=inv, env=cluster.environ)
    assert second.rc == 0 and second.changed("plasma-vm-01") == 0
    assert facts_of(second)["kubevirt_vm_restart_required"] is False


def manifest_of(run) -> Dict[str, Any]:
    return [e["event_data"]["res"]["manifest"] for e in run.events if e.get("event") == "runner_on_ok"
            and e["event_data"].get("task_action") == "nixperf.tuning.kubevirt_vm_spec"][-1]


def facts_of(run) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for e in run.events:
        if e.get("event") == "runner_on_ok" and e["event_data"].get("task_action") == "ansible.builtin.set_fact":
            out.update(e["event_data"]["res"].get("ansible_facts") or {})
    return out


def test_check_mode_is_the_servers_dry_run(play, tmp_path, cluster):
    inv = apply_inventory(tmp_path)
    r = play(PLAYBOOK, inventory=inv, env=cluster.environ, check=True)
    assert r.rc == 0, r.failures()
    assert r.changed("plasma-vm-01") == 1
    assert [c["check_mode"] for c in cluster.calls("kubernetes.core.k8s", state="present")] == [True]
    assert cluster.read()["objects"] == {}
    assert not cluster.calls("kubernetes.core.k8s_info", wait=True)  # nothing to wait for in a dry run


def test_a_new_size_needs_a_restart_which_waits_for_permission(play, tmp_path, cluster):
    assert play(PLAYBOOK, inventory=apply_inventory(tmp_path), env=cluster.environ).rc == 0
    hw = copy.deepcopy(PLASMA["nixperf_hardware"])
    hw["cpu"].update(cores=6, threads=6)
    hw["memory"]["total_mib"] = 12288
    grown = apply_inventory(tmp_path, nixperf_hardware=hw)
    r = play(PLAYBOOK, inventory=grown, env=cluster.environ)
    assert r.rc == 0, r.failures()
    facts = facts_of(r)
    assert facts["kubevirt_vm_restart_required"] is True and facts["kubevirt_vm_restarted"] is False
    assert "spec.template.spec.domain.cpu.cores" in facts["kubevirt_vm_restart_paths"]
    assert "spec.template.spec.domain.memory.guest" in facts["kubevirt_vm_restart_paths"]
    said = [e["event_data"]["res"]["msg"] for e in r.events if e.get("event") == "runner_on_ok"
            and e["event_data"].get("task_action") == "ansible.builtin.debug"]
    assert len(said) == 1 and "set kubevirt_vm_restart_ok: true, or run virtctl restart plasma-vm-01 -n desktops" in said[0]
    assert "VM plasma-vm-01 needs a restart for its new template to take effect (" in said[0]
    assert not cluster.calls("kubernetes.core.k8s", state="absent")
    state = cluster.read()
    assert state["objects"]["VirtualMachineInstance/desktops/plasma-vm-01"]["spec"]["domain"]["cpu"]["cores"] == 8
    assert {"type": "RestartRequired", "status": "True"} in \
        state["objects"]["VirtualMachine/desktops/plasma-vm-01"]["status"]["conditions"]
    # allowed: the instance is deleted, the VM controller starts the new one, and it is checked
    r = play(PLAYBOOK, inventory=grown, env=cluster.environ, args=["-e", "kubevirt_vm_restart_ok=true"])
    assert r.rc == 0, r.failures()
    deletes = cluster.calls("kubernetes.core.k8s", state="absent")
    assert len(deletes) == 1 and deletes[0]["params"]["kind"] == "VirtualMachineInstance"
    assert deletes[0]["params"]["wait"] is True
    assert facts_of(r)["kubevirt_vm_restart_required"] is False and facts_of(r)["kubevirt_vm_restarted"] is True
    vmi = cluster.read()["objects"]["VirtualMachineInstance/desktops/plasma-vm-01"]
    assert vmi["status"]["currentCPUTopology"] == {"sockets": 1, "cores": 6, "threads": 1}
    assert vmi["status"]["memory"]["guestCurrent"] == "12Gi"
    again = play(PLAYBOOK, inventory=grown, env=cluster.environ, args=["-e", "kubevirt_vm_restart_ok=true"])
    assert again.rc == 0 and again.changed("plasma-vm-01") == 0
    assert len(cluster.calls("kubernetes.core.k8s", state="absent")) == 1


def test_an_instance_that_is_not_what_the_vm_asks_fails_the_check(play, tmp_path, cluster):
    inv = apply_inventory(tmp_path)
    assert play(PLAYBOOK, inventory=inv, env=cluster.environ).rc == 0
    state = cluster.read()
    vmi = state["objects"]["VirtualMachineInstance/desktops/plasma-vm-01"]
    vmi["status"]["qosClass"] = "Burstable"  # e.g. a LimitRange changed the pod's resources
    cluster.write(state)
    r = play(PLAYBOOK, inventory=inv, env=cluster.environ)
    assert r.rc != 0
    assert any("VM plasma-vm-01 runs, but not as its VirtualMachine asks: QoS class is Burstable, not Guaranteed"
               in f["msg"] for f in r.failures()), r.failures()


def test_an_admission_refusal_fails_the_run_with_the_servers_words(play, tmp_path, cluster):
    cluster.write({"objects": {}, "calls": [], "fail": {
        "k8s:present:VirtualMachine": "admission webhook \"virtualmachine-validator.kubevirt.io\" denied the request"}})
    r = play(PLAYBOOK, inventory=apply_inventory(tmp_path), env=cluster.environ)
    assert r.rc != 0
    assert any("denied the request" in f["msg"] for f in r.failures())
    assert cluster.read()["objects"] == {}


def test_bad_facts_never_reach_the_cluster(play, tmp_path, cluster):
    r = play(PLAYBOOK, inventory=apply_inventory(tmp_path, kubevirt_vm_qos="Burstable"), env=cluster.environ)
    assert r.rc != 0
    assert cluster.read()["calls"] == []


def test_no_log_hides_the_cluster_results(play, tmp_path, cluster):
    r = play(PLAYBOOK, inventory=apply_inventory(tmp_path, kubevirt_vm_no_log=True), env=cluster.environ)
    assert r.rc == 0, r.failures()
    results = [e["event_data"]["res"] for e in r.events if e.get("event") == "runner_on_ok"
               and e["event_data"].get("task_action") == "kubernetes.core.k8s"]
    assert results and all(res.get("censored") for res in results)
