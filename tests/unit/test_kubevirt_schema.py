"""Strict offline validation of KubeVirt VirtualMachine manifests against the CRD schema the project carries:
unknown keys named by their path, the enums the schema lacks, the plan's own YAML refused and its correction
accepted."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from ansible_collections.nixperf.tuning.plugins.module_utils import kubevirt_schema as K

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "kubevirt"


def load(name: str):
    return yaml.safe_load((FIXTURES / name).read_text())


def test_the_plans_yaml_is_refused_naming_the_misplaced_key():
    found = K.problems(load("plan-phase4.yaml"))
    assert len(found) == 1, found
    assert found[0].startswith("spec.template.spec.ioThreadsPolicy: unknown key (the API server would drop it")
    assert "domain" in found[0]  # the keys spec.template.spec takes are listed, domain among them
    with pytest.raises(K.ManifestError, match=r"plasma-vm-01 is not a valid kubevirt.io/v1 VirtualMachine"):
        K.check(load("plan-phase4.yaml"), "plasma-vm-01")


def test_the_corrected_yaml_passes():
    assert K.problems(load("plan-phase4-corrected.yaml")) == []
    K.check(load("plan-phase4-corrected.yaml"))


@pytest.mark.parametrize("path,value,words", [
    (("spec", "runStrategy"), "Running", "spec.runStrategy: 'Running' is not one of Always, Halted"),
    (("spec", "template", "spec", "domain", "ioThreadsPolicy"), "dedicated",
     "spec.template.spec.domain.ioThreadsPolicy: 'dedicated' is not one of shared, auto, supplementalPool"),
    (("spec", "template", "spec", "domain", "devices", "disks", 0, "disk", "bus"), "ide",
     "spec.template.spec.domain.devices.disks[0].disk.bus: 'ide' is not one of virtio, sata, scsi, usb"),
    (("spec", "template", "spec", "domain", "cpu", "cores"), "eight", "spec.template.spec.domain.cpu.cores: 'eight'"),
    (("spec", "template", "spec", "domain", "devices", "disks", 0, "disk", "dedicatedIOThread"), True,
     "spec.template.spec.domain.devices.disks[0].disk.dedicatedIOThread: unknown key"),
])
def test_bad_values_name_their_path(path, value, words):
    manifest = load("plan-phase4-corrected.yaml")
    node = manifest
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    found = K.problems(manifest)
    assert any(f.startswith(words) for f in found), found


def test_int_or_string_and_nullable_are_understood():
    manifest = load("plan-phase4-corrected.yaml")
    manifest["spec"]["template"]["spec"]["domain"]["resources"]["requests"]["cpu"] = 8  # int-or-string
    assert K.problems(manifest) == []


def test_a_disk_without_a_name_is_refused():
    manifest = copy.deepcopy(load("plan-phase4-corrected.yaml"))
    manifest["spec"]["template"]["spec"]["domain"].pop("devices")
    manifest["spec"]["template"]["spec"]["domain"]["devices"] = {"disks": [{"disk": {"bus": "virtio"}}]}
    found = K.problems(manifest)
    assert any("disks[0]" in f and "'name' is a required property" in f for f in found), found


def test_the_strict_schema_refuses_unknown_keys_only_where_the_api_has_properties():
    schema = {"type": "object", "properties": {"a": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                                                     "properties": {"b": {"type": "string", "nullable": True}}},
                                               "c": {"x-kubernetes-int-or-string": True, "type": "string"}}}
    out = K.strict(schema)
    assert out["additionalProperties"] is False
    assert "additionalProperties" not in out["properties"]["a"]
    assert out["properties"]["a"]["properties"]["b"]["type"] == ["string", "null"]
    assert out["properties"]["c"] == {"anyOf": [{"type": "integer"}, {"type": "string"}]}
