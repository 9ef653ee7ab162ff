from django.urls import path

from . import views

urlpatterns = [
    path("files/", views.FileUploadApi.as_view(), name="api-files"),
]
