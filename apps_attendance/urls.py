from django.urls import path

from . import views

app_name = "attendance"

urlpatterns = [
    path("", views.attendance_month, name="month"),
    path("team/", views.attendance_team, name="team"),
    path("check-in/", views.attendance_check_in, name="check-in"),
    path("check-out/", views.attendance_check_out, name="check-out"),
    path("today/", views.attendance_today, name="today"),
    path("export.csv", views.attendance_export_csv, name="export-csv"),
    path("export.xlsx", views.attendance_export_xlsx, name="export-xlsx"),
]
