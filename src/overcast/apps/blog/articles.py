"""Articles, their tags, favorites and comments in the blog table (layout: ``service.py``).

Lists are queries of one partition each: all articles (``gsi1`` ``ARTICLES``), an
author's (``gsi2``), a tag's (``TAG#<tag>``), a user's favorites (``gsi1``
``FAVORITES#<uid>``). Combined filters intersect those lists; ``articlesCount`` is the
size of the result, so each list reads at most :data:`MAX_LISTED` references (the
blog is small; a bigger one would keep counters). The slug is made once, from the
title and a random suffix, and never changes (links to an article stay valid when
its title is edited). Comment ids are integers: microseconds since the epoch plus a
random tail would overflow JavaScript's 2**53, so they are microseconds, bumped on a
clash by the conditional put.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from overcast.apps.blog.domain import (
    Clock,
    NewArticle,
    NotFound,
    Taken,
    UpdateArticle,
    timestamp,
)
from overcast.apps.blog.service import ARTICLES_INDEX, AUTHOR_INDEX
from overcast.ports.tables import BeginsWith, ConditionFailed, Item, ItemNotExists, Table

MAX_LISTED = 1_000
_ALL = "ARTICLES"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class StoredArticle:
    """An article as stored; the author is a uid."""

    slug: str
    title: str
    description: str
    body: str
    tags: list[str]
    created_at: str
    updated_at: str
    author: str

    @property
    def order(self) -> str:
        return f"{self.created_at}#{self.slug}"


@dataclass(frozen=True)
class StoredComment:
    id: int
    body: str
    author: str
    created_at: str
    updated_at: str


def slugify(title: str) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60].strip("-")
    return f"{words or 'article'}-{secrets.token_hex(3)}"


def _article_key(slug: str) -> dict[str, str]:
    return {"pk": f"ARTICLE#{slug}", "sk": "ARTICLE"}


class Articles:
    """Create, read, change, list and delete articles; favorites; comments; tags."""

    def __init__(self, table: Table, clock: Clock) -> None:
        self._table = table
        self._clock = clock

    def create(self, author: str, fields: NewArticle) -> StoredArticle:
        now = timestamp(self._clock())
        tags = list(dict.fromkeys(fields.tagList))
        article = StoredArticle(
            slugify(fields.title),
            fields.title,
            fields.description,
            fields.body,
            tags,
            now,
            now,
            author,
        )
        try:
            self._table.put(_item(article), condition=ItemNotExists())
        except ConditionFailed:
            raise Taken("slug") from None
        self._add_tags(article, tags)
        return article

    def get(self, slug: str) -> StoredArticle:
        item = self._table.get(_article_key(slug))
        if item is None:
            raise NotFound("article")
        return _article(item)

    def update(self, article: StoredArticle, changes: UpdateArticle) -> StoredArticle:
        given = changes.model_dump(exclude_none=True)
        tags = list(dict.fromkeys(given.pop("tagList", article.tags)))
        updated = StoredArticle(
            **{**article.__dict__, **given, "tags": tags, "updated_at": timestamp(self._clock())}
        )
        self._table.put(_item(updated))
        self._remove_tags(article, [tag for tag in article.tags if tag not in tags])
        self._add_tags(updated, [tag for tag in tags if tag not in article.tags])
        return updated

    def delete(self, article: StoredArticle) -> None:
        self._table.delete(_article_key(article.slug))
        self._remove_tags(article, article.tags)
        for item in self._all(f"ARTICLE#{article.slug}"):
            self._table.delete({"pk": item["pk"], "sk": item["sk"]})

    # --- lists ----------------------------------------------------------------------

    def slugs(
        self, *, tag: str | None = None, author: str | None = None, favorited_by: str | None = None
    ) -> list[str]:
        """Slugs of matching articles, newest first."""
        lists: list[list[str]] = []
        if tag is not None:
            lists.append([str(i["slug"]) for i in self._all(f"TAG#{tag}", descending=True)])
        if author is not None:
            lists.append(self._index_slugs(AUTHOR_INDEX, f"AUTHOR#{author}"))
        if favorited_by is not None:
            lists.append(self._index_slugs(ARTICLES_INDEX, f"FAVORITES#{favorited_by}"))
        if not lists:
            return self._index_slugs(ARTICLES_INDEX, _ALL)
        first, *others = lists
        wanted = [set(other) for other in others]
        return [slug for slug in first if all(slug in other for other in wanted)]

    def feed_slugs(self, authors: Iterable[str]) -> list[str]:
        """Slugs of the authors' articles, newest first."""
        refs: list[tuple[str, str]] = []
        for author in authors:
            refs += [
                (str(item["gsi2sk"]), str(item["slug"]))
                for item in self._all(f"AUTHOR#{author}", index=AUTHOR_INDEX, descending=True)
            ]
        return [slug for _, slug in sorted(refs, reverse=True)[:MAX_LISTED]]

    def many(self, slugs: list[str]) -> list[StoredArticle]:
        found: list[StoredArticle] = []
        for start in range(0, len(slugs), 100):
            keys = [_article_key(slug) for slug in slugs[start : start + 100]]
            found += [_article(item) for item in self._table.batch_get(keys) if item is not None]
        return found

    def tags(self) -> list[str]:
        return [str(item["sk"]) for item in self._all("TAGS")]

    # --- favorites --------------------------------------------------------------------

    def favorite(self, article: StoredArticle, uid: str) -> None:
        self._table.put(
            {
                "pk": f"ARTICLE#{article.slug}",
                "sk": f"FAVORITE#{uid}",
                "slug": article.slug,
                "gsi1pk": f"FAVORITES#{uid}",
                "gsi1sk": article.order,
            }
        )

    def unfavorite(self, article: StoredArticle, uid: str) -> None:
        self._table.delete({"pk": f"ARTICLE#{article.slug}", "sk": f"FAVORITE#{uid}"})

    def favorites_count(self, slug: str) -> int:
        return len(self._all(f"ARTICLE#{slug}", BeginsWith("FAVORITE#")))

    def favorited(self, slug: str, uid: str | None) -> bool:
        if uid is None:
            return False
        return self._table.get({"pk": f"ARTICLE#{slug}", "sk": f"FAVORITE#{uid}"}) is not None

    # --- comments ---------------------------------------------------------------------

    def comment(self, article: StoredArticle, author: str, body: str) -> StoredComment:
        moment = self._clock()
        at = timestamp(moment)
        comment_id = int((moment - _EPOCH).total_seconds() * 1_000_000)
        while True:
            comment = StoredComment(comment_id, body, author, at, at)
            try:
                self._table.put(_comment_item(article.slug, comment), condition=ItemNotExists())
            except ConditionFailed:
                comment_id += 1
                continue
            return comment

    def comments(self, slug: str) -> list[StoredComment]:
        return [_comment(item) for item in self._all(f"ARTICLE#{slug}", BeginsWith("COMMENT#"))]

    def get_comment(self, slug: str, comment_id: int) -> StoredComment:
        item = self._table.get({"pk": f"ARTICLE#{slug}", "sk": _comment_sort(comment_id)})
        if item is None:
            raise NotFound("comment")
        return _comment(item)

    def delete_comment(self, slug: str, comment_id: int) -> None:
        self._table.delete({"pk": f"ARTICLE#{slug}", "sk": _comment_sort(comment_id)})

    # --- helpers ----------------------------------------------------------------------

    def _add_tags(self, article: StoredArticle, tags: list[str]) -> None:
        for tag in tags:
            self._table.put({"pk": f"TAG#{tag}", "sk": article.order, "slug": article.slug})
            self._table.put({"pk": "TAGS", "sk": tag})

    def _remove_tags(self, article: StoredArticle, tags: list[str]) -> None:
        for tag in tags:
            self._table.delete({"pk": f"TAG#{tag}", "sk": article.order})

    def _index_slugs(self, index: str, partition: str) -> list[str]:
        return [str(i["slug"]) for i in self._all(partition, index=index, descending=True)]

    def _all(
        self,
        partition: str,
        sort: BeginsWith | None = None,
        *,
        index: str | None = None,
        descending: bool = False,
    ) -> list[Item]:
        items: list[Item] = []
        cursor = None
        while len(items) < MAX_LISTED:
            page = self._table.query(
                partition, sort, index=index, descending=descending, limit=200, cursor=cursor
            )
            items += page.items
            if page.cursor is None:
                break
            cursor = page.cursor
        return items[:MAX_LISTED]


