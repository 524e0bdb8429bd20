"""Errors with the documented exit codes of the CLI (see README, "Exit codes")."""

from __future__ import annotations


class AssayError(Exception):
    exit_code = 10
    kind = "error"


class InputError(AssayError):
    """The image is missing, unreadable or not a file or directory."""

    exit_code = 3
    kind = "bad input"


class UnsupportedImage(AssayError):
    """Nothing in the image could be unpacked into a filesystem."""

    exit_code = 4
    kind = "unsupported image"


class LimitExceeded(AssayError):
    """A safety limit (bytes, files, depth, time) was reached."""

    exit_code = 5
    kind = "limit exceeded"


class UnsafeArchive(AssayError):
    """An archive tried to write outside its work dir."""

    exit_code = 6
    kind = "unsafe archive"


class VerificationFailed(AssayError):
    exit_code = 7
    kind = "verification failed"


class DatabaseError(AssayError):
    exit_code = 8
    kind = "database error"


class NetworkError(AssayError):
    """A download failed: offline, refused, timed out, or an HTTP error."""

    exit_code = 9
    kind = "network error"
