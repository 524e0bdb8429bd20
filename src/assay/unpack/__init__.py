"""Unpack stage: firmware image in, filesystems with their true metadata out."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assay.unpack.base import ExtractedFS, Layer, MetaEntry, UnpackResult
    from assay.unpack.engine import index_directory, unpack
    from assay.unpack.limits import Limits

# Loaded on first use: the handlers pull in every dissect reader (most of `assay --version`'s
# start-up), and the unblob child process needs none of them.
_WHERE = {
    "ExtractedFS": "base",
    "Layer": "base",
    "MetaEntry": "base",
    "UnpackResult": "base",
    "index_directory": "engine",
    "unpack": "engine",
    "Limits": "limits",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"assay.unpack.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'assay.unpack' has no attribute {name!r}")


__all__ = ["ExtractedFS", "Layer", "Limits", "MetaEntry", "UnpackResult", "index_directory", "unpack"]
