from django.urls import path

from . import views

urlpatterns = [
    path("<int:file_id>/", views.FileDownloadView.as_view(), name="file-download"),
]
