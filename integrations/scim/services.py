"""Writes for SCIM provisioning: accounts and departments as an identity provider (Okta,
Entra ID, the HR system) asks. Each is atomic; department conversations follow through
``department_people_changed`` after commit, and a deactivation goes through
``accounts.services.user_deactivate`` (tokens end, sockets close)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from accounts.models import User
from accounts.services import user_deactivate
from contacts.events import department_people_changed_on_commit
from contacts.models import Department, Membership
from integrations.models import Client

from . import mapping, selectors
from .errors import ScimError, invalid_value
from .filters import get_ci, matches
from .mapping import GroupInput, UserInput
from .models import ScimGroup, ScimUser
from .patch import Operation, apply_operations
from .schemas import ENTERPRISE_USER, GROUP, USER


def _uniqueness(detail: str) -> ScimError:
    return ScimError(detail, status=409, scim_type="uniqueness")


def _precondition(*, if_match: str | None, resource: dict[str, Any]) -> None:
    if not mapping.etag_matches(if_match, resource["meta"]["version"]):
        raise ScimError("The resource has changed since that version.", status=412, scim_type="invalidVers")


def _touch(link: ScimUser | ScimGroup) -> None:
    """``updated_at`` is the resource's ``meta.lastModified`` for this client."""
    link.save()


# --- Users -------------------------------------------------------------------------------


def _user_for_update(*, client: Client, user_id: str) -> User:
    """The person, locked until the transaction ends, then read with what SCIM shows."""
    selectors.users_queryset().select_for_update().filter(pk=selectors.resource_pk(user_id)).first()
    return selectors.user_get(client=client, user_id=user_id)


def _user_link(*, client: Client, user: User) -> ScimUser:
    link = (getattr(user, "scim_client_links", None) or [None])[0]
    if link is None:
        link, _created = ScimUser.objects.get_or_create(client=client, user=user)
    return link


def _department_find(value: str) -> Department:
    department = Department.objects.filter(code=value).first()
    if department is not None:
        return department
    named = list(Department.objects.filter(name__iexact=value)[:2])
    if not named:
        raise invalid_value(f"No department has the code or name {value!r}; create it first (as a Group).")
    if len(named) > 1:
        raise invalid_value(f"Several departments are named {value!r}; give its code instead.")
    return named[0]


def _primary_department_set(*, user: User, value: str) -> set[int]:
    """Make the department named by code or name the person's primary one (their old
    primary membership ends); an empty value ends it. Returns the departments touched."""
    current = Membership.objects.filter(user=user, is_primary=True).select_related("department").first()
    if current and value and value.lower() in (current.department.code.lower(), current.department.name.lower()):
        return set()
    if current is None and not value:
        return set()
    target = _department_find(value) if value else None
    touched = set()
    if current is not None:
        touched.add(current.department_id)
        current.delete()
    if target is not None:
        touched.add(target.pk)
        membership = Membership.objects.filter(user=user, department=target).first()
        if membership is None:
            Membership.objects.create(user=user, department=target, is_primary=True)
        else:
            membership.is_primary = True
            membership.save(update_fields=["is_primary"])
    return touched


def _check_user_unique(*, user: User | None, data: UserInput, client: Client) -> None:
    others = User.objects.exclude(pk=user.pk) if user else User.objects.all()
    if others.filter(username__iexact=data.username).exists():
        raise _uniqueness(f"userName {data.username!r} is taken.")
    if data.enterprise_given and data.employee_number and others.filter(employee_number=data.employee_number).exists():
        raise _uniqueness(f"employeeNumber {data.employee_number!r} is taken.")
    if data.external_id:
        links = ScimUser.objects.filter(client=client, external_id=data.external_id)
        if user is not None:
            links = links.exclude(user=user)
        if links.exists():
            raise _uniqueness(f"externalId {data.external_id!r} is taken.")


