"""A PEP 517 build backend for the pre-commit hook's package.

The package has no code: its one job is to require the `keyward` wheel
(the binary, built by maturin from python/keyward) at the version in
Cargo.toml, so that pre-commit's `language: python` installs a prebuilt
keyward. It is written out here with the standard library alone because a
backend that needed setuptools would need the package index before the
hook could even be built, and would be one more thing to keep in step with
the crate's version.
"""

import base64
import hashlib
import os
import re
import zipfile

NAME = "keyward_pre_commit"
SUMMARY = "keyward as a pre-commit hook: installs the prebuilt keyward wheel"
PRE_RELEASE = {"alpha": "a", "beta": "b", "rc": "rc"}
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def crate_version(cargo_toml=None):
    """The [package] version of Cargo.toml, as a Python version (PEP 440)."""
    path = cargo_toml or os.path.join(ROOT, "Cargo.toml")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    section = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped
            continue
        found = re.fullmatch(r'version\s*=\s*"([^"]+)"', stripped)
        if section == "[package]" and found:
            return python_version(found.group(1))
    raise ValueError(f"{path}: no version in [package]")


def python_version(cargo):
    """Cargo's `1.2.3-rc.1` is Python's `1.2.3rc1`, as maturin writes it."""
    found = re.fullmatch(r"(\d+\.\d+\.\d+)(?:-(alpha|beta|rc)\.?(\d+))?", cargo)
    if not found:
        raise ValueError(f"version {cargo!r} has no Python spelling this backend knows")
    release, pre, number = found.groups()
    if pre is None:
        return release
    return f"{release}{PRE_RELEASE[pre]}{number}"


def _metadata(version):
    return (
        "Metadata-Version: 2.1\n"
        f"Name: keyward-pre-commit\n"
        f"Version: {version}\n"
        f"Summary: {SUMMARY}\n"
        "License: MIT OR Apache-2.0\n"
        f"Requires-Dist: keyward=={version}\n"
    )


def _wheel_file():
    return (
        "Wheel-Version: 1.0\n"
        "Generator: keyward_hook_backend\n"
        "Root-Is-Purelib: true\n"
        "Tag: py3-none-any\n"
    )


def _dist_info(version):
    return f"{NAME}-{version}.dist-info"


def get_requires_for_build_wheel(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    version = crate_version()
    info = _dist_info(version)
    os.makedirs(os.path.join(metadata_directory, info), exist_ok=True)
    for name, text in (("METADATA", _metadata(version)), ("WHEEL", _wheel_file())):
        with open(os.path.join(metadata_directory, info, name), "w", encoding="utf-8") as f:
            f.write(text)
    return info


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}\n"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    version = crate_version()
    info = _dist_info(version)
    files = [
        (f"{info}/METADATA", _metadata(version).encode()),
        (f"{info}/WHEEL", _wheel_file().encode()),
    ]
    record = "".join(_record_line(p, d) for p, d in files) + f"{info}/RECORD,,\n"
    files.append((f"{info}/RECORD", record.encode()))
    wheel = f"{NAME}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel), "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in files:
            # A fixed time: the same commit builds the same bytes.
            entry = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
            entry.external_attr = 0o644 << 16
            z.writestr(entry, data, zipfile.ZIP_DEFLATED)
    return wheel
