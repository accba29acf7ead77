"""Loopback sandboxes that speak the HubSpot, Salesforce and Google Sheets APIs leadpipe uses.

Small real HTTP servers on 127.0.0.1 for tests and the local stack, with the
providers' JSON shapes, OAuth, paging, limits and errors (see each module).
`python -m tools.sandboxes` runs all three with sample data.
"""

from tools.sandboxes.google_sheets import GoogleSheetsSandbox
from tools.sandboxes.hubspot import HubSpotSandbox
from tools.sandboxes.salesforce import SalesforceSandbox

__all__ = ["GoogleSheetsSandbox", "HubSpotSandbox", "SalesforceSandbox"]
