"""The sign-in pages' small rules: where a login may send the browser, and which answers are pages."""

from __future__ import annotations

import pytest

from koban.web.headers import is_page
from koban.web.login import safe_next


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/incidents/1", "/incidents/1"),
        ("/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/a\nSet-Cookie: x=1", "/"),
    ],
)
def test_a_login_only_sends_the_browser_to_a_path_on_this_site(target: str, expected: str) -> None:
    assert safe_next(target) == expected


def test_only_html_answers_are_pages() -> None:
    assert is_page([(b"content-type", b"text/html; charset=utf-8")])
    assert not is_page([(b"content-type", b"application/json")])
    assert not is_page([])
