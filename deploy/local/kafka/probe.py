#!/usr/bin/env python3
"""Readiness probe for the local Kafka broker, stdlib only.

An open TCP port is not enough: the KRaft broker binds its listener before it
has caught up with the metadata log and been unfenced, and produce requests
fail until then. This sends a raw Metadata v1 request and only succeeds when
the response lists the expected broker id (fenced brokers are omitted from
Metadata responses) and a live controller. Spawning a JVM tool for the same
check costs seconds per attempt on a 2-core box; this costs milliseconds.

usage: probe.py HOST PORT [NODE_ID]   exit 0 = ready, 1 = not (yet) ready
"""

from __future__ import annotations  # lets "str | None" run on python3 < 3.10

import socket
import struct
import sys

API_METADATA = 3
API_VERSION = 1  # non-flexible encoding, supported by every broker >= 0.10
CLIENT_ID = b"city-local-probe"


def _metadata_request(correlation_id: int) -> bytes:
    header = struct.pack(">hhih", API_METADATA, API_VERSION, correlation_id, len(CLIENT_ID))
    # v1 topics array: 0 entries = "no topics" (-1 would mean "all topics").
    body = struct.pack(">i", 0)
    payload = header + CLIENT_ID + body
    return struct.pack(">i", len(payload)) + payload


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        buf += chunk
    return bytes(buf)


def probe(host: str, port: int, node_id: int, timeout: float = 3.0) -> str:
    """Return '' when ready, else a short reason."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        sock.sendall(_metadata_request(correlation_id=7))
        (size,) = struct.unpack(">i", _recv_exact(sock, 4))
        data = _recv_exact(sock, size)

    pos = 0

    def take_int(fmt: str) -> int:
        nonlocal pos
        (value,) = struct.unpack_from(fmt, data, pos)
        pos += struct.calcsize(fmt)
        return int(value)

    def take_string() -> str | None:
        nonlocal pos
        length = take_int(">h")
        if length < 0:
            return None
        value = data[pos : pos + length].decode()
        pos += length
        return value

    if take_int(">i") != 7:
        return "correlation id mismatch"
    brokers = []
    for _ in range(take_int(">i")):
        broker_id = take_int(">i")
        take_string()  # host
        take_int(">i")  # port
        take_string()  # rack
        brokers.append(broker_id)
    controller_id = take_int(">i")
    if node_id not in brokers:
        return f"broker {node_id} not yet unfenced (brokers={brokers})"
    if controller_id < 0:
        return "no active controller yet"
    return ""


def main() -> int:
    host, port = sys.argv[1], int(sys.argv[2])
    node_id = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    try:
        reason = probe(host, port, node_id)
    except (OSError, struct.error, UnicodeDecodeError) as exc:
        reason = f"{type(exc).__name__}: {exc}"
    if reason:
        print(reason, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
