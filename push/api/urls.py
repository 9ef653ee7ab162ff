from django.urls import path

from . import views

urlpatterns = [
    path("push/key/", views.PushKeyApi.as_view(), name="api-push-key"),
    path("push/subscriptions/", views.SubscriptionListCreateApi.as_view(), name="api-push-subscriptions"),
    path(
        "push/subscriptions/<int:subscription_id>/",
        views.SubscriptionDetailApi.as_view(),
        name="api-push-subscription",
    ),
]
