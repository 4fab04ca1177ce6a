"""A case's two slates, obtained through the same engine calls a shopper's session makes through the API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

from embeddings.engine.recommender import Recommender
from embeddings.engine.types import Slate
from evaluation.gallery.cases import GalleryCase

SLATE_SIZE = 8  # the storefront's slate (settings.LOOKAWAY_SLATE_SIZE default)


@dataclass(frozen=True)
class CaseSlates:
    """What the shopper saw for one case: the plain slate, then the slate after painting the region."""

    case: GalleryCase
    plain: Slate
    after: Slate


def case_slates(
    recommender: Recommender, image_path: Callable[[int], str], case: GalleryCase, k: int = SLATE_SIZE
) -> CaseSlates:
    """Open the seed (plain slate), paint the case's region, and take the next slate (feedback_add + session_slate).

    As in feedback.services: the plain slate is what the shopper passed over before painting, so it travels with the
    signal as `shown` (weak negatives); the slate after feedback excludes the seed, which is the visited product.
    """
    seed = case.product_id
    plain = recommender.similar(product_id=seed, k=k)
    with Image.open(image_path(seed)) as img:
        photo = img.convert("RGB")
    mask = case.mask(*photo.size)
    signal = recommender.derive_feedback(seed_id=seed, seed_image=photo, mask=mask, shown=tuple(plain.product_ids))
    after = recommender.recommend(seed_id=seed, feedback=(signal,), exclude=(seed,), k=k)
    return CaseSlates(case=case, plain=plain, after=after)
