"""MyBlog.com's declaration: one table (with a change stream), a photos bucket, a site
bucket, a user pool, a CDN distribution in front of it all, a topic of article events
with two queues, and six functions: the public RealWorld API, the welcome mailer on
the subscribers' stream, the thumbnailer on uploaded photos, the article events
publisher on the articles' stream, and the page renderer and the newsletter sender on
their queues.

Table layout (single table ``blog``, keys ``pk``/``sk``; item shapes are private to
the repositories, except subscribers and photos, which other functions read)::

    pk                        sk                        what
    USER#<uid>                PROFILE                   username, email, bio, image
    USER#<uid>                FOLLOWS#<uid>             whom the user follows
    USERNAME#<lower name>     USERNAME                  uid (claims the name)
    EMAIL#<lower email>       EMAIL                     uid (claims the address)
    ARTICLE#<slug>            ARTICLE                   the article
    ARTICLE#<slug>            FAVORITE#<uid>            a user's favorite
    ARTICLE#<slug>            COMMENT#<id, 16 digits>   a comment (ids are integers)
    TAG#<tag>                 <created>#<slug>          an article carrying the tag
    TAGS                      <tag>                     every tag in use
    SUBSCRIBER#<lower email>  SUBSCRIBER                a subscriber (welcome.py reads it)
    SUBSCRIBER#<lower email>  WELCOMED                  its welcome email went out
    NEWSLETTER#<slug>         SENT#<lower email>        the article's newsletter went out
    PHOTO#<id>                PHOTO                     a photo (thumbnails.py updates it)

Two overloaded global secondary indexes serve the remaining access patterns:

- ``gsi1`` (``gsi1pk``, ``gsi1sk``): articles newest first (``gsi1pk = "ARTICLES"``,
  ``gsi1sk = "<created>#<slug>"``), each user's favorites
  (``gsi1pk = "FAVORITES#<uid>"``, sort key the same article order), and every
  subscriber (``gsi1pk = "SUBSCRIBERS"``, ``gsi1sk = <lower email>``; see
  ``subscribers.py``).
- ``gsi2`` (``gsi2pk``, ``gsi2sk``): each author's articles, newest first
  (``gsi2pk = "AUTHOR#<uid>"``).

Every request path reads by key or queries one partition; nothing scans. The feed
merges the followed authors' ``gsi2`` partitions. ``ARTICLES`` is one hot partition
on DynamoDB: fine for a blog that is rarely written (writes, not reads, are what a hot
partition limits).

Accounts live in the ``readers`` user pool; the API registers and signs users in with
the pool's admin operations (with the function role's credentials), and verifies the
RealWorld ``Token`` itself (the routes have no authorizer: RealWorld's scheme is
``Token <jwt>``, not API Gateway's). The pool's usernames are email addresses (so
RealWorld's email cannot change: Cognito cannot rename); a user's ``uid`` is their
pool ``sub``, the subject of their ID token, so the RealWorld username can change.

The site (distribution ``site``) is one origin for everything a browser asks for:

    path             origin                      cache policy
    /api/*           the API (all methods)       CachingDisabled, every viewer header
    /thumbnails/*    the photos bucket (OAC)     CachingOptimized (written once per id)
    * (default)      the site bucket (OAC)       CachingOptimized

The site bucket holds the static pages (``apps/blog/site``, deployed at start as CDK's
BucketDeployment does) and one rendered page per article, ``articles/<slug>``, which
the ``pages`` function keeps in step with the table and invalidates on change.

Article events (``events.py``): the table's stream is the outbox. The API only writes
the table (a write and a publish cannot be one transaction, so publishing from the API
would lose the event of a crash between the two); the ``events`` function, on the
stream's article records, publishes ``ArticlePublished`` / ``ArticleUpdated`` /
``ArticleDeleted`` to the topic ``articles``, at least once. Two queues subscribe
(raw delivery), each with its dead-letter queue and its function::

    queue        filter policy (message attribute "event")   function
    pages        all three events                              pages: render or delete
    newsletter   {"event": ["ArticlePublished"]}               newsletter: mail subscribers

Both consumers are idempotent: the page is rendered from the table as it is now, and
each subscriber's newsletter is recorded once sent (``NEWSLETTER#<slug>``).
"""

from __future__ import annotations

from overcast import spec

ARTICLES_INDEX = "gsi1"
SUBSCRIBERS_INDEX = ARTICLES_INDEX  # gsi1 is overloaded: partition "SUBSCRIBERS"
AUTHOR_INDEX = "gsi2"

blog_table = spec.Table(
    name="blog",
    partition_key=spec.Key("pk"),
    sort_key=spec.Key("sk"),
    indexes=(
        spec.Index(ARTICLES_INDEX, spec.Key("gsi1pk"), spec.Key("gsi1sk")),
        spec.Index(AUTHOR_INDEX, spec.Key("gsi2pk"), spec.Key("gsi2sk")),
    ),
    stream="NEW_AND_OLD_IMAGES",
    replica_regions=("eu-west-1",),  # a public REST API on a global table
)

