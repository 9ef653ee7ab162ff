import pytest

from contacts import services
from contacts.models import FriendRequest
from core.errors import ApplicationError

pytestmark = pytest.mark.django_db


def test_send_and_accept(demo):
    fr = services.friend_request_send(from_user=demo["alice"], to_user_id=demo["carol"].id, message=" hi ")
    assert fr.status == "pending" and fr.message == "hi"
    accepted = services.friend_request_accept(user=demo["carol"], request_id=fr.id)
    assert accepted.status == "accepted" and accepted.responded_at is not None


def test_send_to_self_is_refused(demo):
    with pytest.raises(ApplicationError) as error:
        services.friend_request_send(from_user=demo["alice"], to_user_id=demo["alice"].id)
    assert error.value.code == "self_request"
    assert not FriendRequest.objects.exists()


def test_duplicate_is_refused(demo):
    services.friend_request_send(from_user=demo["alice"], to_user_id=demo["carol"].id)
    with pytest.raises(ApplicationError) as error:
        services.friend_request_send(from_user=demo["alice"], to_user_id=demo["carol"].id)
    assert error.value.code == "duplicate"
    assert FriendRequest.objects.count() == 1


def test_asking_back_accepts_their_request(demo):
    theirs = services.friend_request_send(from_user=demo["carol"], to_user_id=demo["alice"].id)
    result = services.friend_request_send(from_user=demo["alice"], to_user_id=demo["carol"].id)
    assert result.id == theirs.id and result.status == "accepted"
    assert FriendRequest.objects.count() == 1


def test_already_friends(demo):
    fr = services.friend_request_send(from_user=demo["alice"], to_user_id=demo["carol"].id)
    services.friend_request_accept(user=demo["carol"], request_id=fr.id)
    with pytest.raises(ApplicationError) as error:
        services.friend_request_send(from_user=demo["carol"], to_user_id=demo["alice"].id)
    assert error.value.code == "already_friends"


def test_declined_request_may_be_sent_again(demo):
    fr = services.friend_request_send(from_user=demo["alice"], to_user_id=demo["carol"].id)
    services.friend_request_decline(user=demo["carol"], request_id=fr.id)
    again = services.friend_request_send(from_user=demo["alice"], to_user_id=demo["carol"].id)
    assert again.id != fr.id and again.status == "pending"


def test_only_the_recipient_answers(demo):
    fr = services.friend_request_send(from_user=demo["alice"], to_user_id=demo["carol"].id)
    with pytest.raises(ApplicationError) as error:
        services.friend_request_accept(user=demo["alice"], request_id=fr.id)
    assert error.value.code == "not_permitted"
    with pytest.raises(ApplicationError) as error:
        services.friend_request_decline(user=demo["bob"], request_id=fr.id)
    assert error.value.code == "not_found"
    fr.refresh_from_db()
    assert fr.status == "pending"


def test_answered_request_cannot_be_answered_again(demo):
    fr = services.friend_request_send(from_user=demo["alice"], to_user_id=demo["carol"].id)
    services.friend_request_decline(user=demo["carol"], request_id=fr.id)
    with pytest.raises(ApplicationError) as error:
        services.friend_request_accept(user=demo["carol"], request_id=fr.id)
    assert error.value.code == "not_pending" and error.value.status == 409


def test_unknown_or_inactive_recipient(demo):
    with pytest.raises(ApplicationError) as error:
        services.friend_request_send(from_user=demo["alice"], to_user_id=999999)
    assert error.value.code == "not_found"
    demo["carol"].is_active = False
    demo["carol"].save(update_fields=["is_active"])
    with pytest.raises(ApplicationError):
        services.friend_request_send(from_user=demo["alice"], to_user_id=demo["carol"].id)
