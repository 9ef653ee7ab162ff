"""Between SCIM resources and Switchboard's rows: accounts as Users, departments as Groups.

| SCIM (User)                                  | Switchboard                               |
| -------------------------------------------- | ----------------------------------------- |
| id                                           | User.pk                                   |
| externalId                                   | ScimUser.external_id (per client)         |
| userName                                     | User.username                             |
| name.givenName / name.familyName             | User.first_name / User.last_name          |
| displayName, title                           | User.display_name, User.title             |
| active                                       | User.is_active                            |
| emails (the primary one)                     | User.email                                |
| phoneNumbers (the primary one)               | User.phone                                |
| groups (read-only)                           | the person's Memberships                  |
| enterprise employeeNumber                    | User.employee_number                      |
| enterprise department                        | the primary Membership's Department       |

Reading input only checks shapes and values; what they mean for the rows is the services'.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from accounts.models import User
from contacts.models import Department, Membership

from .errors import ScimError, invalid_value
from .filters import AttrPath, get_ci, parse_attr_path
from .models import ScimGroup, ScimUser
from .schemas import ENTERPRISE_USER, GROUP, LIST_RESPONSE, USER

# --- output ------------------------------------------------------------------------------


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _without_refs(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_refs(v) for k, v in value.items() if k != "$ref"}
    if isinstance(value, list):
        return [_without_refs(v) for v in value]
    return value


def version_of(resource: dict[str, Any]) -> str:
    """A weak ETag of what the resource says: it changes when any attribute does, whoever
    changed it. ``meta`` and the ``$ref`` URIs (the host's, derived from ids) do not count."""
    content = _without_refs({key: value for key, value in resource.items() if key != "meta"})
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
    return f'W/"{digest[:24]}"'


def etag_matches(header: str | None, version: str) -> bool:
    """``If-Match``: absent or ``*`` matches; otherwise one of the listed tags, weakly."""
    if header is None or header.strip() == "*":
        return True
    wanted = version.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


def _memberships(user: User) -> list[Membership]:
    """The person's memberships, primary first (prefetched by the selectors)."""
    if hasattr(user, "scim_memberships"):
        return user.scim_memberships
    return list(Membership.objects.filter(user=user).select_related("department").order_by("-is_primary", "id"))


def _link(obj: User | Department) -> ScimUser | ScimGroup | None:
    links = getattr(obj, "scim_client_links", None)
    return links[0] if links else None


def _with_meta(
    resource: dict[str, Any],
    *,
    resource_type: str,
    created: datetime | None,
    modified: datetime | None,
    location: str,
    versioned: bool = True,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"resourceType": resource_type}
    if created:
        meta["created"] = _timestamp(created)
    if modified:
        meta["lastModified"] = _timestamp(modified)
    meta["location"] = location
    if versioned:  # a version of part of a resource would not be the resource's version
        meta["version"] = version_of(resource)
    resource["meta"] = meta
    return resource


def user_resource(user: User, *, base_url: str, always_extension: bool = False) -> dict[str, Any]:
    memberships = _memberships(user)
    primary = next((m for m in memberships if m.is_primary), None)
    link = _link(user)
    resource: dict[str, Any] = {"schemas": [USER], "id": str(user.pk)}
    if link and link.external_id:
        resource["externalId"] = link.external_id
    resource["userName"] = user.username
    name = {
        key: value
        for key, value in (
            ("formatted", user.get_full_name()),
            ("familyName", user.last_name),
            ("givenName", user.first_name),
        )
        if value
    }
    if name:
        resource["name"] = name
    if user.display_name:
        resource["displayName"] = user.display_name
    if user.title:
        resource["title"] = user.title
    resource["active"] = user.is_active
    if user.email:
        resource["emails"] = [{"value": user.email, "type": "work", "primary": True}]
    if user.phone:
        resource["phoneNumbers"] = [{"value": user.phone, "type": "work", "primary": True}]
    if memberships:
        resource["groups"] = [
            {
                "value": str(m.department_id),
                "$ref": f"{base_url}Groups/{m.department_id}",
                "display": m.department.name,
                "type": "direct",
            }
            for m in memberships
        ]
    enterprise = {}
    if user.employee_number:
        enterprise["employeeNumber"] = user.employee_number
    if primary:
        enterprise["department"] = primary.department.name
    if enterprise or always_extension:
        resource["schemas"].append(ENTERPRISE_USER)
        resource[ENTERPRISE_USER] = enterprise
    modified = max(user.date_joined, link.updated_at) if link else user.date_joined
    return _with_meta(
        resource, resource_type="User", created=user.date_joined, modified=modified, location=f"{base_url}Users/{user.pk}"
    )


def group_resource(department: Department, *, base_url: str, with_members: bool = True) -> dict[str, Any]:
    link = _link(department)
    resource: dict[str, Any] = {"schemas": [GROUP], "id": str(department.pk)}
    if link and link.external_id:
        resource["externalId"] = link.external_id
    resource["displayName"] = department.name
    if with_members:
        members = getattr(department, "scim_members", None)
        if members is None:
            members = list(
                Membership.objects.filter(department=department, user__is_service_account=False)
                .select_related("user")
                .order_by("user_id")
            )
        resource["members"] = [
            {"value": str(m.user_id), "$ref": f"{base_url}Users/{m.user_id}", "display": m.user.name, "type": "User"}
            for m in members
        ]
    return _with_meta(
        resource,
        resource_type="Group",
        created=None,
        modified=link.updated_at if link else None,
        location=f"{base_url}Groups/{department.pk}",
        versioned=with_members,
    )


def list_response(resources: list[dict[str, Any]], *, total: int, start_index: int) -> dict[str, Any]:
    return {
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }


# --- attributes and excludedAttributes (RFC 7644 §3.9) -----------------------------------

_ALWAYS = {"id", "schemas"}


def parse_attribute_list(value: str | None) -> list[AttrPath]:
    if not value:
        return []
    try:
        return [parse_attr_path(part) for part in value.split(",") if part.strip()]
    except ScimError as error:
        raise invalid_value(error.detail) from None


def _project(container: dict[str, Any], paths: list[AttrPath], *, schema: str | None) -> dict[str, Any]:
    """Keep only the named attributes of one schema's part of a resource."""
    kept: dict[str, Any] = {}
    for key, value in container.items():
        lowered = key.lower()
        if schema is None and (lowered in _ALWAYS or lowered.startswith("urn:")):
            continue
        subs = [p.sub for p in paths if p.schema == schema and p.attr and p.attr.lower() == lowered]
        if not subs:
            continue
        if None in subs:
            kept[key] = value
        elif isinstance(value, dict):
            kept[key] = {k: v for k, v in value.items() if k.lower() in {s.lower() for s in subs}}
        elif isinstance(value, list):
            kept[key] = [
                {k: v for k, v in item.items() if k.lower() in {s.lower() for s in subs}} for item in value
            ]
    return kept


def _exclude(container: dict[str, Any], paths: list[AttrPath], *, schema: str | None) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for key, value in container.items():
        lowered = key.lower()
        matching = [p for p in paths if p.schema == schema and p.attr and p.attr.lower() == lowered]
        if schema is None and lowered in _ALWAYS or not matching:
            kept[key] = value
        elif all(p.sub for p in matching):
            subs = {p.sub.lower() for p in matching}
            if isinstance(value, dict):
                kept[key] = {k: v for k, v in value.items() if k.lower() not in subs}
            elif isinstance(value, list):
                kept[key] = [{k: v for k, v in item.items() if k.lower() not in subs} for item in value]
            else:
                kept[key] = value
    return kept


def _core_schema(path: AttrPath, core: str) -> AttrPath:
    return AttrPath(None, path.attr, path.sub) if path.schema == core else path


def project(resource: dict[str, Any], *, attributes: list[AttrPath], excluded: list[AttrPath], core: str) -> dict[str, Any]:
    """The resource as ``attributes`` / ``excludedAttributes`` ask; ``id`` and ``schemas``
    are always returned."""
    if not attributes and not excluded:
        return resource
    attributes = [_core_schema(p, core) for p in attributes]
    excluded = [_core_schema(p, core) for p in excluded]
    extensions = [key for key in resource if key.startswith("urn:")]
    if attributes:
        result = {key: resource[key] for key in resource if key in _ALWAYS}
        result.update(_project(resource, attributes, schema=None))
        for urn in extensions:
            if any(p.schema == urn and p.attr is None for p in attributes):
                result[urn] = resource[urn]
            else:
                part = _project(resource[urn], attributes, schema=urn)
                if part:
                    result[urn] = part
    else:
        result = _exclude(resource, excluded, schema=None)
        for urn in extensions:
            if any(p.schema == urn and p.attr is None for p in excluded):
                result.pop(urn, None)
            else:
                result[urn] = _exclude(resource[urn], excluded, schema=urn)
    result["schemas"] = [urn for urn in resource["schemas"] if urn == core or urn in result]
    return result


# --- input -------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserInput:
    """A User resource as given (POST, PUT, or the outcome of a PATCH). ``active`` is None
    when not given; the enterprise fields count only when ``enterprise_given``."""

    username: str
    external_id: str
    first_name: str
    last_name: str
    display_name: str
    title: str
    email: str
    phone: str
    active: bool | None
    enterprise_given: bool
    employee_number: str
    department: str


@dataclass(frozen=True)
class GroupInput:
    display_name: str
    external_id: str
    member_ids: list[int] | None  # None: not given, so members stay as they are


def string_value(value: Any, field: str, max_length: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise invalid_value(f"{field} must be a string.")
    value = value.strip()
    if len(value) > max_length:
        raise invalid_value(f"{field} is longer than {max_length} characters.")
    return value


def boolean(value: Any, field: str) -> bool | None:
    """A SCIM boolean; "True"/"False" as strings too (Entra ID sends them in PATCH)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise invalid_value(f"{field} must be true or false.")


def _check_schemas(data: dict[str, Any], core: str) -> None:
    schemas = get_ci(data, "schemas")
    if schemas is None:
        return  # tolerated: the endpoint says what the resource is
    if not isinstance(schemas, list) or not any(isinstance(s, str) and s.lower() == core.lower() for s in schemas):
        raise ScimError(f"schemas must include {core}.", scim_type="invalidSyntax")


def _primary_value(values: Any, field: str) -> str:
    """Switchboard keeps one value of a multi-valued attribute: the primary, else the work
    one, else the first."""
    if values is None:
        return ""
    if isinstance(values, dict):
        values = [values]
    if not isinstance(values, list) or not all(isinstance(v, dict) for v in values):
        raise invalid_value(f"{field} must be a list of objects with a value.")
    values = [v for v in values if get_ci(v, "value") not in (None, "")]
    if not values:
        return ""
    chosen = (
        next((v for v in values if boolean(get_ci(v, "primary"), f"{field}.primary")), None)
        or next((v for v in values if str(get_ci(v, "type") or "").lower() == "work"), None)
        or values[0]
    )
    return get_ci(chosen, "value")


def user_input(data: Any) -> UserInput:
    if not isinstance(data, dict):
        raise ScimError("The request body must be a JSON object.", scim_type="invalidSyntax")
    _check_schemas(data, USER)
    username = string_value(get_ci(data, "userName"), "userName", 150)
    if not username:
        raise invalid_value("userName is required.")
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError:
        raise invalid_value("userName may contain only letters, digits and @ . + - _.") from None
    name = get_ci(data, "name")
    if name is not None and not isinstance(name, dict):
        raise invalid_value("name must be an object.")
    name = name or {}
    email = string_value(_primary_value(get_ci(data, "emails"), "emails"), "emails.value", 254)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise invalid_value(f"{email!r} is not an email address.") from None
    enterprise = get_ci(data, ENTERPRISE_USER)
    if enterprise is not None and not isinstance(enterprise, dict):
        raise invalid_value(f"{ENTERPRISE_USER} must be an object.")
    enterprise_given = enterprise is not None
    enterprise = enterprise or {}
    return UserInput(
        username=username,
        external_id=string_value(get_ci(data, "externalId"), "externalId", 255),
        first_name=string_value(get_ci(name, "givenName"), "name.givenName", 150),
        last_name=string_value(get_ci(name, "familyName"), "name.familyName", 150),
        display_name=string_value(get_ci(data, "displayName"), "displayName", 150),
        title=string_value(get_ci(data, "title"), "title", 150),
        email=email,
        phone=string_value(_primary_value(get_ci(data, "phoneNumbers"), "phoneNumbers"), "phoneNumbers.value", 64),
        active=boolean(get_ci(data, "active"), "active"),
        enterprise_given=enterprise_given,
        employee_number=string_value(get_ci(enterprise, "employeeNumber"), "employeeNumber", 64),
        department=string_value(get_ci(enterprise, "department"), "department", 150),
    )


def member_ids(values: Any) -> list[int]:
    """``[{"value": "12"}, …]`` → ``[12, …]``; the ids are checked by the services."""
    if isinstance(values, dict):
        values = [values]
    if not isinstance(values, list):
        raise invalid_value("members must be a list of objects with a value.")
    ids = []
    for member in values:
        value = get_ci(member, "value") if isinstance(member, dict) else None
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip().isdigit():
            raise invalid_value(f"{value!r} is not the id of a User.")
        member_type = get_ci(member, "type")
        if member_type not in (None, "User", "user"):
            raise invalid_value("Only Users can be members of a department.")
        ids.append(int(value))
    return list(dict.fromkeys(ids))


def group_input(data: Any) -> GroupInput:
    if not isinstance(data, dict):
        raise ScimError("The request body must be a JSON object.", scim_type="invalidSyntax")
    _check_schemas(data, GROUP)
    display_name = string_value(get_ci(data, "displayName"), "displayName", 150)
    if not display_name:
        raise invalid_value("displayName is required.")
    members = get_ci(data, "members")
    return GroupInput(
        display_name=display_name,
        external_id=string_value(get_ci(data, "externalId"), "externalId", 255),
        member_ids=None if members is None else member_ids(members),
    )
