"""Readers' feedback and deflections: bounded, once per visitor and day, capped per visitor,
public articles only; rolled up on the report."""

from __future__ import annotations

from typing import Any

import pytest

from deskhand.core.errors import Invalid
from deskhand.kb.inputs import DeflectionInput, FeedbackInput
from deskhand.kb.models import Feedback
from deskhand.kb.queries import kb_report
from deskhand.kb.services import FEEDBACK_PER_HOUR, TooMany, client_key, give_feedback, record_deflection
from deskhand.kb.tests.factories import make_article


def test_feedback_rolls_up_and_a_second_answer_replaces_the_first(db: Any) -> None:
    article = make_article()
    give_feedback(article, FeedbackInput(helpful=False, comment="Too short", client="a"))
    give_feedback(article, FeedbackInput(helpful=True, client="a"))
    give_feedback(article, FeedbackInput(helpful=True, client="b"))
    give_feedback(article, FeedbackInput(helpful=False, client="c"))
    figures, _totals = kb_report()
    assert (figures[0].helpful, figures[0].not_helpful, figures[0].helpful_percent, figures[0].comments) == (2, 1, 67, 1)


def test_bad_feedback_is_refused(db: Any) -> None:
    article = make_article()
    with pytest.raises(Invalid) as long:
        give_feedback(article, FeedbackInput(helpful=True, comment="x" * 2001, client="a"))
    assert long.value.field == "comment"
    draft = make_article("Draft", status="draft")
    internal = make_article("Internal", visibility="internal")
    for hidden in (draft, internal):
        with pytest.raises(Invalid):
            give_feedback(hidden, FeedbackInput(helpful=True, client="a"))
        with pytest.raises(Invalid):
            record_deflection(hidden, DeflectionInput(source="portal", client="a"))
    assert not Feedback.objects.exists()


def test_one_visitor_cannot_stuff_the_counters(db: Any) -> None:
    articles = [make_article(f"Article {n}") for n in range(FEEDBACK_PER_HOUR + 1)]
    for article in articles[:-1]:
        give_feedback(article, FeedbackInput(helpful=True, client="bot"))
    with pytest.raises(TooMany):
        give_feedback(articles[-1], FeedbackInput(helpful=True, client="bot"))
    give_feedback(articles[-1], FeedbackInput(helpful=True, client="person"))


def test_deflections_count_once_per_visitor_per_source(db: Any) -> None:
    article = make_article()
    assert record_deflection(article, DeflectionInput(source="portal", client="a"))
    assert not record_deflection(article, DeflectionInput(source="portal", client="a"))
    assert record_deflection(article, DeflectionInput(source="widget", client="a"))
    assert record_deflection(article, DeflectionInput(source="form", client="b"))
    with pytest.raises(Invalid) as bad:
        record_deflection(article, DeflectionInput(source="email", client="a"))
    assert bad.value.field == "source"
    figures, totals = kb_report()
    assert figures[0].deflections == {"portal": 1, "widget": 1, "form": 1} and figures[0].deflection_total == 3
    assert totals["portal"] == 1 and totals["kb"] == 0


def test_the_client_key_hides_the_address(db: Any) -> None:
    key = client_key("10.0.0.1", "Firefox")
    assert "10.0.0.1" not in key and len(key) == 64 and key == client_key("10.0.0.1", "Firefox")
