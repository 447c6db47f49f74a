"""Distribution ids and ARNs: CloudFront-shaped and stable across starts."""

from __future__ import annotations

import re

from overcast.local.cloudfront.ids import distribution_arn, distribution_id, new_invalidation_id


def test_a_distribution_id_is_cloudfront_shaped_and_the_same_at_every_start() -> None:
    ident = distribution_id("blog", "web")

    assert re.fullmatch(r"E[A-Z0-9]{13}", ident)
    assert distribution_id("blog", "web") == ident
    assert distribution_id("blog", "web2") != ident
    assert distribution_id("blog-web", "") != distribution_id("blog", "web")


def test_a_distribution_arn_names_the_account_and_no_region() -> None:
    assert distribution_arn("123456789012", "E1ABCDEFGHIJKL") == (
        "arn:aws:cloudfront::123456789012:distribution/E1ABCDEFGHIJKL"
    )


def test_invalidation_ids_are_fresh() -> None:
    assert new_invalidation_id() != new_invalidation_id()
    assert re.fullmatch(r"I[A-Z0-9]{13}", new_invalidation_id())
