"""API Gateway REST APIs from :class:`overcast.spec.Api` declarations.

The local gateway mirrors API Gateway; this module emits what it mirrors:

- One regional REST API, one stage (the declared name), Lambda proxy integrations
  with the declared integration timeout, the declared binary media types.
- An API that declares ``stages``: one deployment, one stage per declared stage (its
  variables, its cache settings), each invoking its Lambda aliases through stage
  variables (see :mod:`overcast.aws.stages`); the API's URL is its default stage's.
- Routes become resources and methods; ``{param+}`` is a greedy path variable.
- A route's authorizer is a Cognito user pool authorizer (``Authorization`` header,
  results cached for the declared TTL); one per user pool.
- CORS: the OPTIONS mock on every resource (CDK's ``defaultCorsPreflightOptions``, as
  the local gateway answers it), and ``Access-Control-Allow-Origin`` on API Gateway's
  own 4XX/5XX responses: the first declared origin (a gateway response cannot choose
  among several; the local gateway echoes any declared one).
- Stage cache (``spec.StageCache``): a cache cluster of the declared size; every GET
  method's caching is set explicitly (on, with its TTL, encrypted; or off when its TTL
  is 0) and every other method's is off ("only GET methods have caching enabled by
  default"). A route's cache key parameters are its integration's
  ``CacheKeyParameters``, each declared as a request parameter of the method, as API
  Gateway requires; ``spec.CALLER`` puts the ``Authorization`` header, the caller, in
  the key.
- Invalidation (``Cache-Control: max-age=0``): CloudFormation cannot set a method's
  ``requireAuthorizationForCacheControl`` nor its
  ``unauthorizedCacheControlHeaderStrategy``; a new stage has API Gateway's defaults
  (authorization required; otherwise ignore the header and add a ``Warning``), which
  are :class:`spec.StageCache`'s defaults. A declaration asking for others is refused
  rather than deployed differently.
- Access logs (JSON) in a log group kept one month; execution logs at ERROR level,
  which need API Gateway's account-wide CloudWatch role (created with the API, kept
  when the stack is deleted, as CDK does).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from overcast import spec
from overcast.aws import nag
from overcast.aws.functions import LOG_RETENTION
from overcast.aws.identity import DeployedUserPool
from overcast.aws.naming import construct_id
from overcast.aws.stages import StageFunctions, allow_stage_invoke, function_variable


class DeployedApi(Construct):
    """A REST API, its stages, authorizers and access logs.

    ``stage_functions``: for an API that declares ``stages``, the aliases each invokes.
    """

    def __init__(
        self,
        scope: Construct,
        declaration: spec.Api,
        *,
        name: str,
        functions: Mapping[str, lambda_.IFunction],
        user_pools: Mapping[str, DeployedUserPool],
        stage_functions: StageFunctions | None = None,
    ) -> None:
        super().__init__(scope, construct_id("Api", declaration.name))
        _check_invalidation(declaration)
        self._declaration = declaration
        self._functions = functions
        self._stage_functions = stage_functions if declaration.stages else None
        self._public: list[apigateway.Method] = []
        self.access_logs = logs.LogGroup(self, "AccessLogs", retention=LOG_RETENTION)
        self.api = apigateway.RestApi(
            self,
            "Api",
            rest_api_name=name,
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            binary_media_types=list(declaration.binary_media_types) or None,
            default_cors_preflight_options=_cors(declaration.cors),
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigateway.StageOptions(
                **self._stage_settings(declaration.default_stage)
            ),
        )
        self.api.node.try_remove_child("Endpoint")  # the stack outputs the URL as ApiUrl
        self._authorizers: dict[str, apigateway.CognitoUserPoolsAuthorizer] = {}
        for route in declaration.routes:
            pool = route.authorizer.user_pool.name if route.authorizer else None
            if route.authorizer and pool and pool not in self._authorizers:
                self._authorizers[pool] = self._authorizer(route.authorizer, user_pools[pool])
        for route in declaration.routes:
            self._add_route(route)
        self._add_other_stages()
        self._add_cors_to_gateway_responses()
        self._acknowledge()

    @property
    def url(self) -> str:
        """The stage's invoke URL (ends with ``/``)."""
        return self.api.url

    @property
    def base_url(self) -> str:
        """The stage's URL as functions learn it (no final ``/``, as locally).

        Built from the API's id, not its stage: the stage depends on the deployment,
        which depends on the methods, which invoke the functions; a function whose
        environment referenced the stage would close that loop in CloudFormation.
        """
        return (
            f"https://{self.api.rest_api_id}.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}"
            f"/{self._declaration.stage}"
        )

    def _stage_settings(self, stage: spec.Stage) -> dict[str, Any]:
        """``stage``'s settings, as CDK's ``StageOptions`` names them."""
        cache = self._declaration.cache_for(stage)
        staged = self._stage_functions
        return {
            "stage_name": stage.name,
            "variables": staged.variables(stage) if staged else None,
            "logging_level": apigateway.MethodLoggingLevel.ERROR,
            "access_log_destination": apigateway.LogGroupLogDestination(self.access_logs),
            "access_log_format": apigateway.AccessLogFormat.json_with_standard_fields(
                caller=True,
                http_method=True,
                ip=True,
                protocol=True,
                request_time=True,
                resource_path=True,
                response_length=True,
                status=True,
                user=True,
            ),
            "cache_cluster_enabled": cache is not None,
            "cache_cluster_size": cache.size_gb if cache else None,
            "caching_enabled": False if cache else None,
            "method_options": self._method_caching(stage) if cache else None,
        }

    def _add_other_stages(self) -> None:
        """Every declared stage but the default one (which the RestApi deploys itself),
        on the same deployment; each alias may be invoked from its own stage only."""
        staged, deployment = self._stage_functions, self.api.latest_deployment
        if staged is None or deployment is None:
            return
        for stage in self._declaration.stages:
            for alias in staged.aliases[stage.name].values():
                allow_stage_invoke(
                    alias, self.api.arn_for_execute_api(stage=stage.name), stage.name
                )
            if stage.name == self._declaration.stage:
                continue
            deployed = apigateway.Stage(
                self,
                f"Stage{stage.name}",
                deployment=deployment,
                **self._stage_settings(stage),
            )
            nag.acknowledge(deployed, nag.NO_WAF)

    def _method_caching(self, stage: spec.Stage) -> dict[str, apigateway.MethodDeploymentOptions]:
        """Each GET method's caching, explicitly (CDK's ``/{path}/{METHOD}`` keys)."""
        options: dict[str, apigateway.MethodDeploymentOptions] = {}
        for route in self._declaration.routes:
            if route.method != "GET":
                continue
            ttl = self._declaration.cache_ttl(route, stage)
            # CDK's key is "<resource path>/<METHOD>": "//GET" for the root resource.
            path = "/" if route.path == "/" else route.path
            options[f"{path}/GET"] = apigateway.MethodDeploymentOptions(
                caching_enabled=ttl > 0,
                cache_ttl=Duration.seconds(ttl) if ttl else None,
                cache_data_encrypted=True if ttl else None,
            )
        return options

    def _authorizer(
        self, declaration: spec.CognitoAuthorizer, pool: DeployedUserPool
    ) -> apigateway.CognitoUserPoolsAuthorizer:
        return apigateway.CognitoUserPoolsAuthorizer(
            self,
            construct_id("Authorizer", declaration.user_pool.name),
            cognito_user_pools=[pool.pool],
            results_cache_ttl=Duration.seconds(declaration.ttl_seconds),
        )

    def _add_route(self, route: spec.Route) -> None:
        resource = (
            self.api.root if route.path == "/" else self.api.root.resource_for_path(route.path)
        )
        declaration = self._declaration
        cached = any(declaration.cache_ttl(route, stage) for stage in declaration.all_stages)
        keys = route.cache.key_parameters if route.cache and cached else ()
        integration = self._integration(route.function, keys)
        authorizer = (
            self._authorizers.get(route.authorizer.user_pool.name) if route.authorizer else None
        )
        method = resource.add_method(
            route.method,
            integration,
            authorizer=authorizer,
            authorization_type=apigateway.AuthorizationType.COGNITO if authorizer else None,
            request_parameters={key: key.startswith("method.request.path.") for key in keys}
            or None,
        )
        if authorizer is None:
            self._public.append(method)

    def _integration(
        self, function: spec.Function, keys: tuple[str, ...]
    ) -> apigateway.Integration:
        """The Lambda proxy integration: of the function, or of each stage's alias."""
        timeout = Duration.millis(round(self._declaration.integration_timeout_seconds * 1000))
        if self._stage_functions is None:
            return apigateway.LambdaIntegration(
                self._functions[function.name],
                proxy=True,
                allow_test_invoke=False,
                timeout=timeout,
                cache_key_parameters=list(keys) or None,
            )
        # API Gateway: "arn:aws:lambda:...:function:${stageVariables.name}" in the URI.
        target = (
            f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:{Aws.ACCOUNT_ID}:function:"
            f"${{stageVariables.{function_variable(function.name)}}}"
        )
        return apigateway.Integration(
            type=apigateway.IntegrationType.AWS_PROXY,
            integration_http_method="POST",
            uri=f"arn:{Aws.PARTITION}:apigateway:{Aws.REGION}:lambda:path/2015-03-31/functions/"
            f"{target}/invocations",
            options=apigateway.IntegrationOptions(
                timeout=timeout, cache_key_parameters=list(keys) or None
            ),
        )

    def _add_cors_to_gateway_responses(self) -> None:
        cors = self._declaration.cors
        if cors is None:
            return
        # A gateway response's header values are mapping expressions: a literal is quoted.
        headers = {"Access-Control-Allow-Origin": f"'{cors.allow_origins[0]}'"}
        for kind in (apigateway.ResponseType.DEFAULT_4_XX, apigateway.ResponseType.DEFAULT_5_XX):
            self.api.add_gateway_response(
                f"Cors{kind.response_type}", type=kind, response_headers=headers
            )

    def _acknowledge(self) -> None:
        nag.acknowledge(self.api, nag.REQUEST_VALIDATION_IN_FUNCTION, nag.NO_WAF)
        role = self.api.node.try_find_child("CloudWatchRole")
        if role is not None:
            nag.acknowledge(
                role,
                nag.API_GATEWAY_LOGGING_ROLE.on(
                    "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                    "AmazonAPIGatewayPushToCloudWatchLogs"
                ),
            )
        for method in self._public:  # cdk-nag leaves OPTIONS (the CORS preflight) alone
            nag.acknowledge(method, nag.PUBLIC_METHOD, nag.PUBLIC_ROUTE)


