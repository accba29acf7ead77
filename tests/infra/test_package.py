"""The deployment package Chalice built can load on Lambda's python3.11 runtime.

Lambda's python3.11 runs on Amazon Linux 2 (glibc 2.26): a compiled wheel must
be manylinux2014 / manylinux_2_17 .. manylinux_2_26. When no such wheel exists,
Chalice builds the sdist on this machine (glibc 2.36), and the result fails at
import on Lambda.
"""

from __future__ import annotations

import re
import zipfile

import pytest

from tests.infra.conftest import Synth

pytestmark = pytest.mark.timeout(1800)  # the first synth may build Chalice's package

LAMBDA_GLIBC = (2, 26)
_MANYLINUX = re.compile(r"manylinux_(\d+)_(\d+)_")
_LEGACY = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


def _loads_on_lambda(tag: str) -> bool:
    platform = tag.split("-")[-1]
    if platform == "any":
        return True
    for legacy, glibc in _LEGACY.items():
        if platform.startswith(f"{legacy}_"):
            return glibc <= LAMBDA_GLIBC
    match = _MANYLINUX.match(platform)
    return bool(match) and (int(match[1]), int(match[2])) <= LAMBDA_GLIBC


def _package_tags(synth: Synth) -> dict[str, list[str]]:
    (asset,) = [p for p in synth.outdir.glob("asset.*.zip")
                if zipfile.is_zipfile(p) and "app.py" in zipfile.ZipFile(p).namelist()]
    tags: dict[str, list[str]] = {}
    with zipfile.ZipFile(asset) as package:
        for name in package.namelist():
            if name.endswith(".dist-info/WHEEL"):
                lines = package.read(name).decode().splitlines()
                tags[name.split("/")[0]] = [x.split(": ", 1)[1] for x in lines
                                            if x.startswith("Tag: ")]
    return tags


def test_tag_rule() -> None:
    assert _loads_on_lambda("cp311-cp311-manylinux_2_17_x86_64")
    assert _loads_on_lambda("cp311-cp311-manylinux2014_x86_64")
    assert _loads_on_lambda("py3-none-any")
    assert not _loads_on_lambda("cp311-cp311-manylinux_2_28_x86_64")
    assert not _loads_on_lambda("cp311-cp311-linux_x86_64")


def test_every_compiled_dependency_loads_on_lambda(synth) -> None:  # type: ignore[no-untyped-def]
    tags = _package_tags(synth("dev"))
    assert "chalice" not in tags  # sanity: these are the requirements.txt wheels
    assert tags, "the package holds the dependencies of requirements.txt"
    bad = {dist: t for dist, t in tags.items() if not any(_loads_on_lambda(x) for x in t)}
    assert bad == {}
