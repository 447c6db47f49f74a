"""Users' profiles and follows in the blog table (layout: ``service.py``).

Usernames and email addresses are unique: each is claimed by an item of its own
(``USERNAME#<lower name>``, ``EMAIL#<lower email>``) written with
``attribute_not_exists`` before the profile, so two concurrent registrations of one
name cannot both win; the loser's claim write fails and nothing else is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from overcast.apps.blog.domain import NotFound, Profile, Taken
from overcast.ports.tables import BeginsWith, ConditionFailed, Item, ItemNotExists, Table

MAX_FOLLOWS = 5_000


@dataclass(frozen=True)
class Person:
    """A user as stored: id (pool ``sub``), username, email, bio, image."""

    uid: str
    username: str
    email: str
    bio: str | None = None
    image: str | None = None

    def profile(self, following: bool) -> Profile:
        return Profile(username=self.username, bio=self.bio, image=self.image, following=following)


def _user(uid: str) -> str:
    return f"USER#{uid}"


def _username_key(name: str) -> dict[str, str]:
    return {"pk": f"USERNAME#{name.lower()}", "sk": "USERNAME"}


def _email_key(email: str) -> dict[str, str]:
    return {"pk": f"EMAIL#{email.lower()}", "sk": "EMAIL"}


class People:
    """Profiles, claims and follows."""

    def __init__(self, table: Table) -> None:
        self._table = table

    # --- claims -------------------------------------------------------------------

    def claim_email(self, email: str, uid: str) -> None:
        self._claim(_email_key(email), uid, "email")

    def claim_username(self, name: str, uid: str) -> None:
        self._claim(_username_key(name), uid, "username")

    def release_email(self, email: str) -> None:
        self._table.delete(_email_key(email))

    def release_username(self, name: str) -> None:
        self._table.delete(_username_key(name))

    def email_taken(self, email: str) -> bool:
        return self._table.get(_email_key(email), consistent=True) is not None

    def username_taken(self, name: str) -> bool:
        return self._table.get(_username_key(name), consistent=True) is not None

    def _claim(self, key: dict[str, str], uid: str, field: str) -> None:
        try:
            self._table.put({**key, "uid": uid}, condition=ItemNotExists())
        except ConditionFailed:
            raise Taken(field) from None

    # --- profiles -----------------------------------------------------------------

    def save(self, person: Person) -> None:
        item: Item = {
            "pk": _user(person.uid),
            "sk": "PROFILE",
            "uid": person.uid,
            "username": person.username,
            "email": person.email,
        }
        for name in ("bio", "image"):
            if getattr(person, name) is not None:
                item[name] = getattr(person, name)
        self._table.put(item)

    def get(self, uid: str, *, consistent: bool = False) -> Person:
        item = self._table.get({"pk": _user(uid), "sk": "PROFILE"}, consistent=consistent)
        if item is None:
            raise NotFound("user")
        return _person(item)

    def by_username(self, name: str) -> Person:
        claim = self._table.get(_username_key(name))
        if claim is None:
            raise NotFound("profile")
        return self.get(str(claim["uid"]))

    def uid_by_email(self, email: str) -> str | None:
        claim = self._table.get(_email_key(email), consistent=True)
        return None if claim is None else str(claim["uid"])

    def many(self, uids: list[str]) -> dict[str, Person]:
        unique = list(dict.fromkeys(uids))
        found: dict[str, Person] = {}
        for start in range(0, len(unique), 100):
            keys = [{"pk": _user(uid), "sk": "PROFILE"} for uid in unique[start : start + 100]]
            for item in self._table.batch_get(keys):
                if item is not None:
                    found[str(item["uid"])] = _person(item)
        return found

    # --- follows ------------------------------------------------------------------

    def follow(self, follower: str, followee: str) -> None:
        self._table.put({"pk": _user(follower), "sk": f"FOLLOWS#{followee}", "uid": followee})

    def unfollow(self, follower: str, followee: str) -> None:
        self._table.delete({"pk": _user(follower), "sk": f"FOLLOWS#{followee}"})

    def follows(self, follower: str | None, followee: str) -> bool:
        if follower is None:
            return False
        return self._table.get({"pk": _user(follower), "sk": f"FOLLOWS#{followee}"}) is not None

    def followed(self, follower: str) -> list[str]:
        """Whom ``follower`` follows (up to :data:`MAX_FOLLOWS`)."""
        uids: list[str] = []
        cursor = None
        while len(uids) < MAX_FOLLOWS:
            page = self._table.query(
                _user(follower), BeginsWith("FOLLOWS#"), limit=100, cursor=cursor
            )
            uids += [str(item["uid"]) for item in page.items]
            if page.cursor is None:
                break
            cursor = page.cursor
        return uids


def _person(item: Item) -> Person:
    def optional(name: str) -> Any:
        value = item.get(name)
        return None if value is None else str(value)

    return Person(
        uid=str(item["uid"]),
        username=str(item["username"]),
        email=str(item["email"]),
        bio=optional("bio"),
        image=optional("image"),
    )
