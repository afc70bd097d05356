"""Gzip for pages built around a large cached fragment, compressing the fragment only once.

The plan grid of the whole demo is about a megabyte of HTML that changes only when the plan
does, inside a page that changes on every request (the signed-in user, CSRF tokens). A gzip
stream may be assembled from raw deflate pieces that each start from an empty dictionary
and end on a full flush (the technique parallel gzip tools use), so the grid is deflated once,
when it is cached, and each request deflates only the page around it and checksums the whole.
Clients that do not ask for gzip get the page joined around the fragment's cached bytes.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from flask import Request

LEVEL = 6
# RFC 1952 member header: deflate, no flags, no modification time, no extra flags, OS unknown.
_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
MARKER = "<!--sel-time:fragment-->"


@dataclass(frozen=True)
class Fragment:
    """A piece of a page, UTF-8 encoded and deflated once."""

    data: bytes
    deflated: bytes  # raw deflate from an empty dictionary, ending on a full flush (not final)

    @classmethod
    def of(cls, text: str) -> Fragment:
        data = text.encode("utf-8")
        return cls(data, _deflate(data, zlib.Z_FULL_FLUSH))


def _deflate(data: bytes, mode: int) -> bytes:
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(mode)


EMPTY = Fragment.of("")


def accepts_gzip(request: Request) -> bool:
    return request.accept_encodings.quality("gzip") > 0


def _parts(page: str, fragment: Fragment) -> tuple[bytes, Fragment, bytes]:
    """``page`` split at its ``MARKER``: before, the fragment, after. A page without the marker
    (a plan still solving shows no grid) is all "before", around an empty fragment."""
    head, marker, tail = page.partition(MARKER)
    return head.encode("utf-8"), fragment if marker else EMPTY, tail.encode("utf-8")


def join_page(page: str, fragment: Fragment) -> bytes:
    """The UTF-8 bytes of ``page`` with its ``MARKER`` replaced by ``fragment`` (for clients
    that do not ask for gzip: the fragment is encoded once, too)."""
    before, middle, after = _parts(page, fragment)
    return b"".join((before, middle.data, after))


def gzip_page(page: str, fragment: Fragment) -> bytes:
    """The gzip stream of ``page`` with its ``MARKER`` replaced by ``fragment``."""
    before, middle, after = _parts(page, fragment)
    crc = zlib.crc32(after, zlib.crc32(middle.data, zlib.crc32(before)))
    size = len(before) + len(middle.data) + len(after)
    return b"".join((_HEADER, _deflate(before, zlib.Z_FULL_FLUSH), middle.deflated,
                     _deflate(after, zlib.Z_FINISH), struct.pack("<II", crc, size & 0xFFFFFFFF)))
