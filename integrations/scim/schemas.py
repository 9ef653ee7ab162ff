"""What Switchboard's SCIM service supports, as data: the schema URNs, the attributes of
each resource (served at /Schemas, and consulted by PATCH for mutability), the resource
types and the service provider configuration (RFC 7643 §5–§7)."""

from __future__ import annotations

from typing import Any

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"
RESOURCE_TYPE = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SERVICE_PROVIDER_CONFIG = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"

MAX_RESULTS = 200
DEFAULT_COUNT = 100


def _attr(
    name: str,
    type_: str = "string",
    *,
    description: str,
    multi: bool = False,
    required: bool = False,
    case_exact: bool = False,
    mutability: str = "readWrite",
    returned: str = "default",
    uniqueness: str = "none",
    canonical: list[str] | None = None,
    sub: list[dict[str, Any]] | None = None,
    reference_types: list[str] | None = None,
) -> dict[str, Any]:
    attribute: dict[str, Any] = {
        "name": name,
        "type": type_,
        "multiValued": multi,
        "description": description,
        "required": required,
        "mutability": mutability,
        "returned": returned,
    }
    if type_ in ("string", "reference"):
        attribute.update(caseExact=case_exact, uniqueness=uniqueness)
    if canonical:
        attribute["canonicalValues"] = canonical
    if reference_types:
        attribute["referenceTypes"] = reference_types
    if sub is not None:
        attribute["subAttributes"] = sub
    return attribute


def _values(kind: str, types: list[str]) -> list[dict[str, Any]]:
    return [
        _attr("value", description=f"The {kind}."),
        _attr("type", description=f"The kind of {kind}; Switchboard keeps one, of type work.", canonical=types),
        _attr("primary", "boolean", description="Whether this is the primary value."),
    ]


USER_ATTRIBUTES = [
    _attr(
        "userName",
        description="The username people sign in with; unique, compared without regard to case.",
        required=True,
        uniqueness="server",
    ),
    _attr(
        "name",
        "complex",
        description="The person's name.",
        sub=[
            _attr("formatted", description="The full name, as shown.", mutability="readOnly"),
            _attr("familyName", description="The family name."),
            _attr("givenName", description="The given name."),
        ],
    ),
    _attr("displayName", description="The name shown in Switchboard."),
    _attr("title", description="The job title."),
    _attr("active", "boolean", description="False deactivates the account: its tokens and connections end."),
    _attr("emails", "complex", multi=True, description="The work email address.", sub=_values("email address", ["work"])),
    _attr(
        "phoneNumbers", "complex", multi=True, description="The work phone number.", sub=_values("phone number", ["work"])
    ),
    _attr(
        "groups",
        "complex",
        multi=True,
        mutability="readOnly",
        description="The departments the person belongs to; change them through Groups.",
        sub=[
            _attr("value", description="The department's id.", mutability="readOnly"),
            _attr(
                "$ref", "reference", description="The department's URI.", mutability="readOnly", reference_types=["Group"]
            ),
            _attr("display", description="The department's name.", mutability="readOnly"),
            _attr("type", description="direct", mutability="readOnly", canonical=["direct"]),
        ],
    ),
]

ENTERPRISE_ATTRIBUTES = [
    _attr("employeeNumber", description="The employee number; unique.", uniqueness="server"),
    _attr(
        "department",
        description="The primary department, by its code or its name (it must exist).",
    ),
]

GROUP_ATTRIBUTES = [
    _attr("displayName", description="The department's name.", required=True, uniqueness="server"),
    _attr(
        "members",
        "complex",
        multi=True,
        description="The people of the department.",
        sub=[
            _attr("value", description="The person's id.", mutability="immutable"),
            _attr("$ref", "reference", description="The person's URI.", mutability="immutable", reference_types=["User"]),
            _attr("display", description="The person's name.", mutability="readOnly"),
            _attr("type", description="User", mutability="immutable", canonical=["User"]),
        ],
    ),
]

# Attributes that the standard schemas define and Switchboard does not keep: accepted and
# ignored (identity providers send many by default), never an error. Lower-case names.
IGNORED = {
    USER: {
        "nickname", "profileurl", "usertype", "preferredlanguage", "locale", "timezone", "password", "ims",
        "photos", "addresses", "entitlements", "roles", "x509certificates",
    },
    ENTERPRISE_USER: {"costcenter", "organization", "division", "manager"},
    GROUP: set(),
}
IGNORED_SUB = {("name", "middlename"), ("name", "honorificprefix"), ("name", "honorificsuffix")}

SCHEMA_DOCS = [
    (USER, "User", "An employee's account.", USER_ATTRIBUTES),
    (ENTERPRISE_USER, "EnterpriseUser", "An employee's place in the company.", ENTERPRISE_ATTRIBUTES),
    (GROUP, "Group", "A department (under the company's root department).", GROUP_ATTRIBUTES),
]

RESOURCE_TYPES = [
    {"id": "User", "name": "User", "endpoint": "/Users", "description": "Accounts", "schema": USER,
     "schemaExtensions": [{"schema": ENTERPRISE_USER, "required": False}]},
    {"id": "Group", "name": "Group", "endpoint": "/Groups", "description": "Departments", "schema": GROUP},
]


def attribute_definition(schema: str, name: str) -> dict[str, Any] | None:
    """The definition of a top-level attribute of a schema, by name in any case."""
    for urn, _name, _description, attributes in SCHEMA_DOCS:
        if urn == schema:
            return next((a for a in attributes if a["name"].lower() == name.lower()), None)
    return None


def schema_documents(base_url: str) -> list[dict[str, Any]]:
    return [
        {
            "schemas": [SCHEMA],
            "id": urn,
            "name": name,
            "description": description,
            "attributes": attributes,
            "meta": {"resourceType": "Schema", "location": f"{base_url}Schemas/{urn}"},
        }
        for urn, name, description, attributes in SCHEMA_DOCS
    ]


def resource_type_documents(base_url: str) -> list[dict[str, Any]]:
    return [
        {
            "schemas": [RESOURCE_TYPE],
            **resource_type,
            "meta": {"resourceType": "ResourceType", "location": f"{base_url}ResourceTypes/{resource_type['id']}"},
        }
        for resource_type in RESOURCE_TYPES
    ]


def service_provider_config(base_url: str) -> dict[str, Any]:
    return {
        "schemas": [SERVICE_PROVIDER_CONFIG],
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": True},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "A client-credentials access token from /o/token/ carrying the scim scope.",
                "specUri": "https://www.rfc-editor.org/info/rfc6750",
                "primary": True,
            }
        ],
        "meta": {"resourceType": "ServiceProviderConfig", "location": f"{base_url}ServiceProviderConfig"},
    }
