"""DynamoDB side of request throttling: one counter item per workspace and window.

    rate window  RATE#<workspace>   W#<window start, epoch s>   n, expires_at (TTL)

One UpdateItem (ADD) a request, returning the new count: atomic across every
Lambda container, so the limit holds however many serve the workspace. The
TTL removes old windows (DynamoDB deletes them some time later; a window is
never read after it ends, so a late deletion changes nothing).
"""

from __future__ import annotations

from chalicelib.adapters.dynamo_low_level import LowLevelTable


class DynamoRateCounter(LowLevelTable):
    def hit(self, workspace: str, window_start: int, expires_at: int) -> int:
        response = self.client.update_item(
            TableName=self._table,
            Key={"pk": {"S": f"RATE#{workspace}"}, "sk": {"S": f"W#{window_start}"}},
            UpdateExpression="ADD n :one SET expires_at = :ttl",
            ExpressionAttributeValues={":one": {"N": "1"}, ":ttl": {"N": str(expires_at)}},
            ReturnValues="UPDATED_NEW")
        return int(response["Attributes"]["n"]["N"])
