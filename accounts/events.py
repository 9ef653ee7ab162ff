"""Domain events of accounts, for other apps to react to."""

from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.dispatch import Signal, receiver

# Sent after commit when a user's password changed or the account was switched off
# (user_id=...): the user's tokens are revoked by then, and whatever else rode on the old
# credentials (open connections, browser sessions) must end now, not at a periodic check.
user_credentials_changed = Signal()

# The fields whose change can end a user's sessions.
CREDENTIAL_FIELDS = frozenset({"password", "is_active"})


@receiver(pre_save, sender="accounts.User", dispatch_uid="accounts-credentials-before")
def _note_credentials_change(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    """Every way a password or the active flag changes (the admin's forms, password
    resets, ``changepassword``, SCIM, the services) ends in a save, so the change is
    noticed here rather than in each of them. Saves that touch neither field (the last
    sign-in time, a profile) cost nothing."""
    instance._credentials_changed = False
    if raw or instance.pk is None or (update_fields is not None and not CREDENTIAL_FIELDS & set(update_fields)):
        return
    before = sender.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if before is not None:
        # A row saved without a password a moment ago (get_or_create, then
        # set_unusable_password) has nothing to end yet.
        instance._credentials_changed = (bool(before["password"]) and before["password"] != instance.password) or (
            before["is_active"] and not instance.is_active
        )


@receiver(post_save, sender="accounts.User", dispatch_uid="accounts-credentials-after")
def _announce_credentials_change(sender, instance, created=False, **kwargs) -> None:
    if getattr(instance, "_credentials_changed", False):
        from .services import user_tokens_revoke

        instance._credentials_changed = False
        user_id = instance.pk
        # In the save's own transaction: the old tokens end with the old password.
        user_tokens_revoke(user_id=user_id)
        transaction.on_commit(lambda: user_credentials_changed.send(sender=sender, user_id=user_id))
