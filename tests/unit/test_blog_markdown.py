"""Article bodies become HTML in which nothing an author writes can run."""

from __future__ import annotations

import pytest

from overcast.apps.blog.markdown import allowed_url, render_markdown


def test_markdown_becomes_html() -> None:
    html = render_markdown("Some *emphasis*, **strength** and ~~strikes~~.\n\n- one\n- two")

    assert "<em>emphasis</em>" in html
    assert "<strong>strength</strong>" in html
    assert "<s>strikes</s>" in html
    assert "<ul>\n<li>one</li>" in html


def test_headings_start_below_the_pages_title() -> None:
    html = render_markdown("# Top\n\n## Next\n\n###### Deepest")

    assert "<h1>" not in html
    assert "<h2>Top</h2>" in html
    assert "<h3>Next</h3>" in html
    assert "<h6>Deepest</h6>" in html


def test_tables_are_rendered_without_inline_style() -> None:
    html = render_markdown("| a | b |\n|--:|:-:|\n| 1 | 2 |")

    assert "<table>" in html
    assert "<td>1</td>" in html
    assert "style=" not in html


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src=https://evil.example></iframe>",
        "<svg onload=alert(1)>",
        "<!-- <script>alert(1)</script> -->",
    ],
)
def test_raw_html_is_shown_as_text(source: str) -> None:
    html = render_markdown(source)

    assert "<" not in html.replace("<p>", "").replace("</p>", "")
    assert "&lt;" in html


@pytest.mark.parametrize(
    "source",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](  javascript:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](&#x6A;avascript&colon;alert(1))",
        "[x](java&#x09;script:alert(1))",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "![x](data:image/png;base64,iVBORw0KGgo=)",
        "![x](data:image/svg+xml;base64,PHN2Zz4=)",
        "[x](file:///etc/passwd)",
        "<javascript:alert(1)>",
        "[x]: javascript:alert(1)\n\n[y][x]",
    ],
)
def test_dangerous_links_and_images_lose_their_target(source: str) -> None:
    html = render_markdown(source)

    assert "href=" not in html
    assert "src=" not in html


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("[a](https://example.com/x)", 'href="https://example.com/x"'),
        ("[a](/articles/hello-abc123)", 'href="/articles/hello-abc123"'),
        ("[a](mailto:ana@example.com)", 'href="mailto:ana@example.com"'),
        ("[a](#part)", 'href="#part"'),
        ("![a photo](/thumbnails/ab12/480.jpg)", 'src="/thumbnails/ab12/480.jpg"'),
    ],
)
def test_safe_links_and_images_keep_their_target(source: str, expected: str) -> None:
    assert expected in render_markdown(source)


def test_links_are_nofollow_and_images_lazy_and_described() -> None:
    html = render_markdown("[site](https://example.com) ![A red square](/thumbnails/x/160.png)")

    assert 'rel="noopener noreferrer nofollow"' in html
    assert '<img src="/thumbnails/x/160.png" alt="A red square" loading="lazy">' in html


def test_entities_stay_text() -> None:
    html = render_markdown("&lt;script&gt;alert(1)&lt;/script&gt; &amp;lt;b&amp;gt;")

    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&amp;lt;b&amp;gt;" in html


def test_a_quote_in_an_image_description_cannot_break_out_of_its_attribute() -> None:
    html = render_markdown('![x" onerror="alert(1)](/a.png)')

    assert ' onerror="' not in html
    assert 'alt="x&quot; onerror=&quot;alert(1)"' in html


def test_code_is_escaped() -> None:
    html = render_markdown("```html\n<script>alert(1)</script>\n```\n\n`<b>`")

    assert "<pre><code>&lt;script&gt;alert(1)&lt;/script&gt;\n</code></pre>" in html
    assert "<code>&lt;b&gt;</code>" in html


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://x.example", True),
        ("HTTP://x.example", True),
        ("/relative/path:with-colon", True),
        ("?q=1", True),
        ("javascript:alert(1)", False),
        ("java%09script:alert(1)", False),
        ("data:image/png;base64,AA", False),
        ("ftp://x.example", False),
    ],
)
def test_allowed_url(url: str, allowed: bool) -> None:
    assert allowed_url(url) is allowed
