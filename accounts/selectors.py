"""Reads for accounts."""

from __future__ import annotations

from contacts.selectors import primary_department_for_user

from .models import User


def user_profile(*, user: User) -> dict:
    department = primary_department_for_user(user=user)
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.name,
        "email": user.email,
        "employee_number": user.employee_number,
        "title": user.title,
        "phone": user.phone,
        "language": user.language,
        "department": (
            {"id": department.id, "code": department.code, "name": department.name}
            if department
            else None
        ),
        "is_staff": user.is_staff,
    }