def _user_write(*, client: Client, user: User, data: UserInput, creating: bool) -> None:
    """Bring the account in line with ``data`` (the whole resource: what it leaves out is
    cleared, except ``active`` and, when the enterprise extension is absent, its fields)."""
    _check_user_unique(user=None if creating else user, data=data, client=client)
    old_title = user.title
    fields = {
        "username": data.username,
        "first_name": data.first_name,
        "last_name": data.last_name,
        "display_name": data.display_name,
        "title": data.title,
        "email": data.email,
        "phone": data.phone,
    }
    if data.enterprise_given:
        fields["employee_number"] = data.employee_number or None
    changed = [name for name, value in fields.items() if getattr(user, name) != value]
    for name in changed:
        setattr(user, name, fields[name])
    if creating:
        user.is_active = data.active is not False
        user.set_unusable_password()  # people sign in through the company's sign-in, or reset it
        user.save()
    elif changed:
        user.save(update_fields=changed)

    link = _user_link(client=client, user=user)
    link.external_id = data.external_id
    _touch(link)

    touched: set[int] = set()
    if data.enterprise_given:
        touched |= _primary_department_set(user=user, value=data.department)
    if "title" in changed and not creating:
        # A membership's title shows instead of the person's: keep one that was in step.
        Membership.objects.filter(user=user, is_primary=True, title=old_title).exclude(title="").update(title=user.title)

    if not creating and data.active is not None and data.active != user.is_active:
        touched |= set(Membership.objects.filter(user=user).values_list("department_id", flat=True))
        if data.active:
            user.is_active = True
            user.save(update_fields=["is_active"])
        else:
            user_deactivate(user=user)
    if touched:
        department_people_changed_on_commit(department_ids=touched)


def _integrity(error: IntegrityError) -> ScimError:
    # Two requests raced past the checks above; the database's constraints decided.
    return _uniqueness("That userName, employeeNumber or externalId is taken.")


def scim_user_create(*, client: Client, data: UserInput) -> User:
    try:
        with transaction.atomic():
            user = User()
            _user_write(client=client, user=user, data=data, creating=True)
    except IntegrityError as error:
        raise _integrity(error) from None
    return user


def scim_user_replace(*, client: Client, user_id: str, data: UserInput, if_match: str | None = None) -> User:
    try:
        with transaction.atomic():
            user = _user_for_update(client=client, user_id=user_id)
            _precondition(if_match=if_match, resource=mapping.user_resource(user, base_url=""))
            _user_write(client=client, user=user, data=data, creating=False)
    except IntegrityError as error:
        raise _integrity(error) from None
    return user


def scim_user_patch(
    *, client: Client, user_id: str, operations: list[Operation], if_match: str | None = None
) -> User:
    try:
        with transaction.atomic():
            user = _user_for_update(client=client, user_id=user_id)
            current = mapping.user_resource(user, base_url="", always_extension=True)
            _precondition(if_match=if_match, resource=current)
            patched = apply_operations(current, operations, core=USER, extensions=[ENTERPRISE_USER])
            # Removing the whole extension clears its attributes (it is not "left out").
            if get_ci(patched, ENTERPRISE_USER) is None:
                patched[ENTERPRISE_USER] = {}
            _user_write(client=client, user=user, data=mapping.user_input(patched), creating=False)
    except IntegrityError as error:
        raise _integrity(error) from None
    return user


@transaction.atomic
def scim_user_delete(*, client: Client, user_id: str, if_match: str | None = None) -> User:
    """DELETE deactivates: the account, its messages and its place in the company stay for
    the record; it can no longer sign in, and its tokens and connections end now."""
    user = _user_for_update(client=client, user_id=user_id)
    _precondition(if_match=if_match, resource=mapping.user_resource(user, base_url=""))
    if user.is_active:
        department_ids = set(Membership.objects.filter(user=user).values_list("department_id", flat=True))
        user_deactivate(user=user)
        if department_ids:
            department_people_changed_on_commit(department_ids=department_ids)
    else:
        user_deactivate(user=user)  # whatever tokens are left end too
    _touch(_user_link(client=client, user=user))
    return user


# --- Groups (departments) ----------------------------------------------------------------


def _department_code(name: str) -> str:
    base = (slugify(name) or "department")[:56]
    code, n = base, 1
    while Department.objects.filter(code=code).exists():
        n += 1
        code = f"{base}-{n}"
    return code


