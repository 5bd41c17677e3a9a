# -*- coding: utf-8 -*-
"""The kubernetes.core test double (tests/doubles/collections): the fake cluster's apply / delete / list logic, its
minimal KubeVirt controller, failure injection and call recording, and one ansible-playbook run through the two
modules."""
from __future__ import annotations

import copy
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, Optional

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOUBLES = ROOT / "tests" / "doubles" / "collections"
FAKECLUSTER = DOUBLES / "ansible_collections" / "kubernetes" / "core" / "plugins" / "module_utils" / "fakecluster.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("nixperf_test_fakecluster", FAKECLUSTER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fc = _load()


def k8s_params(**overrides: Any) -> Dict[str, Any]:
    """kubernetes.core.k8s parameters as the module receives them: every option at its default, then ``overrides``."""
    params = {name: copy.deepcopy(option.get("default")) for name, option in fc.k8s_argument_spec().items()}
    params.update(overrides)
    return params


def info_params(**overrides: Any) -> Dict[str, Any]:
    params = {name: copy.deepcopy(option.get("default")) for name, option in fc.k8s_info_argument_spec().items()}
    params.update(overrides)
    return params


def vm(name: str = "desk", strategy: str = "Always", cores: int = 4, requests: Optional[Dict[str, Any]] = None,
       limits: Optional[Dict[str, Any]] = None, **domain: Any) -> Dict[str, Any]:
    resources: Dict[str, Any] = {}
    if requests is not None:
        resources["requests"] = requests
    if limits is not None:
        resources["limits"] = limits
    dom: Dict[str, Any] = {"cpu": {"cores": cores}, "devices": {}}
    if resources:
        dom["resources"] = resources
    dom.update(domain)
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"runStrategy": strategy, "template": {"metadata": {"labels": {"kubevirt.io/vm": name}},
                                                           "spec": {"domain": dom}}}}


def apply(state: Dict[str, Any], definition: Any, check_mode: bool = False, diff: bool = False, **kw: Any) -> Dict[str, Any]:
    kw.setdefault("namespace", "vms")
    params = k8s_params(resource_definition=definition, definition=definition, apply=True,
                        server_side_apply={"field_manager": "nixperf", "force_conflicts": False}, **kw)
    return fc.run_k8s(state, params, check_mode, diff)


def delete(state: Dict[str, Any], kind: str, name: str, check_mode: bool = False, **kw: Any) -> Dict[str, Any]:
    params = k8s_params(state="absent", kind=kind, name=name, namespace="vms", api_version="kubevirt.io/v1", **kw)
    return fc.run_k8s(state, params, check_mode, False)


def vmi(state: Dict[str, Any], name: str = "desk") -> Optional[Dict[str, Any]]:
    return state["objects"].get("VirtualMachineInstance/vms/%s" % name)


def conditions(obj: Dict[str, Any]) -> Dict[str, str]:
    return {c["type"]: c["status"] for c in obj["status"]["conditions"]}


# ------------------------------------------------------------------------------------------------ apply


def test_create_stores_the_definition_with_server_metadata():
    state = fc.empty_state()
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a": "1"}}
    r = apply(state, cm)
    assert r["changed"] is True and r["method"] == "apply"
    stored = state["objects"]["ConfigMap/vms/cfg"]
    assert r["result"] == stored
    assert stored["data"] == {"a": "1"} and stored["metadata"]["namespace"] == "vms"
    assert stored["metadata"]["generation"] == 1 and stored["metadata"]["resourceVersion"] == "1"
    assert stored["metadata"]["managedFields"] == [{"manager": "nixperf", "operation": "Apply"}]
    assert stored["metadata"]["uid"] == fc.uid_for("ConfigMap/vms/cfg", "1")
    assert "diff" not in r
    assert cm["metadata"] == {"name": "cfg"}  # the caller's definition is not modified


def test_second_identical_apply_is_unchanged():
    state = fc.empty_state()
    first = apply(state, vm())
    snapshot = copy.deepcopy(state["objects"])
    second = apply(state, vm(), diff=True)
    assert second["changed"] is False
    assert state["objects"] == snapshot
    assert second["result"] == first["result"] == state["objects"]["VirtualMachine/vms/desk"]
    assert second["diff"] == {"before": first["result"], "after": first["result"]}


