"""The three sandboxes seeded with sample data and the fixed credentials, for `make run`.

`start_samples()` serves them on threads of this process (tests, or a local
stack that runs them in-process); `python -m tools.sandboxes` runs them as a
process and prints `describe()`.
"""

from __future__ import annotations

from dataclasses import dataclass

from tools.sandboxes import credentials as c
from tools.sandboxes.google_sheets import Cell, GoogleSheetsSandbox
from tools.sandboxes.hubspot import HubSpotSandbox
from tools.sandboxes.salesforce import SalesforceSandbox
from tools.sandboxes.samples import people

HUBSPOT_CONTACTS, SALESFORCE_LEADS, SALESFORCE_CONTACTS = 200, 150, 50
HOT_SHEET = "Q1 'Hot' Leads"  # a quote and spaces: the range must be quoted and escaped
PRIVATE_SPREADSHEET_ID = "1LeadpipeSandboxPrivateSheet0000000000000000"


@dataclass(frozen=True)
class SampleSandboxes:
    hubspot: HubSpotSandbox
    salesforce: SalesforceSandbox
    sheets: GoogleSheetsSandbox

    def stop(self) -> None:
        for sandbox in (self.hubspot, self.salesforce, self.sheets):
            sandbox.stop()

    def describe(self) -> dict[str, str]:
        """Where each sandbox listens and the credentials it accepts, as environment-style keys."""
        return {
            "HUBSPOT_URL": self.hubspot.url,
            "HUBSPOT_PRIVATE_APP_TOKEN": c.HUBSPOT_PRIVATE_APP_TOKEN,
            "HUBSPOT_CLIENT_ID": c.HUBSPOT_CLIENT_ID,
            "HUBSPOT_CLIENT_SECRET": c.HUBSPOT_CLIENT_SECRET,
            "HUBSPOT_REFRESH_TOKEN": c.HUBSPOT_REFRESH_TOKEN,
            "HUBSPOT_TOKEN_URL": self.hubspot.url + self.hubspot.oauth_path,
            "SALESFORCE_URL": self.salesforce.url,  # the login URL and the instance URL
            "SALESFORCE_CLIENT_ID": c.SALESFORCE_CLIENT_ID,
            "SALESFORCE_CLIENT_SECRET": c.SALESFORCE_CLIENT_SECRET,
            "SALESFORCE_REFRESH_TOKEN": c.SALESFORCE_REFRESH_TOKEN,
            "SALESFORCE_TOKEN_URL": self.salesforce.url + self.salesforce.oauth_path,
            "GOOGLE_SHEETS_URL": self.sheets.url,
            "GOOGLE_TOKEN_URL": self.sheets.url + self.sheets.oauth_path,
            "GOOGLE_CLIENT_ID": c.GOOGLE_CLIENT_ID,
            "GOOGLE_CLIENT_SECRET": c.GOOGLE_CLIENT_SECRET,
            "GOOGLE_REFRESH_TOKEN": c.GOOGLE_REFRESH_TOKEN,
            "GOOGLE_ACCESS_TOKEN": c.GOOGLE_ACCESS_TOKEN,
            "GOOGLE_SAMPLE_SPREADSHEET_ID": c.SAMPLE_SPREADSHEET_ID,
            "GOOGLE_PRIVATE_SPREADSHEET_ID": PRIVATE_SPREADSHEET_ID,
        }


def sample_sheets(seed: int) -> dict[str, list[list[Cell]]]:
    """'Prospects': a tidy sheet, a messy one (ragged rows, numbers, blanks), an empty one."""
    header: list[Cell] = ["First name", "Last name", "Email", "Phone", "Company", "Title",
                          "LinkedIn", "Score"]
    leads: list[list[Cell]] = [header]
    for index, p in enumerate(people(60, seed + 1)):
        leads.append([p.first, p.last, p.email, p.phone, p.company, p.title, p.linkedin,
                      index * 7 % 100])
    hot: list[list[Cell]] = [["Name", "Email", "Deal size", "Qualified", "Notes"]]
    for index, p in enumerate(people(12, seed + 2)):
        row: list[Cell] = [f"{p.first} {p.last}", p.email, 1500.5 * (index + 1), index % 3 != 0]
        if index % 4 == 0:
            row.append("Call back in Q2")  # only some rows reach the last column: ragged
        hot.append(row)
    hot.insert(5, [])  # a blank line in the middle comes back as []
    return {"Leads": leads, HOT_SHEET: hot, "Notes": []}


def start_samples(*, hubspot_port: int = 0, salesforce_port: int = 0, sheets_port: int = 0,
                  seed: int = 11, host: str = "127.0.0.1") -> SampleSandboxes:
    """The three sandboxes, seeded (the same `seed` gives the same data), serving."""
    hubspot = HubSpotSandbox(private_app_tokens=[c.HUBSPOT_PRIVATE_APP_TOKEN],
                             refresh_tokens=[c.HUBSPOT_REFRESH_TOKEN], host=host,
                             port=hubspot_port)
    hubspot.seed(HUBSPOT_CONTACTS, seed=seed)
    salesforce = SalesforceSandbox(refresh_tokens=[c.SALESFORCE_REFRESH_TOKEN], host=host,
                                   port=salesforce_port)
    salesforce.seed(SALESFORCE_LEADS, "Lead", seed=seed)
    salesforce.seed(SALESFORCE_CONTACTS, "Contact", seed=seed + 1)
    sheets = GoogleSheetsSandbox(access_tokens=[c.GOOGLE_ACCESS_TOKEN],
                                 refresh_tokens=[c.GOOGLE_REFRESH_TOKEN], host=host,
                                 port=sheets_port)
    sheets.add_spreadsheet(c.SAMPLE_SPREADSHEET_ID, sample_sheets(seed), title="Prospects")
    sheets.add_spreadsheet(PRIVATE_SPREADSHEET_ID, {"Sheet1": [["Secret"], ["x"]]},
                           title="Not shared with you", private=True)
    started: list[HubSpotSandbox | SalesforceSandbox | GoogleSheetsSandbox] = []
    try:
        for sandbox in (hubspot, salesforce, sheets):
            sandbox.start()
            started.append(sandbox)
    except OSError:
        for sandbox in started:  # a port was taken: leave nothing half-running
            sandbox.stop()
        raise
    return SampleSandboxes(hubspot, salesforce, sheets)
