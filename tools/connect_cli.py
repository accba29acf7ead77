"""`leadpipe connect` and `leadpipe connections`: HubSpot, Salesforce and Google accounts.

    leadpipe connect hubspot --token pat-...                     # a private app's token
    leadpipe connect salesforce --refresh-token 5Aep...          # or --token T --instance-url URL
    leadpipe connect google --token ya29...                      # or --refresh-token T
    leadpipe connect --oauth hubspot [--redirect-uri URL]        # prints the consent URL
    leadpipe connections

Through the API (POST /connections, GET /connections, GET
/connections/{provider}/authorize). A token goes to the API once and is never
printed: a connection shows as its id, provider, status and the token's last
four characters (its hint).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import typer
from rich.table import Table

from tools.api_client import ApiError
from tools.cli_common import api, console, fail, out


class ProviderName(StrEnum):
    hubspot = "hubspot"
    salesforce = "salesforce"
    google = "google"  # Google Sheets: the API's `google_sheets`


API_PROVIDER = {"hubspot": "hubspot", "salesforce": "salesforce", "google": "google_sheets"}


def connect_command(
    provider: ProviderName = typer.Argument(..., help="hubspot, salesforce or google."),
    token: str | None = typer.Option(None, "--token", help="An access token (HubSpot: a "
                                     "private app's token)."),
    refresh_token: str | None = typer.Option(None, "--refresh-token",
                                             help="A refresh token (used once now, to check "
                                                  "it)."),
    instance_url: str | None = typer.Option(None, "--instance-url",
                                            help="Salesforce's org host, with --token."),
    name: str | None = typer.Option(None, "--name", help="What to call the connection."),
    oauth: bool = typer.Option(False, "--oauth", help="Print the provider's consent URL to "
                               "open in a browser instead."),
    redirect_uri: str | None = typer.Option(None, "--redirect-uri", help="With --oauth: where "
                                            "the provider sends the browser back (default "
                                            "the API's /oauth/<provider>/callback)."),
) -> None:
    """Connect a HubSpot, Salesforce or Google account (a token, or --oauth for a browser)."""
    client = api()
    api_provider = API_PROVIDER[provider.value]
    if oauth:
        if token or refresh_token or instance_url:
            raise typer.BadParameter("--oauth takes no token; the browser's consent makes one",
                                     param_hint="--oauth")
        redirect = redirect_uri or f"{client.url}/oauth/{api_provider}/callback"
        try:
            answer = client.call("GET", f"/connections/{api_provider}/authorize",
                                 params={"redirect_uri": redirect})
        except ApiError as exc:
            raise fail(exc) from exc
        typer.echo(answer["authorize_url"])
        console.print(f"Open it in a browser; once you allow it, the browser returns to "
                      f"{redirect}, which creates the connection (then: leadpipe connections).",
                      soft_wrap=True, markup=False)
        return
    if token is None and refresh_token is None:
        raise typer.BadParameter("give --token or --refresh-token (or --oauth)",
                                 param_hint="--token")
    body: dict[str, Any] = {"provider": api_provider}
    for field, value in (("name", name), ("access_token", token),
                         ("refresh_token", refresh_token), ("instance_url", instance_url)):
        if value is not None:
            body[field] = value
    try:
        connection = client.call("POST", "/connections", json=body)
    except ApiError as exc:
        raise fail(exc) from exc
    typer.echo(f"connected {connection['provider']}: {connection['id']} "
               f"(status {connection['status']}, token {connection['credential_hint']})")
    if api_provider == "google_sheets":
        then = f"leadpipe import LIST --google-sheet ID --connection {connection['id']}"
    else:
        then = f"leadpipe sync create LIST --connection {connection['id']}"
    console.print(f"next: {then}", soft_wrap=True, markup=False)


def connections_command() -> None:
    """Show the workspace's connections (never their tokens)."""
    client = api()
    try:
        items = client.call("GET", "/connections")["items"]
    except ApiError as exc:
        raise fail(exc) from exc
    table = Table("id", "provider", "name", "status", "token", "created")
    for item in items:
        status = item["status"]
        if item.get("error"):
            status += f" ({item['error'].get('code', '')})"
        table.add_row(item["id"], item["provider"], item["name"], status,
                      item['credential_hint'], item["created_at"])
    out.print(table)
