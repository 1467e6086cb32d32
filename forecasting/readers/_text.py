"""Bytes to text rows: gzip, encodings (UTF-8 with or without BOM, Big5), CSV."""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from pathlib import Path

from forecasting.errors import InputFormatError

ENCODINGS = ("utf-8-sig", "cp950")


def read_bytes(path: Path) -> bytes:
    """Return the file's bytes, decompressed when it is gzip.

    Raises
    ------
    InputFormatError
        When the file cannot be read or its gzip stream is cut short or corrupt.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputFormatError(f"{path}: cannot be read ({error.strerror})") from None
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        return gzip.decompress(data)
    except (EOFError, OSError, zlib.error) as error:
        raise InputFormatError(
            f"{path.name}: the gzip stream is cut short or corrupt ({error}); "
            "download or copy the file again"
        ) from None


def decode(data: bytes, source: str) -> str:
    """Decode a text file: UTF-8 (a BOM is dropped), else Big5 (cp950).

    Raises
    ------
    InputFormatError
        When the bytes are neither, or the file ends inside a UTF-8 character
        (a copy cut short), naming the line of the first bad byte.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if error.start >= len(data) - 3 and error.reason == "unexpected end of data":
            line = data[: error.start].count(b"\n") + 1
            raise InputFormatError(
                f"{source}:{line}: the file ends inside a UTF-8 character; it was "
                "cut short, copy it again"
            ) from None
        utf8_error = error
    try:
        return data.decode("cp950")
    except UnicodeDecodeError:
        line = data[: utf8_error.start].count(b"\n") + 1
        raise InputFormatError(
            f"{source}:{line}: the bytes are neither UTF-8 nor Big5 (cp950); save "
            "the file in one of these encodings"
        ) from None


def csv_rows(text: str, source: str) -> list[tuple[int, list[str]]]:
    """Split CSV text into rows, each with the line number it starts on.

    Rows whose fields are all empty are skipped.

    Raises
    ------
    InputFormatError
        When the CSV itself is broken (a NUL byte, an endless quoted field).
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for fields in reader:
            if any(field.strip() for field in fields):
                rows.append((line, fields))
            line = reader.line_num + 1
    except csv.Error as error:
        raise InputFormatError(
            f"{source}:{reader.line_num}: not readable as CSV ({error})"
        ) from None
    return rows
