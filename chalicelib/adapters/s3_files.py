"""The files bucket: presigned uploads, ranged and streamed reads, work files."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from chalicelib.domain.file_format import UnreadableFile
from chalicelib.domain.web_assets import origin_of
from chalicelib.services.ports import StoredObject

# Bytes a multipart part holds before it is sent: S3 refuses parts under 5 MiB
# but the last, and a Lambda holds about one part at a time in memory.
MULTIPART_PART_BYTES = 8 * 1024 * 1024


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

    def browser_origins(self) -> list[str]:
        """The origins a browser reaches presigned uploads and downloads at (no request sent)."""
        post = str(self.presigned_post("probe", 1, 60)["url"])
        get = self.presigned_get("probe", 60, filename="probe", content_type="text/plain")
        return sorted({o for url in (post, get) if (o := origin_of(url))})

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

    def listing(self, prefix: str) -> Iterator[StoredObject]:
        for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield StoredObject(str(item["Key"]), int(item["Size"]), str(item["ETag"]))

    def metadata(self, key: str) -> dict[str, str] | None:
        try:
            response = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return {str(k): str(v) for k, v in response.get("Metadata", {}).items()}

    def put_stream(self, key: str, chunks: Iterable[bytes], *, content_type: str,
                   metadata: Mapping[str, str]) -> None:
        buffer = bytearray()
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        try:
            for chunk in chunks:
                buffer += chunk
                if len(buffer) < MULTIPART_PART_BYTES:
                    continue
                if upload_id is None:
                    upload_id = str(self.client.create_multipart_upload(
                        Bucket=self.bucket, Key=key, ContentType=content_type,
                        Metadata=dict(metadata))["UploadId"])
                parts.append(self._upload_part(key, upload_id, len(parts) + 1, bytes(buffer)))
                buffer.clear()
            if upload_id is None:  # it all fit in one part: one plain PUT
                self.client.put_object(Bucket=self.bucket, Key=key, Body=bytes(buffer),
                                       ContentType=content_type, Metadata=dict(metadata))
                return
            if buffer:
                parts.append(self._upload_part(key, upload_id, len(parts) + 1, bytes(buffer)))
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id,
                MultipartUpload={"Parts": parts})
        except BaseException:
            # Parts of an unfinished upload are stored (and billed) until aborted.
            if upload_id is not None:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key,
                                                   UploadId=upload_id)
            raise

    def _upload_part(self, key: str, upload_id: str, number: int,
                     data: bytes) -> dict[str, Any]:
        response = self.client.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                           PartNumber=number, Body=data)
        return {"PartNumber": number, "ETag": response["ETag"]}

    def presigned_get(self, key: str, expires: int, *, filename: str,
                      content_type: str) -> str:
        url: str = self.client.generate_presigned_url("get_object", Params={
            "Bucket": self.bucket, "Key": key,
            "ResponseContentDisposition": f'attachment; filename="{filename}"',
            "ResponseContentType": content_type,
        }, ExpiresIn=expires)
        return url


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
