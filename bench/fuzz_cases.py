"""Hand-made bad requests for bench/fuzz_api.py: bad masks, bombs, huge bodies, odd JSON, wrong ids and types.

Each case names the 4xx statuses it may get and, for 400s, the field the error must name.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image, PngImagePlugin

JSON = {"Content-Type": "application/json"}
MB = 1024 * 1024


@dataclass(frozen=True)
class BadRequest:
    """One hand-made request and what a correct server answers."""

    name: str
    method: str
    path: str
    body: bytes | None = None
    expect: frozenset[int] = frozenset({400})
    field: str = ""  # the field a 400 must name
    headers: dict[str, str] = dataclasses.field(default_factory=lambda: dict(JSON))


def box_rle(width: int, height: int) -> list[int]:
    """RLE of a mask painting the top-left quarter of a width x height image."""
    mask = np.zeros((height, width), dtype=bool)
    mask[: height // 2, : width // 2] = True
    flat = mask.reshape(-1).astype(np.int8)
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(flat)) + 1, [flat.size]])
    counts = np.diff(bounds).tolist()
    return counts if flat[0] == 0 else [0, *counts]


def png_bytes(width: int, height: int, *, mode: str = "RGBA", painted: bool = True, **save) -> bytes:
    pixels = np.zeros((height, width, len(mode)) if len(mode) > 1 else (height, width), dtype=np.uint8)
    if painted:
        pixels[: height // 2, : width // 2] = 255
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode=mode).save(buffer, format="PNG", **save)
    return buffer.getvalue()


def data_url(raw: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(raw).decode()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares width x height (a decompression bomb's header; the data is one row)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    data = zlib.compress(b"\x00" + b"\x00" * 4 * min(width, 64))
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", data) + png_chunk(b"IEND", b"")


def png_text_bomb(width: int, height: int) -> bytes:
    """A valid small PNG with a zTXt chunk that inflates to 64 MB."""
    info = PngImagePlugin.PngInfo()
    raw = png_bytes(width, height, pnginfo=info)
    bomb = b"Comment\x00\x00" + zlib.compress(b"\x00" * 64 * MB, 9)
    return raw[:-12] + png_chunk(b"zTXt", bomb) + raw[-12:]


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def body(value: object) -> bytes:
    return json.dumps(value).encode()


def bad_requests(shopper) -> Iterator[BadRequest]:
    """Every hand-made case, aimed at the shopper's session (a seed with one feedback)."""
    sid, fid, pid = shopper.session_id, shopper.feedback_id, shopper.product_ids[0]
    w, h = shopper.seed["width"], shopper.seed["height"]
    size = {"width": w, "height": h}
    feedback = f"/api/v1/sessions/{sid}/feedback/"
    good_png = png_bytes(w, h)

    def fb(name: str, payload: dict, field: str, expect=frozenset({400})) -> BadRequest:
        return BadRequest(f"feedback: {name}", "POST", feedback, body(payload), expect, field)

    # --- masks: missing, wrong types, wrong sizes ---
    yield BadRequest("feedback: no body", "POST", feedback, None, frozenset({400}), "width")
    yield fb("empty object", {}, "width")
    yield fb("neither mask nor rle", size, "mask")
    yield fb("both mask and rle", {"mask": data_url(good_png), "rle": box_rle(w, h), **size}, "mask")
    for value in ("abc", 10.5, -5, 0, 4097, 10**30, None, True, [w], {"w": w}, ""):
        yield fb(f"width={value!r}", {"rle": box_rle(w, h), "width": value, "height": h}, "width")
        yield fb(f"height={value!r}", {"rle": box_rle(w, h), "width": w, "height": value}, "height")
    yield fb("aspect ratio far from the photo's", {"rle": box_rle(w, h // 4), "width": w, "height": h // 4}, "width")
    yield fb("seed_id of another product", {"rle": box_rle(w, h), **size, "seed_id": pid + 1}, "seed_id")
    yield fb("seed_id a string", {"rle": box_rle(w, h), **size, "seed_id": "x"}, "seed_id")
    # --- PNG masks ---
    yield fb("mask empty string", {"mask": "", **size}, "mask")
    yield fb("mask prefix only", {"mask": "data:image/png;base64,", **size}, "mask")
    yield fb(
        "mask jpeg data URL", {"mask": "data:image/jpeg;base64," + base64.b64encode(good_png).decode(), **size}, "mask"
    )
    yield fb("mask garbage base64", {"mask": "data:image/png;base64,!!!not*base64", **size}, "mask")
    yield fb("mask base64 with newlines", {"mask": data_url(good_png).replace("A", "A\n", 5), **size}, "mask")
    yield fb("mask not a PNG", {"mask": data_url(b"GIF89a" + b"\x00" * 100), **size}, "mask")
    yield fb("mask PNG signature then junk", {"mask": data_url(b"\x89PNG\r\n\x1a\n" + b"junk" * 50), **size}, "mask")
    yield fb("mask truncated PNG", {"mask": data_url(good_png[: len(good_png) // 2]), **size}, "mask")
    yield fb("mask wrong PNG size", {"mask": data_url(png_bytes(w + 50, h + 50)), **size}, "mask")
    yield fb("mask PNG declaring 100000x100000", {"mask": data_url(png_declaring(100_000, 100_000)), **size}, "mask")
    yield fb("mask PNG bomb at the declared size", {"mask": data_url(png_declaring(w, h)), **size}, "mask")
    big = 4096
    yield fb(
        "mask 4096x4096 all clear",
        {"mask": data_url(png_bytes(big, big, painted=False)), "width": big, "height": big},
        "mask",
    )
    yield fb("mask zTXt bomb", {"mask": data_url(png_text_bomb(w, h)), **size}, "mask", frozenset({400, 201}))
    yield fb("mask nothing painted", {"mask": data_url(png_bytes(w, h, painted=False)), **size}, "mask")
    yield fb("mask everything painted", {"mask": data_url(_full_png(w, h)), **size}, "mask")
    for value in (123, 1.5, ["data:image/png;base64,"], {"a": 1}, None, True):
        yield fb(f"mask={value!r}", {"mask": value, **size}, "mask")
    # --- RLE masks ---
    yield fb("rle sum too small", {"rle": [1, 2, 3], **size}, "rle")
    yield fb("rle sum too large", {"rle": [w * h, 5], **size}, "rle")
    yield fb("rle negative count", {"rle": [-1, w * h + 1], **size}, "rle")
    yield fb("rle float counts", {"rle": [0.5, w * h - 0.5], **size}, "rle")
    yield fb("rle string counts", {"rle": ["10", "x"], **size}, "rle")
    yield fb("rle not a list", {"rle": "1,2,3", **size}, "rle")
    yield fb("rle an object", {"rle": {"0": 1}, **size}, "rle")
    yield fb("rle nested lists", {"rle": [[1, 2], [3]], **size}, "rle")
    yield fb("rle huge count", {"rle": [10**30, 1], **size}, "rle")
    yield fb("rle empty", {"rle": [], **size}, "rle")
    yield fb("rle all unpainted", {"rle": [w * h], **size}, "rle")
    yield fb("rle all painted", {"rle": [0, w * h], **size}, "rle")
    yield fb("rle 1M counts", {"rle": [0] * 1_000_000, **size}, "rle", frozenset({400, 413}))
    compact = json.dumps({"rle": [0] * 1_000_000, **size}, separators=(",", ":")).encode()  # 2.0 MB: under the limit
    yield BadRequest("feedback: 1M counts, compact (parsed)", "POST", feedback, compact, frozenset({400}), "rle")
    # --- JSON itself ---
    yield BadRequest("feedback: deeply nested JSON array", "POST", feedback, nested(100_000))
    yield BadRequest(
        "feedback: deeply nested rle",
        "POST",
        feedback,
        b'{"width": %d, "height": %d, "rle": ' % (w, h) + nested(50_000) + b"}",
    )
    yield BadRequest(
        "sessions: deeply nested JSON object", "POST", "/api/v1/sessions/", b'{"a":' * 50_000 + b"1" + b"}" * 50_000
    )
    yield BadRequest("feedback: not JSON", "POST", feedback, b"{width: 1,")
    yield BadRequest("feedback: invalid UTF-8", "POST", feedback, b'{"mask": "\xff\xfe"}')
    yield BadRequest("feedback: NaN", "POST", feedback, b'{"width": NaN, "height": 1, "rle": [1]}')
    yield BadRequest("feedback: top-level list", "POST", feedback, body([1, 2, 3]))
    yield BadRequest("feedback: top-level string", "POST", feedback, body("mask"))
    yield BadRequest(
        "feedback: text/plain",
        "POST",
        feedback,
        body(size),
        frozenset({400, 415}),
        headers={"Content-Type": "text/plain"},
    )
    yield BadRequest(
        "feedback: unknown content type",
        "POST",
        feedback,
        b"\x00\x01",
        frozenset({400, 415}),
        headers={"Content-Type": "application/x-garbage"},
    )
    yield BadRequest("feedback: multipart with a 5 MB file", "POST", feedback, *_multipart(5 * MB))
    # --- huge bodies ---
    yield BadRequest(
        "feedback: 5 MB mask",
        "POST",
        feedback,
        body({"mask": "data:image/png;base64," + "A" * 5 * MB, **size}),
        frozenset({413}),
        "mask",
    )
    yield BadRequest("feedback: 3 MB of whitespace", "POST", feedback, b" " * 3 * MB + body(size), frozenset({413}))
    for name, path in (
        ("sessions", "/api/v1/sessions/"),
        ("seed", f"/api/v1/sessions/{sid}/seed/"),
        ("filters", f"/api/v1/sessions/{sid}/filters/"),
    ):
        padding = {"product_id": pid, "seed_id": pid, "junk": "x" * 20 * MB}
        yield BadRequest(f"{name}: 20 MB body", "POST", path, body(padding), frozenset({413}))
        yield BadRequest(
            f"{name}: 300k keys", "POST", path, body({f"k{i}": i for i in range(300_000)}), frozenset({413})
        )
    # --- sessions, seeds, filters ---
    for value in (10**30, -1, 0, "abc", 1.5, [], {}, True):
        yield BadRequest(
            f"sessions: seed_id={value!r}", "POST", "/api/v1/sessions/", body({"seed_id": value}), field="seed_id"
        )
        yield BadRequest(
            f"seed: product_id={value!r}",
            "POST",
            f"/api/v1/sessions/{sid}/seed/",
            body({"product_id": value}),
            field="product_id",
        )
    filters = f"/api/v1/sessions/{sid}/filters/"
    for value in ("x" * 65, ["Men"], {"a": 1}, "a\x00b", "\ud800"):
        yield BadRequest(
            f"filters: gender={value!r}"[:60], "POST", filters, json.dumps({"gender": value}).encode(), field="gender"
        )
    yield BadRequest("filters: unknown name", "POST", filters, body({"colour": "Red"}), field="colour")
    yield BadRequest("filters: a list", "POST", filters, body(["gender"]))
    # --- ids in paths ---
    bad_ids = ("not-a-uuid", "00000000-0000-0000-0000-000000000000", "%00", "..%2F..%2Fetc%2Fpasswd", "1" * 300)
    for bad in bad_ids:
        for suffix in ("", "feedback/1/mask.png", "undo/"):
            method = "POST" if suffix == "undo/" else "GET"
            yield BadRequest(
                f"{method} session {bad[:20]} {suffix}",
                method,
                f"/api/v1/sessions/{bad}/{suffix}",
                None,
                frozenset({404}),
            )
    for bad in ("99999999999999999999999", "-1", "1.5", "abc", "0", "%00"):
        yield BadRequest(
            f"DELETE feedback {bad}", "DELETE", f"/api/v1/sessions/{sid}/feedback/{bad}/", None, frozenset({404})
        )
        yield BadRequest(
            f"GET mask.png of feedback {bad}",
            "GET",
            f"/api/v1/sessions/{sid}/feedback/{bad}/mask.png",
            None,
            frozenset({404}),
        )
    yield BadRequest(
        "GET mask.png of another session's id",
        "GET",
        f"/api/v1/sessions/00000000-0000-4000-8000-000000000000/feedback/{fid}/mask.png",
        None,
        frozenset({404}),
    )
    for bad in ("99999999999999999999999", "-1", "abc", "0"):
        yield BadRequest(f"GET product {bad}", "GET", f"/api/v1/products/{bad}/", None, frozenset({404}))
        yield BadRequest(f"GET similar of {bad}", "GET", f"/api/v1/products/{bad}/similar/", None, frozenset({404}))
    # --- query strings ---
    for query, field_name in (
        ("k=0", "k"),
        ("k=abc", "k"),
        ("k=51", "k"),
        ("page=0", "page"),
        ("page=10000000000000000000000", "page"),
        ("k=%00", "k"),
        ("k=1e3", "k"),
    ):
        yield BadRequest(f"GET state ?{query}", "GET", f"/api/v1/sessions/{sid}/?{query}", None, field=field_name)
        yield BadRequest(
            f"GET similar ?{query}", "GET", f"/api/v1/products/{pid}/similar/?{query}", None, field=field_name
        )
    for query, field_name in (
        ("gender=a%00b", "gender"),
        ("q=" + "x" * 101, "q"),
        ("gender=" + "x" * 65, "gender"),
        ("q=%ED%A0%80", ""),
    ):
        yield BadRequest(
            f"GET products ?{query[:30]}", "GET", f"/api/v1/products/?{query}", None, frozenset({400, 200}), field_name
        )
        yield BadRequest(
            f"GET similar ?{query[:30]}",
            "GET",
            f"/api/v1/products/{pid}/similar/?{query}",
            None,
            frozenset({400, 200}),
            field_name,
        )
    for query in ("page=0", "page=abc", "page=99999", "page_size=-1&page=2", "page=10000000000000000000000"):
        yield BadRequest(f"GET products ?{query}", "GET", f"/api/v1/products/?{query}", None, frozenset({404, 200}))
    # --- methods and CSRF ---
    yield BadRequest("PUT on a session", "PUT", f"/api/v1/sessions/{sid}/", body({}), frozenset({405}))
    yield BadRequest(
        "PATCH on feedback", "PATCH", f"/api/v1/sessions/{sid}/feedback/{fid}/", body({}), frozenset({405})
    )
    yield BadRequest(
        "POST without CSRF token",
        "POST",
        f"/api/v1/sessions/{sid}/reset/",
        body({}),
        frozenset({403}),
        headers={**JSON, "X-CSRFToken": ""},
    )
    yield BadRequest(
        "POST with a wrong CSRF token",
        "POST",
        f"/api/v1/sessions/{sid}/undo/",
        body({}),
        frozenset({403}),
        headers={**JSON, "X-CSRFToken": "x" * 64},
    )
    yield BadRequest(
        "DELETE without CSRF token",
        "DELETE",
        f"/api/v1/sessions/{sid}/feedback/{fid}/",
        None,
        frozenset({403}),
        headers={"X-CSRFToken": ""},
    )


def _full_png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (width, height), 255).save(buffer, format="PNG")
    return buffer.getvalue()


def _multipart(size: int) -> tuple[bytes, frozenset[int], str, dict[str, str]]:
    boundary = "fuzzboundary"
    parts = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="mask"; filename="m.png"\r\n'
            f"Content-Type: image/png\r\n\r\n"
        ).encode()
        + b"\x00" * size
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return parts, frozenset({400, 413, 415}), "", {"Content-Type": f"multipart/form-data; boundary={boundary}"}
