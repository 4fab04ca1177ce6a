"""Robust loading of real upload formats, and the square fit shared by images and masks (files made in the test)."""

import io

import numpy as np
import pytest
from PIL import Image

from embeddings.engine.preprocess import ImageDecodeError, fit_square, fit_square_mask, load_image, prepare_square
from embeddings.tests.conftest import catalog_image_path

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


def _save(image: Image.Image, path, **kwargs):
    image.save(path, **kwargs)
    return path


def _two_halves(width=60, height=40) -> Image.Image:
    """Left half red, right half blue."""
    image = Image.new("RGB", (width, height), BLUE)
    image.paste(RED, (0, 0, width // 2, height))
    return image


def _close(pixel, colour, tolerance=40) -> bool:
    return all(abs(int(a) - int(b)) <= tolerance for a, b in zip(pixel, colour, strict=True))


@pytest.mark.parametrize(("orientation", "top", "bottom"), [(6, RED, BLUE), (8, BLUE, RED)])
def test_exif_orientation_is_applied(tmp_path, orientation, top, bottom):
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = _save(_two_halves(), tmp_path / "rotated.jpg", exif=exif, quality=95)
    image = load_image(path)
    assert image.mode == "RGB" and image.size == (40, 60)
    assert _close(image.getpixel((20, 5)), top) and _close(image.getpixel((20, 54)), bottom)


def test_rgba_is_composited_on_white(tmp_path):
    image = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    image.paste((255, 0, 0, 255), (0, 0, 5, 10))
    loaded = load_image(_save(image, tmp_path / "alpha.png"))
    assert loaded.mode == "RGB"
    assert loaded.getpixel((1, 1)) == RED and loaded.getpixel((8, 8)) == WHITE


def test_palette_with_transparency(tmp_path):
    image = Image.new("P", (10, 10), 0)
    image.putpalette([0, 0, 0, 0, 255, 0] + [0] * 762)
    image.paste(1, (0, 0, 5, 10))
    path = _save(image, tmp_path / "palette.png", transparency=0)
    with Image.open(path) as raw:
        assert raw.mode == "P" and "transparency" in raw.info
    loaded = load_image(path)
    assert loaded.getpixel((1, 1)) == (0, 255, 0) and loaded.getpixel((8, 8)) == WHITE


def test_grey_with_alpha(tmp_path):
    image = Image.new("LA", (10, 10), (0, 0))
    image.paste((50, 255), (0, 0, 5, 10))
    loaded = load_image(_save(image, tmp_path / "la.png"))
    assert loaded.getpixel((1, 1)) == (50, 50, 50) and loaded.getpixel((8, 8)) == WHITE


def test_cmyk_jpeg(tmp_path):
    path = _save(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), tmp_path / "cmyk.jpg", quality=95)
    with Image.open(path) as raw:
        assert raw.mode == "CMYK"
    loaded = load_image(path)
    assert loaded.mode == "RGB" and _close(loaded.getpixel((8, 8)), RED)


def test_16_bit_greyscale_png_is_scaled_not_clipped(tmp_path):
    ramp = np.tile(np.array([0, 257 * 64, 257 * 128, 65535], dtype=np.uint16), (4, 1))
    path = _save(Image.fromarray(ramp), tmp_path / "grey16.png")
    with Image.open(path) as raw:
        assert raw.mode.startswith("I")
    loaded = np.asarray(load_image(path))
    assert loaded.shape == (4, 4, 3)
    assert list(loaded[0, :, 0]) == [0, 64, 128, 255]


@pytest.mark.parametrize(("mode", "values", "expected"), [("1", [0, 1], [0, 255]), ("F", [0.0, 0.5], [0, 128])])
def test_other_grey_modes(tmp_path, mode, values, expected):
    array = np.array([values], dtype=np.float32 if mode == "F" else bool)
    image = Image.fromarray(array)
    path = _save(image, tmp_path / "grey.tif")
    assert list(np.asarray(load_image(path))[0, :, 0]) == expected


@pytest.mark.parametrize("size", [(1, 1), (3, 500), (500, 3)])
def test_tiny_and_thin_images(tmp_path, size):
    path = _save(Image.new("RGB", size, RED), tmp_path / "tiny.png")
    square = prepare_square(path, 224)
    assert square.shape == (224, 224, 3)
    red = (square == RED).all(axis=-1)
    assert red[111:113, 111:113].any()  # the content is centred
    assert red.any(axis=0).all() or red.any(axis=1).all()  # and spans the whole square along its long side
    assert red.all() == (size == (1, 1))  # anything else is padded with white
    assert ((square == RED).all(axis=-1) | (square == WHITE).all(axis=-1)).all()


def test_huge_jpeg_uses_draft_and_keeps_geometry(tmp_path):
    image = Image.new("RGB", (6000, 4000), WHITE)
    image.paste(RED, (0, 0, 3000, 4000))
    path = _save(image, tmp_path / "huge.jpg", quality=70)
    loaded = load_image(path, draft_size=224)
    assert max(loaded.size) < 1000  # decoded at a reduced scale
    square = np.asarray(fit_square(loaded, 224))
    full = np.asarray(fit_square(load_image(path), 224))
    assert np.abs(square.astype(int) - full.astype(int)).mean() < 3
    with pytest.raises(ImageDecodeError, match="24000000 pixels, more than the limit"):
        load_image(path, max_pixels=10_000_000)


def test_truncated_file(tmp_path):
    data = catalog_image_path(
        next(iter(sorted(p.stem for p in catalog_image_path(0).parent.glob("1*.jpg"))))
    ).read_bytes()
    path = tmp_path / "truncated.jpg"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageDecodeError, match="truncated"):
        load_image(path)


