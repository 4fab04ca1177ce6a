"""Decode a catalog CSV: UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252 if every byte fits."""

import codecs
from dataclasses import dataclass

UTF8 = "utf-8"
CP1252 = "cp1252"
UTF16 = "utf-16"
# Spreadsheets on Windows save "CSV" in the ANSI code page, Windows-1252 in Western Europe and the Americas. Python's
# cp1252 codec refuses its five undefined bytes (0x81 0x8D 0x8F 0x90 0x9D), so a file holding them is in some other
# encoding. Latin-1 is never guessed: it would turn the bytes 0x80-0x9F into invisible C1 control characters.


class CsvEncodingError(ValueError):
    """The bytes are neither UTF-8 nor Windows-1252; the message says where each decoding failed."""


@dataclass(frozen=True)
class DecodedCsv:
    """The text of a CSV file, the encoding it was read with and, when not plain UTF-8, a note saying why."""

    text: str
    encoding: str
    note: str = ""


def _where(data: bytes, offset: int) -> str:
    """'byte N (0xXX, line L)' of a position in the raw bytes (lines counted as the CSV reader counts them)."""
    line = data.count(b"\n", 0, offset) + 1
    return f"byte {offset} (0x{data[offset]:02X}, line {line})"


def csv_decode(*, data: bytes) -> DecodedCsv:
    """Decode the bytes of a CSV; CsvEncodingError when neither UTF-8 nor Windows-1252 reads them."""
    try:
        return DecodedCsv(data.decode("utf-8-sig"), UTF8)
    except UnicodeDecodeError as exc:
        not_utf8 = exc
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return DecodedCsv(data.decode(UTF16), UTF16, "read as UTF-16 (the file starts with its byte order mark)")
        except UnicodeDecodeError as exc:
            raise CsvEncodingError(
                f"starts like UTF-16 but is not valid UTF-16 at {_where(data, exc.start)}"
            ) from None
    utf8_problem = f"not valid UTF-8 at {_where(data, not_utf8.start)}"
    try:
        text = data.decode(CP1252)
    except UnicodeDecodeError as exc:
        raise CsvEncodingError(
            f"{utf8_problem}, and not Windows-1252 either: {_where(data, exc.start)} is undefined there. "
            "Save the file as UTF-8 (in Excel: CSV UTF-8)"
        ) from None
    return DecodedCsv(text, CP1252, f"read as Windows-1252 (cp1252): {utf8_problem}")