# The editor page (served by the site's distribution, another origin than S3's) posts
# photos straight to the bucket with a presigned POST: S3 must answer it with CORS. Any
# origin may: the POST's signed policy, not the page's origin, authorises an upload.
photos_bucket = spec.Bucket(
    name="photos",
    cors=(
        spec.CorsRule(
            allowed_origins=("*",),
            allowed_methods=("POST",),
            allowed_headers=("*",),
            max_age_seconds=3000,
        ),
    ),
)
site_bucket = spec.Bucket(name="site", assets="overcast.apps.blog:site")

# The API signs readers in with AdminInitiateAuth (ADMIN_USER_PASSWORD_AUTH); the
# pool's usernames are email addresses. Cognito's default password policy (8+ with
# lower and upper case, a digit and a symbol) holds: RealWorld leaves passwords to the
# server, and a weak one is answered 422 with the policy's reason.
readers = spec.UserPool(
    name="readers",
    clients=(spec.UserPoolClient("web", auth_flows=("ADMIN_USER_PASSWORD_AUTH",)),),
)

api_function = spec.Function(
    name="api",
    handler="overcast.apps.blog.handler:handler",
    tables=(blog_table,),
    user_pools=(readers,),
    buckets=(photos_bucket,),
)

# The SES identity the mailers send from (welcome@ and newsletter@ the blog's domain).
blog_mail = spec.MailIdentity("myblog.com")

welcome_function = spec.Function(
    name="welcome",
    handler="overcast.apps.blog.welcome:handler",
    tables=(blog_table,),
    mail=blog_mail,
)

thumbnails_function = spec.Function(
    name="thumbnails",
    handler="overcast.apps.blog.thumbnails:handler",
    tables=(blog_table,),
    buckets=(photos_bucket,),
)

# The one site: static pages and rendered articles, thumbnails, and the API under /api.
site_distribution = spec.Distribution(
    name="site",
    default_behavior=spec.Behavior("*", spec.BucketOrigin(site_bucket), spec.CACHING_OPTIMIZED),
    behaviors=(
        spec.Behavior(
            "/api/*",
            spec.ApiOrigin(),
            spec.CACHING_DISABLED,
            forward_all_viewer=True,
            allowed_methods="ALL",
        ),
        # Thumbnails never change: each upload has its own id (thumbnails.py).
        spec.Behavior("/thumbnails/*", spec.BucketOrigin(photos_bucket), spec.CACHING_OPTIMIZED),
    ),
    # S3 behind origin access control answers 403 for a missing key (the policy grants
    # no s3:ListBucket), so both become the site's 404 page. CloudFront's custom error
    # responses apply to the whole distribution, the API included: its 403s (only on
    # writes, which are never cached) and 404s reach browsers as this page with a 404.
    # An API 404 must not be cached (an article may be created a moment later), hence
    # no error caching for 404; a 403 is kept briefly.
    error_responses=(
        spec.ErrorResponse(403, ttl_seconds=10, page_path="/404.html", response_status=404),
        spec.ErrorResponse(404, ttl_seconds=0, page_path="/404.html", response_status=404),
    ),
)

# Article events: the stream's article records, published for any number of consumers.
articles_topic = spec.Topic(name="articles")

events_function = spec.Function(
    name="events",
    handler="overcast.apps.blog.events:handler",
    tables=(blog_table,),
    topics=(articles_topic,),
)

# A page is rendered in well under a second; 10 s is plenty, and a message whose try
# failed is back on the queue after the visibility timeout (6 times the function's
# timeout, as AWS advises for SQS event sources). After 5 receives it is a dead letter.
pages_dead_letters = spec.Queue(name="pages-dlq")
pages_queue = spec.Queue(
    name="pages",
    visibility_timeout_seconds=60,
    dead_letter=spec.DeadLetter(pages_dead_letters, max_receive_count=5),
)
# It also sends to its own queue: a rename's pages are rendered a chunk per message.
pages_function = spec.Function(
    name="pages",
    handler="overcast.apps.blog.pages:handler",
    tables=(blog_table,),
    buckets=(site_bucket,),
    distributions=(site_distribution,),
    queues=(pages_queue,),
    timeout_seconds=10,
)

# One email per subscriber: a long list takes a while, and a try that times out half-way
# is resumed by the next one (the SENT# records say who already has it).
newsletter_function = spec.Function(
    name="newsletter",
    handler="overcast.apps.blog.newsletter:handler",
    tables=(blog_table,),
    mail=blog_mail,
    timeout_seconds=120,
)
newsletter_dead_letters = spec.Queue(name="newsletter-dlq")
newsletter_queue = spec.Queue(
    name="newsletter",
    visibility_timeout_seconds=720,
    # Retry until the mail server is back, as the welcome trigger does, but not for ever:
    # 30 receives 720 s apart is about 6 hours (5 would give up after an hour's outage).
    dead_letter=spec.DeadLetter(newsletter_dead_letters, max_receive_count=30),
)

