# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A recording stand-in for a Kubernetes cluster with KubeVirt, behind the test doubles of ``kubernetes.core.k8s``
and ``kubernetes.core.k8s_info``.  Used by the project's tests only, never shipped.

The cluster is a JSON file named by ``$NIXPERF_FAKE_CLUSTER`` (a missing file is an empty cluster)::

    {"objects": {"<Kind>/<namespace>/<name>": <object>}, "calls": [<call>, ...], "server_dry_run": true, "fail": {}}

Every module call is appended to ``calls`` as ``{"module", "params", "check_mode", "diff"}`` with the parameters as
the module received them, secrets included: the file is the test's private record.  ``fail`` maps
``"<k8s|k8s_info>:<present|absent|patched|info>:<Kind>"`` to a message the matching call fails with.

The logic is a set of pure functions over the state dictionary (``run_k8s``, ``run_k8s_info``); ``execute`` adds
the locked load / atomic save around them.  A minimal KubeVirt controller runs after every write: a
VirtualMachine whose run strategy is ``Always`` or ``RerunOnFailure`` gets a running VirtualMachineInstance built
from its template, ``Halted`` removes it, and a template that no longer matches the running instance sets the
``RestartRequired`` condition.
"""
from __future__ import annotations

import copy
import fcntl
import json
import os
import re
import tempfile
import uuid
from contextlib import contextmanager
from fractions import Fraction
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

ENV_VAR = "NIXPERF_FAKE_CLUSTER"
K8S = "kubernetes.core.k8s"
K8S_INFO = "kubernetes.core.k8s_info"
SHORT_NAMES = {K8S: "k8s", K8S_INFO: "k8s_info"}

VM_KIND = "VirtualMachine"
VMI_KIND = "VirtualMachineInstance"
KUBEVIRT_API = "kubevirt.io/v1"
RUNNING_STRATEGIES = ("Always", "RerunOnFailure")
NODE_NAME = "node-1"
CONTROLLER_MANAGER = "virt-controller"
CLIENT_SIDE_APPLY_MANAGER = "kubectl-client-side-apply"
UPDATE_MANAGER = "OpenAPI-Generator"
CLIENT_SIDE_DRY_RUN_WARNING = "client-side dry run"

# metadata the API server owns: never part of what a client applies, never compared for "changed"
SERVER_METADATA = ("uid", "generation", "resourceVersion", "managedFields", "creationTimestamp")
# kinds whose objects have no namespace (the rest need one, as the API server and the dynamic client insist)
CLUSTER_SCOPED = frozenset((
    "Namespace", "Node", "PersistentVolume", "StorageClass", "ClusterRole", "ClusterRoleBinding", "PriorityClass",
    "CustomResourceDefinition", "APIService", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
    "VolumeSnapshotClass", "CSIDriver", "CSINode", "RuntimeClass", "IngressClass",
))
UID_NAMESPACE = uuid.UUID("6f0c5e4a-8a53-4c5e-9a4e-2b1d3c7f9e10")

_QUANTITY = re.compile(r"^([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$")
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_TRUE = ("true", "yes", "on", "1", "y", "t")
_FALSE = ("false", "no", "off", "0", "n", "f")


class ClusterError(Exception):
    """A call the simulated API server refuses.  ``result`` holds what the module returns alongside ``msg``."""

    def __init__(self, msg: str, result: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(msg)
        self.msg = msg
        self.result = dict(result or {})


# ------------------------------------------------------------------------------------------------ argument specs

def auth_argument_spec() -> Dict[str, Any]:
    """The connection options both modules take, as kubernetes.core declares them (secrets are no_log)."""
    return {
        "kubeconfig": {"type": "raw", "no_log": True},
        "context": {"type": "str"},
        "host": {"type": "str"},
        "api_key": {"type": "str", "no_log": True},
        "username": {"type": "str"},
        "password": {"type": "str", "no_log": True},
        "validate_certs": {"type": "bool", "aliases": ["verify_ssl"]},
        "ca_cert": {"type": "path", "aliases": ["ssl_ca_cert"]},
        "client_cert": {"type": "path", "aliases": ["cert_file"]},
        "client_key": {"type": "path", "aliases": ["key_file"]},
        "proxy": {"type": "str"},
        "no_proxy": {"type": "str"},
        "proxy_headers": {"type": "dict", "options": {
            "proxy_basic_auth": {"type": "str", "no_log": True},
            "basic_auth": {"type": "str", "no_log": True},
            "user_agent": {"type": "str"},
        }},
        "persist_config": {"type": "bool"},
        "impersonate_user": {"type": "str"},
        "impersonate_groups": {"type": "list", "elements": "str"},
    }


def wait_argument_spec() -> Dict[str, Any]:
    """wait, wait_sleep, wait_timeout and wait_condition, with kubernetes.core's defaults and choices."""
    return {
        "wait": {"type": "bool", "default": False},
        "wait_sleep": {"type": "int", "default": 5},
        "wait_timeout": {"type": "int", "default": 120},
        "wait_condition": {"type": "dict", "default": None, "options": {
            "type": {"type": "str"},
            "status": {"type": "str", "default": True, "choices": [True, False, "Unknown"]},
            "reason": {"type": "str"},
        }},
    }


