"""Credentials encrypted with KMS, bound to their workspace.

Each secret is encrypted with the stage's key and an encryption context
naming the workspace and what it is for: a ciphertext copied to another
workspace's record does not decrypt there. Plaintext exists only in memory.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

import boto3


class KmsSecrets:
    def __init__(self, key_id: str, region: str) -> None:
        self._key_id = key_id
        self._region = region
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = boto3.client("kms", region_name=self._region)
        return self._client

    def seal(self, workspace: str, purpose: str, secret: Mapping[str, Any]) -> str:
        blob = self.client.encrypt(
            KeyId=self._key_id, Plaintext=json.dumps(dict(secret)).encode(),
            EncryptionContext={"workspace": workspace, "purpose": purpose})["CiphertextBlob"]
        return base64.b64encode(blob).decode()

    def open(self, workspace: str, purpose: str, sealed: str) -> dict[str, Any]:
        plain = self.client.decrypt(
            CiphertextBlob=base64.b64decode(sealed),
            EncryptionContext={"workspace": workspace, "purpose": purpose})["Plaintext"]
        value: dict[str, Any] = json.loads(plain)
        return value
