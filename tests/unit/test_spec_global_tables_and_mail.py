"""Declarations of global table replicas and of the mail identities functions send from."""

from __future__ import annotations

import pytest

from overcast import spec


def _table(**kwargs: object) -> spec.Table:
    return spec.Table("posts", spec.Key("pk"), **kwargs)  # type: ignore[arg-type]


def test_a_table_replicated_to_other_regions_streams_new_and_old_images() -> None:
    table = _table(stream="NEW_AND_OLD_IMAGES", replica_regions=("eu-west-1", "us-gov-west-1"))
    assert table.replica_regions == ("eu-west-1", "us-gov-west-1")


@pytest.mark.parametrize("stream", [None, "NEW_IMAGE", "KEYS_ONLY"])
def test_replicas_without_a_new_and_old_images_stream_are_refused(stream: str | None) -> None:
    with pytest.raises(spec.DeclarationError, match='stream="NEW_AND_OLD_IMAGES"'):
        _table(stream=stream, replica_regions=("eu-west-1",))


@pytest.mark.parametrize("region", ["eu-west", "EU-WEST-1", "europe", "eu_west_1", "eu-west-1 "])
def test_a_replica_region_that_is_no_region_name_is_refused(region: str) -> None:
    with pytest.raises(spec.DeclarationError, match="is not an AWS region"):
        _table(stream="NEW_AND_OLD_IMAGES", replica_regions=(region,))


def test_a_replica_region_named_twice_is_refused() -> None:
    with pytest.raises(spec.DeclarationError, match="twice"):
        _table(stream="NEW_AND_OLD_IMAGES", replica_regions=("eu-west-1", "eu-west-1"))


def test_a_domain_identity_allows_any_address_of_its_domain_only() -> None:
    identity = spec.MailIdentity("myblog.com")
    assert not identity.is_address
    assert identity.allows("welcome@myblog.com")
    assert identity.allows("MyBlog <News@MyBlog.com>")
    assert not identity.allows("welcome@mail.myblog.com")  # a subdomain is its own identity
    assert not identity.allows("welcome@other.com")


def test_an_address_identity_allows_that_address_only() -> None:
    identity = spec.MailIdentity("news@myblog.com")
    assert identity.is_address
    assert identity.domain == "myblog.com"
    assert identity.allows("Blog <news@myblog.com>")
    assert not identity.allows("welcome@myblog.com")


@pytest.mark.parametrize("identity", ["myblog", "MyBlog.com", "@myblog.com", "a b@myblog.com", ""])
def test_an_identity_that_is_neither_domain_nor_address_is_refused(identity: str) -> None:
    with pytest.raises(spec.DeclarationError, match="neither a domain"):
        spec.MailIdentity(identity)


def test_a_function_declares_the_identity_it_sends_from() -> None:
    mail = spec.MailIdentity("myblog.com")
    function = spec.Function("welcome", handler="blog.welcome:handler", mail=mail)
    assert function.mail == mail
    assert spec.Function("api", handler="blog.api:handler").mail is None
