"""`manage.py embed_images` draws a progress bar (images/s, time left) on a terminal, and none otherwise."""

import re
from functools import partial
from io import StringIO

import pytest
from django.core.management import call_command
from tqdm import tqdm

from embeddings.management.commands import embed_images
from embeddings.tests.products import make_product, make_products

pytestmark = pytest.mark.django_db


class Terminal(StringIO):
    """A captured stream that says it is a terminal, as the shell's stderr is."""

    def isatty(self) -> bool:
        return True


def run(*args: str, stderr=None) -> tuple[str, str]:
    out, err = StringIO(), stderr if stderr is not None else Terminal()
    call_command("embed_images", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_progress_bar_counts_images_with_rate_and_time_left(fake_backbone, monkeypatch):
    monkeypatch.setattr(embed_images, "CHUNK_IMAGES", 4)  # several service calls, as with a large catalog
    monkeypatch.setattr(embed_images, "tqdm", partial(tqdm, mininterval=0))  # draw every update (fast fake model)
    make_products(9)
    make_product("broken", image_bytes=b"not an image")
    out, err = run("--batch-size", "2")
    assert "Embedded 9, skipped 0, failed 1." in out
    frames = err.split("\r")
    final = frames[-1]
    assert "embedding: 100%" in final and "10/10" in final
    assert re.search(r"\[\d\d:\d\d<\d\d:\d\d, +[\d.]+img/s\]", final), final  # elapsed<left, images per second
    counts = [int(m.group(1)) for m in (re.search(r"\| *(\d+)/10 ", f) for f in frames) if m]
    assert counts == sorted(counts) and set(range(11)) <= set(counts)  # image by image, not chunk by chunk


@pytest.mark.parametrize(
    "args, stderr",
    [(("--no-progress",), None), (("--verbosity", "0"), None), ((), StringIO())],
    ids=["--no-progress", "verbosity 0", "not a terminal"],
)
def test_no_progress_bar_when_asked_or_not_on_a_terminal(fake_backbone, args, stderr):
    make_products(3)
    out, err = run(*args, stderr=stderr)
    assert err == ""
    assert "Embedded 3" in out
