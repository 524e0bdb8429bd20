"""Unpack stage: firmware image in, filesystems with their true metadata out."""

from assay.unpack.base import ExtractedFS, Layer, MetaEntry, UnpackResult
from assay.unpack.engine import index_directory, unpack
from assay.unpack.limits import Limits

__all__ = ["ExtractedFS", "Layer", "Limits", "MetaEntry", "UnpackResult", "index_directory", "unpack"]
