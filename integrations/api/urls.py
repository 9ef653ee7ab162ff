from django.urls import path

from . import views

urlpatterns = [
    path("notifications/", views.NotificationListApi.as_view(), name="api-notifications"),
    path("notifications/<int:notification_id>/", views.NotificationDetailApi.as_view(), name="api-notification"),
]
