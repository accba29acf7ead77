"""`make run`'s stand-ins for HubSpot, Salesforce and Google Sheets (tools/sandboxes).

Nothing reaches the internet here, so the local stack starts loopback
sandboxes seeded with sample contacts and a sample spreadsheet, and points
leadpipe at them through the same settings a deployment uses
(chalicelib/provider_settings.py). A variable that is already set wins:
`LEADPIPE_HUBSPOT_API_URL=https://api.hubapi.com make run` talks to HubSpot
itself. `LEADPIPE_SANDBOXES=0` starts none.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Callable

from tools.sandboxes import credentials as c

HOST = "127.0.0.1"
PORTS = {"hubspot": ("LEADPIPE_HUBSPOT_SANDBOX_PORT", 4571),
         "salesforce": ("LEADPIPE_SALESFORCE_SANDBOX_PORT", 4572),
         "sheets": ("LEADPIPE_SHEETS_SANDBOX_PORT", 4573)}


def sandbox_ports() -> dict[str, int]:
    return {name: int(os.environ.get(variable) or default)
            for name, (variable, default) in PORTS.items()}


def settings_for(ports: dict[str, int]) -> dict[str, str]:
    """The provider settings that point leadpipe at the sandboxes."""
    hubspot = f"http://{HOST}:{ports['hubspot']}"
    salesforce = f"http://{HOST}:{ports['salesforce']}"
    sheets = f"http://{HOST}:{ports['sheets']}"
    return {
        "LEADPIPE_HUBSPOT_API_URL": hubspot,
        "LEADPIPE_HUBSPOT_AUTHORIZE_URL": f"{hubspot}/oauth/authorize",
        "LEADPIPE_HUBSPOT_CLIENT_ID": c.HUBSPOT_CLIENT_ID,
        "LEADPIPE_HUBSPOT_CLIENT_SECRET": c.HUBSPOT_CLIENT_SECRET,
        "LEADPIPE_SALESFORCE_LOGIN_URL": salesforce,
        "LEADPIPE_SALESFORCE_CLIENT_ID": c.SALESFORCE_CLIENT_ID,
        "LEADPIPE_SALESFORCE_CLIENT_SECRET": c.SALESFORCE_CLIENT_SECRET,
        "LEADPIPE_GOOGLE_SHEETS_API_URL": sheets,
        "LEADPIPE_GOOGLE_TOKEN_URL": f"{sheets}/token",
        "LEADPIPE_GOOGLE_AUTHORIZE_URL": f"{sheets}/oauth/authorize",
        "LEADPIPE_GOOGLE_CLIENT_ID": c.GOOGLE_CLIENT_ID,
        "LEADPIPE_GOOGLE_CLIENT_SECRET": c.GOOGLE_CLIENT_SECRET,
    }


def start_sandboxes(start_child: Callable[[str, list[str]], None],
                    port_is_free: Callable[[int], bool]) -> dict[str, str] | None:
    """Start the sandboxes' process and set the provider settings not set already.

    Returns the settings in force for the banner, or None when turned off.
    """
    if os.environ.get("LEADPIPE_SANDBOXES") == "0":
        return None
    ports = sandbox_ports()
    for name, port in ports.items():
        if not port_is_free(port):
            variable = PORTS[name][0]
            raise RuntimeError(f"port {port} ({name} sandbox) is already in use; set "
                               f"{variable} to another port, or LEADPIPE_SANDBOXES=0")
    start_child("sandboxes (HubSpot, Salesforce, Google Sheets)", [
        sys.executable, "-m", "tools.sandboxes", "--hubspot-port", str(ports["hubspot"]),
        "--salesforce-port", str(ports["salesforce"]), "--sheets-port", str(ports["sheets"])])
    deadline = time.monotonic() + 20
    while not all(_listening(p) for p in ports.values()):
        if time.monotonic() > deadline:
            raise RuntimeError("the sandboxes did not start; see their output above")
        time.sleep(0.1)
    for variable, value in settings_for(ports).items():
        os.environ.setdefault(variable, value)
    return {k: os.environ[k] for k in settings_for(ports)}


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((HOST, port)) == 0


BANNER = f"""
Sandboxes (loopback HubSpot, Salesforce, Google Sheets; tools/sandboxes):
  HubSpot private-app token   {c.HUBSPOT_PRIVATE_APP_TOKEN}
  Salesforce refresh token    {c.SALESFORCE_REFRESH_TOKEN}
  Google access token         {c.GOOGLE_ACCESS_TOKEN}
  sample spreadsheet id       {c.SAMPLE_SPREADSHEET_ID}
"""
