"""CDK entry point: `cd infra && cdk synth -c stage=dev` (cdk.json runs this file).

One stage per process: the Chalice app is imported with LEADPIPE_STAGE set to
the stage, and its settings are read once.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    # Run as a script from infra/: the project root must come first on the
    # path, so `import app` is the Chalice app and `infra` a package.
    sys.path.insert(0, str(REPO_ROOT))
    import aws_cdk as cdk  # noqa: PLC0415 - after the path is set

    from infra.app_model import function_specs, load_chalice_app  # noqa: PLC0415
    from infra.leadpipe_stack import LeadpipeStack  # noqa: PLC0415
    from infra.stage import CONTEXT_KEYS, stage_params  # noqa: PLC0415

    app = cdk.App()
    params = stage_params({k: app.node.try_get_context(k) for k in CONTEXT_KEYS})
    # `chalice package` creates boto3 clients; the template itself is region-agnostic.
    os.environ.setdefault("AWS_DEFAULT_REGION",
                          os.environ.get("CDK_DEFAULT_REGION", "us-east-1"))
    specs = function_specs(load_chalice_app(params.stage), params.stage)
    LeadpipeStack(app, params, specs)
    app.synth()


if __name__ == "__main__":
    main()
