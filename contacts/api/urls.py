from django.urls import path

from . import views

urlpatterns = [
    path("contacts/", views.ContactListApi.as_view(), name="api-contacts"),
    path("directory/", views.DirectoryApi.as_view(), name="api-directory"),
    path("departments/", views.DepartmentTreeApi.as_view(), name="api-departments"),
    path("friend-requests/", views.FriendRequestListCreateApi.as_view(), name="api-friend-requests"),
    path(
        "friend-requests/<int:request_id>/accept/",
        views.FriendRequestAcceptApi.as_view(),
        name="api-friend-request-accept",
    ),
    path(
        "friend-requests/<int:request_id>/decline/",
        views.FriendRequestDeclineApi.as_view(),
        name="api-friend-request-decline",
    ),
]