def _check_group_unique(*, department: Department | None, data: GroupInput, client: Client) -> None:
    others = Department.objects.exclude(pk=department.pk) if department else Department.objects.all()
    if others.filter(name__iexact=data.display_name).exists():
        raise _uniqueness(f"A department is already named {data.display_name!r}.")
    if data.external_id:
        links = ScimGroup.objects.filter(client=client, external_id=data.external_id)
        if department is not None:
            links = links.exclude(department=department)
        if links.exists():
            raise _uniqueness(f"externalId {data.external_id!r} is taken.")


def _members_check(user_ids: set[int]) -> None:
    found = set(selectors.users_queryset().filter(pk__in=user_ids).values_list("pk", flat=True))
    missing = sorted(user_ids - found)
    if missing:
        raise invalid_value(f"No User {missing[0]}: members must be Users.")


def _members_set(*, department: Department, add: set[int] = frozenset(), remove: set[int] = frozenset()) -> bool:
    """Add and remove people; a person's first department becomes their primary one, and
    when the primary one is left, their oldest remaining membership takes its place."""
    _members_check(set(add))
    current = set(department.memberships.values_list("user_id", flat=True))
    add, remove = set(add) - current, set(remove) & current
    if not add and not remove:
        return False
    if remove:
        leaving_primary = set(
            Membership.objects.filter(department=department, user_id__in=remove, is_primary=True).values_list(
                "user_id", flat=True
            )
        )
        Membership.objects.filter(department=department, user_id__in=remove).delete()
        for membership in (
            Membership.objects.filter(user_id__in=leaving_primary).order_by("user_id", "id").distinct()
        ):
            if membership.user_id in leaving_primary:
                leaving_primary.discard(membership.user_id)
                membership.is_primary = True
                membership.save(update_fields=["is_primary"])
    if add:
        with_primary = set(
            Membership.objects.filter(user_id__in=add, is_primary=True).values_list("user_id", flat=True)
        )
        Membership.objects.bulk_create(
            [Membership(user_id=uid, department=department, is_primary=uid not in with_primary) for uid in sorted(add)]
        )
    return True


def _group_link(*, client: Client, department: Department) -> ScimGroup:
    link = (getattr(department, "scim_client_links", None) or [None])[0]
    if link is None:
        link, _created = ScimGroup.objects.get_or_create(client=client, department=department)
    return link


def _group_write(*, client: Client, department: Department, data: GroupInput) -> bool:
    """Returns whether the department's people or name changed."""
    _check_group_unique(department=department, data=data, client=client)
    changed = False
    if department.name != data.display_name:
        department.name = data.display_name
        department.save(update_fields=["name"])
        changed = True
    link = _group_link(client=client, department=department)
    link.external_id = data.external_id
    _touch(link)
    if data.member_ids is not None:
        current = set(department.memberships.values_list("user_id", flat=True))
        wanted = set(data.member_ids)
        changed |= _members_set(department=department, add=wanted - current, remove=current - wanted)
    return changed


def _group_for_update(*, client: Client, group_id: str) -> Department:
    Department.objects.select_for_update().filter(pk=selectors.resource_pk(group_id)).first()
    return selectors.group_get(client=client, group_id=group_id)


def scim_group_create(*, client: Client, data: GroupInput) -> Department:
    """A new department, under the company's root department."""
    try:
        with transaction.atomic():
            _check_group_unique(department=None, data=data, client=client)
            fields = {"name": data.display_name, "code": _department_code(data.display_name)}
            # Locked, so that two new departments do not take the same place in the tree.
            root = Department.objects.get_root_nodes().select_for_update().first()
            if root is None:
                department = Department.objects.add_root(fields)
            else:
                department = Department.objects.add_child(root, fields)
            ScimGroup.objects.create(client=client, department=department, external_id=data.external_id)
            if data.member_ids:
                _members_set(department=department, add=set(data.member_ids))
            department_people_changed_on_commit(department_ids={department.pk})
    except IntegrityError:
        raise _uniqueness("That displayName or externalId is taken.") from None
    return department


