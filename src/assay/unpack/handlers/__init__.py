"""The format handlers Assay knows, in the order they are tried at one offset."""

from __future__ import annotations

from assay.unpack.handlers.base import Extracted, Handler, HandlerContext
from assay.unpack.handlers.squashfs import SquashFSHandler


def all_handlers() -> list[Handler]:
    return [SquashFSHandler()]


__all__ = ["Extracted", "Handler", "HandlerContext", "all_handlers"]
