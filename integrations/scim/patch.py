"""PATCH (RFC 7644 §3.5.2) applied to a User resource as SCIM sees it: the operations
change the resource's JSON, and the outcome is then taken as if it had been PUT. That
keeps one reading of every attribute, and takes the shapes Okta and Entra ID send:

    {"op": "replace", "value": {"active": false}}                        (Okta)
    {"op": "Replace", "path": "active", "value": "False"}                (Entra ID)
    {"op": "Add", "path": "emails[type eq \\"work\\"].value", "value": "a@b.example"}
    {"op": "Replace", "path": "urn:…:enterprise:2.0:User:department", "value": "Sales"}
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from .errors import ScimError, invalid_value
from .filters import PatchPath, equalities, get_ci, matches, parse_attr_path, parse_patch_path
from .schemas import IGNORED, IGNORED_SUB, PATCH_OP, attribute_definition

OPS = {"add", "replace", "remove"}
MAX_OPERATIONS = 1000
# Attributes nobody may write; a PATCH aimed at one fails with "mutability".
READ_ONLY = {"id", "meta", "schemas", "groups"}


@dataclass(frozen=True)
class Operation:
    op: str
    path: PatchPath | None
    value: Any


def parse_operations(body: Any) -> list[Operation]:
    """The ``PatchOp`` message: its envelope and each operation's shape."""
    if not isinstance(body, dict):
        raise ScimError("The request body must be a PatchOp object.", scim_type="invalidSyntax")
    schemas = get_ci(body, "schemas")
    if schemas is not None and (not isinstance(schemas, list) or PATCH_OP not in schemas):
        raise ScimError(f"schemas must be [{PATCH_OP!r}].", scim_type="invalidSyntax")
    raw = get_ci(body, "Operations")
    if not isinstance(raw, list) or not raw:
        raise ScimError("Operations must be a non-empty list.", scim_type="invalidSyntax")
    if len(raw) > MAX_OPERATIONS:
        raise ScimError(f"At most {MAX_OPERATIONS} operations at a time.", scim_type="tooMany")
    operations = []
    for item in raw:
        if not isinstance(item, dict):
            raise ScimError("Each operation must be an object.", scim_type="invalidSyntax")
        op = get_ci(item, "op")
        if not isinstance(op, str) or op.lower() not in OPS:
            raise ScimError('op must be "add", "replace" or "remove".', scim_type="invalidSyntax")
        op = op.lower()
        path = get_ci(item, "path")
        value = get_ci(item, "value")
        if path is None or path == "":
            if op == "remove":
                raise ScimError("A remove operation needs a path.", scim_type="noTarget")
            if not isinstance(value, dict):
                raise invalid_value(f"{op} without a path needs an object as its value.")
            operations.append(Operation(op, None, value))
            continue
        parsed = parse_patch_path(path)
        if op != "remove" and "value" not in {k.lower() for k in item}:
            raise invalid_value(f"{op} {path} needs a value.")
        operations.append(Operation(op, parsed, value))
    return operations


# --- applying them to a resource's JSON --------------------------------------------------


def _canonical_key(container: dict[str, Any], name: str) -> str:
    """The key the container already uses for an attribute, else the name as given."""
    lowered = name.lower()
    return next((key for key in container if key.lower() == lowered), name)


def _is_multi(definition: dict[str, Any] | None) -> bool:
    return bool(definition and definition.get("multiValued"))


def _is_complex(definition: dict[str, Any] | None) -> bool:
    return bool(definition and definition.get("type") == "complex")


def _sub_definition(definition: dict[str, Any] | None, sub: str) -> dict[str, Any] | None:
    for attribute in (definition or {}).get("subAttributes", []):
        if attribute["name"].lower() == sub.lower():
            return attribute
    return None


