from django.urls import path

from . import views

app_name = "contacts"

urlpatterns = [
    path("", views.people, name="people"),
    path("friend-requests/", views.friend_request_send, name="friend-request-send"),
    path("friend-requests/<int:request_id>/<str:answer>/", views.friend_request_answer, name="friend-request-answer"),
]
