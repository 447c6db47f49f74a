"""A user's service, declared with Overcast's declarations like Overcast's own apps."""

from overcast.spec import Api, CognitoAuthorizer, Function, Route, Service, UserPool

members = UserPool("members")
board = Function("board", handler="pinboard.handler:handler", timeout_seconds=5)
authorized = CognitoAuthorizer(members)
# Reads the caller's to-dos from the to-do API, through its gateway, with the caller's
# token: no authorizer here, the to-do API's authorizer decides.
todos = Function("todos", handler="pinboard.todos:handler", timeout_seconds=5, calls=("todo",))

service = Service(
    name="pinboard",
    user_pools=(members,),
    api=Api(
        name="pinboard",
        stage="prod",
        integration_timeout_seconds=1.5,  # /slow sleeps 2 s; /todos calls the to-do API
        routes=(
            Route("GET", "/hello", board),
            Route("GET", "/me", board, authorizer=authorized),
            Route("GET", "/slow", board),
            Route("ANY", "/files/{path+}", board),
            Route("GET", "/todos", todos),
        ),
    ),
)
