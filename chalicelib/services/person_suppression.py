"""What an `unsubscribed` or `bounced` event does beyond its own lead.

The person is put on the workspace's suppression list (reason: the event's
type) and every other lead of theirs, found by the people index, is handed
back to the event service, which records the event there too: the status
moves by domain/event_rules.py through each lead's own update path.
"""

from __future__ import annotations

from chalicelib.domain.lead import Lead
from chalicelib.domain.lead_list import LeadList
from chalicelib.domain.people import PersonKey, lead_person_keys
from chalicelib.services.suppressions import PeopleService, SuppressionService

SPREAD = ("unsubscribed", "bounced")


def keys_to_suppress(lead: Lead, reason: str) -> list[PersonKey]:
    """A bounce is the address's: its email only. An unsubscription is the
    person's: every identity value the lead holds."""
    keys = lead_person_keys(lead)
    if reason == "bounced":
        return [k for k in keys if k.kind == "email"]
    return keys


class PersonSuppression:
    def __init__(self, suppressions: SuppressionService, people: PeopleService) -> None:
        self._suppressions = suppressions
        self._people = people

    def suppress(self, workspace: str, lead: Lead,
                 reason: str) -> list[tuple[LeadList, Lead]]:
        """Suppress the lead's person; their leads in the workspace (the lead too)."""
        keys = keys_to_suppress(lead, reason)
        if not keys:
            return []
        self._suppressions.suppress(workspace, keys, reason)
        return self._people.leads_of(workspace, keys)
