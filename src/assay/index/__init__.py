"""The index: one queryable view of every file in the unpacked image.

Checks read only through this view; they never walk the disk themselves.
"""

from assay.index.elf import ElfInfo
from assay.index.view import FileEntry, FileIndex, build_index

__all__ = ["ElfInfo", "FileEntry", "FileIndex", "build_index"]