def test_a_spec_change_bumps_generation_and_resource_version_a_label_change_only_the_version():
    state = fc.empty_state()
    before = apply(state, vm())["result"]["metadata"]
    changed = apply(state, vm(cores=8), diff=True)
    after = changed["result"]["metadata"]
    assert changed["changed"] is True
    assert after["generation"] == before["generation"] + 1
    assert int(after["resourceVersion"]) > int(before["resourceVersion"])
    assert after["uid"] == before["uid"]
    assert changed["diff"]["before"]["spec"]["template"]["spec"]["domain"]["cpu"] == {"cores": 4}
    assert changed["diff"]["after"]["spec"]["template"]["spec"]["domain"]["cpu"] == {"cores": 8}
    relabelled = vm(cores=8)
    relabelled["metadata"]["labels"]["tier"] = "desktop"
    again = apply(state, relabelled)["result"]["metadata"]
    assert again["generation"] == after["generation"]
    assert int(again["resourceVersion"]) > int(after["resourceVersion"])


def test_status_and_server_metadata_in_a_definition_are_ignored_and_status_is_kept():
    state = fc.empty_state()
    apply(state, vm(strategy="Halted"))
    stored_status = state["objects"]["VirtualMachine/vms/desk"]["status"]
    stale = vm(strategy="Halted")
    stale["status"] = {"printableStatus": "Bogus"}
    stale["metadata"].update({"resourceVersion": "999", "uid": "x", "generation": 7})
    r = apply(state, stale)
    assert r["changed"] is False
    assert r["result"]["status"] == stored_status


def test_a_yaml_string_definition_is_parsed_and_the_definition_namespace_wins():
    state = fc.empty_state()
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: other\ndata:\n  a: '1'\n"
    r = apply(state, text)
    assert r["changed"] is True
    assert state["objects"]["ConfigMap/other/cfg"]["data"] == {"a": "1"}


def test_src_file_with_a_list_kind_gives_one_result_per_item(tmp_path):
    state = fc.empty_state()
    src = tmp_path / "objects.yml"
    src.write_text("apiVersion: v1\nkind: ConfigMapList\nitems:\n  - metadata: {name: a}\n  - metadata: {name: b}\n"
                   "---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\n")
    params = k8s_params(src=str(src), namespace="vms", apply=True)
    r = fc.run_k8s(state, params, False, False)
    assert r["changed"] is True and [x["method"] for x in r["result"]["results"]] == ["apply"] * 3
    assert sorted(state["objects"]) == ["ConfigMap/vms/a", "ConfigMap/vms/b", "Secret/vms/s"]
    assert fc.run_k8s(state, params, False, False)["changed"] is False


def test_a_namespaced_kind_without_namespace_is_refused_a_cluster_scoped_one_is_not():
    state = fc.empty_state()
    with pytest.raises(fc.ClusterError, match=r"Namespace is required for v1\.ConfigMap"):
        apply(state, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}}, namespace=None)
    apply(state, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "vms"}}, namespace=None)
    assert "Namespace//vms" in state["objects"]


def test_client_side_apply_create_and_merge_update():
    state = fc.empty_state()
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a": "1"}}
    r = fc.run_k8s(state, k8s_params(resource_definition=cm, namespace="vms", apply=True), False, False)
    assert r["method"] == "apply"
    assert r["result"]["metadata"]["managedFields"] == [{"manager": fc.CLIENT_SIDE_APPLY_MANAGER, "operation": "Update"}]
    created = fc.run_k8s(state, k8s_params(resource_definition=dict(cm, metadata={"name": "new"}), namespace="vms"), False, False)
    assert created["method"] == "create" and created["changed"] is True
    patch = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"b": "2"}}
    updated = fc.run_k8s(state, k8s_params(resource_definition=patch, namespace="vms"), False, False)
    assert updated["method"] == "update" and updated["changed"] is True
    assert state["objects"]["ConfigMap/vms/cfg"]["data"] == {"a": "1", "b": "2"}
    patched = fc.run_k8s(state, k8s_params(resource_definition=dict(patch, metadata={"name": "gone"}), namespace="vms",
                                           state="patched"), False, False)
    assert patched["changed"] is False and "was not found but will not be created" in patched["warnings"][0]
    assert "ConfigMap/vms/gone" not in state["objects"]


# ------------------------------------------------------------------------------------------------ check mode


