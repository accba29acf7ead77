"""A CRM record's id → the lead it became, per list: `XID#<list>#<provider>#<crm id>`.

Written by the chunk workers of sync runs for every lead a row saved or
updated; read before a run's rows are saved, so a contact whose email (the
list's identity) changed in the CRM is matched to its lead by its CRM id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from chalicelib.adapters.dynamo_low_level import LowLevelTable

BATCH_GET_KEYS = 100


def _key(list_id: str, provider: str, crm_id: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"XID#{list_id}#{provider}#{crm_id}"}, "sk": {"S": "XID"}}


class DynamoExternalIds(LowLevelTable):
    def lead_ids(self, list_id: str, provider: str, crm_ids: Iterable[str]) -> dict[str, str]:
        wanted = list(dict.fromkeys(crm_ids))
        found: dict[str, str] = {}
        for start in range(0, len(wanted), BATCH_GET_KEYS):
            keys = [_key(list_id, provider, c) for c in wanted[start:start + BATCH_GET_KEYS]]
            request = {self._table: {"Keys": keys, "ConsistentRead": True,
                                     "ProjectionExpression": "pk, lead_id"}}
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                for item in response["Responses"].get(self._table, []):
                    found[item["pk"]["S"].rsplit("#", 1)[1]] = item["lead_id"]["S"]
                request = response.get("UnprocessedKeys") or {}
        return found

    def link(self, list_id: str, provider: str, pairs: Mapping[str, str]) -> None:
        self._batch_put([{**_key(list_id, provider, crm_id), "lead_id": {"S": lead_id}}
                         for crm_id, lead_id in pairs.items()])
