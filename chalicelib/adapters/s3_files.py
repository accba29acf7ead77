"""The files bucket: presigned uploads, ranged and streamed reads, work files."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from chalicelib.domain.file_format import UnreadableFile


class S3Files:
    def __init__(self, bucket: str, region: str) -> None:
        self.bucket = bucket
        self._region = region
        self._client: Any = None

    @property
    def client(self) -> Any:
        # Created on first use; SigV4 so presigned POST policies are v4-signed.
        if self._client is None:
            self._client = boto3.client("s3", region_name=self._region,
                                        config=Config(signature_version="s3v4"))
        return self._client

    def presigned_post(self, key: str, max_bytes: int, expires: int) -> dict[str, Any]:
        """A POST form that may write exactly `key`, at most `max_bytes`, for `expires` s."""
        result: dict[str, Any] = self.client.generate_presigned_post(
            Bucket=self.bucket, Key=key,
            Conditions=[["content-length-range", 1, max_bytes], {"key": key}],
            ExpiresIn=expires,
        )
        return result

    def head(self, key: str) -> tuple[int, str] | None:
        """(size, ETag) of an object, or None when it does not exist."""
        try:
            response = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return int(response["ContentLength"]), str(response["ETag"])

    def _get(self, key: str, etag: str | None, **extra: Any) -> Any:
        # Reads after analysis name the ETag analysed: a second upload to the
        # same key (a presigned POST works until it expires) cannot slip in.
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key,
                                          **({"IfMatch": etag} if etag else {}), **extra)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412"):
                raise UnreadableFile("The file was replaced after it was analysed; "
                                     "create a new import", code="upload_changed") from exc
            raise

    def copy(self, source: str, target: str, etag: str) -> None:
        """Server-side copy of exactly the version with this ETag."""
        try:
            self.client.copy_object(Bucket=self.bucket, Key=target, CopySourceIfMatch=etag,
                                    CopySource={"Bucket": self.bucket, "Key": source})
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412"):
                raise UnreadableFile("The file was replaced while it was analysed; "
                                     "create a new import", code="upload_changed") from exc
            raise

    def read_head(self, key: str, length: int, etag: str | None = None) -> bytes:
        data: bytes = self._get(key, etag, Range=f"bytes=0-{length - 1}")["Body"].read()
        return data

    def open_stream(self, key: str, etag: str | None = None) -> Any:
        """The object as a streaming, read-only binary file (never loaded whole)."""
        return _StreamingFile(self._get(key, etag)["Body"])

    def download(self, key: str, path: str, etag: str | None = None) -> None:
        body = self._get(key, etag)["Body"]
        with open(path, "wb") as handle:
            for chunk in iter(lambda: body.read(1024 * 1024), b""):
                handle.write(chunk)

    def put_bytes(self, key: str, data: bytes, content_type: str = "text/csv") -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def get_bytes(self, key: str) -> bytes | None:
        try:
            data: bytes = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                return None
            raise
        return data

    def keys(self, prefix: str) -> Iterator[str]:
        for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield str(item["Key"])

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)


class _StreamingFile:
    """botocore's StreamingBody as a file object TextIOWrapper and csv accept."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def writable(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return False

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._body.read(None if size < 0 else size)
        return data

    def read1(self, size: int = -1) -> bytes:
        return self.read(65536 if size < 0 else size)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        self._body.close()