def k8s_argument_spec() -> Dict[str, Any]:
    """The options of kubernetes.core.k8s 6.2.0."""
    spec = auth_argument_spec()
    spec.update(wait_argument_spec())
    spec.update({
        "api_version": {"type": "str", "default": "v1", "aliases": ["api", "version"]},
        "kind": {"type": "str"},
        "name": {"type": "str"},
        "namespace": {"type": "str"},
        "resource_definition": {"type": "raw", "aliases": ["definition", "inline"]},
        "src": {"type": "path"},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent", "patched"]},
        "force": {"type": "bool", "default": False},
        "merge_type": {"type": "list", "elements": "str", "choices": ["merge", "strategic-merge"]},
        "validate": {"type": "dict", "default": None, "options": {
            "fail_on_error": {"type": "bool"},
            "version": {"type": "str"},
            "strict": {"type": "bool", "default": True},
        }},
        "append_hash": {"type": "bool", "default": False},
        "apply": {"type": "bool", "default": False},
        "template": {"type": "raw", "default": None},
        "delete_options": {"type": "dict", "default": None, "options": {
            "propagationPolicy": {"type": "str", "choices": ["Foreground", "Background", "Orphan"]},
            "gracePeriodSeconds": {"type": "int"},
            "preconditions": {"type": "dict", "options": {"resourceVersion": {"type": "str"}, "uid": {"type": "str"}}},
        }},
        "continue_on_error": {"type": "bool", "default": False},
        "label_selectors": {"type": "list", "elements": "str"},
        "generate_name": {"type": "str"},
        "server_side_apply": {"type": "dict", "default": None, "options": {
            "field_manager": {"type": "str", "required": True},
            "force_conflicts": {"type": "bool", "default": False},
        }},
        "delete_all": {"type": "bool", "default": False, "aliases": ["all"]},
        "hidden_fields": {"type": "list", "elements": "str"},
    })
    return spec


K8S_MUTUALLY_EXCLUSIVE = (
    ("resource_definition", "src"),
    ("merge_type", "apply"),
    ("template", "resource_definition"),
    ("template", "src"),
    ("name", "generate_name"),
)


def k8s_info_argument_spec() -> Dict[str, Any]:
    """The options of kubernetes.core.k8s_info 6.2.0."""
    spec = auth_argument_spec()
    spec.update(wait_argument_spec())
    spec.update({
        "kind": {"type": "str", "required": True},
        "api_version": {"type": "str", "default": "v1", "aliases": ["api", "version"]},
        "name": {"type": "str"},
        "namespace": {"type": "str"},
        "label_selectors": {"type": "list", "elements": "str", "default": []},
        "field_selectors": {"type": "list", "elements": "str", "default": []},
        "hidden_fields": {"type": "list", "elements": "str"},
    })
    return spec


# ------------------------------------------------------------------------------------------------ state and calls

def empty_state() -> Dict[str, Any]:
    """The state of a cluster nobody has touched."""
    return {"objects": {}, "calls": [], "server_dry_run": True, "fail": {}}


def normalise_state(raw: Any) -> Dict[str, Any]:
    """``raw`` (a decoded state file) with every key present; ClusterError when its shape is wrong."""
    if not isinstance(raw, dict):
        raise ClusterError("fake cluster state must be a JSON object, not %s" % type(raw).__name__)
    state = empty_state()
    state.update(raw)
    for key, kind in (("objects", dict), ("calls", list), ("fail", dict), ("server_dry_run", bool)):
        if not isinstance(state[key], kind):
            raise ClusterError("fake cluster state: %r must be a %s" % (key, kind.__name__))
    return state


def object_key(kind: str, namespace: str, name: str) -> str:
    """The key of an object in ``state["objects"]``."""
    return "%s/%s/%s" % (kind, namespace or "", name)


def record_call(state: Dict[str, Any], module: str, params: Mapping[str, Any], check_mode: bool, diff: bool) -> None:
    """Append one call, parameters copied exactly as received."""
    state["calls"].append({"module": module, "params": copy.deepcopy(dict(params)), "check_mode": bool(check_mode),
                           "diff": bool(diff)})


def injected_failure(state: Mapping[str, Any], module: str, action: str, kind: Optional[str]) -> Optional[str]:
    """The message a test injected for this module, action (state or ``info``) and kind, if any."""
    return state.get("fail", {}).get("%s:%s:%s" % (SHORT_NAMES.get(module, module), action, kind))


# ------------------------------------------------------------------------------------------------ small helpers

