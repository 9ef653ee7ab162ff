import pytest

pytestmark = pytest.mark.django_db


def test_login_page_renders_in_the_product_style(client):
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "css/switchboard" in html and 'name="username"' in html


def test_login_and_logout(demo, client):
    response = client.post("/accounts/login/", {"username": "alice", "password": "switchboard-demo"})
    assert response.status_code == 302
    assert client.get("/contacts/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/contacts/").status_code == 302


def test_wrong_password_says_so(demo, client):
    page = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert page.status_code == 200
    assert "The username or password is not correct" in page.content.decode()


def test_lockout_shows_a_clear_message(demo, client):
    for _ in range(5):
        client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    page = client.post("/accounts/login/", {"username": "alice", "password": "switchboard-demo"})
    assert page.status_code == 429
    html = page.content.decode()
    assert "Too many failed sign-in attempts" in html and 'data-testid="lockout"' in html
    assert "_auth_user_id" not in client.session


def test_browser_language_picks_chinese(client):
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    html = page.content.decode()
    assert 'lang="zh-hans"' in html and "登录" in html


def test_user_setting_overrides_the_browser(demo, client):
    client.force_login(demo["alice"])
    response = client.post("/accounts/settings/", {"language": "zh-hans"})
    assert response.status_code == 302
    demo["alice"].refresh_from_db()
    assert demo["alice"].language == "zh-hans"
    page = client.get("/contacts/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "我的联系人" in page


def test_people_page_lists_contacts_and_searches(demo, client):
    client.force_login(demo["carol"])
    html = client.get("/contacts/").content.decode()
    for username in ["sales_lead", "mkt_lead", "dave"]:
        assert f'data-testid="contact" data-username="{username}"' in html
    assert 'data-username="alice"' not in html
    found = client.get("/contacts/", {"q": "development"}).content.decode()
    assert 'data-testid="directory-result" data-username="alice"' in found


def test_people_page_friend_request_round_trip(demo, client):
    client.force_login(demo["alice"])
    client.post("/contacts/friend-requests/", {"to": demo["carol"].id, "next": "https://evil.example/"})
    client.force_login(demo["carol"])
    html = client.get("/contacts/").content.decode()
    assert "Friend requests for you" in html
    from contacts.models import FriendRequest

    fr = FriendRequest.objects.get()
    response = client.post(f"/contacts/friend-requests/{fr.id}/accept/")
    assert response["Location"] == "/contacts/"
    html = client.get("/contacts/").content.decode()
    assert 'data-testid="contact" data-username="alice"' in html


def test_home_redirects(demo, client):
    assert client.get("/")["Location"].startswith("/accounts/login/")
    client.force_login(demo["alice"])
    assert client.get("/")["Location"] == "/chat/"
