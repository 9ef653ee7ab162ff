"""/scim/v2/: the endpoints of RFC 7644 §3.2, with or without a trailing slash."""

from django.urls import re_path

from . import views

urlpatterns = [
    re_path(r"^ServiceProviderConfig/?$", views.ServiceProviderConfigView.as_view(), name="scim-service-provider-config"),
    re_path(r"^ResourceTypes/?$", views.ResourceTypeListView.as_view(), name="scim-resource-types"),
    re_path(r"^ResourceTypes/(?P<name>[^/]+)/?$", views.ResourceTypeDetailView.as_view(), name="scim-resource-type"),
    re_path(r"^Schemas/?$", views.SchemaListView.as_view(), name="scim-schemas"),
    re_path(r"^Schemas/(?P<urn>[^/]+)/?$", views.SchemaDetailView.as_view(), name="scim-schema"),
    re_path(r"^Users/?$", views.UserListView.as_view(), name="scim-users"),
    re_path(r"^Users/(?P<user_id>[^/]+)/?$", views.UserDetailView.as_view(), name="scim-user"),
    re_path(r"^Groups/?$", views.GroupListView.as_view(), name="scim-groups"),
    re_path(r"^Groups/(?P<group_id>[^/]+)/?$", views.GroupDetailView.as_view(), name="scim-group"),
    re_path(r"^.*$", views.NotFoundView.as_view(), name="scim-not-found"),
]
