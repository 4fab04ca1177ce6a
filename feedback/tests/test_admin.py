"""The read-only session admin renders a session with its feedback chips."""

import pytest
from django.urls import reverse

from feedback import masks
from feedback.models import FeedbackEvent, ShoppingSession
from feedback.tests.conftest import box_mask

pytestmark = pytest.mark.django_db


def test_session_admin_lists_and_shows_feedback_read_only(admin_client, django_user_model):
    from catalog.models import Product

    seed = Product.objects.create(external_id="a-1", name="Seed")
    session = ShoppingSession.objects.create(owner_key="k", seed=seed)
    bits, width, height = masks.mask_pack(box_mask(20, 10, (0, 0, 0.5, 0.5)))
    FeedbackEvent.objects.create(
        session=session, seed=seed, mask_bits=bits, mask_width=width, mask_height=height, signal=b"", order=1
    )
    listing = admin_client.get(reverse("admin:feedback_shoppingsession_changelist"))
    assert listing.status_code == 200 and str(session.pk) in listing.content.decode()
    page = admin_client.get(reverse("admin:feedback_shoppingsession_change", args=[session.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and 'src="data:image/png;base64,' in html
    assert "owner_key" not in html  # the owner token is never shown
    assert admin_client.get(reverse("admin:feedback_shoppingsession_add")).status_code == 403
