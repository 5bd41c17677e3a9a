# -*- coding: utf-8 -*-
"""Install the collections the roles use from a pinned Python package, not from Galaxy.

The kubevirt_vm role reaches a cluster through ``kubernetes.core`` and ``kubevirt.core``.  Galaxy is often
unreachable from build machines and CI; the ``ansible`` package on PyPI bundles both collections.  This script
downloads that one wheel (pinned by version and SHA-256), checks it, and unpacks only the two collections into
``.venv/collections/ansible_collections/`` (about 1.1 MB instead of the package's 470 MB).  ``requirements.yml``
names the same versions for users who install from Galaxy.

Run again with nothing to do, it only compares a marker file and exits.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from typing import Dict

PACKAGE = "ansible"
VERSION = "12.3.0"
WHEEL = "ansible-12.3.0-py3-none-any.whl"
SHA256 = "cd156f82fa87f7a899212b0efa9f7ca3a24d609212de9f78428a572eb01e5414"
COLLECTIONS: Dict[str, str] = {"kubernetes.core": "6.2.0", "kubevirt.core": "2.2.3"}

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(cache: str) -> str:
    """The pinned wheel in ``cache``, downloaded once and checked every time."""
    path = os.path.join(cache, WHEEL)
    if not os.path.exists(path) or sha256(path) != SHA256:
        os.makedirs(cache, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
                        "--only-binary", ":all:", "--dest", cache, "%s==%s" % (PACKAGE, VERSION)], check=True)
    got = sha256(path)
    if got != SHA256:
        os.unlink(path)
        raise SystemExit("%s: SHA-256 %s, expected %s; refusing to install collections from it" % (WHEEL, got, SHA256))
    return path


def unpack(wheel: str, dest: str) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        for fqcn, version in COLLECTIONS.items():
            prefix = "ansible_collections/%s/" % fqcn.replace(".", "/")
            manifest = json.loads(archive.read(prefix + "MANIFEST.json"))
            found = manifest["collection_info"]["version"]
            if found != version:
                raise SystemExit("%s %s bundles %s %s, expected %s" % (PACKAGE, VERSION, fqcn, found, version))
            target = os.path.join(dest, "ansible_collections", *fqcn.split("."))
            staging = tempfile.mkdtemp(dir=dest)
            try:
                for name in names:
                    if name.startswith(prefix) and not name.endswith("/"):
                        rel = name[len(prefix):]
                        if rel.startswith("/") or ".." in rel.split("/"):
                            raise SystemExit("%s: unsafe member %s" % (WHEEL, name))
                        out = os.path.join(staging, rel)
                        os.makedirs(os.path.dirname(out), exist_ok=True)
                        with archive.open(name) as src, open(out, "wb") as dst:
                            shutil.copyfileobj(src, dst)
                shutil.rmtree(target, ignore_errors=True)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.replace(staging, target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            print("installed %s %s from %s %s" % (fqcn, version, PACKAGE, VERSION))


def main() -> int:
    dest = os.path.join(ROOT, ".venv", "collections")
    marker = os.path.join(dest, ".nixperf-collections.json")
    want = {"package": "%s==%s" % (PACKAGE, VERSION), "sha256": SHA256, "collections": COLLECTIONS}
    try:
        with open(marker, encoding="utf-8") as handle:
            if json.load(handle) == want and all(
                    os.path.isdir(os.path.join(dest, "ansible_collections", *c.split("."))) for c in COLLECTIONS):
                return 0
    except (OSError, ValueError):
        pass
    os.makedirs(dest, exist_ok=True)
    unpack(fetch(os.path.join(ROOT, ".cache", "wheels")), dest)
    with open(marker, "w", encoding="utf-8") as handle:
        json.dump(want, handle, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
