"""Uploads stream to disk in chunks under a size cap; the stored name is the content's sha256."""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CHUNK = 1 << 20
_MULTIPART_SLACK = 64 * 1024  # headers and boundaries around the file part


class UploadTooLarge(Exception):
    pass


class EmptyUpload(Exception):
    pass


@dataclass(frozen=True)
class StoredUpload:
    sha256: str
    size: int
    path: Path


async def save_upload(upload: UploadFile, images_dir: Path, tmp_dir: Path, max_bytes: int) -> StoredUpload:
    """Copy the upload to images_dir/<sha256>, never holding more than one chunk in memory.
    The partial file is removed on any failure, including the size cap."""
    tmp = tmp_dir / f"{uuid.uuid4().hex}.part"
    h = hashlib.sha256()
    size = 0
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise UploadTooLarge(f"upload exceeds the limit of {max_bytes} bytes")
                h.update(chunk)
                out.write(chunk)
        if size == 0:
            raise EmptyUpload("the uploaded file is empty")
        final = images_dir / h.hexdigest()
        if final.exists():
            tmp.unlink()
        else:
            os.replace(tmp, final)
            os.chmod(final, 0o400)
        return StoredUpload(h.hexdigest(), size, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def display_name(raw: str | None) -> str:
    """The client's file name, reduced to something safe to show: last path part, printable,
    bounded. It is only metadata; nothing is ever stored under it."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(c for c in name if c.isprintable())
    name = re.sub(r"\s+", " ", name).strip().lstrip(".")
    return name[:200] or "upload.bin"


class UploadLimitMiddleware:
    """Refuses oversized POST bodies with 413 before they reach the form parser, which would
    otherwise spool the whole body to a temporary file first."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.cap = max_bytes + _MULTIPART_SLACK

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.cap):
            await _reject(scope, send, self.cap)
            return
        seen = 0
        rejected = False

        async def limited_receive() -> Message:
            nonlocal seen, rejected
            msg = await receive()
            if msg["type"] == "http.request" and not rejected:
                seen += len(msg.get("body", b""))
                if seen > self.cap:
                    rejected = True
                    await _reject(scope, send, self.cap)
                    return {"type": "http.disconnect"}
            return msg

        async def guarded_send(msg: Message) -> None:
            if not rejected:
                await send(msg)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not rejected:
                raise  # otherwise: the parser's complaint about the cut-off body; 413 already sent


async def _reject(scope: Scope, send: Send, cap: int) -> None:
    body: Any = json.dumps({"detail": f"request body exceeds the upload limit ({cap} bytes)"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": body})
