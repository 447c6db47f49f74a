"""Cognito user pools and identity pools from their declarations.

User pool (``spec.UserPool``), as the local user pool behaves:

- users sign up themselves with their email address as username; Cognito emails a
  verification code with the declared subject and message (``{####}`` is the code);
- the declared password policy; account recovery by email only;
- one public app client per declared client (no secret, no OAuth/hosted UI), with the
  declared auth flows and token lifetimes;
- the Lite feature plan (no charge below 10,000 monthly active users).

Mail comes from Cognito's own sender (``no-reply@verificationemail.com``, 50 mails a
day): the declared ``from_address`` needs a verified SES identity, which no
declaration creates yet (extension point: pass ``UserPoolEmail.with_ses`` once one
does).

Identity pool (``spec.IdentityPool``): signed-in users of its user pool only (no
guests, no classic flow; Cognito checks with the user pool that the token is still
valid). Its authenticated role trusts exactly this pool's authenticated identities
(:func:`overcast.policies.identity_pool_trust_policy`) and carries, for each bucket
declared with ``user_folders=`` this pool, the very per-user-folder policy the local
cloud evaluates (:func:`overcast.policies.user_folder_policy`).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from overcast import spec
from overcast.aws import nag
from overcast.aws.naming import construct_id
from overcast.policies import identity_pool_trust_policy, user_folder_policy

# How cdk-nag names the policy variable ${cognito-identity.amazonaws.com:sub} in findings.
IDENTITY_ID = "cognito-identity.amazonaws.com:sub"


class DeployedUserPool(Construct):
    """A user pool and its app clients (``clients`` by declared name)."""

    def __init__(self, scope: Construct, declaration: spec.UserPool, *, name: str) -> None:
        super().__init__(scope, construct_id("UserPool", declaration.name))
        self.declaration = declaration
        self.pool = cognito.UserPool(
            self,
            "Pool",
            user_pool_name=name,
            feature_plan=cognito.FeaturePlan.LITE,
            self_sign_up_enabled=True,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            keep_original=cognito.KeepOriginalAttrs(email=True),
            user_verification=cognito.UserVerificationConfig(
                email_style=cognito.VerificationEmailStyle.CODE,
                email_subject=declaration.verification_subject,
                email_body=declaration.verification_message,
            ),
            password_policy=_password_policy(declaration.password_policy),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            email=cognito.UserPoolEmail.with_cognito(),
            removal_policy=RemovalPolicy.RETAIN,
        )
        nag.acknowledge(self.pool, nag.USER_POOL_MFA, nag.USER_POOL_PLUS_PLAN)
        self.clients = {
            client.name: self._client(client, declaration) for client in declaration.clients
        }

    def _client(self, client: spec.UserPoolClient, pool: spec.UserPool) -> cognito.UserPoolClient:
        flows = set(client.auth_flows)
        return self.pool.add_client(
            construct_id("Client", client.name),
            user_pool_client_name=client.name,
            generate_secret=False,
            disable_o_auth=True,
            auth_flows=cognito.AuthFlow(
                user_password="USER_PASSWORD_AUTH" in flows,
                user_srp="USER_SRP_AUTH" in flows,
                admin_user_password="ADMIN_USER_PASSWORD_AUTH" in flows,
            ),
            id_token_validity=Duration.minutes(pool.id_token_minutes),
            access_token_validity=Duration.minutes(pool.access_token_minutes),
            refresh_token_validity=Duration.days(pool.refresh_token_days),
            prevent_user_existence_errors=True,
        )


class DeployedIdentityPool(Construct):
    """An identity pool, its authenticated role and the role's attachment."""

    def __init__(
        self,
        scope: Construct,
        declaration: spec.IdentityPool,
        user_pool: DeployedUserPool,
        folders: Sequence[s3.IBucket],
        *,
        name: str,
    ) -> None:
        super().__init__(scope, construct_id("IdentityPool", declaration.name))
        self.pool = cognito.CfnIdentityPool(
            self,
            "Pool",
            identity_pool_name=name.replace("-", "_"),  # Cognito allows [\w ]+ only
            allow_unauthenticated_identities=False,
            allow_classic_flow=False,
            cognito_identity_providers=[
                cognito.CfnIdentityPool.CognitoIdentityProviderProperty(
                    client_id=client.user_pool_client_id,
                    provider_name=user_pool.pool.user_pool_provider_name,
                    server_side_token_check=True,
                )
                for client in user_pool.clients.values()
            ],
        )
        self.role = iam.CfnRole(
            self,
            "AuthenticatedRole",
            description=f"Signed-in users of identity pool {declaration.name}",
            assume_role_policy_document=identity_pool_trust_policy(self.pool.ref),
            policies=[
                iam.CfnRole.PolicyProperty(
                    policy_name=f"user-folder-{position}",
                    policy_document=user_folder_policy(bucket.bucket_name),
                )
                for position, bucket in enumerate(folders)
            ]
            or None,
        )
        nag.acknowledge(
            self.role,
            *(
                nag.USER_FOLDER.on(
                    f"Resource::arn:aws:s3:::<{nag.logical_id(bucket)}>/<{IDENTITY_ID}>/*"
                )
                for bucket in folders
            ),
        )
        cognito.CfnIdentityPoolRoleAttachment(
            self,
            "Roles",
            identity_pool_id=self.pool.ref,
            roles={"authenticated": self.role.attr_arn},
        )


def _password_policy(policy: spec.PasswordPolicy) -> cognito.PasswordPolicy:
    return cognito.PasswordPolicy(
        min_length=policy.minimum_length,
        require_lowercase=policy.require_lowercase,
        require_uppercase=policy.require_uppercase,
        require_digits=policy.require_digits,
        require_symbols=policy.require_symbols,
    )
