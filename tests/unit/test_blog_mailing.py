from urllib.parse import parse_qs, urlsplit

from overcast.apps.blog.mailing import render, templates, unsubscribe_url


def test_the_unsubscribe_link_carries_the_address_and_token_encoded() -> None:
    # Given an address and a token with characters a query must escape
    email, token = "ana+blog@example.com", "a/b=c&d"

    # When the link is made on an API URL with a trailing slash
    link = unsubscribe_url("https://api.example.com/", email, token)

    # Then it is the API's unsubscribe route, and the query gives back both values
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://api.example.com/api/subscriptions/unsubscribe"
    )
    assert parse_qs(parts.query) == {"email": [email], "token": [token]}


def test_an_email_renders_as_text_as_typed_and_as_escaped_html() -> None:
    # Given a subscriber whose name looks like markup
    values = {
        "name": "<b>Ana</b>",
        "email": "ana@example.com",
        "source": "newsletter",
        "unsubscribe_url": "https://api.example.com/unsubscribe",
    }

    # When the welcome email is rendered
    text, html = render(templates(), "welcome", values)

    # Then the text shows the name as typed and the HTML escapes it
    assert "Hello <b>Ana</b>," in text
    assert "&lt;b&gt;Ana&lt;/b&gt;" in html
    assert "<b>Ana</b>" not in html
