"""The format handlers Assay knows, in the order they are tried at one offset."""

from __future__ import annotations

from assay.unpack.handlers.archives import CpioHandler, TarHandler, ZipHandler
from assay.unpack.handlers.base import Extracted, Handler, HandlerContext, HandlerError
from assay.unpack.handlers.compressed import (
    Bzip2Handler,
    GzipHandler,
    LzmaHandler,
    XzHandler,
    ZstdHandler,
)
from assay.unpack.handlers.filesystems import CramfsHandler, ExtHandler, Jffs2Handler
from assay.unpack.handlers.firmware import AndroidSparseHandler, FitHandler, TrxHandler, UImageHandler
from assay.unpack.handlers.squashfs import SquashFSHandler
from assay.unpack.handlers.ubi import UbifsHandler, UbiHandler


def all_handlers() -> list[Handler]:
    return [
        SquashFSHandler(),
        ExtHandler(),
        Jffs2Handler(),
        CramfsHandler(),
        UbiHandler(),
        UbifsHandler(),
        CpioHandler(),
        TarHandler(),
        ZipHandler(),
        UImageHandler(),
        FitHandler(),
        TrxHandler(),
        AndroidSparseHandler(),
        GzipHandler(),
        XzHandler(),
        ZstdHandler(),
        Bzip2Handler(),
        LzmaHandler(),
    ]


__all__ = ["Extracted", "Handler", "HandlerContext", "HandlerError", "all_handlers"]
