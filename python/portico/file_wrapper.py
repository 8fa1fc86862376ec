"""wsgi.file_wrapper (PEP 3333 "Optional Platform-Specific File Handling").

When the application returns one of these around a real regular file, the
executor does not iterate it: it sends a FILE frame and the front streams
the region itself. ``sendable_file`` decides whether that is allowed.
"""
from __future__ import annotations

import io
import os
import stat


class FileWrapper:
    """An iterable of ``blksize`` blocks read from ``filelike``.

    PEP 3333: the wrapper must be usable as a plain iterable when the server
    cannot transmit the file itself, and its close() must close the
    file-like object if it has a close().
    """

    def __init__(self, filelike, blksize: int = 8192) -> None:
        self.filelike = filelike
        self.blksize = blksize
        close = getattr(filelike, "close", None)
        if close is not None:
            self.close = close

    def __iter__(self):
        return self

    def __next__(self) -> bytes:
        data = self.filelike.read(self.blksize)
        if data:
            return data
        raise StopIteration

    def close(self) -> None:
        """Replaced by the file-like object's own close() when it has one."""


def sendable_file(wrapper):
    """(path bytes, offset, size) when the front may read the file by path, else None.

    PEP 3333 allows the fast path only for a "real" file: it must have a
    fileno(), be a regular file (not a pipe or socket, whose data the front
    cannot re-read), have been opened in binary mode (iterating a text file
    yields str, a violation), and have a name that still leads to the same
    file, since the front opens it by that name.
    """
    filelike = wrapper.filelike
    if isinstance(filelike, io.TextIOBase):
        return None
    fileno = getattr(filelike, "fileno", None)
    name = getattr(filelike, "name", None)
    tell = getattr(filelike, "tell", None)
    if fileno is None or tell is None or not isinstance(name, (str, bytes)):
        return None
    try:
        fd = fileno()
        if not isinstance(fd, int):
            return None
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):
            return None
        path = os.path.abspath(name)
        named = os.stat(path)
        if (named.st_dev, named.st_ino) != (opened.st_dev, opened.st_ino):
            return None
        # Whatever the file object already buffered is ahead of the fd's own
        # position; tell() reports where the application actually is.
        offset = tell()
    except (OSError, ValueError, io.UnsupportedOperation):
        return None
    return os.fsencode(path), offset, opened.st_size
