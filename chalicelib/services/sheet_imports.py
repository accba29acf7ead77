"""Creating a Google Sheets import: where its token comes from, and starting its analysis."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.connections import Provider
from chalicelib.domain.errors import FieldError, ValidationFailed
from chalicelib.domain.import_messages import UploadEvent
from chalicelib.domain.sheet_source import SheetSource
from chalicelib.services.connections import ConnectionService
from chalicelib.services.ports import QueueSender, SecretBox
from chalicelib.services.sheet_rows import TOKEN_PURPOSE


class SheetImports:
    def __init__(self, connections: ConnectionService, box: SecretBox,
                 uploads: QueueSender) -> None:
        self._connections = connections
        self._box = box
        self._uploads = uploads

    def source_settings(self, workspace: str, sheet: SheetSource) -> dict[str, Any]:
        """What the analyser needs to read the sheet; a given token only sealed."""
        settings: dict[str, Any] = {"spreadsheet_id": sheet.spreadsheet_id}
        if sheet.connection_id:
            connection = self._connections.get(workspace, sheet.connection_id)
            if connection.provider is not Provider.GOOGLE_SHEETS:
                raise ValidationFailed([FieldError(
                    "connection_id", "wrong_provider",
                    f"connection {connection.id} is a {connection.provider.value} connection")])
            settings["connection_id"] = connection.id
        else:
            settings["sealed_token"] = self._box.seal(workspace, TOKEN_PURPOSE,
                                                      {"access_token": sheet.access_token})
        return settings

    def start_analysis(self, key: str) -> None:
        # The same event an upload's S3 notification sends: one analyser for all.
        self._uploads.send(UploadEvent.body_for(key))
