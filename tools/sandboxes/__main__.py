"""Run the HubSpot, Salesforce and Google Sheets sandboxes with sample data until stopped.

    python -m tools.sandboxes --hubspot-port 8101 --salesforce-port 8102 --sheets-port 8103

prints one KEY=value line per URL and credential (`--json`: one JSON object),
then `READY`, and serves until SIGINT or SIGTERM. The credentials are fixed
(tools/sandboxes/credentials.py); port 0 (the default) picks a free port.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from types import FrameType

from tools.sandboxes.stack import start_samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.sandboxes",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--hubspot-port", type=int, default=0)
    parser.add_argument("--salesforce-port", type=int, default=0)
    parser.add_argument("--sheets-port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--seed", type=int, default=11, help="sample data seed (default 11)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    try:
        sandboxes = start_samples(hubspot_port=args.hubspot_port,
                                  salesforce_port=args.salesforce_port,
                                  sheets_port=args.sheets_port, seed=args.seed, host=args.host)
    except OSError as error:
        print(f"sandboxes: cannot listen: {error}", file=sys.stderr)
        return 1
    described = sandboxes.describe()
    if args.json:
        print(json.dumps(described), flush=True)
    else:
        for key, value in described.items():
            print(f"{key}={value}")
        print("READY", flush=True)
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    while not stopping.wait(0.5):
        pass
    sandboxes.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
