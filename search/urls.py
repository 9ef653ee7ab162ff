from django.urls import path

from .api import MessageSearchApi

urlpatterns = [
    path("search/messages/", MessageSearchApi.as_view(), name="api-search-messages"),
]