@transaction.atomic
def scim_group_replace(*, client: Client, group_id: str, data: GroupInput, if_match: str | None = None) -> Department:
    department = _group_for_update(client=client, group_id=group_id)
    _precondition(if_match=if_match, resource=mapping.group_resource(department, base_url=""))
    if _group_write(client=client, department=department, data=data):
        department_people_changed_on_commit(department_ids={department.pk})
    return department


@transaction.atomic
def scim_group_patch(
    *, client: Client, group_id: str, operations: list[Operation], if_match: str | None = None
) -> Department:
    """displayName, externalId and members, as Okta and Entra ID change them: members are
    added and removed by id, without sending the whole list back."""
    department = _group_for_update(client=client, group_id=group_id)
    current = mapping.group_resource(department, base_url="")
    _precondition(if_match=if_match, resource=current)
    display_name = department.name
    external_id = current.get("externalId", "")
    shown = {int(m["value"]): m for m in current["members"]}
    before = set(shown)
    wanted = set(before)

    def member(uid: int) -> dict[str, Any]:
        return shown.get(uid) or {"value": str(uid), "type": "User"}

    for operation in operations:
        if operation.path is None:
            changes = [
                (str(key).lower(), None, None, value)
                for key, value in operation.value.items()
                if str(key).lower() != "schemas" and not (str(key).lower() == "id" and str(value) == str(department.pk))
            ]
        else:
            path = operation.path
            if path.path.schema not in (None, GROUP):
                raise ScimError(f"{path.path.schema} is not a schema of Groups.", scim_type="invalidPath")
            sub = (path.path.sub or path.sub or "").lower() or None
            changes = [((path.path.attr or "").lower(), path.value_filter, sub, operation.value)]
        for attribute, value_filter, sub, value in changes:
            if attribute == "displayname" and value_filter is None and sub is None:
                if operation.op == "remove":
                    raise ScimError("displayName is required.", scim_type="mutability")
                if not isinstance(value, str) or not value.strip():
                    raise invalid_value("displayName must be a non-empty string.")
                display_name = value.strip()
            elif attribute == "externalid" and value_filter is None and sub is None:
                external_id = "" if operation.op == "remove" else mapping.string_value(value, "externalId", 255)
            elif attribute == "members" and sub in (None, "value"):
                if value_filter is not None:
                    if operation.op != "remove":
                        raise ScimError("Add members as a list of values, not with a filter.", scim_type="invalidPath")
                    wanted -= {uid for uid in wanted if matches(member(uid), value_filter)}
                elif operation.op == "remove":
                    # Entra ID names the members to remove in the value; without one, all go.
                    wanted -= set(mapping.member_ids(value)) if value is not None else set(wanted)
                elif operation.op == "add":
                    wanted |= set(mapping.member_ids(value))
                else:
                    wanted = set(mapping.member_ids(value))
            elif attribute in ("id", "meta", "schemas"):
                raise ScimError(f"{attribute} is read-only.", scim_type="mutability")
            else:
                raise ScimError(f"Groups have no attribute {attribute!r} to change.", scim_type="invalidPath")

    renamed = _group_write(client=client, department=department, data=GroupInput(display_name, external_id, None))
    if _members_set(department=department, add=wanted - before, remove=before - wanted) or renamed:
        department_people_changed_on_commit(department_ids={department.pk})
    return department


@transaction.atomic
def scim_group_delete(*, client: Client, group_id: str, if_match: str | None = None) -> None:
    """Delete a department, as the admin site does (its conversation goes with it). The
    company's root and departments with sub-departments are refused: move or delete those
    first."""
    department = _group_for_update(client=client, group_id=group_id)
    _precondition(if_match=if_match, resource=mapping.group_resource(department, base_url=""))
    if department.is_root():
        raise ScimError("The company's root department cannot be deleted.", status=409)
    if Department.objects.get_children_count(department):
        raise ScimError(f"{department.name} has sub-departments; delete or move them first.", status=409)
    department_id = department.pk
    department.delete()
    department_people_changed_on_commit(department_ids={department_id})
