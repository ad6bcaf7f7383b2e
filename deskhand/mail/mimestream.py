"""A large mail read as a stream, so that filing it never holds it in memory (issue 11, item 4).

The standard parser builds the whole MIME tree as strings: a 90 MB mail costs about 700 MB. Here
the raw mail is read line by line from a file and split into a *skeleton*: the same mail with
every large leaf body taken out and decoded (base64, quoted-printable) into a temporary file, and
a marker header in its place. The skeleton is small and goes through the normal parser; the
marker (its name holds a random nonce, so a mail cannot forge one) leads to the file. Memory stays
within a few MB whatever the mail holds: long lines are read in pieces, header blocks and the
number of parts are bounded.
"""

from __future__ import annotations

import binascii
import re
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser
from typing import IO

LINE_CAP = 64 * 1024  # a line is read in pieces of at most this
HEADER_CAP = 256 * 1024  # header bytes kept per part; the rest of a huge header block is dropped
SKELETON_BUDGET = 4 * 1024 * 1024  # leaf bodies stay in the skeleton while it is smaller than this
SMALL_BODY = 64 * 1024  # ... and a body this small always stays
MAX_DEPTH = 12
MAX_ENTITIES = 200  # parts beyond this are skipped, as the parser's walk would leave them out anyway
CHUNK = 1024 * 1024

