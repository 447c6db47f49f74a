"""A user's service, declared with Overcast's declarations like Overcast's own apps."""

from overcast.spec import Api, CognitoAuthorizer, Function, Route, Service, UserPool

members = UserPool("members")
board = Function("board", handler="pinboard.handler:handler", timeout_seconds=5)
authorized = CognitoAuthorizer(members)

service = Service(
    name="pinboard",
    user_pools=(members,),
    api=Api(
        name="pinboard",
        stage="prod",
        integration_timeout_seconds=1.0,
        routes=(
            Route("GET", "/hello", board),
            Route("GET", "/me", board, authorizer=authorized),
            Route("GET", "/slow", board),
            Route("ANY", "/files/{path+}", board),
        ),
    ),
)