def test_not_an_image(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("id,name\n1,shirt\n")
    with pytest.raises(ImageDecodeError, match="not an image"):
        load_image(path)
    with pytest.raises(ImageDecodeError, match="not an image"):
        load_image(b"")
    with pytest.raises(ImageDecodeError, match="not found"):
        load_image(tmp_path / "missing.jpg")


def test_bytes_and_file_objects():
    data = catalog_image_path(10000).read_bytes() if catalog_image_path(10000).exists() else None
    if data is None:
        data = next(catalog_image_path(0).parent.glob("*.jpg")).read_bytes()
    from_bytes = np.asarray(load_image(data))
    from_file = np.asarray(load_image(io.BytesIO(data)))
    assert from_bytes.shape == (224, 224, 3) and (from_bytes == from_file).all()


@pytest.mark.parametrize("size", [(300, 120), (120, 300), (224, 224), (1001, 333), (2400, 1800)])
def test_fit_square_mask_matches_fit_square(tmp_path, size):
    width, height = size
    box = (width // 5, height // 3, width // 2, height * 3 // 4)
    image = Image.new("RGB", size, WHITE)
    image.paste(RED, box)
    mask = np.zeros((height, width), dtype=bool)
    mask[box[1] : box[3], box[0] : box[2]] = True
    path = _save(image, tmp_path / "boxed.jpg", quality=95)
    square = prepare_square(path, 224)  # through load_image's draft path for the large one
    red = (square[..., 0] > 128) & (square[..., 1] < 128)
    fitted = fit_square_mask(mask, 224)
    assert fitted.shape == (224, 224) and fitted.dtype == bool
    iou = (red & fitted).sum() / (red | fitted).sum()
    assert iou > 0.9


def test_fit_square_mask_with_exif_rotation(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6
    path = _save(_two_halves(600, 400), tmp_path / "rotated.jpg", exif=exif, quality=95)
    upright = load_image(path)
    mask = np.zeros((upright.height, upright.width), dtype=bool)  # the shopper paints on the upright photo
    mask[: upright.height // 2] = True  # the top half, which is red
    square = prepare_square(path, 224)
    fitted = fit_square_mask(mask, 224)
    assert (square[fitted][:, 0] > 200).all() and (square[fitted][:, 2] < 60).all()


def test_fit_square_mask_rejects_non_2d():
    with pytest.raises(ValueError, match="2-D mask"):
        fit_square_mask(np.zeros((4, 4, 3), dtype=bool), 224)


def test_rgb_to_lab_reference_colours_and_colour_grid():
    from embeddings.engine.spatial import colour_grid, rgb_to_lab

    lab = rgb_to_lab(np.array([[255, 255, 255], [0, 0, 0], [255, 0, 0], [0, 0, 255]], dtype=np.uint8))
    np.testing.assert_allclose(
        lab, [[100, 0, 0], [0, 0, 0], [53.24, 80.09, 67.20], [32.30, 79.19, -107.86]], atol=0.05
    )
    square = np.full((224, 224, 3), 255, dtype=np.uint8)
    square[:32, :32] = RED
    grid = colour_grid(square, 7)
    assert grid.shape == (7, 7, 3) and grid.dtype == np.float16
    assert abs(float(grid[0, 0, 1]) - 80.09) < 0.1 and abs(float(grid[3, 3, 0]) - 100) < 0.1
    odd = colour_grid(np.asarray(Image.fromarray(square).resize((299, 299))), 8)
    assert odd.shape == (8, 8, 3) and float(odd[0, 0, 1]) > 50
