from django.urls import path

from . import views

urlpatterns = [
    path("<int:file_id>/", views.FileDownloadView.as_view(), name="file-download"),
    path("<int:file_id>/thumbnail/", views.FileThumbnailView.as_view(), name="file-thumbnail"),
    path("<int:file_id>/view/", views.FilePictureView.as_view(), name="file-view"),
]
