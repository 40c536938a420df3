"""What a frame's bytes say about themselves: format and size, read from the header.

Only the header is read, with no image library: enough to refuse a body that is
not the image it claims to be before it is stored and sent to fire detection.
"""

from __future__ import annotations

import email.policy
import struct
import zlib
from dataclasses import dataclass
from email.parser import BytesParser

JPEG = "image/jpeg"
PNG = "image/png"
FRAME_TYPES = (JPEG, PNG)

_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# Start-of-frame markers of Huffman-coded JPEG that every decoder reads: baseline
# (SOF0), extended sequential (SOF1) and progressive (SOF2).
_SOF_DECODABLE = frozenset({0xC0, 0xC1, 0xC2})
# Lossless, hierarchical and arithmetic-coded frames: valid JPEG, but few decoders
# read them, so fire detection could not either.
_SOF_UNSUPPORTED = frozenset({0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
# Markers without a length field.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_START_OF_SCAN = 0xDA
_END_OF_IMAGE = 0xD9

# Bit depths PNG allows for each colour type (PNG spec, IHDR).
_PNG_DEPTHS: dict[int, frozenset[int]] = {
    0: frozenset({1, 2, 4, 8, 16}),  # greyscale
    2: frozenset({8, 16}),  # truecolour
    3: frozenset({1, 2, 4, 8}),  # indexed
    4: frozenset({8, 16}),  # greyscale with alpha
    6: frozenset({8, 16}),  # truecolour with alpha
}
_PNG_MAX_SIDE = 2**31 - 1


class UndecodableImage(ValueError):
    """The bytes are not a JPEG or PNG image that can be decoded."""


@dataclass(frozen=True, slots=True)
class ImageHeader:
    content_type: str
    width: int
    height: int


def media_type(content_type: str | None) -> str | None:
    """The bare media type of a Content-Type header, lower-cased, without parameters."""
    if content_type is None:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


MULTIPART = "multipart/form-data"
# Form fields a multipart frame may come in, by preference; else the only file part.
FRAME_FIELDS = ("frame", "image", "file")


class BadMultipart(ValueError):
    """A multipart/form-data body without exactly one frame in it."""


def frame_from_multipart(body: bytes, content_type: str) -> tuple[bytes, str | None]:
    """The frame in a multipart/form-data body (RFC 7578) and its part's media type.

    The part is the one named ``frame`` (or ``image``, ``file``), else the only part
    that carries a file name. Parsed with the standard library's MIME parser, which
    keeps a part's bytes as sent.
    """
    if "boundary=" not in content_type:
        raise BadMultipart("the multipart/form-data content type has no boundary")
    head = b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n"
    message = BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise BadMultipart("the body is not multipart/form-data")
    parts = [p for p in message.iter_parts() if p.get_content_disposition() == "form-data"]
    by_name = {p.get_param("name", header="content-disposition"): p for p in parts}
    chosen = next((by_name[name] for name in FRAME_FIELDS if name in by_name), None)
    if chosen is None:
        files = [p for p in parts if p.get_filename() is not None]
        if len(files) != 1:
            raise BadMultipart(
                f"no part named {' / '.join(FRAME_FIELDS)} and {len(files)} file parts; "
                "send the frame as the part named 'frame'"
            )
        chosen = files[0]
    data = chosen.get_payload(decode=True)
    if not isinstance(data, bytes) or not data:
        raise BadMultipart("the frame part is empty")
    declared = media_type(chosen.get("content-type"))
    return data, declared


def read_header(data: bytes) -> ImageHeader:
    """Format and dimensions of a JPEG or PNG image, told by its magic bytes."""
    if data.startswith(_PNG_MAGIC):
        return _png_header(data)
    if data.startswith(_JPEG_MAGIC):
        return _jpeg_header(data)
    raise UndecodableImage("the body is neither a JPEG nor a PNG image")


def read_frame(data: bytes, declared_type: str) -> ImageHeader:
    """The header of a frame whose sender declared ``declared_type``."""
    header = read_header(data)
    if header.content_type != declared_type:
        raise UndecodableImage(
            f"the body is a {header.content_type} image, not the declared {declared_type}"
        )
    return header


def _png_header(data: bytes) -> ImageHeader:
    # Signature, then the IHDR chunk: length, type, 13 bytes of data, CRC.
    if len(data) < 33:
        raise UndecodableImage("the PNG image ends before its IHDR header")
    length, chunk_type = struct.unpack(">I4s", data[8:16])
    if chunk_type != b"IHDR" or length != 13:
        raise UndecodableImage("a PNG image must start with a 13-byte IHDR chunk")
    (crc,) = struct.unpack(">I", data[29:33])
    if zlib.crc32(data[12:29]) != crc:
        raise UndecodableImage("the PNG IHDR chunk fails its checksum")
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    if not (0 < width <= _PNG_MAX_SIDE and 0 < height <= _PNG_MAX_SIDE):
        raise UndecodableImage(f"the PNG size {width}x{height} is impossible")
    if depth not in _PNG_DEPTHS.get(colour, frozenset()):
        raise UndecodableImage(f"PNG colour type {colour} with bit depth {depth} is invalid")
    return ImageHeader(PNG, width, height)


def _jpeg_header(data: bytes) -> ImageHeader:
    # Walk the marker segments after SOI until the start-of-frame segment; the
    # scan (entropy-coded data) must not come before it.
    pos = 2
    end = len(data)
    while pos < end:
        if data[pos] != 0xFF:
            raise UndecodableImage(f"the JPEG image has no marker at byte {pos}")
        while pos < end and data[pos] == 0xFF:  # fill bytes may pad a marker
            pos += 1
        if pos >= end:
            break
        marker = data[pos]
        pos += 1
        if marker in _STANDALONE:
            continue
        if marker in (_START_OF_SCAN, _END_OF_IMAGE):
            raise UndecodableImage("the JPEG image has no frame header before its scan")
        if pos + 2 > end:
            break
        (length,) = struct.unpack(">H", data[pos : pos + 2])
        if length < 2:
            raise UndecodableImage(f"the JPEG segment at byte {pos} has length {length}")
        if marker in _SOF_DECODABLE:
            if length < 8 or pos + 7 > end:
                break
            height, width = struct.unpack(">HH", data[pos + 3 : pos + 7])
            if width == 0 or height == 0:
                raise UndecodableImage(f"the JPEG size {width}x{height} is not decodable")
            return ImageHeader(JPEG, width, height)
        if marker in _SOF_UNSUPPORTED:
            raise UndecodableImage(
                f"JPEG frame type 0x{marker:02X} (lossless, hierarchical or arithmetic) "
                "is not supported"
            )
        pos += length
    raise UndecodableImage("the JPEG image ends before its frame header")
