"""Attachments: images, PDF and plain text only, up to SUPPORT_ATTACHMENT_MAX_BYTES each and
SUPPORT_ATTACHMENTS_PER_MESSAGE per message. The type is told from the content (magic bytes),
not from the name or the browser's claim."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile

from config.errors import DomainError

SIGNATURES: list[tuple[bytes, str, str]] = [
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"GIF87a", "image/gif", ".gif"),
    (b"GIF89a", "image/gif", ".gif"),
    (b"%PDF-", "application/pdf", ".pdf"),
]


@dataclass(frozen=True)
class UploadedAttachment:
    name: str
    data: bytes


def sniff(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) from the bytes, or None when the type is not allowed."""
    for magic, content_type, ext in SIGNATURES:
        if data.startswith(magic):
            return content_type, ext
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", ".webp"
    if b"\x00" in data[:8192]:
        return None
    try:
        data[:8192].decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < 8188:  # a cut multi-byte character at the end of the sample is fine
            return None
    return "text/plain", ".txt"


def attachment_check(*, name: str, data: bytes) -> tuple[str, str]:
    limit = settings.SUPPORT_ATTACHMENT_MAX_BYTES
    if len(data) > limit:
        raise DomainError(
            f"The file {name} is larger than {limit // (1024 * 1024)} MB.",
            code="attachment_too_large",
            fields={"attachments": [f"{name}: larger than {limit // (1024 * 1024)} MB."]},
        )
    if not data:
        raise DomainError(
            f"The file {name} is empty.", code="attachment_type", fields={"attachments": [f"{name}: empty."]}
        )
    kind = sniff(data)
    if kind is None:
        raise DomainError(
            f"The file {name} is not an image, a PDF or a text file.",
            code="attachment_type",
            fields={"attachments": [f"{name}: only images, PDF and text files."]},
        )
    return kind


def attachments_save(*, message, files: Sequence[UploadedAttachment]) -> list:
    from support.models import Attachment

    if not files:
        return []
    if len(files) > settings.SUPPORT_ATTACHMENTS_PER_MESSAGE:
        raise DomainError(
            f"Attach at most {settings.SUPPORT_ATTACHMENTS_PER_MESSAGE} files.",
            code="attachment_count",
            fields={"attachments": [f"At most {settings.SUPPORT_ATTACHMENTS_PER_MESSAGE} files."]},
        )
    checked = [(f, *attachment_check(name=f.name, data=f.data)) for f in files]
    saved = []
    for f, content_type, ext in checked:
        stem = os.path.splitext(os.path.basename(f.name or "file"))[0][:80] or "file"
        name = f"{stem}{ext}"  # the stored name has the extension of the real type
        row = Attachment(message=message, name=name, content_type=content_type, size=len(f.data))
        row.file.save(name, ContentFile(f.data), save=False)
        row.save()
        saved.append(row)
    return saved