_HEADER_LINE = re.compile(rb"^(?:From |[\x21-\x39\x3b-\x7e]+:|[ \t])")
_NOT_BASE64 = bytes(set(range(256)) - set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="))


@dataclass
class Skeleton:
    """The mail without its large bodies, and those bodies, decoded, in temporary files."""

    raw: bytes
    marker: str
    spools: list[IO[bytes]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def spool_of(self, part: Message) -> IO[bytes] | None:
        """The decoded body of a part whose body was taken out (rewound), or None."""
        value = part.get(self.marker)
        if value is None or not str(value).strip().isdigit():
            return None
        index = int(str(value).strip())
        if not 0 <= index < len(self.spools):
            return None
        spool = self.spools[index]
        spool.seek(0)
        return spool

    def close(self) -> None:
        for spool in self.spools:
            spool.close()


class _Lines:
    """Lines of a binary file, each read in pieces of at most LINE_CAP; one can be pushed back.
    `fresh` says whether the piece last returned starts a line."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        self.fresh = True
        self._next_fresh = True
        self._pushed: tuple[bytes, bool] | None = None

    def next(self) -> bytes | None:
        if self._pushed is not None:
            line, self.fresh = self._pushed
            self._pushed = None
        else:
            line = self.source.readline(LINE_CAP)
            if not line:
                return None
            self.fresh = self._next_fresh
        self._next_fresh = line.endswith(b"\n")
        return line

    def push(self, line: bytes) -> None:
        self._pushed = (line, self.fresh)
        self._next_fresh = self.fresh


class _Decoder:
    """A body's content transfer encoding undone into a file, a block of lines at a time. The
    line break before a boundary belongs to the boundary, so the last one is held back."""

    BLOCK = 512 * 1024

    def __init__(self, encoding: str, sink: IO[bytes]) -> None:
        self.sink = sink
        self.encoding = encoding if encoding in ("base64", "quoted-printable") else "identity"
        self._lines: list[bytes] = []
        self._size = 0
        self._carry = b""  # base64 characters short of a group of four
        self._newline = b""

    def feed(self, piece: bytes) -> None:
        self._lines.append(piece)
        self._size += len(piece)
        if self._size >= self.BLOCK:
            self._flush()

    def _flush(self) -> None:
        block = b"".join(self._lines)
        self._lines, self._size = [], 0
        if self.encoding == "base64":
            data = self._carry + block.translate(None, _NOT_BASE64)
            whole = len(data) - len(data) % 4
            self._carry = data[whole:]
            if whole:
                self.sink.write(_b64decode(data[:whole]))
            return
        if self.encoding == "quoted-printable":
            block = binascii.a2b_qp(block)
        cut = 2 if block.endswith(b"\r\n") else 1 if block.endswith(b"\n") else 0
        self.sink.write(self._newline + block[:len(block) - cut])
        self._newline = block[len(block) - cut:]

    def finish(self) -> None:
        self._flush()
        if self._carry.strip(b"="):
            self.sink.write(_b64decode(self._carry + b"=" * (-len(self._carry) % 4)))
        self._carry = b""


def _b64decode(data: bytes) -> bytes:
    try:
        return binascii.a2b_base64(data)
    except binascii.Error:  # padding inside the data (concatenated blocks): decode without it
        bare = data.replace(b"=", b"")
        bare = bare[:len(bare) - len(bare) % 4] if len(bare) % 4 == 1 else bare
        try:
            return binascii.a2b_base64(bare + b"=" * (-len(bare) % 4))
        except binascii.Error:
            return b""


class _Splitter:
    def __init__(self, source: IO[bytes], *, spool_dir: str | None) -> None:
        self.lines = _Lines(source)
        self.out = bytearray()
        self.skeleton = Skeleton(raw=b"", marker=f"X-Deskhand-Spool-{secrets.token_hex(8)}")
        self.spool_dir = spool_dir
        self.entities = 0

    def problem(self, text: str) -> None:
        if text not in self.skeleton.problems:
            self.skeleton.problems.append(text)

    def boundary(self, line: bytes, stack: list[bytes]) -> tuple[int, bool] | None:
        """(level in `stack`, closing?) when `line` is a boundary line of one of the multiparts."""
        if not stack or not self.lines.fresh or not line.startswith(b"--"):
            return None
        bare = line.rstrip(b"\r\n").rstrip(b" \t")
        for level in range(len(stack) - 1, -1, -1):
            delimiter = b"--" + stack[level]
            if bare == delimiter:
                return level, False
            if bare == delimiter + b"--":
                return level, True
        return None

    def headers(self, stack: list[bytes]) -> tuple[bytes, bytes, bytes | None]:
        """(header block, the blank line after it, the boundary line that cut it short)."""
        block = bytearray()
        while True:
            line = self.lines.next()
            if line is None:
                return bytes(block), b"", None
            if self.boundary(line, stack) is not None:
                return bytes(block), b"", line
            if not self.lines.fresh:  # the rest of a line longer than LINE_CAP: dropped
                continue
            if line in (b"\r\n", b"\n"):
                return bytes(block), line, None
            if not _HEADER_LINE.match(line):  # the body begins without a blank line
                self.lines.push(line)
                return bytes(block), b"", None
            if not line.endswith(b"\n"):
                self.problem("a header line longer than 64 KB was cut")
                line += b"\r\n"
            if len(block) + len(line) > HEADER_CAP:
                self.problem("a header block larger than 256 KB was cut")
                continue
            block += line

    def entity(self, stack: list[bytes], depth: int) -> bytes | None:
        """One part (or the whole mail): returns the boundary line that ended it, None at the end."""
        self.entities += 1
        keep = self.entities <= MAX_ENTITIES
        if not keep:
            self.problem("too many parts; the rest was left out")
        block, blank, stop = self.headers(stack)
        if stop is not None:
            if keep:
                self.out += block + (blank or b"\r\n")
            return stop
        message = BytesHeaderParser(policy=policy.compat32).parsebytes(block + b"\r\n")
        boundary = message.get_boundary() if message.get_content_maintype() == "multipart" else None
        if boundary and depth < MAX_DEPTH and keep:
            self.out += block + (blank or b"\r\n")
            return self.multipart(boundary.encode("ascii", "surrogateescape"), stack, depth)
        return self.leaf(block, blank, message, stack, keep=keep)

    def multipart(self, boundary: bytes, outer: list[bytes], depth: int) -> bytes | None:
        stack = [*outer, boundary]
        inner = len(stack) - 1
        opened = closed = False
        while True:  # the preamble, then the parts
            line = self.lines.next()
            if line is None:
                return None
            hit = self.boundary(line, stack)
            if hit is None:
                continue  # the preamble: nobody reads it
            level, closing = hit
            if level < inner:
                return line
            self.out += line
            if closing:
                closed = True
                break
            opened = True
            while True:
                stop = self.entity(stack, depth + 1)
                if stop is None:
                    return None
                level, closing = self.boundary_of(stop, stack)
                if level < inner:
                    return stop
                self.out += stop
                if closing:
                    break
            closed = True
            break
        if closed and not opened:
            self.problem("a multipart without parts")
        while True:  # the epilogue, up to the next boundary of an enclosing multipart
            line = self.lines.next()
            if line is None:
                return None
            if self.boundary(line, outer) is not None:
                return line

    def boundary_of(self, line: bytes, stack: list[bytes]) -> tuple[int, bool]:
        bare = line.rstrip(b"\r\n").rstrip(b" \t")
        for level in range(len(stack) - 1, -1, -1):
            if bare == b"--" + stack[level] + b"--":
                return level, True
            if bare == b"--" + stack[level]:
                return level, False
        raise AssertionError("not a boundary line")

    def leaf(self, block: bytes, blank: bytes, message: Message, stack: list[bytes], *, keep: bool) -> bytes | None:
        encoding = str(message.get("Content-Transfer-Encoding", "")).strip().lower()
        held: list[bytes] = []
        size = 0
        spool: IO[bytes] | None = None
        decoder: _Decoder | None = None
        stop = None
        while True:
            line = self.lines.next()
            if line is None:
                break
            if self.boundary(line, stack) is not None:
                stop = line
                break
            if not keep:
                continue
            if decoder is not None:
                decoder.feed(line)
                continue
            held.append(line)
            size += len(line)
            if size > SMALL_BODY and len(self.out) + size > SKELETON_BUDGET:
                spool = tempfile.TemporaryFile(dir=self.spool_dir)  # noqa: SIM115 - closed with the skeleton
                decoder = _Decoder(encoding, spool)
                for piece in held:
                    decoder.feed(piece)
                held = []
        if not keep:
            return stop
        if spool is None or decoder is None:
            self.out += block + (blank or b"\r\n") + b"".join(held)
            return stop
        decoder.finish()
        self.skeleton.spools.append(spool)
        self.out += block + f"{self.skeleton.marker}: {len(self.skeleton.spools) - 1}\r\n".encode()
        self.out += blank or b"\r\n"
        return stop

    def run(self) -> Skeleton:
        try:
            self.entity([], 0)  # the top level has no enclosing boundary: it runs to the end
        except BaseException:
            self.skeleton.close()
            raise
        self.skeleton.raw = bytes(self.out)
        return self.skeleton


def split_large_mail(source: IO[bytes], *, spool_dir: str | None = None) -> Skeleton:
    """The skeleton of the mail in `source` (a binary file, read from where it stands)."""
    return _Splitter(source, spool_dir=spool_dir).run()


def transcode(spool: IO[bytes], decode: Callable[[bytes, bool], str], *, spool_dir: str | None = None) -> IO[bytes]:
    """The spooled body as UTF-8 in a new temporary file, decoded piece by piece by `decode`
    (an incremental decoder's `decode(data, final)`)."""
    target = tempfile.TemporaryFile(dir=spool_dir)  # noqa: SIM115 - the caller closes it
    spool.seek(0)
    while chunk := spool.read(CHUNK):
        target.write(decode(chunk, False).encode("utf-8", "replace"))
    target.write(decode(b"", True).encode("utf-8", "replace"))
    target.seek(0)
    return target
