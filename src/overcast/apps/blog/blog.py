"""The blog's use cases: what each RealWorld operation does, independent of HTTP.

:class:`Blog` receives its collaborators (repositories, the user directory, the token
verifier) and returns RealWorld representations; the handler only parses requests
and renders answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from overcast.apps.blog.accounts import UserDirectory
from overcast.apps.blog.articles import Articles, StoredArticle, StoredComment
from overcast.apps.blog.domain import (
    Article,
    Comment,
    Forbidden,
    Invalid,
    NewArticle,
    NewUser,
    NotFound,
    Taken,
    UpdateArticle,
    UpdateUser,
    User,
)
from overcast.apps.blog.people import People, Person
from overcast.apps.blog.subscribers import Subscribers

Verifier = Callable[[str], str]


class Blog:
    """Users, profiles, articles, favorites, comments and tags."""

    def __init__(
        self,
        people: People,
        articles: Articles,
        subscribers: Subscribers,
        directory: UserDirectory,
    ) -> None:
        self.people = people
        self.articles = articles
        self.subscribers = subscribers
        self._directory = directory

    # --- users ----------------------------------------------------------------------

    def register(self, new: NewUser) -> User:
        if self.people.email_taken(new.email):
            raise Taken("email")
        if self.people.username_taken(new.username):
            raise Taken("username")
        # The checks above make a clash unlikely; a registration that loses a race
        # after the pool made its account leaves that account unused (never signed in).
        uid = self._directory.register(new.email, new.password)
        self.people.claim_email(new.email, uid)
        try:
            self.people.claim_username(new.username, uid)
        except Taken:
            self.people.release_email(new.email)
            raise
        person = Person(uid, new.username, new.email)
        self.people.save(person)
        self.subscribers.subscribe(new.email, "account", new.username)
        return self._user(person, self._directory.sign_in(new.email, new.password))

    def login(self, email: str, password: str) -> User:
        token = self._directory.sign_in(email, password)
        uid = self.people.uid_by_email(email)
        if uid is None:
            raise Invalid("email or password", "is invalid")
        return self._user(self.people.get(uid), token)

    def current(self, uid: str, token: str) -> User:
        return self._user(self.people.get(uid), token)

    def update_user(self, uid: str, token: str, changes: UpdateUser) -> User:
        person = self.people.get(uid)
        if changes.email is not None and changes.email.lower() != person.email.lower():
            # The pool's usernames are email addresses, which Cognito cannot rename.
            raise Invalid("email", "cannot be changed")
        if changes.password is not None:
            self._directory.set_password(person.email, changes.password)
        username = person.username
        if changes.username is not None and changes.username != person.username:
            if changes.username.lower() != person.username.lower():
                self.people.claim_username(changes.username, uid)
                self.people.release_username(person.username)
            username = changes.username
        given = changes.model_dump(include={"bio", "image"}, exclude_unset=True)
        updated = Person(
            uid,
            username,
            person.email,
            given.get("bio", person.bio),
            given.get("image", person.image),
        )
        self.people.save(updated)
        return self._user(updated, token)

    @staticmethod
    def _user(person: Person, token: str) -> User:
        return User(
            email=person.email,
            token=token,
            username=person.username,
            bio=person.bio,
            image=person.image,
        )

    # --- profiles ---------------------------------------------------------------------

    def profile(self, username: str, caller: str | None) -> Any:
        person = self.people.by_username(username)
        return person.profile(self.people.follows(caller, person.uid))

    def follow(self, username: str, caller: str, follow: bool) -> Any:
        person = self.people.by_username(username)
        if follow and person.uid != caller:
            self.people.follow(caller, person.uid)
        elif not follow:
            self.people.unfollow(caller, person.uid)
        return person.profile(follow and person.uid != caller)

    # --- articles ---------------------------------------------------------------------

    def create_article(self, author: str, new: NewArticle) -> Article:
        return self.article_view(self.articles.create(author, new), author)

    def article(self, slug: str, caller: str | None) -> Article:
        return self.article_view(self.articles.get(slug), caller)

    def update_article(self, slug: str, caller: str, changes: UpdateArticle) -> Article:
        article = self._own(slug, caller)
        return self.article_view(self.articles.update(article, changes), caller)

    def delete_article(self, slug: str, caller: str) -> None:
        self.articles.delete(self._own(slug, caller))

    def _own(self, slug: str, caller: str) -> StoredArticle:
        article = self.articles.get(slug)
        if article.author != caller:
            raise Forbidden("article", "forbidden")
        return article

    def list_articles(
        self,
        caller: str | None,
        *,
        tag: str | None,
        author: str | None,
        favorited: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Article], int]:
        try:
            author_id = self.people.by_username(author).uid if author else None
            fan_id = self.people.by_username(favorited).uid if favorited else None
        except NotFound:
            return [], 0
        slugs = self.articles.slugs(tag=tag, author=author_id, favorited_by=fan_id)
        return self._page(slugs, caller, limit, offset)

    def feed(self, caller: str, limit: int, offset: int) -> tuple[list[Article], int]:
        slugs = self.articles.feed_slugs(self.people.followed(caller))
        return self._page(slugs, caller, limit, offset)

    def _page(
        self, slugs: list[str], caller: str | None, limit: int, offset: int
    ) -> tuple[list[Article], int]:
        page = self.articles.many(slugs[offset : offset + limit])
        authors = self.people.many([article.author for article in page])
        views = [self.article_view(article, caller, authors) for article in page]
        return views, len(slugs)

    def article_view(
        self, article: StoredArticle, caller: str | None, authors: dict[str, Person] | None = None
    ) -> Article:
        author = (authors or {}).get(article.author) or self.people.get(article.author)
        return Article(
            slug=article.slug,
            title=article.title,
            description=article.description,
            body=article.body,
            tagList=article.tags,
            createdAt=article.created_at,
            updatedAt=article.updated_at,
            favorited=self.articles.favorited(article.slug, caller),
            favoritesCount=self.articles.favorites_count(article.slug),
            author=author.profile(self.people.follows(caller, author.uid)),
        )

    def favorite(self, slug: str, caller: str, favorite: bool) -> Article:
        article = self.articles.get(slug)
        if favorite:
            self.articles.favorite(article, caller)
        else:
            self.articles.unfavorite(article, caller)
        return self.article_view(article, caller)

    # --- comments ---------------------------------------------------------------------

    def add_comment(self, slug: str, caller: str, body: str) -> Comment:
        article = self.articles.get(slug)
        return self._comment_view(self.articles.comment(article, caller, body), caller)

    def comments(self, slug: str, caller: str | None) -> list[Comment]:
        self.articles.get(slug)
        return [self._comment_view(c, caller) for c in self.articles.comments(slug)]

    def delete_comment(self, slug: str, comment_id: int, caller: str) -> None:
        self.articles.get(slug)
        if self.articles.get_comment(slug, comment_id).author != caller:
            raise Forbidden("comment", "forbidden")
        self.articles.delete_comment(slug, comment_id)

    def _comment_view(self, comment: StoredComment, caller: str | None) -> Comment:
        author = self.people.get(comment.author)
        return Comment(
            id=comment.id,
            createdAt=comment.created_at,
            updatedAt=comment.updated_at,
            body=comment.body,
            author=author.profile(self.people.follows(caller, author.uid)),
        )