def test_check_mode_returns_what_a_run_would_and_stores_nothing():
    state = fc.empty_state()
    dry = apply(state, vm(), check_mode=True)
    assert state["objects"] == {}
    real = apply(fc.empty_state(), vm())
    assert dry == real
    assert dry["changed"] is True and "warnings" not in dry
    assert state["calls"][0]["check_mode"] is True


def test_check_mode_without_server_dry_run_warns_client_side_dry_run():
    state = fc.empty_state()
    state["server_dry_run"] = False
    r = apply(state, vm(), check_mode=True)
    assert r["warnings"] == [fc.CLIENT_SIDE_DRY_RUN_WARNING]
    assert r["changed"] is True and state["objects"] == {}


def test_check_mode_delete_keeps_the_object():
    state = fc.empty_state()
    apply(state, vm())
    snapshot = copy.deepcopy(state["objects"])
    r = delete(state, "VirtualMachine", "desk", check_mode=True)
    assert r["changed"] is True and state["objects"] == snapshot


# ------------------------------------------------------------------------------------------------ KubeVirt


def test_a_running_vm_gets_a_guaranteed_vmi_with_its_topology():
    state = fc.empty_state()
    machine = vm(requests={"cpu": "8", "memory": "16Gi"}, limits={"cpu": 8, "memory": "16384Mi"}, memory={"guest": "15Gi"})
    machine["spec"]["template"]["spec"]["domain"]["cpu"] = {"sockets": 1, "cores": 4, "threads": 2}
    r = apply(state, machine)
    instance = vmi(state)
    assert instance is not None
    assert instance["apiVersion"] == "kubevirt.io/v1"
    assert instance["spec"] == machine["spec"]["template"]["spec"]
    assert instance["metadata"]["labels"] == {"kubevirt.io/vm": "desk"}
    assert instance["metadata"]["ownerReferences"][0]["uid"] == r["result"]["metadata"]["uid"]
    assert instance["status"]["phase"] == "Running" and instance["status"]["nodeName"] == "node-1"
    assert instance["status"]["conditions"] == [{"type": "Ready", "status": "True"}]
    assert instance["status"]["qosClass"] == "Guaranteed"
    assert instance["status"]["currentCPUTopology"] == {"sockets": 1, "cores": 4, "threads": 2}
    assert instance["status"]["memory"] == {"guestCurrent": "15Gi"}
    assert r["result"]["status"]["printableStatus"] == "Running" and r["result"]["status"]["ready"] is True
    assert conditions(r["result"]) == {"Ready": "True"}


@pytest.mark.parametrize("requests, limits", [
    ({"cpu": "8", "memory": "16Gi"}, None),
    ({"cpu": "8", "memory": "16Gi"}, {"cpu": "8", "memory": "8Gi"}),
    ({"cpu": "4", "memory": "16Gi"}, {"cpu": "8", "memory": "16Gi"}),
    ({"memory": "16Gi"}, {"memory": "16Gi"}),
    (None, None),
])
def test_burstable_unless_cpu_and_memory_requests_equal_limits(requests, limits):
    state = fc.empty_state()
    apply(state, vm(requests=requests, limits=limits))
    instance = vmi(state)
    assert instance["status"]["qosClass"] == "Burstable"
    assert instance["status"]["currentCPUTopology"] == {"sockets": 1, "cores": 4, "threads": 1}
    expected_memory = (requests or {}).get("memory")
    assert instance["status"].get("memory") == ({"guestCurrent": expected_memory} if expected_memory else None)


def test_quantities_compare_by_value():
    assert fc.parse_quantity("8Gi") == fc.parse_quantity("8192Mi") == 8 * 1024 ** 3
    assert fc.parse_quantity("500m") * 2 == fc.parse_quantity(1)
    assert fc.parse_quantity("1e3") == fc.parse_quantity("1k") == 1000
    assert fc.parse_quantity("lots") is None and fc.parse_quantity(True) is None
    assert fc.same_quantity("2", 2) and not fc.same_quantity("2", None) and not fc.same_quantity("1Gi", "1G")


def test_updating_a_running_vm_leaves_the_vmi_and_sets_restart_required():
    state = fc.empty_state()
    apply(state, vm())
    instance = copy.deepcopy(vmi(state))
    r = apply(state, vm(cores=8))
    assert vmi(state) == instance
    assert conditions(r["result"]) == {"Ready": "True", "RestartRequired": "True"}
    back = apply(state, vm())
    assert conditions(back["result"]) == {"Ready": "True"}


