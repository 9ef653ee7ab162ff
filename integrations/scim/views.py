"""SCIM 2.0 endpoints. Each parses the request, calls one selector or service, and answers
in SCIM's JSON (``application/scim+json``), errors included."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ClientScopePermission, JSONParser

from . import mapping, selectors, services
from .errors import ScimError, exception_handler, invalid_value, not_found
from .filters import AttrPath, parse_filter
from .patch import parse_operations
from .schemas import (
    DEFAULT_COUNT,
    GROUP,
    MAX_RESULTS,
    USER,
    resource_type_documents,
    schema_documents,
    service_provider_config,
)


class ScimRenderer(JSONRenderer):
    media_type = "application/scim+json"
    format = "scim"


class ScimParser(JSONParser):
    media_type = "application/scim+json"


class ScimView(APIView):
    """An integration's client-credentials token with the ``scim`` scope, and SCIM's media
    type and error format. Not part of /api/schema/: SCIM publishes its own (/Schemas)."""

    authentication_classes = [OAuth2Authentication]
    permission_classes = [ClientScopePermission]
    required_scope = "scim"
    renderer_classes = [ScimRenderer, JSONRenderer]
    parser_classes = [ScimParser, JSONParser]
    metadata_class = None
    schema = None

    def get_exception_handler(self):
        return exception_handler

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        self.client = selectors.client_for_token(request.auth)

    @property
    def base_url(self) -> str:
        """The absolute URL of /scim/v2/, for ``meta.location`` and ``$ref``."""
        return self.request.build_absolute_uri(reverse("scim-users")).removesuffix("Users")

    def resource_response(self, resource: dict[str, Any], *, status_code: int = 200, location: bool = False) -> Response:
        version = resource["meta"].get("version")
        headers = {"ETag": version} if version else {}
        if version and self.request.method == "GET" and _etag_listed(self.request.headers.get("If-None-Match"), version):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        if location:
            headers["Location"] = resource["meta"]["location"]
        attributes, excluded = _attribute_params(self.request)
        body = mapping.project(resource, attributes=attributes, excluded=excluded, core=resource["schemas"][0])
        return Response(body, status=status_code, headers=headers)


def _etag_listed(header: str | None, version: str) -> bool:
    return header is not None and header.strip() != "*" and mapping.etag_matches(header, version)


def _integer(request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise invalid_value(f"{name} must be an integer.") from None


def _attribute_params(request) -> tuple[list[AttrPath], list[AttrPath]]:
    return (
        mapping.parse_attribute_list(request.query_params.get("attributes")),
        mapping.parse_attribute_list(request.query_params.get("excludedAttributes")),
    )


def _list_params(request) -> dict[str, Any]:
    """``filter``, ``startIndex`` (1-based; below 1 counts as 1) and ``count`` (negative
    counts as 0; at most MAX_RESULTS) of RFC 7644 §3.4.2."""
    text = request.query_params.get("filter")
    return {
        "filter_node": parse_filter(text) if text and text.strip() else None,
        "start_index": max(_integer(request, "startIndex", 1), 1),
        "count": min(max(_integer(request, "count", DEFAULT_COUNT), 0), MAX_RESULTS),
    }


def _list(view: ScimView, resources: list[dict[str, Any]], *, total: int, start_index: int, core: str) -> Response:
    attributes, excluded = _attribute_params(view.request)
    projected = [mapping.project(r, attributes=attributes, excluded=excluded, core=core) for r in resources]
    return Response(mapping.list_response(projected, total=total, start_index=start_index))


# --- discovery (RFC 7644 §4) ------------------------------------------------------------


def _no_filter(request) -> None:
    # RFC 7644 §4: these endpoints take no filter, and must not seem to honour one.
    if request.query_params.get("filter"):
        raise ScimError("This endpoint does not filter.", status=403)


class ServiceProviderConfigView(ScimView):
    def get(self, request):
        _no_filter(request)
        return Response(service_provider_config(self.base_url))


class ResourceTypeListView(ScimView):
    def get(self, request):
        _no_filter(request)
        documents = resource_type_documents(self.base_url)
        return Response(mapping.list_response(documents, total=len(documents), start_index=1))


class ResourceTypeDetailView(ScimView):
    def get(self, request, name):
        document = next((d for d in resource_type_documents(self.base_url) if d["id"] == name), None)
        if document is None:
            raise not_found(f"No resource type {name}.")
        return Response(document)


class SchemaListView(ScimView):
    def get(self, request):
        _no_filter(request)
        documents = schema_documents(self.base_url)
        return Response(mapping.list_response(documents, total=len(documents), start_index=1))


class SchemaDetailView(ScimView):
    def get(self, request, urn):
        document = next((d for d in schema_documents(self.base_url) if d["id"].lower() == urn.lower()), None)
        if document is None:
            raise not_found(f"No schema {urn}.")
        return Response(document)


# --- Users -------------------------------------------------------------------------------


class UserListView(ScimView):
    def get(self, request):
        params = _list_params(request)
        page = selectors.user_list(client=self.client, **params)
        resources = [mapping.user_resource(user, base_url=self.base_url) for user in page.rows]
        return _list(self, resources, total=page.total, start_index=params["start_index"], core=USER)

    def post(self, request):
        user = services.scim_user_create(client=self.client, data=mapping.user_input(request.data))
        user = selectors.user_get(client=self.client, user_id=str(user.pk))
        return self.resource_response(
            mapping.user_resource(user, base_url=self.base_url), status_code=status.HTTP_201_CREATED, location=True
        )


class UserDetailView(ScimView):
    def _answer(self, user_id: str) -> Response:
        user = selectors.user_get(client=self.client, user_id=user_id)
        return self.resource_response(mapping.user_resource(user, base_url=self.base_url))

    def get(self, request, user_id):
        return self._answer(user_id)

    def put(self, request, user_id):
        services.scim_user_replace(
            client=self.client,
            user_id=user_id,
            data=mapping.user_input(request.data),
            if_match=request.headers.get("If-Match"),
        )
        return self._answer(user_id)

    def patch(self, request, user_id):
        services.scim_user_patch(
            client=self.client,
            user_id=user_id,
            operations=parse_operations(request.data),
            if_match=request.headers.get("If-Match"),
        )
        return self._answer(user_id)

    def delete(self, request, user_id):
        services.scim_user_delete(client=self.client, user_id=user_id, if_match=request.headers.get("If-Match"))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Groups ------------------------------------------------------------------------------


def _with_members(request) -> bool:
    """Members are costly on big departments: skip them when the client leaves them out
    (Entra ID asks with excludedAttributes=members)."""
    attributes, excluded = _attribute_params(request)
    if any((p.attr or "").lower() == "members" and p.sub is None for p in excluded):
        return False
    return not attributes or any((p.attr or "").lower() == "members" for p in attributes)


class GroupListView(ScimView):
    def get(self, request):
        params = _list_params(request)
        with_members = _with_members(request)
        page = selectors.group_list(client=self.client, with_members=with_members, **params)
        resources = [mapping.group_resource(d, base_url=self.base_url, with_members=with_members) for d in page.rows]
        return _list(self, resources, total=page.total, start_index=params["start_index"], core=GROUP)

    def post(self, request):
        department = services.scim_group_create(client=self.client, data=mapping.group_input(request.data))
        department = selectors.group_get(client=self.client, group_id=str(department.pk))
        return self.resource_response(
            mapping.group_resource(department, base_url=self.base_url), status_code=status.HTTP_201_CREATED, location=True
        )


class GroupDetailView(ScimView):
    def _answer(self, group_id: str) -> Response:
        with_members = _with_members(self.request)
        department = selectors.group_get(client=self.client, group_id=group_id, with_members=with_members)
        return self.resource_response(
            mapping.group_resource(department, base_url=self.base_url, with_members=with_members)
        )

    def get(self, request, group_id):
        return self._answer(group_id)

    def put(self, request, group_id):
        services.scim_group_replace(
            client=self.client,
            group_id=group_id,
            data=mapping.group_input(request.data),
            if_match=request.headers.get("If-Match"),
        )
        return self._answer(group_id)

    def patch(self, request, group_id):
        services.scim_group_patch(
            client=self.client,
            group_id=group_id,
            operations=parse_operations(request.data),
            if_match=request.headers.get("If-Match"),
        )
        return self._answer(group_id)

    def delete(self, request, group_id):
        services.scim_group_delete(client=self.client, group_id=group_id, if_match=request.headers.get("If-Match"))
        return Response(status=status.HTTP_204_NO_CONTENT)


class NotFoundView(ScimView):
    """Any other path under /scim/v2/: a SCIM 404, not the site's page."""

    def _not_found(self, request, *args, **kwargs):
        raise not_found("No such SCIM endpoint.")

    get = post = put = patch = delete = _not_found
