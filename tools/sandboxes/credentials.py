"""The sandboxes' fixed credentials: what `python -m tools.sandboxes` prints and accepts.

They open nothing but the loopback sandboxes, and are fixed so that the
local stack's README can show them and a restart keeps them valid. Each is
shaped like the provider's own, so code that checks a prefix still works.
"""
# ruff: noqa: S105  (these are public, loopback-only values, not secrets)

from __future__ import annotations

HUBSPOT_CLIENT_ID = "3f6e1c52-leadpipe-sandbox-hubspot"
HUBSPOT_CLIENT_SECRET = "hubspot-sandbox-client-secret"
HUBSPOT_PRIVATE_APP_TOKEN = "pat-na1-00000000-0000-4000-8000-leadpipe0001"
HUBSPOT_REFRESH_TOKEN = "na1-0000-leadpipe-sandbox-hubspot-refresh"

SALESFORCE_CLIENT_ID = "3MVG9leadpipe.sandbox.consumer.key"
SALESFORCE_CLIENT_SECRET = "leadpipe-sandbox-consumer-secret"
SALESFORCE_REFRESH_TOKEN = "5Aep861leadpipe.sandbox.salesforce.refresh"

GOOGLE_CLIENT_ID = "000000000000-leadpipesandbox.apps.googleusercontent.com"
GOOGLE_CLIENT_SECRET = "GOCSPX-leadpipe-sandbox-secret"
GOOGLE_REFRESH_TOKEN = "1//0leadpipe-sandbox-google-refresh"
GOOGLE_ACCESS_TOKEN = "ya29.leadpipe-sandbox-google-access"  # never expires, unlike Google's

SAMPLE_SPREADSHEET_ID = "1LeadpipeSandboxProspects0000000000000000000"
