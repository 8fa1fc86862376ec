"""wsgi.file_wrapper (PEP 3333 "Optional Platform-Specific File Handling").

When the application returns one of these around a real regular file, the
executor does not iterate it: it sends a FILE frame and the front streams
the region itself. ``sendable_file`` decides whether that is allowed, and
keeps the file open for the executor in case the application's close()
takes its name away before the front could open it.
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


class SendableFile:
    """A regular file the front may open by name, and a duplicate of the
    application's descriptor for it, owned by the executor (close() it).

    PEP 3333 has the iterable's close() run after the response, and that
    close() may delete the file (tempfile.NamedTemporaryFile) or put another
    one at its path. The duplicate keeps the file itself readable, and
    recognisable, until the executor has decided how to send it.
    """

    __slots__ = ("path", "offset", "size", "_fd", "_identity")

    def __init__(self, path: bytes, offset: int, fd: int, opened: os.stat_result) -> None:
        self.path = path
        self.offset = offset
        self.size = opened.st_size
        self._fd = fd
        self._identity = (opened.st_dev, opened.st_ino)

    def still_named(self) -> bool:
        """Whether ``path`` still leads to this very file (the front opens it by that name)."""
        try:
            named = os.stat(self.path)
        except OSError:
            return False
        return (named.st_dev, named.st_ino) == self._identity

    def blocks(self, length, block_size: int):
        """The bytes from ``offset``, ``length`` of them (None: to the end of
        the file), read from the duplicate in blocks of at most
        ``block_size``. pread leaves the descriptor's offset alone, so the
        application's file object never sees it move."""
        offset = self.offset
        while length is None or length > 0:
            data = os.pread(self._fd, block_size if length is None else min(block_size, length), offset)
            if not data:
                return
            offset += len(data)
            if length is not None:
                length -= len(data)
            yield data

    def close(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)


def sendable_file(wrapper):
    """A SendableFile when the front may read the file by name, else None.

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
        # Last, so that nothing can fail once it is open. Not inheritable
        # (PEP 446): a subprocess the application starts never holds it.
        duplicate = os.dup(fd)
    except (OSError, ValueError, io.UnsupportedOperation):
        return None
    return SendableFile(os.fsencode(path), offset, duplicate, opened)
