from django.urls import path

from . import views

app_name = "push"

urlpatterns = [
    path("devices/<int:subscription_id>/remove/", views.device_remove, name="device-remove"),
]
