"""The feedback gallery: fixed (product, painted region) cases rendered as seed, plain slate and slate after."""

from evaluation.gallery.build import build_gallery
from evaluation.gallery.cases import CaseError, GalleryCase, load_cases

__all__ = ["CaseError", "GalleryCase", "build_gallery", "load_cases"]
