"""The blog API's articles, feed, favorites, comments and tags (in memory)."""

from __future__ import annotations

from tests.blog_fakes import memory_blog
from tests.todo_events import ManualClock

ONE = "/api/articles/{slug}"


def test_an_author_creates_reads_updates_and_deletes_an_article() -> None:
    api = memory_blog()
    alice = api.register("alice")

    created = alice.write("How to train your dragon", ["dragons"])
    read = api.call("GET", ONE, slug=created["slug"])
    changes = {"article": {"body": "New body", "tagList": ["training"]}}
    updated = alice.call("PUT", ONE, body=changes, slug=created["slug"])
    deleted = alice.call("DELETE", ONE, slug=created["slug"])
    gone = api.call("GET", ONE, slug=created["slug"])

    assert created["slug"].startswith("how-to-train-your-dragon-")
    assert created["author"]["username"] == "alice"
    assert (read.status, read.body["article"]) == (200, created)
    assert updated.status == 200
    assert (updated.body["article"]["body"], updated.body["article"]["tagList"]) == (
        "New body",
        ["training"],
    )
    assert (deleted.status, deleted.body) == (204, None)
    assert (gone.status, gone.body) == (404, {"errors": {"article": ["not found"]}})


def test_only_the_author_may_change_an_article() -> None:
    api = memory_blog()
    slug = api.register("alice").write()["slug"]
    bob = api.register("bob")

    edit = bob.call("PUT", ONE, body={"article": {"body": "mine now"}}, slug=slug)
    delete = bob.call("DELETE", ONE, slug=slug)
    anonymous = api.call("DELETE", ONE, slug=slug)
    missing = bob.call("PUT", ONE, body={"article": {"body": "x"}}, slug="no-such")

    assert (edit.status, edit.body) == (403, {"errors": {"article": ["forbidden"]}})
    assert (delete.status, anonymous.status, missing.status) == (403, 401, 404)
    assert api.call("GET", ONE, slug=slug).body["article"]["body"] == "b"


def test_creating_an_article_needs_a_token_and_its_fields() -> None:
    api = memory_blog()
    alice = api.register("alice")
    article = {"article": {"title": "T", "description": "D", "body": "B"}}

    anonymous = api.call("POST", "/api/articles", body=article)
    blank = alice.call("POST", "/api/articles", body={"article": {"title": " ", "body": "B"}})

    assert (anonymous.status, anonymous.body) == (401, {"errors": {"token": ["is missing"]}})
    assert blank.status == 422
    assert list(blank.body["errors"]) == ["title"]


def test_lists_filter_by_tag_author_and_favorited_newest_first_with_paging() -> None:
    clock = ManualClock()
    api = memory_blog(clock)
    alice, bob = api.register("alice"), api.register("bob")
    slugs = []
    for n, (author, tags) in enumerate([(alice, ["a"]), (bob, ["a", "b"]), (alice, ["b"])]):
        clock.advance(seconds=1)
        slugs.append(author.write(f"Article {n}", tags)["slug"])
    bob.call("POST", "/api/articles/{slug}/favorite", slug=slugs[0])

    def listed(**query: str) -> tuple[list[str], int]:
        body = api.call("GET", "/api/articles", query=query).body
        return [a["slug"] for a in body["articles"]], body["articlesCount"]

    assert listed() == (slugs[::-1], 3)
    assert listed(tag="a") == ([slugs[1], slugs[0]], 2)
    assert listed(author="alice") == ([slugs[2], slugs[0]], 2)
    assert listed(favorited="bob") == ([slugs[0]], 1)
    assert listed(tag="b", author="alice") == ([slugs[2]], 1)
    assert listed(author="nobody") == ([], 0)
    assert listed(limit="1", offset="1") == ([slugs[1]], 3)
    assert "body" not in api.call("GET", "/api/articles").body["articles"][0]
    assert api.call("GET", "/api/articles", query={"limit": "0"}).status == 422
    assert api.call("GET", "/api/articles", query={"offset": "x"}).status == 422


def test_the_feed_shows_followed_authors_only_and_needs_a_token() -> None:
    api = memory_blog()
    alice, bob, carol = api.register("alice"), api.register("bob"), api.register("carol")
    followed = bob.write("By bob")
    carol.write("By carol")
    alice.call("POST", "/api/profiles/{username}/follow", username="bob")

    feed = alice.call("GET", "/api/articles/feed")

    assert [a["slug"] for a in feed.body["articles"]] == [followed["slug"]]
    assert feed.body["articlesCount"] == 1
    assert feed.body["articles"][0]["author"]["following"] is True
    assert api.call("GET", "/api/articles/feed").status == 401


def test_favoriting_counts_once_per_user_and_unfavoriting_undoes_it() -> None:
    api = memory_blog()
    slug = api.register("alice").write()["slug"]
    bob, carol = api.register("bob"), api.register("carol")

    bob.call("POST", "/api/articles/{slug}/favorite", slug=slug)
    twice = bob.call("POST", "/api/articles/{slug}/favorite", slug=slug)
    carol.call("POST", "/api/articles/{slug}/favorite", slug=slug)
    undone = bob.call("DELETE", "/api/articles/{slug}/favorite", slug=slug)
    missing = bob.call("POST", "/api/articles/{slug}/favorite", slug="no-such")
    anonymous = api.call("POST", "/api/articles/{slug}/favorite", slug=slug)

    assert (twice.status, twice.body["article"]["favoritesCount"]) == (200, 1)
    assert twice.body["article"]["favorited"] is True
    assert (undone.body["article"]["favorited"], undone.body["article"]["favoritesCount"]) == (
        False,
        1,
    )
    assert (missing.status, anonymous.status) == (404, 401)


def test_comments_are_added_listed_and_deleted_by_their_author_only() -> None:
    api = memory_blog()
    alice = api.register("alice")
    slug = alice.write()["slug"]
    bob = api.register("bob")
    comments = "/api/articles/{slug}/comments"

    added = bob.call("POST", comments, body={"comment": {"body": "Nice"}}, slug=slug)
    comment_id = str(added.body["comment"]["id"])
    listed = api.call("GET", comments, slug=slug)
    one = comments + "/{id}"
    by_alice = alice.call("DELETE", one, slug=slug, id=comment_id)
    by_bob = bob.call("DELETE", one, slug=slug, id=comment_id)
    again = bob.call("DELETE", one, slug=slug, id=comment_id)

    assert added.status == 201
    assert isinstance(added.body["comment"]["id"], int)
    assert added.body["comment"]["author"]["username"] == "bob"
    assert [c["body"] for c in listed.body["comments"]] == ["Nice"]
    assert (by_alice.status, by_alice.body) == (403, {"errors": {"comment": ["forbidden"]}})
    assert (by_bob.status, again.status) == (204, 404)
    assert api.call("GET", comments, slug="no-such").status == 404
    assert api.call("POST", comments, body={"comment": {"body": "x"}}, slug=slug).status == 401
    assert bob.call("POST", comments, body={"comment": {}}, slug=slug).status == 422


def test_tags_lists_every_tag_in_use() -> None:
    api = memory_blog()
    alice = api.register("alice")
    alice.write("One", ["python", "aws"])
    alice.write("Two", ["python"])

    response = api.call("GET", "/api/tags")

    assert (response.status, sorted(response.body["tags"])) == (200, ["aws", "python"])
