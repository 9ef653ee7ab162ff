from django.urls import path

from . import views

urlpatterns = [
    path("announcements/", views.AnnouncementListCreateApi.as_view(), name="api-announcements"),
    path("announcements/<int:announcement_id>/read/", views.AnnouncementReadApi.as_view(), name="api-announcement-read"),
    path(
        "announcements/<int:announcement_id>/confirm/",
        views.AnnouncementConfirmApi.as_view(),
        name="api-announcement-confirm",
    ),
    path("announcements/<int:announcement_id>/stats/", views.AnnouncementStatsApi.as_view(), name="api-announcement-stats"),
]
