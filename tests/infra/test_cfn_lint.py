"""cfn-lint on the synthesised templates: no error, no warning, nothing unexplained."""

from __future__ import annotations

import json

import pytest
from cfnlint.api import ManualArgs, lint_file

from tests.infra.conftest import Synth

pytestmark = pytest.mark.timeout(1800)  # the first synth may build Chalice's package

# Rules ignored on purpose, each with its reason; the only place one is ignored.
IGNORED_RULES: dict[str, str] = {
    # Informational. CDK renders every string built from tokens (the bucket
    # name with the account id, object ARNs like <bucket arn>/uploads/*) as
    # Fn::Join with "". Same result as Fn::Sub; the rendering is CDK's, not ours.
    "I1022": "Prefer Fn::Sub over Fn::Join with an empty delimiter",
}


def test_cfn_lint_passes(stage_synth: Synth) -> None:
    # Informational findings (I...) count too: "no unexplained warnings".
    config = ManualArgs(regions=["us-east-1"], include_checks=["I"],
                        ignore_checks=list(IGNORED_RULES))
    matches = lint_file(stage_synth.template_path, config=config)
    assert [f"{m.rule.id} line {m.linenumber}: {m.message}" for m in matches] == []


def test_synth_reports_no_cdk_warnings(stage_synth: Synth) -> None:
    # CDK's own annotations (deprecated APIs, unsafe defaults) land in the
    # cloud assembly's manifest; none may be left unexplained.
    manifest = json.loads((stage_synth.outdir / "manifest.json").read_text())
    notes = [f"{e['type']} {path}: {e['data']}"
             for artifact in manifest["artifacts"].values()
             for path, entries in (artifact.get("metadata") or {}).items()
             for e in entries if e["type"] in ("aws:cdk:warning", "aws:cdk:error")]
    assert notes == []
