"""Domain events of the address book, for other apps to subscribe to without imports.

They are sent after the transaction that caused them commits.
"""

from django.db import transaction
from django.dispatch import Signal

#: The people of some departments changed (memberships, managers, departments added or
#: moved). Arguments: ``department_ids`` (a set; empty means "possibly all").
department_people_changed = Signal()


def department_people_changed_on_commit(*, department_ids: set[int] | None = None) -> None:
    ids = set(department_ids or ())
    transaction.on_commit(lambda: department_people_changed.send(sender=None, department_ids=ids))


#: The demo organisation was loaded (``manage.py seed_demo``); apps add their demo data,
#: and with ``history=True`` some past activity.
demo_seeded = Signal()
