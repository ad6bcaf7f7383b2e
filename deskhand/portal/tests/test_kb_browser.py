"""The public knowledge base in a real browser: the home page, a category, search with highlighted
snippets, an article with "Was this helpful?" and related articles; the suggestions under the title
of the portal's new-request page and of a web form, where a click opens the article in a new tab and
"This answered my question" counts a deflection. Internal articles never show."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from deskhand.accounts.models import CustomerAccount
from deskhand.core.actors import SYSTEM
from deskhand.kb.models import Article, Deflection, Feedback
from deskhand.kb.tests.factories import make_article, make_category
from deskhand.portal.tests.conftest import PASSWORD
from deskhand.testing.browsing import close_context, launch_chromium, shot

pytestmark = pytest.mark.django_db(transaction=True)

DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_chromium()


@pytest.fixture
def visitor(browser: Browser, live_server: Any) -> Iterator[Callable[..., Page]]:
    contexts: list[BrowserContext] = []

    def open_page(viewport: dict[str, int] = DESKTOP) -> Page:
        context = browser.new_context(base_url=live_server.url, viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield open_page
    for context in contexts:
        close_context(context)


@pytest.fixture
def articles(db: Any) -> dict[str, Article]:
    accounts = make_category("Accounts", description="Signing in, passwords and two-factor codes.")
    make_category("Billing", description="Invoices, cards and refunds.")
    two_factor = make_article("Turn on two-factor sign-in", category=accounts.pk, tags=["security"],
                              body="Open **Profile → Security** and scan the code with your phone.")
    reset = make_article(
        "Reset your password", category=accounts.pk, tags=["password", "sign-in"], related=[two_factor.pk],
        body="If you forgot your password:\n\n1. Choose **Forgot password** on the sign-in page.\n"
             "2. Open the link we mail you.\n3. Choose a new password of at least 12 characters.\n\n"
             "| Browser | Works |\n|---|---|\n| Firefox | yes |\n| Chrome | yes |\n\n"
             "<script>alert('x')</script> [bad](javascript:alert(1))")
    make_article("Printer shows offline", body="Switch the printer off and on, then check its network cable.",
                 tags=["printer"])
    make_article("Admin password vault", body="Where the admin passwords live.", visibility="internal")
    make_article("Password policy draft", body="Not ready.", status="draft")
    return {"reset": reset, "two_factor": two_factor}


def test_browse_search_read_and_give_feedback(visitor: Callable[..., Page], articles: dict[str, Article]) -> None:
    page = visitor()
    page.goto("/kb/")
    expect(page.get_by_role("heading", name="How can we help?")).to_be_visible()
    expect(page.get_by_role("link", name="Accounts")).to_be_visible()
    expect(page.get_by_text("Billing")).to_have_count(0)  # a category without articles is not listed
    expect(page.get_by_text("Admin password vault")).to_have_count(0)
    shot(page, "kb-home")

    page.get_by_role("link", name="Accounts").click()
    expect(page.get_by_role("heading", name="Accounts")).to_be_visible()
    expect(page.locator(".kb-list li")).to_have_count(2)
    shot(page, "kb-category")

    page.get_by_role("searchbox", name="Search the help center").fill("passw")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="Results for “passw”")).to_be_visible()
    hits = page.locator(".kb-hits > li")
    expect(hits.first.get_by_role("link")).to_have_text("Reset your password")
    expect(hits.first.locator("mark").first).to_be_visible()
    expect(page.get_by_text("Admin password vault")).to_have_count(0)
    expect(page.get_by_text("Password policy draft")).to_have_count(0)
    shot(page, "kb-search")

    hits.first.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Reset your password", level=1)).to_be_visible()
    expect(page.locator(".kb-body strong").first).to_have_text("Forgot password")
    expect(page.locator(".kb-body table")).to_be_visible()
    expect(page.locator(".kb-body script")).to_have_count(0)
    expect(page.locator(".kb-body a[href^='javascript']")).to_have_count(0)
    expect(page.locator(".kb-meta")).to_contain_text("Updated on")
    expect(page.get_by_role("button", name="This answered my question")).to_have_count(0)  # not from a suggestion
    shot(page, "kb-article")

    page.get_by_label("Comment (optional)").fill("A screenshot of the sign-in page would help.")
    page.get_by_role("button", name="No", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Thank you for your feedback.")
    feedback = Feedback.objects.get()
    assert (feedback.article_id, feedback.helpful, feedback.comment) == (
        articles["reset"].pk, False, "A screenshot of the sign-in page would help.")

    page.get_by_role("link", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Turn on two-factor sign-in", level=1)).to_be_visible()
    page.get_by_role("button", name="Yes, it helped").click()
    expect(page.get_by_role("status")).to_have_text("Thank you for your feedback.")
    assert Feedback.objects.filter(article=articles["two_factor"], helpful=True).exists()

    for slug in ("admin-password-vault", "password-policy-draft"):
        assert page.goto(f"/kb/{slug}").status == 404  # type: ignore[union-attr]


def test_pages_fit_a_phone(visitor: Callable[..., Page], articles: dict[str, Article]) -> None:
    page = visitor(PHONE)
    for path, name in (("/kb/", "kb-home-phone"), (f"/kb/{articles['reset'].slug}", "kb-article-phone"),
                       ("/kb/?q=password", "kb-search-phone")):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width}px wide"
        shot(page, name)


def _answer_from_a_suggestion(page: Page, title: str, source: str) -> None:
    field = page.get_by_label("Title")
    field.press_sequentially(title, delay=20)
    suggestions = page.locator("#kb-suggestions")
    expect(suggestions).to_contain_text("These articles may answer your question:")
    expect(suggestions.get_by_role("link", name="Printer shows offline")).to_be_visible()
    expect(suggestions.get_by_text("Admin password vault")).to_have_count(0)
    shot(page, f"kb-suggestions-{source}")
    with page.context.expect_page() as opened:
        suggestions.get_by_role("link", name="Printer shows offline").click()
    article = opened.value
    expect(article.get_by_role("heading", name="Printer shows offline", level=1)).to_be_visible()
    expect(article.get_by_role("heading", name="Did this answer your question?")).to_be_visible()
    shot(article, f"kb-article-from-{source}")
    article.get_by_role("button", name="This answered my question").click()
    expect(article.get_by_role("heading", name="Glad we could help")).to_be_visible()
    shot(article, f"kb-answered-{source}")
    article.close()
    expect(field).to_have_value(title)  # the half-typed request is still there


def test_suggestions_on_the_new_request_page(visitor: Callable[..., Page], articles: dict[str, Article],
                                             make_customer: Callable[..., CustomerAccount]) -> None:
    make_customer("zoe@acme.example", "Zoë Example")
    page = visitor()
    page.goto("/portal/login")
    page.get_by_label("Email").fill("zoe@acme.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Help center").click()
    expect(page.get_by_role("heading", name="How can we help?")).to_be_visible()
    shot(page, "kb-home-signed-in")
    page.get_by_role("link", name="New request").first.click()
    _answer_from_a_suggestion(page, "printer offline", "portal")
    assert list(Deflection.objects.values_list("article__title", "source")) == [("Printer shows offline", "portal")]


def test_suggestions_on_a_web_form(visitor: Callable[..., Page], articles: dict[str, Article]) -> None:
    from deskhand.webforms.inputs import FormInput
    from deskhand.webforms.services import create_form

    create_form(FormInput(slug="it-help", title="IT help"), actor=SYSTEM)
    page = visitor()
    page.goto("/forms/it-help")
    _answer_from_a_suggestion(page, "printer offline", "form")
    assert list(Deflection.objects.values_list("article__title", "source")) == [("Printer shows offline", "form")]
