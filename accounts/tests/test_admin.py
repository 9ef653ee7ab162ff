import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(demo, client):
    client.force_login(demo["admin"])
    return client


def test_user_admin_pages(admin_client, demo):
    assert admin_client.get("/admin/accounts/user/").status_code == 200
    page = admin_client.get(f"/admin/accounts/user/{demo['alice'].pk}/change/").content.decode()
    for field in ["display_name", "employee_number", "phone", "memberships-TOTAL_FORMS"]:
        assert field in page


def test_effective_contacts_page(admin_client, demo):
    page = admin_client.get(f"/admin/accounts/user/{demo['carol'].pk}/contacts/").content.decode()
    assert "3 effective contacts" in page
    for username in ["sales_lead", "mkt_lead", "dave"]:
        assert f"<td>{username}</td>" in page
    assert "Sales sees Marketing, Sales" in page


def test_explain_for_a_chosen_colleague(admin_client, demo):
    url = f"/admin/accounts/user/{demo['dave'].pk}/contacts/?colleague={demo['carol'].pk}"
    page = admin_client.get(url).content.decode()
    assert 'id="explanation"' in page
    assert "carol sees dave by rule" in page and "so dave may reply" in page

    url = f"/admin/accounts/user/{demo['alice'].pk}/contacts/?colleague={demo['carol'].pk}"
    page = admin_client.get(url).content.decode()
    assert "No rule or friendship lets alice see or talk to carol." in page


def test_contacts_page_needs_admin(client, demo):
    client.force_login(demo["alice"])
    response = client.get(f"/admin/accounts/user/{demo['carol'].pk}/contacts/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
