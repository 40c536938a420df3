"""Reading a frame's format and size from its header bytes."""

from __future__ import annotations

import struct

import pytest
from camera_images import PNG_MAGIC, jpeg, png, png_chunk, segment

from video_ingest.domain.images import (
    JPEG,
    PNG,
    BadMultipart,
    ImageHeader,
    UndecodableImage,
    frame_from_multipart,
    media_type,
    read_frame,
    read_header,
)


def test_a_png_tells_its_size() -> None:
    assert read_header(png(64, 48)) == ImageHeader(PNG, 64, 48)


@pytest.mark.parametrize(("depth", "colour"), [(1, 0), (16, 0), (8, 3), (16, 6), (8, 4)])
def test_png_colour_types_with_allowed_depths(depth: int, colour: int) -> None:
    assert read_header(png(3, 2, depth=depth, colour=colour)).width == 3


@pytest.mark.parametrize(("depth", "colour"), [(4, 2), (16, 3), (8, 5)])
def test_png_colour_types_with_impossible_depths(depth: int, colour: int) -> None:
    with pytest.raises(UndecodableImage, match="bit depth"):
        read_header(png(3, 2, depth=depth, colour=colour))


@pytest.mark.parametrize("sof", [0xC0, 0xC1, 0xC2])
def test_a_jpeg_tells_its_size_from_its_frame_header(sof: int) -> None:
    assert read_header(jpeg(1920, 1080, sof=sof)) == ImageHeader(JPEG, 1920, 1080)


def test_jpeg_fill_bytes_before_a_marker_are_skipped() -> None:
    assert read_header(jpeg(640, 360, fill=True)) == ImageHeader(JPEG, 640, 360)


def test_jpeg_restart_markers_have_no_length() -> None:
    data = jpeg(32, 16)
    with_rst = data[:2] + b"\xff\xd0" + data[2:]
    assert read_header(with_rst).height == 16


@pytest.mark.parametrize("sof", [0xC3, 0xC9, 0xCF])
def test_lossless_and_arithmetic_jpeg_is_refused(sof: int) -> None:
    with pytest.raises(UndecodableImage, match="not supported"):
        read_header(jpeg(32, 16, sof=sof))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "neither"),
        (b"GIF89a\x01\x00\x01\x00", "neither"),
        (b"\xff\xd8\xff", "ends before"),
        (b"\xff\xd8" + segment(0xE0, b"JFIF\x00"), "ends before"),
        (b"\xff\xd8" + segment(0xDA, b"\x01\x01\x00\x00\x3f\x00") + b"\xff\xd9", "before its scan"),
        (b"\xff\xd8\xff\xd9", "before its scan"),
        (b"\xff\xd8\xff\xe0\x00\x01", "length 1"),
        (b"\xff\xd8" + segment(0xE0, b"JFIF\x00") + b"\x00\x00", "no marker"),
        (jpeg(0, 16), "not decodable"),
        (jpeg(32, 16)[:-40], "ends before"),
        (PNG_MAGIC, "ends before"),
        (PNG_MAGIC + png_chunk(b"IDAT", b"x" * 13) + b"\x00" * 8, "IHDR"),
        (png(8, 8)[:29] + b"\x00\x00\x00\x00" + png(8, 8)[33:], "checksum"),
        (
            PNG_MAGIC + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 5, 8, 2, 0, 0, 0)),
            "impossible",
        ),
    ],
)
def test_broken_images_are_undecodable(data: bytes, reason: str) -> None:
    with pytest.raises(UndecodableImage, match=reason):
        read_header(data)


def test_the_body_must_be_the_declared_type() -> None:
    assert read_frame(png(2, 2), PNG).content_type == PNG
    with pytest.raises(UndecodableImage, match="image/png image, not the declared image/jpeg"):
        read_frame(png(2, 2), JPEG)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("image/jpeg", "image/jpeg"),
        ("Image/PNG; charset=binary", "image/png"),
        ("  image/jpeg ;q=1", "image/jpeg"),
        ("", None),
        (None, None),
    ],
)
def test_media_type_drops_parameters(header: str | None, expected: str | None) -> None:
    assert media_type(header) == expected


def form(*parts: tuple[str, str | None, str | None, bytes], boundary: str = "b0undary") -> bytes:
    """A multipart/form-data body: (field name, file name, content type, bytes) per part."""
    out = b""
    for name, filename, ctype, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        if ctype:
            out += f"Content-Type: {ctype}\r\n".encode()
        out += b"\r\n" + data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


FORM = "multipart/form-data; boundary=b0undary"


def test_the_frame_part_of_a_form_comes_out_byte_for_byte() -> None:
    # Bytes a text-minded parser would mangle: CR, LF, NUL and high bytes.
    image = jpeg(40, 30) + b"\r\n\x00\xff\r\r\n--not-a-boundary\n"
    body = form(
        ("note", None, None, b"tower 3"),
        ("frame", "f.jpg", "image/jpeg", image),
    )
    assert frame_from_multipart(body, FORM) == (image, JPEG)


def test_a_single_file_part_is_the_frame_whatever_its_name() -> None:
    image = png(8, 8)
    body = form(("upload", "x.png", "image/png", image), ("captured", None, None, b"now"))
    assert frame_from_multipart(body, FORM) == (image, PNG)


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (form(("note", None, None, b"x")), FORM, "no part named"),
        (
            form(("a", "a.jpg", "image/jpeg", b"1"), ("b", "b.jpg", "image/jpeg", b"2")),
            FORM,
            "2 file parts",
        ),
        (form(("frame", "f.jpg", "image/jpeg", b"")), FORM, "empty"),
        (b"whatever", "multipart/form-data", "no boundary"),
    ],
)
def test_forms_without_exactly_one_frame_are_refused(
    body: bytes, content_type: str, reason: str
) -> None:
    with pytest.raises(BadMultipart, match=reason):
        frame_from_multipart(body, content_type)