def test_deleting_the_vmi_of_an_always_vm_restarts_it_from_the_current_template():
    state = fc.empty_state()
    apply(state, vm())
    old = copy.deepcopy(vmi(state))
    apply(state, vm(cores=8))
    r = delete(state, "VirtualMachineInstance", "desk")
    assert r["changed"] is True and r["method"] == "delete"
    assert r["result"]["metadata"]["uid"] == old["metadata"]["uid"]
    new = vmi(state)
    assert new is not None and new["metadata"]["uid"] != old["metadata"]["uid"]
    assert new["spec"]["domain"]["cpu"] == {"cores": 8}
    assert new["status"]["phase"] == "Running" and new["status"]["currentCPUTopology"]["cores"] == 8
    assert conditions(state["objects"]["VirtualMachine/vms/desk"]) == {"Ready": "True"}


def test_deleting_the_vmi_of_a_rerun_on_failure_vm_stops_it():
    state = fc.empty_state()
    apply(state, vm(strategy="RerunOnFailure"))
    assert vmi(state) is not None
    delete(state, "VirtualMachineInstance", "desk")
    assert vmi(state) is None
    assert state["objects"]["VirtualMachine/vms/desk"]["status"]["printableStatus"] == "Stopped"
    assert apply(state, vm(strategy="RerunOnFailure"))["changed"] is False
    assert vmi(state) is None  # an unchanged VM does not bring it back
    apply(state, vm(strategy="RerunOnFailure", cores=2))
    assert vmi(state)["status"]["currentCPUTopology"]["cores"] == 2


def test_a_vmi_created_directly_boots():
    state = fc.empty_state()
    instance = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance", "metadata": {"name": "solo"},
                "spec": {"domain": {"cpu": {"sockets": 2}}}}
    r = apply(state, instance)
    assert r["result"]["status"]["phase"] == "Running"
    assert r["result"]["status"]["currentCPUTopology"] == {"sockets": 2, "cores": 1, "threads": 1}
    assert apply(state, instance)["changed"] is False


def test_halted_removes_the_vmi_and_always_starts_it_again():
    state = fc.empty_state()
    apply(state, vm())
    r = apply(state, vm(strategy="Halted"))
    assert vmi(state) is None
    assert r["result"]["status"]["printableStatus"] == "Stopped" and r["result"]["status"]["ready"] is False
    assert conditions(r["result"]) == {"Ready": "False"}
    apply(state, vm(strategy="Always"))
    assert vmi(state)["status"]["phase"] == "Running"


def test_manual_and_spec_running_false_start_nothing_running_true_does():
    state = fc.empty_state()
    apply(state, vm(strategy="Manual"))
    assert vmi(state) is None
    legacy = vm()
    del legacy["spec"]["runStrategy"]
    legacy["spec"]["running"] = False
    apply(state, legacy)
    assert vmi(state) is None
    legacy["spec"]["running"] = True
    apply(state, legacy)
    assert vmi(state) is not None


def test_deleting_a_vm_removes_its_vmi_unless_orphaned():
    state = fc.empty_state()
    apply(state, vm())
    delete(state, "VirtualMachine", "desk")
    assert state["objects"] == {}
    apply(state, vm())
    delete(state, "VirtualMachine", "desk", delete_options={"propagationPolicy": "Orphan"})
    assert list(state["objects"]) == ["VirtualMachineInstance/vms/desk"]


def test_deleting_a_missing_object_is_unchanged():
    state = fc.empty_state()
    r = delete(state, "VirtualMachine", "ghost", wait=True)
    assert r == {"changed": False, "method": "delete", "result": {}, "duration": 0}


# ------------------------------------------------------------------------------------------------ waiting


def test_k8s_wait_condition_met_or_timed_out():
    state = fc.empty_state()
    r = apply(state, vm(), wait=True, wait_condition={"type": "Ready", "status": True, "reason": None})
    assert r["duration"] == 0
    with pytest.raises(fc.ClusterError, match=r'"VirtualMachine" "desk": Timed out waiting on resource') as err:
        apply(state, vm(strategy="Halted"), wait=True, wait_condition={"type": "Ready", "status": "True", "reason": None})
    assert err.value.result["changed"] is True  # the object was written; only the wait failed


