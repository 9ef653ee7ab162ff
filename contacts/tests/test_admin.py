import pytest

from contacts.models import Department, VisibilityRule

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(demo, client):
    client.force_login(demo["admin"])
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/admin/contacts/department/",
        "/admin/contacts/department/add/",
        "/admin/contacts/visibilityrule/",
        "/admin/contacts/visibilityrule/add/",
        "/admin/contacts/membership/",
        "/admin/contacts/friendrequest/",
    ],
)
def test_admin_pages_open(admin_client, path):
    assert admin_client.get(path).status_code == 200


def test_department_change_page_has_memberships_and_rules(admin_client):
    sales = Department.objects.get(code="sales")
    page = admin_client.get(f"/admin/contacts/department/{sales.pk}/change/").content.decode()
    assert "memberships-TOTAL_FORMS" in page and "visibility_rules-TOTAL_FORMS" in page
    assert "Carol Davis" in page


def test_admin_adds_a_department_under_another(admin_client):
    dev = Department.objects.get(code="dev")
    response = admin_client.post(
        "/admin/contacts/department/add/",
        {
            "name": "Platform",
            "code": "platform",
            "manager": "",
            "treebeard_position": "sorted-child",
            "treebeard_ref_node": dev.pk,
            "memberships-TOTAL_FORMS": 0,
            "memberships-INITIAL_FORMS": 0,
            "visibility_rules-TOTAL_FORMS": 0,
            "visibility_rules-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    platform = Department.objects.get(code="platform")
    assert Department.objects.get_parent(platform) == dev


def test_admin_edits_a_visibility_rule(admin_client):
    rule = VisibilityRule.objects.get(department__code="sales")
    hr = Department.objects.get(code="hr")
    response = admin_client.post(
        f"/admin/contacts/visibilityrule/{rule.pk}/change/",
        {
            "department": rule.department_id,
            "kind": "departments",
            "targets": [t.pk for t in rule.targets.all()] + [hr.pk],
            "include_subdepartments": "on",
        },
    )
    assert response.status_code == 302
    assert hr in rule.targets.all()


def test_staff_without_permission_cannot_edit(demo, client):
    alice = demo["alice"]
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    client.force_login(alice)
    assert client.get("/admin/contacts/department/").status_code == 403
