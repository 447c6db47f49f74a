"""cdk-nag's AwsSolutions pack, and every rule Overcast acknowledges, each with its reason.

cdk-nag 3 runs as a CDK policy-validation plugin: synthesis fails while any error is
not acknowledged, and writes ``validation-report.json`` into the cloud assembly. An
acknowledgment (``Validations.of(construct).acknowledge``) names one finding — a rule,
or ``rule[finding]`` for rules with several findings per resource, such as IAM5's
wildcards — and carries the reason it is right here. Every reason lives in this
module, next to the others, so that a reviewer reads them all in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Acknowledgment, App, CfnElement, Stack, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


@dataclass(frozen=True)
class Reason:
    """A rule Overcast acknowledges, and why."""

    rule: str
    reason: str

    def on(self, finding: str) -> Reason:
        """The same reason for one finding of the rule, e.g. ``IAM5[Resource::...]``."""
        return Reason(f"{self.rule}[{finding}]", self.reason)


@dataclass(frozen=True)
class Finding:
    """One unacknowledged cdk-nag finding."""

    rule: str
    description: str
    paths: tuple[str, ...]


def add_checks(app: App) -> None:
    """Run the AwsSolutions pack when ``app`` synthesizes; errors fail synthesis."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def findings(scope: IConstruct) -> list[Finding]:
    """Every unacknowledged AwsSolutions error and warning in ``scope``."""
    report = AwsSolutionsChecks().validate_scope(scope)
    return [
        Finding(
            violation.rule_name,
            violation.description,
            tuple(resource.construct_path or "?" for resource in violation.violating_resources),
        )
        for violation in report.violations
    ]


def acknowledge(scope: IConstruct, *reasons: Reason) -> None:
    """Acknowledge findings on ``scope`` (and what it contains)."""
    Validations.of(scope).acknowledge(
        *(Acknowledgment(id=reason.rule, reason=reason.reason) for reason in reasons)
    )


def logical_id(construct: IConstruct) -> str:
    """The logical id of an L2 construct's resource, as findings name it (``<Id>``)."""
    resource = construct.node.default_child
    if not isinstance(resource, CfnElement):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource of its own.")
    return str(Stack.of(resource).resolve(resource.logical_id))


# --- CloudFront ----------------------------------------------------------------------