def test_condition_matching_follows_kubernetes_core():
    obj = {"status": {"conditions": [{"type": "Ready", "status": "False", "reason": "Booting"},
                                     {"type": "Paused", "status": "Unknown"}]}}
    assert fc.condition_met(obj, {"type": "Ready", "status": False})
    assert fc.condition_met(obj, {"type": "Ready", "status": "false", "reason": "Booting"})
    assert not fc.condition_met(obj, {"type": "Ready", "status": "False", "reason": "Other"})
    assert not fc.condition_met(obj, {"type": "Ready", "status": True})
    assert fc.condition_met(obj, {"type": "Paused", "status": "Unknown"})
    assert not fc.condition_met(obj, {"type": "Paused", "status": True})
    assert not fc.condition_met(obj, {"type": "Missing", "status": True})
    assert not fc.condition_met({}, {"type": "Ready", "status": True})


# ------------------------------------------------------------------------------------------------ k8s_info


def test_info_lists_by_kind_namespace_name_and_selectors():
    state = fc.empty_state()
    apply(state, vm("a"))
    apply(state, vm("b", strategy="Halted"))
    apply(state, vm("c"), namespace="elsewhere")
    listed = fc.run_k8s_info(state, info_params(kind="VirtualMachine", namespace="vms"), False, False)["resources"]
    names = [o["metadata"]["name"] for o in listed]
    assert names == ["a", "b"]
    every = fc.run_k8s_info(state, info_params(kind="VirtualMachine"), False, False)["resources"]
    assert sorted(o["metadata"]["name"] for o in every) == ["a", "b", "c"]
    one = fc.run_k8s_info(state, info_params(kind="VirtualMachineInstance", namespace="vms", name="a"), False, False)
    assert one["changed"] is False and one["api_found"] is True and len(one["resources"]) == 1
    labelled = fc.run_k8s_info(state, info_params(kind="VirtualMachine", label_selectors=["app in (a, c)", "app!=c"]),
                               False, False)["resources"]
    assert [o["metadata"]["name"] for o in labelled] == ["a"]
    running = fc.run_k8s_info(state, info_params(kind="VirtualMachine", field_selectors=["status.printableStatus=Stopped"]),
                              False, False)["resources"]
    assert [o["metadata"]["name"] for o in running] == ["b"]
    hide = ["metadata.managedFields", "status.conditions[0]"]
    hidden = fc.run_k8s_info(state, info_params(kind="VirtualMachine", name="a", hidden_fields=hide), False, False)["resources"][0]
    assert "managedFields" not in hidden["metadata"] and hidden["status"]["conditions"] == []
    assert state["objects"]["VirtualMachine/vms/a"]["metadata"]["managedFields"]  # hiding never touches the store


def test_info_of_a_missing_object_is_empty_even_when_waiting():
    state = fc.empty_state()
    for wait in (False, True):
        r = fc.run_k8s_info(state, info_params(kind="VirtualMachineInstance", namespace="vms", name="desk", wait=wait,
                                               wait_condition={"type": "Ready", "status": True, "reason": None}), False, False)
        assert r == {"changed": False, "api_found": True, "resources": []}


def test_info_wait_condition_not_met_fails_like_a_timeout():
    state = fc.empty_state()
    apply(state, vm(strategy="Halted"))
    params = info_params(kind="VirtualMachine", namespace="vms", name="desk", wait=True, wait_timeout=30,
                         wait_condition={"type": "Ready", "status": True, "reason": None})
    with pytest.raises(fc.ClusterError) as err:
        fc.run_k8s_info(state, params, False, False)
    assert err.value.msg == "Failed to gather information about VirtualMachine(s) even after waiting for 30 seconds"
    apply(state, vm())
    assert len(fc.run_k8s_info(state, params, False, False)["resources"]) == 1
    # without wait the condition is not looked at
    apply(state, vm(strategy="Halted"))
    assert len(fc.run_k8s_info(state, dict(params, wait=False), False, False)["resources"]) == 1


def test_label_selector_grammar():
    labels = {"app": "desk", "tier": "vm"}
    assert fc.label_selector_matches(labels, ["app=desk", "tier==vm"])
    assert fc.label_selector_matches(labels, ["app", "!missing", "tier notin (db, web)"])
    assert not fc.label_selector_matches(labels, ["app != desk"])
    assert not fc.label_selector_matches(labels, ["missing"])
    assert not fc.label_selector_matches(labels, ["!app"])
    assert not fc.label_selector_matches(labels, ["tier in (db,web)"])