def _cors(cors: spec.Cors | None) -> apigateway.CorsOptions | None:
    if cors is None:
        return None
    return apigateway.CorsOptions(
        allow_origins=list(cors.allow_origins),
        allow_methods=list(cors.allow_methods),
        allow_headers=list(cors.allow_headers),
        expose_headers=list(cors.expose_headers) or None,
        max_age=Duration.seconds(cors.max_age_seconds) if cors.max_age_seconds else None,
        allow_credentials=cors.allow_credentials or None,
    )


def _check_invalidation(declaration: spec.Api) -> None:
    cache = declaration.cache
    if cache is None:
        return
    defaults = spec.StageCache()
    chosen = (cache.require_authorization, cache.unauthorized_strategy)
    if chosen != (defaults.require_authorization, defaults.unauthorized_strategy):
        raise spec.DeclarationError(
            f"Api {declaration.name!r}: the stage cache declares invalidation settings "
            f"{chosen} that CloudFormation cannot set (AWS::ApiGateway::Stage has no "
            "RequireAuthorizationForCacheControl); a new stage gets API Gateway's defaults "
            f"{(defaults.require_authorization, defaults.unauthorized_strategy)}. Use the "
            "defaults, or set the method settings after deploying (aws apigateway "
            "update-stage)."
        )
