from django.urls import path

from . import views

app_name = "announcements"

urlpatterns = [
    path("", views.announcement_list, name="list"),
    path("new/", views.announcement_new, name="new"),
    path("<int:announcement_id>/", views.announcement_detail, name="detail"),
    path("<int:announcement_id>/confirm/", views.announcement_confirm, name="confirm"),
    path("<int:announcement_id>/stats/", views.announcement_stats, name="stats"),
    path("<int:announcement_id>/stats.csv", views.announcement_stats_csv, name="stats-csv"),
    path("<int:announcement_id>/remind/", views.announcement_remind, name="remind"),
]