# ------------------------------------------------------------------------------------------------ failures and calls


def test_injected_failure_fails_the_matching_call_after_recording_it():
    state = fc.empty_state()
    state["fail"] = {"k8s:present:VirtualMachine": "admission webhook denied the request: no"}
    params = k8s_params(resource_definition=vm(), namespace="vms", apply=True)
    with pytest.raises(fc.ClusterError) as err:
        fc.run_k8s(state, params, False, False)
    assert err.value.msg == "admission webhook denied the request: no"
    assert state["objects"] == {}
    assert len(state["calls"]) == 1 and state["calls"][0]["params"] == params
    r = fc.run_k8s(state, dict(params, continue_on_error=True), False, False)
    assert r["changed"] is False and r["error"]["msg"] == "admission webhook denied the request: no"
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}}
    assert fc.run_k8s(state, k8s_params(resource_definition=cm, namespace="vms"), False, False)["changed"] is True
    state["fail"] = {"k8s_info:info:VirtualMachineInstance": "forbidden"}
    with pytest.raises(fc.ClusterError, match="^forbidden$"):
        fc.run_k8s_info(state, info_params(kind="VirtualMachineInstance"), False, False)
    fc.run_k8s_info(state, info_params(kind="VirtualMachine"), False, False)
    state["fail"] = {"k8s:absent:ConfigMap": "finalizer stuck"}
    with pytest.raises(fc.ClusterError, match="finalizer stuck"):
        fc.run_k8s(state, k8s_params(state="absent", kind="ConfigMap", name="cfg", namespace="vms"), False, False)
    assert "ConfigMap/vms/cfg" in state["objects"]
    assert [c["module"] for c in state["calls"]] == [fc.K8S, fc.K8S, fc.K8S, fc.K8S_INFO, fc.K8S_INFO, fc.K8S]


def test_calls_are_recorded_with_params_check_mode_and_diff():
    state = fc.empty_state()
    params = k8s_params(resource_definition=vm(), namespace="vms", apply=True, api_key="s3cr3t", password="pw")
    fc.run_k8s(state, params, True, True)
    fc.run_k8s_info(state, info_params(kind="VirtualMachine", api_key="s3cr3t"), False, False)
    assert state["calls"] == [
        {"module": "kubernetes.core.k8s", "params": params, "check_mode": True, "diff": True},
        {"module": "kubernetes.core.k8s_info", "params": info_params(kind="VirtualMachine", api_key="s3cr3t"),
         "check_mode": False, "diff": False},
    ]
    params["api_key"] = "changed later"
    assert state["calls"][0]["params"]["api_key"] == "s3cr3t"  # a copy, not the caller's dict


def test_unsupported_options_are_refused_by_name():
    state = fc.empty_state()
    for option, value in (("template", "vm.yml.j2"), ("validate", {"fail_on_error": True, "strict": True, "version": None})):
        with pytest.raises(fc.ClusterError, match=option):
            fc.run_k8s(state, k8s_params(**{option: value, "kind": "ConfigMap", "name": "x", "namespace": "vms"}), False, False)


# ------------------------------------------------------------------------------------------------ the state file


def test_execute_needs_the_environment_variable(tmp_path):
    with pytest.raises(fc.ClusterError, match="NIXPERF_FAKE_CLUSTER is not set"):
        fc.execute(fc.K8S_INFO, info_params(kind="Pod"), False, False, environ={})


def test_execute_loads_saves_atomically_and_records_failed_calls(tmp_path):
    path = tmp_path / "cluster.json"
    environ = {fc.ENV_VAR: str(path)}
    r = fc.execute(fc.K8S, k8s_params(resource_definition=vm(), namespace="vms", apply=True), False, False, environ)
    assert r["changed"] is True
    saved = json.loads(path.read_text())
    assert sorted(saved["objects"]) == ["VirtualMachine/vms/desk", "VirtualMachineInstance/vms/desk"]
    assert saved["server_dry_run"] is True and saved["fail"] == {} and len(saved["calls"]) == 1
    assert (tmp_path / "cluster.json.lock").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cluster.json", "cluster.json.lock"]
    saved["fail"] = {"k8s_info:info:VirtualMachine": "boom"}
    path.write_text(json.dumps(saved))
    with pytest.raises(fc.ClusterError, match="boom"):
        fc.execute(fc.K8S_INFO, info_params(kind="VirtualMachine"), False, False, environ)
    assert len(json.loads(path.read_text())["calls"]) == 2


