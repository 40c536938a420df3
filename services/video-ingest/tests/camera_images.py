"""Real, minimal PNG and JPEG images built byte by byte for the tests."""

from __future__ import annotations

import struct
import zlib

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, *, depth: int = 8, colour: int = 2, padding: int = 0) -> bytes:
    """A truecolour PNG of a dark green forest; ``padding`` adds a text chunk of that size."""
    row = b"\x00" + b"\x10\x40\x10" * width  # filter type 0, then RGB pixels
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    extra = png_chunk(b"tEXt", b"Comment\x00" + b"x" * padding) if padding else b""
    return (
        PNG_MAGIC
        + png_chunk(b"IHDR", ihdr)
        + extra
        + png_chunk(b"IDAT", zlib.compress(row * height))
        + png_chunk(b"IEND", b"")
    )


def segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def jpeg(width: int, height: int, *, sof: int = 0xC0, fill: bool = False) -> bytes:
    """SOI, a JFIF APP0, a quantisation table, the frame header, a scan and EOI."""
    app0 = segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    dqt = segment(0xDB, b"\x00" + bytes(range(1, 65)))
    components = b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    frame = segment(sof, b"\x08" + struct.pack(">HH", height, width) + b"\x03" + components)
    scan = segment(0xDA, b"\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00") + b"\x12\x34\x56"
    return b"\xff\xd8" + app0 + (b"\xff" if fill else b"") + dqt + frame + scan + b"\xff\xd9"