# Every route of the RealWorld contract (under /api) and the blog's own additions.
_ROUTES: tuple[tuple[spec.HttpMethod, str], ...] = (
    ("POST", "/api/users"),
    ("POST", "/api/users/login"),
    ("GET", "/api/user"),
    ("PUT", "/api/user"),
    ("GET", "/api/profiles/{username}"),
    ("POST", "/api/profiles/{username}/follow"),
    ("DELETE", "/api/profiles/{username}/follow"),
    ("GET", "/api/articles"),
    ("POST", "/api/articles"),
    ("GET", "/api/articles/feed"),
    ("GET", "/api/articles/{slug}"),
    ("PUT", "/api/articles/{slug}"),
    ("DELETE", "/api/articles/{slug}"),
    ("POST", "/api/articles/{slug}/favorite"),
    ("DELETE", "/api/articles/{slug}/favorite"),
    ("GET", "/api/articles/{slug}/comments"),
    ("POST", "/api/articles/{slug}/comments"),
    ("DELETE", "/api/articles/{slug}/comments/{id}"),
    ("GET", "/api/tags"),
    ("POST", "/api/subscriptions"),
    ("GET", "/api/subscriptions/unsubscribe"),
    ("POST", "/api/photos"),
    ("GET", "/api/photos/{id}"),
    # The API's own OpenAPI document and a Swagger UI page of it (openapi.py).
    ("GET", "/openapi.json"),
    ("GET", "/swagger"),
    ("GET", "/swagger-ui/swagger-ui-bundle.min.js"),
    ("GET", "/swagger-ui/swagger-ui.min.css"),
)

blog_api = spec.Api(
    name="blog",
    stage="v1",
    cors=spec.Cors(allow_headers=("Authorization", "Content-Type")),
    routes=tuple(spec.Route(method, path, api_function) for method, path in _ROUTES),
)

service = spec.Service(
    name="blog",
    description=(
        "MyBlog.com: a static site and RealWorld blog API behind a CDN; rendered article "
        "pages; welcome emails and a newsletter; photo thumbnails."
    ),
    api=blog_api,
    tables=(blog_table,),
    user_pools=(readers,),
    buckets=(photos_bucket, site_bucket),
    functions=(
        welcome_function,
        thumbnails_function,
        events_function,
        pages_function,
        newsletter_function,
    ),
    distributions=(site_distribution,),
    topics=(articles_topic,),
    queues=(pages_queue, pages_dead_letters, newsletter_queue, newsletter_dead_letters),
    subscriptions=(
        spec.Subscription(articles_topic, pages_queue, raw_message_delivery=True),
        spec.Subscription(
            articles_topic,
            newsletter_queue,
            filter_policy='{"event": ["ArticlePublished"]}',
            raw_message_delivery=True,
        ),
    ),
    queue_triggers=(
        spec.QueueTrigger(pages_queue, pages_function, report_batch_item_failures=True),
        # One article per invocation: its mailing can take the whole timeout.
        spec.QueueTrigger(
            newsletter_queue, newsletter_function, batch_size=1, report_batch_item_failures=True
        ),
    ),
    stream_triggers=(
        spec.StreamTrigger(
            blog_table,
            welcome_function,
            batch_size=10,
            report_batch_item_failures=True,
            bisect_batch_on_function_error=True,
            # Retry until the mail server is back (a short outage must not move every
            # welcome in it to the failure store), but not for ever: 6 hours.
            maximum_retry_attempts=-1,
            maximum_record_age_seconds=6 * 3600,
            filter_patterns=(
                '{"eventName": ["INSERT"], "dynamodb": {"Keys": {"sk": {"S": ["SUBSCRIBER"]}}}}',
            ),
        ),
        spec.StreamTrigger(
            blog_table,
            events_function,
            batch_size=10,
            report_batch_item_failures=True,
            bisect_batch_on_function_error=True,
            # Publishing again is harmless (consumers are idempotent), and the stream is
            # the only record of the change: retry until SNS is back, for as long as the
            # stream keeps the record (24 hours on DynamoDB).
            maximum_retry_attempts=-1,
            # Article changes, and profile changes (a rename changes each article page).
            filter_patterns=(
                '{"eventName": ["INSERT", "MODIFY", "REMOVE"], '
                '"dynamodb": {"Keys": {"sk": {"S": ["ARTICLE"]}}}}',
                '{"eventName": ["MODIFY"], "dynamodb": {"Keys": {"sk": {"S": ["PROFILE"]}}}}',
            ),
        ),
    ),
    object_triggers=(
        spec.ObjectCreatedTrigger(photos_bucket, thumbnails_function, prefix="uploads/"),
    ),
)
