from django.urls import path

from . import views

urlpatterns = [
    path("files/", views.FileUploadApi.as_view(), name="api-files"),
    path("transport/p2p-bytes/", views.P2PBytesReportApi.as_view(), name="api-p2p-bytes"),
]