def _merge(target: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    merged = dict(target)
    for key, sub_value in value.items():
        merged[_canonical_key(merged, key)] = sub_value
    return merged


def _one_primary(values: list[Any], added: list[Any]) -> list[Any]:
    """At most one value is primary: the newest one that says so (RFC 7643 §2.4)."""
    def primary(value: Any) -> bool:
        return isinstance(value, dict) and str(get_ci(value, "primary")).lower() == "true"

    newest = next((v for v in reversed(added) if primary(v)), None)
    if newest is None:
        return values
    return [{**v, _canonical_key(v, "primary"): False} if primary(v) and v is not newest else v for v in values]


class _Patcher:
    def __init__(self, resource: dict[str, Any], *, core: str, extensions: list[str]) -> None:
        self.resource = copy.deepcopy(resource)
        self.core = core
        self.extensions = extensions

    def apply(self, operation: Operation) -> None:
        if operation.path is None:
            for key, value in operation.value.items():
                if isinstance(key, str) and key.lower() in {urn.lower() for urn in self.extensions}:
                    if not isinstance(value, dict):
                        raise invalid_value(f"{key} must be an object.")
                    urn = next(urn for urn in self.extensions if urn.lower() == key.lower())
                    for sub_key, sub_value in value.items():
                        self.at(operation.op, parse_attr_path(f"{urn}:{sub_key}"), None, None, sub_value, path_text=sub_key)
                    continue
                if str(key).lower() == "schemas" or (
                    str(key).lower() == "id" and str(value) == str(self.resource.get("id"))
                ):
                    continue  # restating what the resource is (Okta sends its id along)
                # Entra ID names attributes by path in a path-less value: "name.givenName".
                self.at(operation.op, parse_attr_path(str(key)), None, None, value, path_text=str(key))
            return
        patch_path = operation.path
        self.at(operation.op, patch_path.path, patch_path.value_filter, patch_path.sub, operation.value, path_text=None)

    def at(self, op, path, value_filter, sub_after, value, *, path_text) -> None:
        schema = path.schema if path.schema != self.core else None
        shown = path_text or ".".join(p for p in (path.schema, path.attr, path.sub) if p)
        if schema is not None and schema not in self.extensions:
            raise ScimError(f"{schema} is not a schema of this resource.", scim_type="invalidPath")
        if path.attr is None:  # the whole extension
            self._whole_extension(op, schema, value)
            return
        lowered = path.attr.lower()
        if schema is None and lowered in READ_ONLY:
            raise ScimError(f"{path.attr} is read-only.", scim_type="mutability")
        if lowered == "externalid" and schema is None:
            definition = {"name": "externalId", "type": "string", "multiValued": False}
        else:
            definition = attribute_definition(schema or self.core, path.attr)
        if definition is None:
            if lowered in IGNORED.get(schema or self.core, set()):
                return  # a standard attribute Switchboard does not keep
            raise ScimError(f"{shown}: no such attribute.", scim_type="invalidPath")
        sub = path.sub or sub_after
        if sub is not None:
            if (lowered, sub.lower()) in IGNORED_SUB:
                return
            sub_definition = _sub_definition(definition, sub)
            if sub_definition is None:
                raise ScimError(f"{shown}: no such attribute.", scim_type="invalidPath")
            if sub_definition["mutability"] == "readOnly":
                return  # derived (name.formatted): nothing to keep
        container = self.resource if schema is None else self.resource.setdefault(schema, {})
        key = _canonical_key(container, definition["name"])
        if value_filter is not None:
            if not _is_multi(definition):
                raise ScimError(f"{shown}: a value filter needs a multi-valued attribute.", scim_type="invalidPath")
            self._filtered(op, container, key, value_filter, sub, value)
        elif sub is not None:
            self._sub(op, container, key, definition, sub, value)
        else:
            self._attribute(op, container, key, definition, value)

    def _whole_extension(self, op: str, schema: str, value: Any) -> None:
        if op == "remove":
            self.resource[schema] = {}
            return
        if not isinstance(value, dict):
            raise invalid_value(f"{schema} must be an object.")
        for sub_key, sub_value in value.items():
            self.at(op, parse_attr_path(f"{schema}:{sub_key}"), None, None, sub_value, path_text=sub_key)

    def _attribute(self, op, container, key, definition, value) -> None:
        if op == "remove":
            container.pop(key, None)
            return
        if _is_multi(definition):
            values = value if isinstance(value, list) else [value]
            existing = (container.get(key) or []) if op == "add" else []
            combined = existing + [v for v in values if v not in existing]
            container[key] = _one_primary(combined, values)
        elif _is_complex(definition):
            if not isinstance(value, dict):
                raise invalid_value(f"{definition['name']} must be an object.")
            current = container.get(key)
            container[key] = _merge(current if isinstance(current, dict) else {}, value)
        else:
            container[key] = value

    def _sub(self, op, container, key, definition, sub, value) -> None:
        current = container.get(key)
        if _is_multi(definition):
            # emails.value without a filter: every value (RFC 7644 §3.5.2.3).
            items = [item for item in (current or []) if isinstance(item, dict)]
            if op == "remove":
                container[key] = [{k: v for k, v in item.items() if k.lower() != sub.lower()} for item in items]
            elif items:
                container[key] = [{**item, _canonical_key(item, sub): value} for item in items]
            else:
                container[key] = [{sub: value}]
            return
        current = current if isinstance(current, dict) else {}
        if op == "remove":
            current = {k: v for k, v in current.items() if k.lower() != sub.lower()}
        else:
            current = {**current, _canonical_key(current, sub): value}
        container[key] = current

    def _filtered(self, op, container, key, value_filter, sub, value) -> None:
        items = list(container.get(key) or [])
        hits = [index for index, item in enumerate(items) if matches(item, value_filter)]
        if op == "remove":
            if sub is None:
                items = [item for index, item in enumerate(items) if index not in hits]
            else:
                for index in hits:
                    items[index] = {k: v for k, v in items[index].items() if k.lower() != sub.lower()}
        elif hits:
            for index in hits:
                if sub is not None:
                    items[index] = {**items[index], _canonical_key(items[index], sub): value}
                elif isinstance(value, dict):
                    items[index] = _merge(items[index], value)
                else:
                    raise invalid_value(f"{key} values are objects.")
        else:
            # Nothing matched. When the filter pins the value down (type eq "work"), an
            # identity provider means "set it": Entra ID adds, and replaces, this way.
            pinned = equalities(value_filter)
            if pinned is None:
                raise ScimError(f"No value of {key} matches the filter.", scim_type="noTarget")
            new = dict(pinned)
            if sub is not None:
                new[sub] = value
            elif isinstance(value, dict):
                new = _merge(new, value)
            items.append(new)
            items = _one_primary(items, [new])
        if items:
            container[key] = items
        else:
            container.pop(key, None)


def apply_operations(
    resource: dict[str, Any], operations: list[Operation], *, core: str, extensions: list[str]
) -> dict[str, Any]:
    """The resource after the operations, in order; the input is left as it was."""
    patcher = _Patcher(resource, core=core, extensions=extensions)
    for operation in operations:
        patcher.apply(operation)
    return patcher.resource