CDN_DEFAULT_CERTIFICATE = Reason(
    "AwsSolutions-CFR4",
    "No custom domain is declared, so viewers reach the *.cloudfront.net domain on "
    "CloudFront's default certificate, whose minimum TLS version CloudFormation cannot "
    "set; a declared certificate would require TLSv1.2_2021 (overcast.aws.cdn).",
)
CDN_NO_GEO_RESTRICTION = Reason(
    "AwsSolutions-CFR1",
    "The declaration (spec.Distribution) restricts no country: the site and its update "
    "files are meant for viewers everywhere, as the local edge serves them.",
)
CDN_NO_WAF = Reason(
    "AwsSolutions-CFR2",
    "No web ACL is declared for the distribution; AWS WAF costs a monthly fee per web ACL "
    "and rule, a decision left to the service's declaration.",
)
CDN_PLAIN_HTTP_ORIGIN = Reason(
    "AwsSolutions-CFR5",
    "The custom origin's declared url is http:// (spec.HttpOrigin): the existing app answers "
    "plain HTTP only, and is deployed unchanged; viewers still reach CloudFront over HTTPS.",
)
CDN_LOG_BUCKET = Reason(
    "AwsSolutions-S1",
    "This bucket receives CloudFront's access logs, and the stack has no other bucket "
    "to log its server access into; logging it into itself would never end.",
)
ASSET_DEPLOYMENT_LOGS = Reason(
    "AwsSolutions-IAM4",
    "AWSLambdaBasicExecutionRole is the log-writing policy of CDK's own BucketDeployment "
    "custom resource, which copies the declared assets (spec.Bucket.assets) into the bucket.",
).on("Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
ASSET_DEPLOYMENT_COPY = Reason(
    "AwsSolutions-IAM5",
    "CDK's BucketDeployment handler reads the zipped asset folder from CDK's asset bucket "
    "and writes the folder's files, whatever their keys, into the declaring bucket only.",
)
ASSET_DEPLOYMENT_INVALIDATION = Reason(
    "AwsSolutions-IAM5",
    "CDK's BucketDeployment handler creates and awaits the invalidation of the asset paths; "
    "CDK grants it cloudfront:CreateInvalidation and GetInvalidation on any distribution.",
).on("Resource::*")
ASSET_DEPLOYMENT_RUNTIME = Reason(
    "AwsSolutions-L1",
    "The runtime of CDK's own BucketDeployment handler is chosen by AWS CDK, with which "
    "it is tested; Overcast's functions run their bundle's Python.",
)

# --- Cognito -------------------------------------------------------------------------

USER_POOL_MFA = Reason(
    "AwsSolutions-COG2",
    "The declaration (spec.UserPool) has no MFA setting and the local user pool signs in "
    "with a password only; requiring MFA on AWS alone would make the two worlds differ.",
)
_PLUS_PLAN = (
    "Threat protection (advanced security, COG3) needs Cognito's Plus feature plan, billed per "
    "monthly active user from the first; the Lite plan is free below 10,000. It is a cost "
    "decision the declaration (spec.UserPool) does not make."
)
USER_POOL_PLUS_PLAN = Reason("AwsSolutions-COG8", _PLUS_PLAN)
PUBLIC_ROUTE = Reason(
    "AwsSolutions-COG4",
    "The service declares this route without an authorizer: it is public by design.",
)

# --- API Gateway ---------------------------------------------------------------------

PUBLIC_METHOD = Reason(
    "AwsSolutions-APIG4",
    "The service declares this route without an authorizer: it is public by design.",
)
REQUEST_VALIDATION_IN_FUNCTION = Reason(
    "AwsSolutions-APIG2",
    "Requests are validated by the function (Powertools' validation answers 422 with the "
    "failing fields), identically locally and on AWS; a gateway validator would answer "
    "differently from the local cloud.",
)
NO_WAF = Reason(
    "AwsSolutions-APIG3",
    "No web ACL is declared for the API; AWS WAF costs a monthly fee per web ACL and rule, "
    "a decision left to the service's declaration.",
)
API_GATEWAY_LOGGING_ROLE = Reason(
    "AwsSolutions-IAM4",
    "AmazonAPIGatewayPushToCloudWatchLogs is AWS's policy for API Gateway's account-wide "
    "logging role, which access and execution logs require; it grants only log writes.",
)

# --- IAM -----------------------------------------------------------------------------

USER_FOLDER = Reason(
    "AwsSolutions-IAM5",
    "The per-user-folder policy (overcast.policies.user_folder_policy): the wildcard is "
    "the objects under ${cognito-identity.amazonaws.com:sub}/, the caller's own folder.",
)
FUNCTION_BUCKET_OBJECTS = Reason(
    "AwsSolutions-IAM5",
    "The function declares the bucket (spec.Function.buckets): it reads and writes any "
    "object of that one bucket, and nothing of any other.",
)

# --- Lambda --------------------------------------------------------------------------

BUNDLE_PYTHON = Reason(
    "AwsSolutions-L1",
    "Functions run the Python version their bundle's wheels are built for "
    "(overcast.aws.wheels.LAMBDA_PYTHON); moving to a newer runtime is a deliberate, "
    "tested change of that one constant.",
)

FUNCTION_IN_VPC = Reason(
    "AwsSolutions-IAM4",
    "AWSLambdaVPCAccessExecutionRole is AWS's policy that lets Lambda create and delete the "
    "network interfaces of a function placed in a VPC, as functions reading through DAX are.",
).on("Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole")

# --- S3 ------------------------------------------------------------------------------

ACCESS_LOG_BUCKET = Reason(
    "AwsSolutions-S1",
    "This is the bucket that receives the other buckets' server access logs; logging it "
    "into itself would log its own log deliveries without end.",
)

# --- Triggers ------------------------------------------------------------------------

FAILURE_QUEUE = Reason(
    "AwsSolutions-SQS3",
    "This queue is itself the on-failure destination of a trigger: it holds the failed "
    "events for an operator to inspect and redrive, so it needs no dead-letter queue.",
)
FUNCTION_USER_POOL_ADMIN = Reason(
    "AwsSolutions-IAM5",
    "The function declares the user pool (spec.Function.user_pools) and signs users up and "
    "in with its admin operations (cognito-idp:Admin*), on that one pool only, as locally.",
)
NOTIFICATIONS_HANDLER = Reason(
    "AwsSolutions-IAM4",
    "AWSLambdaBasicExecutionRole is the log-writing policy of CDK's own bucket-notifications "
    "custom resource, which sets the S3 event notifications CloudFormation cannot set here.",
).on("Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
