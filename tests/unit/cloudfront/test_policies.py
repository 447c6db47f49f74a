"""The policies a distribution implies: the OAC bucket policy and a function's right to
invalidate, as IAM evaluates them."""

from __future__ import annotations

from datetime import UTC, datetime

from overcast import policies
from overcast.local.iam.evaluation import AuthorizationRequest, PolicyEvaluator
from overcast.local.iam.policy import Policy
from overcast.local.iam.principal_matching import service_principal
from overcast.local.iam.principals import Principal

WEB = "arn:aws:cloudfront::000000000000:distribution/E1ABCDEFGHIJKL"
OTHER = "arn:aws:cloudfront::000000000000:distribution/E2ABCDEFGHIJKL"
CLOUDFRONT = service_principal("cloudfront.amazonaws.com")
evaluator = PolicyEvaluator(lambda: datetime(2025, 1, 1, tzinfo=UTC))


def _allowed(principal: Principal | None, action: str, resource: str, source: str = "") -> bool:
    context = {"aws:SourceArn": source} if source else {}
    request = AuthorizationRequest(principal, action, resource, context, "000000000000")
    bucket = Policy.parse(policies.oac_bucket_policy("blog-site", [WEB]))
    return evaluator.allowed(request, [bucket])


def test_the_oac_policy_is_the_one_cloudfront_documents() -> None:
    statement = policies.oac_bucket_policy("blog-site", [WEB])["Statement"][0]

    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert statement["Action"] == "s3:GetObject"
    assert statement["Resource"] == "arn:aws:s3:::blog-site/*"
    assert statement["Condition"] == {"StringEquals": {"AWS:SourceArn": [WEB]}}


def test_cloudfront_reads_objects_for_the_named_distribution_only() -> None:
    item = "arn:aws:s3:::blog-site/index.html"

    assert _allowed(CLOUDFRONT, "s3:GetObject", item, WEB)
    assert not _allowed(CLOUDFRONT, "s3:GetObject", item, OTHER)
    assert not _allowed(CLOUDFRONT, "s3:GetObject", item)
    assert not _allowed(None, "s3:GetObject", item, WEB)
    assert not _allowed(CLOUDFRONT, "s3:PutObject", item, WEB)
    assert not _allowed(CLOUDFRONT, "s3:ListBucket", "arn:aws:s3:::blog-site", WEB)


def test_a_function_may_invalidate_the_distributions_it_declares_only() -> None:
    document = policies.function_policy(distribution_arns=[WEB])
    role = Principal(
        "arn:aws:iam::000000000000:role/blog-publisher-function",
        "000000000000",
        "AROAX:blog-publisher",
        policies=(Policy.parse(document),),
    )

    def allowed(action: str, resource: str) -> bool:
        return evaluator.allowed(AuthorizationRequest(role, action, resource))

    assert allowed("cloudfront:CreateInvalidation", WEB)
    assert not allowed("cloudfront:CreateInvalidation", OTHER)
    assert not allowed("cloudfront:GetDistribution", WEB)
    assert policies.function_policy()["Statement"] == []
