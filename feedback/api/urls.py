"""Session API routes (mounted under /api/v1/ with the "api" namespace) and the product `similar` route."""

from django.urls import path

from feedback.api import views

# Ids stay plain strings here so a malformed id gets the API's JSON 404, not the HTML one of the URL resolver.
urlpatterns = [
    path("sessions/", views.SessionCreateView.as_view(), name="session-list"),
    path("sessions/<str:session_id>/", views.SessionDetailView.as_view(), name="session-detail"),
    path("sessions/<str:session_id>/seed/", views.SessionSeedView.as_view(), name="session-seed"),
    path("sessions/<str:session_id>/filters/", views.SessionFiltersView.as_view(), name="session-filters"),
    path("sessions/<str:session_id>/feedback/", views.FeedbackCreateView.as_view(), name="session-feedback"),
    path(
        "sessions/<str:session_id>/feedback/<str:feedback_id>/",
        views.FeedbackDetailView.as_view(),
        name="session-feedback-detail",
    ),
    path(
        "sessions/<str:session_id>/feedback/<str:feedback_id>/mask.png",
        views.FeedbackMaskView.as_view(),
        name="session-feedback-mask",
    ),
    path("sessions/<str:session_id>/undo/", views.FeedbackUndoView.as_view(), name="session-undo"),
    path("sessions/<str:session_id>/reset/", views.SessionResetView.as_view(), name="session-reset"),
    path("products/<int:pk>/similar/", views.ProductSimilarView.as_view(), name="product-similar"),
]
