"""On a phone-sized screen (390×844) the dashboard, video and review pages fit: no sideways scrolling."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.live import LiveServer, login, open_review

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}

# The widest elements that stick out of the viewport, to name in a failure.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > width + 1 && getComputedStyle(e).position !== 'fixed')
    .map(e => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${e.className && typeof e.className === 'string'
      ? '.' + e.className.trim().split(/\\s+/).join('.') : ''} (right ${Math.round(e.getBoundingClientRect().right)})`);
  return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 8)};
}"""


def phone_page(browser: Any) -> Any:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    return context, context.new_page()


def assert_fits(page: Any, what: str) -> None:
    measured = page.evaluate(OVERFLOW)
    assert measured["scroll"] <= measured["width"], f"{what} scrolls sideways at 390 px: {measured}"


@pytest.mark.parametrize("path", ["/", "/videos/{video}"], ids=["dashboard", "video"])
def test_pages_fit_a_phone(browser: Any, server: LiveServer, video_id: int, path: str) -> None:
    context, page = phone_page(browser)
    try:
        target = path.format(video=video_id)
        login(page, server, "alice", target)
        page.wait_for_load_state("networkidle")
        assert_fits(page, target)
    finally:
        context.close()


def test_review_page_fits_a_phone(browser: Any, server: LiveServer, video_id: int) -> None:
    context, page = phone_page(browser)
    try:
        open_review(page, server, "bob", video_id)
        assert_fits(page, "the review page")
    finally:
        context.close()