def as_bool(value: Any) -> bool:
    """Ansible's reading of a boolean-ish value (``"True"``, ``"yes"``, ``1``, ``True``)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ClusterError("%r is not a boolean" % (value,))


def parse_quantity(value: Any) -> Optional[Fraction]:
    """A Kubernetes resource quantity (``"4"``, ``"500m"``, ``"8Gi"``, ``"1e3"``) as an exact number, None if invalid."""
    if isinstance(value, bool) or value is None:
        return None
    match = _QUANTITY.match(str(value).strip())
    if not match:
        return None
    number = Fraction(match.group(1))
    suffix = match.group(2) or ""
    if suffix in _BINARY:
        return number * 1024 ** _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * Fraction(10) ** _DECIMAL[suffix]
    if suffix:
        return number * Fraction(10) ** int(suffix[1:])
    return number


def same_quantity(left: Any, right: Any) -> bool:
    """Both quantities present and equal (``"8Gi" == "8192Mi"``)."""
    if left is None or right is None:
        return False
    lq, rq = parse_quantity(left), parse_quantity(right)
    if lq is None or rq is None:
        return str(left) == str(right)
    return lq == rq


def dig(obj: Any, *path: str) -> Any:
    """``obj[path[0]][path[1]]...``, None where a level is missing or not a mapping."""
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def uid_for(key: str, resource_version: str) -> str:
    """A deterministic uid for the object created under ``key`` at ``resource_version``: an object deleted and
    created again (a restarted VirtualMachineInstance) gets a new one, as on a real cluster."""
    return str(uuid.uuid5(UID_NAMESPACE, "%s@%s" % (key, resource_version)))


def next_resource_version(objects: Mapping[str, Any]) -> str:
    """One more than the highest resourceVersion in the cluster (one counter for all objects, as etcd has)."""
    highest = 0
    for obj in objects.values():
        try:
            highest = max(highest, int(dig(obj, "metadata", "resourceVersion") or 0))
        except (TypeError, ValueError):
            continue
    return str(highest + 1)


def managed_content(obj: Mapping[str, Any]) -> Dict[str, Any]:
    """What a client manages: the object without status and without server-managed metadata."""
    content = copy.deepcopy(dict(obj))
    content.pop("status", None)
    metadata = content.get("metadata")
    if isinstance(metadata, dict):
        for key in SERVER_METADATA:
            metadata.pop(key, None)
    return content


def merge_patch(base: Any, patch: Any) -> Any:
    """JSON merge patch (RFC 7386): mappings merge recursively, null removes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(base) if isinstance(base, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def with_managed_fields(previous: Optional[Mapping[str, Any]], manager: str, operation: str) -> List[Dict[str, Any]]:
    """managedFields after ``manager`` wrote with ``operation``: its entry replaced, the others kept."""
    entries = [dict(e) for e in (dig(previous, "metadata", "managedFields") or []) if isinstance(e, dict)]
    entries = [e for e in entries if (e.get("manager"), e.get("operation")) != (manager, operation)]
    entries.append({"manager": manager, "operation": operation})
    return entries


def write_object(objects: Dict[str, Any], key: str, content: Mapping[str, Any], status: Optional[Dict[str, Any]],
                 manager: str, operation: str) -> Dict[str, Any]:
    """Store ``content`` (managed content) with ``status`` under ``key`` as the API server would, and return it.

    An identical write leaves the stored object untouched; otherwise uid stays (a new object gets a new one),
    generation counts spec changes and resourceVersion takes the next cluster-wide value."""
    previous = objects.get(key)
    obj = copy.deepcopy(dict(content))
    metadata = obj.setdefault("metadata", {})
    if status:
        obj["status"] = copy.deepcopy(status)
    if previous is not None and managed_content(previous) == managed_content(obj) and previous.get("status") == obj.get("status"):
        return previous
    resource_version = next_resource_version(objects)
    if previous is None:
        metadata["uid"] = uid_for(key, resource_version)
        metadata["generation"] = 1
    else:
        metadata["uid"] = dig(previous, "metadata", "uid") or uid_for(key, resource_version)
        generation = int(dig(previous, "metadata", "generation") or 1)
        metadata["generation"] = generation + 1 if obj.get("spec") != previous.get("spec") else generation
    metadata["resourceVersion"] = resource_version
    metadata["managedFields"] = with_managed_fields(previous, manager, operation)
    objects[key] = obj
    return obj


def set_status(objects: Dict[str, Any], key: str, status: Dict[str, Any]) -> Dict[str, Any]:
    """A controller's status update of the object under ``key``."""
    obj = objects[key]
    if obj.get("status") == status:
        return obj
    updated = copy.deepcopy(obj)
    updated["status"] = copy.deepcopy(status)
    updated["metadata"]["resourceVersion"] = next_resource_version(objects)
    objects[key] = updated
    return updated


# ------------------------------------------------------------------------------------------------ KubeVirt

def run_strategy(vm: Mapping[str, Any]) -> str:
    """The VM's run strategy; the older ``spec.running`` boolean reads as Always / Halted."""
    spec = vm.get("spec") or {}
    if spec.get("runStrategy"):
        return str(spec["runStrategy"])
    if "running" in spec:
        return "Always" if as_bool(spec["running"]) else "Halted"
    return "Halted"


def qos_class(domain: Mapping[str, Any]) -> str:
    """Guaranteed when requests equal limits for both cpu and memory (all four present), else Burstable."""
    resources = domain.get("resources") or {}
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    if all(same_quantity(requests.get(r), limits.get(r)) for r in ("cpu", "memory")):
        return "Guaranteed"
    return "Burstable"


def vmi_status(spec: Mapping[str, Any]) -> Dict[str, Any]:
    """The status virt-handler reports for a running instance of ``spec``."""
    domain = spec.get("domain") or {}
    cpu = domain.get("cpu") or {}
    status: Dict[str, Any] = {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True"}],
        "qosClass": qos_class(domain),
        "currentCPUTopology": {t: int(cpu.get(t) or 1) for t in ("sockets", "cores", "threads")},
        "nodeName": NODE_NAME,
    }
    guest = dig(domain, "memory", "guest") or dig(domain, "resources", "requests", "memory")
    if guest is not None:
        status["memory"] = {"guestCurrent": guest}
    return status


def vmi_for(vm: Mapping[str, Any]) -> Dict[str, Any]:
    """The managed content of the instance virt-controller creates for ``vm``."""
    template = dig(vm, "spec", "template") or {}
    metadata: Dict[str, Any] = {
        "name": vm["metadata"]["name"],
        "namespace": vm["metadata"].get("namespace", ""),
        "ownerReferences": [{"apiVersion": KUBEVIRT_API, "kind": VM_KIND, "name": vm["metadata"]["name"],
                             "uid": dig(vm, "metadata", "uid"), "controller": True, "blockOwnerDeletion": True}],
    }
    for field in ("labels", "annotations"):
        if dig(template, "metadata", field):
            metadata[field] = copy.deepcopy(template["metadata"][field])
    return {"apiVersion": KUBEVIRT_API, "kind": VMI_KIND, "metadata": metadata,
            "spec": copy.deepcopy(template.get("spec") or {})}


def start_vmi(objects: Dict[str, Any], vm: Mapping[str, Any]) -> Dict[str, Any]:
    """Create and "boot" the instance of ``vm``."""
    namespace, name = vm["metadata"].get("namespace", ""), vm["metadata"]["name"]
    content = vmi_for(vm)
    return write_object(objects, object_key(VMI_KIND, namespace, name), content, vmi_status(content["spec"]),
                        CONTROLLER_MANAGER, "Update")


def reconcile_vm(objects: Dict[str, Any], namespace: str, name: str, start: bool = True) -> None:
    """virt-controller's pass over one VirtualMachine: start (when ``start``) or stop its instance as the run
    strategy says, then write the VM's status."""
    vm_key, vmi_key = object_key(VM_KIND, namespace, name), object_key(VMI_KIND, namespace, name)
    vm = objects.get(vm_key)
    if vm is None:
        return
    strategy = run_strategy(vm)
    if start and strategy in RUNNING_STRATEGIES and vmi_key not in objects:
        start_vmi(objects, vm)
    elif strategy == "Halted" and vmi_key in objects:
        del objects[vmi_key]
    vmi = objects.get(vmi_key)
    status = copy.deepcopy(vm.get("status") or {})
    conditions = [c for c in status.get("conditions") or [] if c.get("type") not in ("Ready", "RestartRequired")]
    if vmi is not None:
        ready = dig(vmi, "status", "phase") == "Running"
        conditions.insert(0, {"type": "Ready", "status": "True" if ready else "False"})
        if (dig(vm, "spec", "template", "spec") or {}) != (vmi.get("spec") or {}):
            conditions.append({"type": "RestartRequired", "status": "True"})
        status.update({"printableStatus": "Running" if ready else "Starting", "ready": ready, "created": True})
    else:
        conditions.insert(0, {"type": "Ready", "status": "False", "reason": "VMINotExists"})
        status.update({"printableStatus": "Stopped", "ready": False, "created": False})
    status["conditions"] = conditions
    set_status(objects, vm_key, status)


def after_write(objects: Dict[str, Any], kind: str, namespace: str, name: str, deleted: bool, changed: bool = True,
                orphan: bool = False) -> None:
    """Run the controllers that watch ``kind`` after an object of it was written (``changed`` when its content moved)
    or deleted.

    A VirtualMachine written with Always gets its instance back whenever it is missing; with RerunOnFailure only
    when the VM was created or changed (an instance that went away is not restarted by an unchanged VM).  A deleted
    instance is started again from the VM's current template when the VM says Always; an instance created
    directly boots."""
    if kind == VM_KIND:
        if deleted:
            if not orphan:
                objects.pop(object_key(VMI_KIND, namespace, name), None)
            return
        vm = objects.get(object_key(VM_KIND, namespace, name)) or {}
        reconcile_vm(objects, namespace, name, start=changed or run_strategy(vm) == "Always")
    elif kind == VMI_KIND:
        vmi_key = object_key(VMI_KIND, namespace, name)
        if not deleted and not dig(objects.get(vmi_key), "status", "phase"):
            # an instance created directly: virt-handler boots it
            set_status(objects, vmi_key, vmi_status(objects[vmi_key].get("spec") or {}))
        vm = objects.get(object_key(VM_KIND, namespace, name))
        if vm is not None:
            if deleted and run_strategy(vm) == "Always":
                start_vmi(objects, vm)
            reconcile_vm(objects, namespace, name, start=False)


# ------------------------------------------------------------------------------------------------ definitions

def _load_yaml_documents(text: str) -> List[Any]:
    try:
        import yaml  # deferred: a definition given as a mapping needs no YAML parser
    except ImportError as exc:
        raise ClusterError("Failed to load resource definition: PyYAML is required to parse a YAML string") from exc
    try:
        return list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        raise ClusterError("Failed to load resource definition: %s" % exc) from exc


def parse_definitions(params: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """The objects a k8s call is about: ``resource_definition`` (mapping, YAML text or list of them), ``src`` (a YAML
    file) or, without either, one object named by kind / api_version / name / namespace; module parameters fill
    what a definition leaves out, ``*List`` kinds are flattened."""
    if params.get("template"):
        raise ClusterError("template is rendered by the kubernetes.core.k8s action plugin, which this test double "
                           "does not provide: pass resource_definition")
    raw = params.get("resource_definition")
    documents: List[Any] = []
    if raw:
        for item in raw if isinstance(raw, list) else [raw]:
            documents.extend(_load_yaml_documents(item) if isinstance(item, str) else [item])
    elif params.get("src"):
        try:
            with open(os.path.normpath(str(params["src"])), encoding="utf-8") as handle:
                documents = _load_yaml_documents(handle.read())
        except OSError as exc:
            raise ClusterError("Failed to load resource definition: %s" % exc) from exc
    else:
        documents = [{}]
    definitions: List[Dict[str, Any]] = []
    for doc in documents:
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise ClusterError("Failed to load resource definition: expected a mapping, got %s" % type(doc).__name__)
        doc = _fill_from_params(copy.deepcopy(doc), params)
        kind = str(doc.get("kind") or "")
        if kind.endswith("List") and isinstance(doc.get("items"), list):
            for item in doc["items"]:
                if not isinstance(item, dict):
                    raise ClusterError("Failed to load resource definition: a %s item must be a mapping" % kind)
                item = copy.deepcopy(item)
                item.setdefault("kind", kind[:-4])
                item.setdefault("apiVersion", doc.get("apiVersion"))
                definitions.append(_fill_from_params(item, params))
        else:
            definitions.append(doc)
    return definitions


def _fill_from_params(definition: Dict[str, Any], params: Mapping[str, Any]) -> Dict[str, Any]:
    definition.setdefault("kind", params.get("kind"))
    definition.setdefault("apiVersion", params.get("api_version"))
    metadata = definition.setdefault("metadata", {})
    if not isinstance(metadata, dict):
        raise ClusterError("Failed to load resource definition: metadata must be a mapping, got %s" % type(metadata).__name__)
    for option, field in (("namespace", "namespace"), ("name", "name"), ("generate_name", "generateName")):
        if params.get(option):
            metadata.setdefault(field, params[option])
    return definition


def locate(definition: Mapping[str, Any], verb: str) -> Tuple[str, str, str]:
    """(kind, namespace, name) of a definition, with the API server's checks."""
    kind = definition.get("kind")
    if not kind:
        raise ClusterError("Error: 'kind' is required in the resource definition or as a module option")
    metadata = definition.get("metadata") or {}
    namespace = "" if kind in CLUSTER_SCOPED else str(metadata.get("namespace") or "")
    if kind not in CLUSTER_SCOPED and not namespace:
        raise ClusterError("Failed to %s object: Namespace is required for %s.%s" % (verb, definition.get("apiVersion"), kind))
    name = metadata.get("name")
    if not name:
        raise ClusterError("Failed to %s object: resource name may not be empty" % verb)
    return str(kind), namespace, str(name)


# ------------------------------------------------------------------------------------------------ selectors

def _split_selector(text: str) -> List[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current.strip())
    return parts


def label_selector_matches(labels: Mapping[str, Any], selectors: Optional[List[str]]) -> bool:
    """Kubernetes label selector semantics: ``k=v``, ``k==v``, ``k!=v``, ``k in (a, b)``, ``k notin (a)``, ``k``, ``!k``."""
    for requirement in _split_selector(",".join(selectors or [])):
        set_match = re.match(r"^([^\s!=]+)\s+(in|notin)\s*\((.*)\)$", requirement)
        if set_match:
            key, operator = set_match.group(1), set_match.group(2)
            values = [v.strip() for v in set_match.group(3).split(",") if v.strip()]
            present = key in labels and str(labels[key]) in values
            if present != (operator == "in"):
                return False
            continue
        eq_match = re.match(r"^([^\s!=]+)\s*(==|=|!=)\s*(.*)$", requirement)
        if eq_match:
            key, operator, value = eq_match.group(1), eq_match.group(2), eq_match.group(3).strip()
            equal = key in labels and str(labels[key]) == value
            if equal != (operator != "!="):
                return False
            continue
        if requirement.startswith("!"):
            if requirement[1:].strip() in labels:
                return False
        elif requirement not in labels:
            return False
    return True


def field_selector_matches(obj: Mapping[str, Any], selectors: Optional[List[str]]) -> bool:
    """Field selectors ``path=value``, ``path==value``, ``path!=value`` over dotted paths (``status.phase=Running``)."""
    for requirement in _split_selector(",".join(selectors or [])):
        match = re.match(r"^([^\s!=]+)\s*(==|=|!=)\s*(.*)$", requirement)
        if not match:
            raise ClusterError("invalid field selector: %r" % requirement)
        actual = dig(obj, *match.group(1).split("."))
        if isinstance(actual, bool):
            actual = "true" if actual else "false"
        equal = ("" if actual is None else str(actual)) == match.group(3).strip()
        if equal != (match.group(2) != "!="):
            return False
    return True


def select(objects: Mapping[str, Any], kind: str, namespace: Optional[str] = None, name: Optional[str] = None,
           label_selectors: Optional[List[str]] = None, field_selectors: Optional[List[str]] = None) -> List[Dict[str, Any]]:
    """Stored objects of ``kind`` (in ``namespace`` when given, named ``name`` when given), by key order."""
    found = []
    for key in sorted(objects):
        obj_kind, obj_namespace, obj_name = key.split("/", 2)
        if obj_kind != kind or (namespace and obj_namespace != namespace) or (name and obj_name != name):
            continue
        obj = objects[key]
        if label_selector_matches(dig(obj, "metadata", "labels") or {}, label_selectors) and \
                field_selector_matches(obj, field_selectors):
            found.append(copy.deepcopy(obj))
    return found


def condition_met(obj: Mapping[str, Any], condition: Mapping[str, Any]) -> bool:
    """The first status.conditions entry of ``condition["type"]`` has the wanted status (and reason, when given)."""
    conditions = dig(obj, "status", "conditions") or []
    match = next((c for c in conditions if isinstance(c, dict) and c.get("type") == condition.get("type")), None)
    if match is None:
        return False
    wanted = condition.get("status", True)
    wanted = True if wanted is None else wanted
    actual = match.get("status")
    if actual == "Unknown" or wanted == "Unknown":
        ok = actual == wanted
    else:
        ok = as_bool(actual) == as_bool(wanted)
    if ok and condition.get("reason"):
        ok = match.get("reason") == condition["reason"]
    return ok


def _field_path(field: str) -> List[str]:
    """``a.b[c.d][0].e`` -> ``["a", "b", "c.d", "0", "e"]``."""
    tokens, current, index = [], "", 0
    while index < len(field):
        char = field[index]
        if char == "[":
            if current:
                tokens.append(current)
                current = ""
            end = field.index("]", index)
            tokens.append(field[index + 1:end])
            index = end + 1
            continue
        if char == ".":
            if current:
                tokens.append(current)
            current = ""
        else:
            current += char
        index += 1
    if current:
        tokens.append(current)
    return tokens


def hide_fields(obj: Dict[str, Any], fields: Optional[List[str]]) -> Dict[str, Any]:
    """A copy of ``obj`` without the fields named in ``fields`` (``metadata.managedFields``, ``spec.x[0].y``)."""
    if not fields:
        return obj
    result = copy.deepcopy(obj)
    for field in fields:
        path = _field_path(field)
        parent: Any = result
        for token in path[:-1]:
            if isinstance(parent, list) and token.isdigit() and int(token) < len(parent):
                parent = parent[int(token)]
            elif isinstance(parent, dict) and token in parent:
                parent = parent[token]
            else:
                parent = None
                break
        if not path or parent is None:
            continue
        last = path[-1]
        if isinstance(parent, dict):
            parent.pop(last, None)
        elif isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
            del parent[int(last)]
    return result


# ------------------------------------------------------------------------------------------------ kubernetes.core.k8s

def _present(objects: Dict[str, Any], definition: Dict[str, Any], params: Mapping[str, Any], diff: bool) -> Dict[str, Any]:
    state = params.get("state") or "present"
    apply = bool(params.get("apply"))
    metadata = definition.setdefault("metadata", {})
    if not metadata.get("name") and metadata.get("generateName") and not apply:
        prefix = str(metadata["generateName"])
        namespace = str(metadata.get("namespace") or "")
        serial = sum(1 for key in objects if key.startswith(object_key(str(definition.get("kind")), namespace, prefix)))
        metadata["name"] = prefix + uuid.uuid5(UID_NAMESPACE, "%s/%s/%s/%d" % (definition.get("kind"), namespace, prefix,
                                                                               serial)).hex[:5]
    verb = "apply" if apply else "create"
    kind, namespace, name = locate(definition, verb)
    if params.get("label_selectors") and not label_selector_matches(metadata.get("labels") or {}, params["label_selectors"]):
        return {"changed": False, "result": {}, "msg": "resource 'kind=%s,name=%s,namespace=%s' filtered by label_selectors."
                % (kind, name, namespace)}
    if params.get("append_hash") and kind in ("ConfigMap", "Secret"):
        raise ClusterError("append_hash is not simulated by the kubernetes.core test double")
    if kind in CLUSTER_SCOPED:
        metadata.pop("namespace", None)
    else:
        metadata["namespace"] = namespace
    key = object_key(kind, namespace, name)
    previous = copy.deepcopy(objects.get(key))
    content = managed_content(definition)
    status = (previous or {}).get("status")
    result: Dict[str, Any] = {}
    if apply:
        ssa = params.get("server_side_apply")
        if ssa:
            manager, operation = str(ssa.get("field_manager")), "Apply"
        else:
            manager, operation = CLIENT_SIDE_APPLY_MANAGER, "Update"
        method = "apply"
    elif previous is None:
        if state == "patched":
            return {"changed": False, "result": {}, "warnings": [
                "resource 'kind=%s,name=%s' was not found but will not be created as 'state' parameter has been set "
                "to 'patched'" % (kind, name)]}
        manager, operation, method = UPDATE_MANAGER, "Update", "create"
    elif params.get("force"):
        manager, operation, method = UPDATE_MANAGER, "Update", "replace"
    else:
        content = merge_patch(managed_content(previous), content)
        manager, operation, method = UPDATE_MANAGER, "Update", "update"
    changed = previous is None or managed_content(previous) != content
    write_object(objects, key, content, status, manager, operation)
    after_write(objects, kind, namespace, name, deleted=False, changed=changed)
    after = copy.deepcopy(objects[key])
    result.update({"changed": changed, "method": method, "result": hide_fields(after, params.get("hidden_fields"))})
    if diff:
        result["diff"] = {"before": hide_fields(previous or {}, params.get("hidden_fields")),
                          "after": hide_fields(after, params.get("hidden_fields"))}
    return result


def _delete(objects: Dict[str, Any], kind: str, namespace: str, name: str, params: Mapping[str, Any]) -> Dict[str, Any]:
    key = object_key(kind, namespace, name)
    existing = objects.pop(key, None)
    if existing is None:
        return {"changed": False, "method": "delete", "result": {}}
    orphan = (params.get("delete_options") or {}).get("propagationPolicy") == "Orphan"
    after_write(objects, kind, namespace, name, deleted=True, orphan=orphan)
    return {"changed": True, "method": "delete", "result": hide_fields(existing, params.get("hidden_fields"))}


def _absent(objects: Dict[str, Any], definition: Dict[str, Any], params: Mapping[str, Any]) -> List[Dict[str, Any]]:
    metadata = definition.get("metadata") or {}
    no_source = not params.get("resource_definition") and not params.get("src")
    if params.get("delete_all") and not metadata.get("name") and no_source:
        if not definition.get("kind"):
            raise ClusterError("'kind' option is required to specify the resource type.")
        kind = str(definition["kind"])
        matches = select(objects, kind, metadata.get("namespace"), None, params.get("label_selectors"))
        return [_delete(objects, kind, m["metadata"].get("namespace", ""), m["metadata"]["name"], params) for m in matches]
    kind, namespace, name = locate(definition, "delete")
    return [_delete(objects, kind, namespace, name, params)]


def _check_wait(objects: Dict[str, Any], definition: Mapping[str, Any], params: Mapping[str, Any],
                result: Dict[str, Any]) -> None:
    """``wait``: the simulation is immediate, so only a wait_condition the object does not meet can time out."""
    result["duration"] = 0
    condition = params.get("wait_condition")
    if (params.get("state") or "present") == "absent" or not condition or not condition.get("type"):
        return
    obj = result.get("result") or {}
    if not condition_met(obj, condition):
        raise ClusterError('"%s" "%s": Timed out waiting on resource' % (definition.get("kind"),
                                                                         dig(definition, "metadata", "name")), result)


def run_k8s(state: Dict[str, Any], params: Mapping[str, Any], check_mode: bool, diff: bool) -> Dict[str, Any]:
    """One ``kubernetes.core.k8s`` call against ``state`` (recorded first); the module's result, or ClusterError.

    In check mode the call runs against a copy of the objects: the result is what a real run returns, nothing is
    stored.  ``server_dry_run: false`` in the state stands for a cluster without server-side dry run."""
    record_call(state, K8S, params, check_mode, diff)
    action = params.get("state") or "present"
    if params.get("validate"):
        raise ClusterError("validate is not simulated by the kubernetes.core test double")
    definitions = parse_definitions(params)
    objects = copy.deepcopy(state["objects"]) if check_mode else state["objects"]
    warnings: List[str] = []
    if check_mode and not state.get("server_dry_run", True):
        warnings.append(CLIENT_SIDE_DRY_RUN_WARNING)
    results: List[Dict[str, Any]] = []
    for definition in definitions:
        try:
            message = injected_failure(state, K8S, action, definition.get("kind"))
            if message:
                raise ClusterError(message)
            if action == "absent":
                outcome = _absent(objects, definition, params)
                if len(outcome) == 1:
                    result = outcome[0]
                else:
                    result = {"changed": any(o["changed"] for o in outcome), "method": "delete",
                              "result": [o["result"] for o in outcome]}
            else:
                result = _present(objects, definition, params, diff)
            if params.get("wait") and not check_mode and "method" in result:
                _check_wait(objects, definition, params, result)
        except ClusterError as exc:
            if not params.get("continue_on_error"):
                if warnings:
                    exc.result["warnings"] = warnings + exc.result.get("warnings", [])
                raise
            result = {"changed": False, "result": {}, "error": dict(exc.result, msg=exc.msg)}
        if warnings:
            result["warnings"] = warnings + result.get("warnings", [])
        results.append(result)
    if len(results) == 1:
        return results[0]
    return {"changed": any(r["changed"] for r in results), "result": {"results": results}}


# ------------------------------------------------------------------------------------------------ kubernetes.core.k8s_info

def run_k8s_info(state: Dict[str, Any], params: Mapping[str, Any], check_mode: bool, diff: bool) -> Dict[str, Any]:
    """One ``kubernetes.core.k8s_info`` call against ``state`` (recorded first); the module's result, or ClusterError."""
    record_call(state, K8S_INFO, params, check_mode, diff)
    kind = params.get("kind")
    message = injected_failure(state, K8S_INFO, "info", kind)
    if message:
        raise ClusterError(message)
    found = select(state["objects"], str(kind), params.get("namespace"), params.get("name"),
                   params.get("label_selectors"), params.get("field_selectors"))
    condition = params.get("wait_condition")
    if params.get("wait") and condition and condition.get("type"):
        for obj in found:
            if not condition_met(obj, condition):
                raise ClusterError("Failed to gather information about %s(s) even after waiting for %s seconds"
                                   % (obj.get("kind", kind), params.get("wait_timeout", 120)))
    return {"changed": False, "api_found": True, "resources": [hide_fields(o, params.get("hidden_fields")) for o in found]}


RUNNERS = {K8S: run_k8s, K8S_INFO: run_k8s_info}


# ------------------------------------------------------------------------------------------------ the state file

def state_path(environ: Optional[Mapping[str, str]] = None) -> str:
    """The state file named by ``$NIXPERF_FAKE_CLUSTER``; ClusterError when unset."""
    path = (os.environ if environ is None else environ).get(ENV_VAR)
    if not path:
        raise ClusterError("%s is not set: the kubernetes.core test double needs the path of its fake cluster state "
                           "(a JSON file)" % ENV_VAR)
    return path


def load_state(path: str) -> Dict[str, Any]:
    """The state in ``path``; an empty cluster when the file does not exist."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return empty_state()
    if not text.strip():
        return empty_state()
    try:
        return normalise_state(json.loads(text))
    except ValueError as exc:
        raise ClusterError("fake cluster state %s is not JSON: %s" % (path, exc)) from exc


def save_state(path: str, state: Mapping[str, Any]) -> None:
    """Write ``state`` to ``path`` atomically (a temporary file in the same directory, then os.replace)."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(state, handle, indent=1, sort_keys=True, default=str)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


@contextmanager
def locked(path: str) -> Iterator[None]:
    """An exclusive fcntl lock on ``<path>.lock`` for a read-modify-write of the state."""
    with open(path + ".lock", "a", encoding="utf-8") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def execute(module: str, params: Mapping[str, Any], check_mode: bool, diff: bool,
            environ: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """Run one module call against the state file under its lock; the call is saved even when it fails."""
    path = state_path(environ)
    with locked(path):
        state = load_state(path)
        try:
            return RUNNERS[module](state, params, check_mode, diff)
        finally:
            save_state(path, state)


def run_module(name: str) -> None:
    """The whole ``main()`` of the stand-in module ``name`` (K8S or K8S_INFO)."""
    from ansible.module_utils.basic import AnsibleModule  # only in a module process

    if name == K8S:
        module = AnsibleModule(argument_spec=k8s_argument_spec(),
                               mutually_exclusive=[list(pair) for pair in K8S_MUTUALLY_EXCLUSIVE],
                               supports_check_mode=True)
    else:
        module = AnsibleModule(argument_spec=k8s_info_argument_spec(), supports_check_mode=True)
    try:
        result = execute(name, module.params, module.check_mode, module._diff)  # pylint: disable=protected-access
    except ClusterError as exc:
        module.fail_json(msg=exc.msg, **exc.result)
    module.exit_json(**result)