def test_a_malformed_state_file_is_named(tmp_path):
    path = tmp_path / "cluster.json"
    path.write_text("{not json")
    with pytest.raises(fc.ClusterError, match="is not JSON"):
        fc.load_state(str(path))
    path.write_text(json.dumps({"objects": []}))
    with pytest.raises(fc.ClusterError, match="'objects' must be a dict"):
        fc.load_state(str(path))
    assert fc.load_state(str(tmp_path / "missing.json")) == fc.empty_state()


# ------------------------------------------------------------------------------------------------ ansible-playbook

PLAYBOOK = """
- name: Apply a VM and wait for its instance
  hosts: local
  gather_facts: false
  module_defaults:
    group/kubernetes.core.k8s:
      host: https://api.fake.test:6443
      validate_certs: false
  tasks:
    - name: Apply the VirtualMachine
      kubernetes.core.k8s:
        api_key: "{{ token }}"
        state: present
        apply: true
        server_side_apply:
          field_manager: nixperf
        definition:
          apiVersion: kubevirt.io/v1
          kind: VirtualMachine
          metadata:
            name: desk
            namespace: vms
          spec:
            runStrategy: Always
            template:
              spec:
                domain:
                  cpu: {cores: 4, threads: 2}
                  resources:
                    requests: {cpu: "8", memory: 16Gi}
                    limits: {cpu: "8", memory: 16Gi}
      register: applied

    - name: Wait for the instance
      kubernetes.core.k8s_info:
        api_key: "{{ token }}"
        api_version: kubevirt.io/v1
        kind: VirtualMachineInstance
        name: desk
        namespace: vms
        wait: true
        wait_condition:
          type: Ready
          status: "True"
      register: instance

    - name: Check what came back
      ansible.builtin.assert:
        that:
          - instance.resources | length == 1
          - instance.resources[0].status.qosClass == 'Guaranteed'
          - instance.resources[0].status.currentCPUTopology.threads == 2
          - applied.result.status.printableStatus == 'Running'
"""


def test_ansible_playbook_through_the_doubles(tmp_path):
    token = "tok-3f9a1c77e2b54d0c"
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    (tmp_path / "hosts.ini").write_text("[local]\nlocalhost ansible_connection=local ansible_python_interpreter=%s\n"
                                        % sys.executable)
    state = tmp_path / "cluster.json"
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH="%s:%s" % (DOUBLES, ROOT / ".collections"), NIXPERF_FAKE_CLUSTER=str(state),
               ANSIBLE_HOME=str(tmp_path / "home"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
               ANSIBLE_REMOTE_TEMP=str(tmp_path / "remote-tmp"), ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    playbook = ROOT / ".venv" / "bin" / "ansible-playbook"
    runs = []
    for run in range(2):
        proc = subprocess.run([str(playbook), "-i", str(tmp_path / "hosts.ini"), str(tmp_path / "play.yml"), "-vvv",
                               "-e", "token=%s" % token], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300,
                              check=False)
        assert proc.returncode == 0, "run %d:\n%s\n%s" % (run, proc.stdout[-4000:], proc.stderr[-4000:])
        assert "Using module file %s" % DOUBLES in proc.stdout  # the double, not an installed kubernetes.core
        assert token not in proc.stdout and token not in proc.stderr
        assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in proc.stdout
        runs.append(proc.stdout)
    assert "changed: [localhost]" in runs[0] and "changed=1" in runs[0]
    assert "changed: [localhost]" not in runs[1] and "changed=0" in runs[1]
    saved = json.loads(state.read_text())
    assert [c["module"] for c in saved["calls"]] == [fc.K8S, fc.K8S_INFO] * 2
    assert all(c["params"]["api_key"] == token for c in saved["calls"])
    assert all(c["params"]["host"] == "https://api.fake.test:6443" and c["params"]["validate_certs"] is False for c in saved["calls"])
    assert saved["calls"][0]["params"]["server_side_apply"] == {"field_manager": "nixperf", "force_conflicts": False}
    assert saved["calls"][1]["params"]["wait_condition"]["type"] == "Ready"
    assert saved["objects"]["VirtualMachineInstance/vms/desk"]["status"]["qosClass"] == "Guaranteed"