def _item(article: StoredArticle) -> Item:
    return {
        **_article_key(article.slug),
        "slug": article.slug,
        "title": article.title,
        "description": article.description,
        "body": article.body,
        "tags": article.tags,
        "created_at": article.created_at,
        "updated_at": article.updated_at,
        "author": article.author,
        "gsi1pk": _ALL,
        "gsi1sk": article.order,
        "gsi2pk": f"AUTHOR#{article.author}",
        "gsi2sk": article.order,
    }


def _article(item: Item) -> StoredArticle:
    fields: dict[str, Any] = {name: item[name] for name in StoredArticle.__dataclass_fields__}
    fields["tags"] = [str(tag) for tag in item["tags"]]
    return StoredArticle(**fields)


def _comment_sort(comment_id: int) -> str:
    return f"COMMENT#{comment_id:016d}"


def _comment_item(slug: str, comment: StoredComment) -> Item:
    return {
        "pk": f"ARTICLE#{slug}",
        "sk": _comment_sort(comment.id),
        "id": comment.id,
        "body": comment.body,
        "author": comment.author,
        "created_at": comment.created_at,
        "updated_at": comment.updated_at,
    }


def _comment(item: Item) -> StoredComment:
    return StoredComment(
        id=int(item["id"]),
        body=str(item["body"]),
        author=str(item["author"]),
        created_at=str(item["created_at"]),
        updated_at=str(item["updated_at"]),
    )
