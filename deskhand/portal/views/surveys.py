"""The public survey page: a customer rates their request from the link in the mail, no sign-in.
A link with `?rating=` records the rating in one click; the page then takes a comment, and the
answer can be changed until the survey closes."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from deskhand.core.errors import DomainError
from deskhand.portal.language import survey_language
from deskhand.surveys.models import Rating
from deskhand.surveys.services import answer_survey, open_survey


def _refused(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return render(request, "portal/survey.html", {"error": exc.message}, status=exc.status)


@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, token: str) -> HttpResponse:
    try:
        found = open_survey(token)
    except DomainError as exc:
        return _refused(request, exc)
    survey_language(request, found.item.requester)
    error = ""
    saved = False
    rating = request.POST.get("rating", "") if request.method == "POST" else request.GET.get("rating", "")
    if rating:
        try:
            comment = request.POST.get("comment") if request.method == "POST" else None
            found = answer_survey(found, rating=rating, comment=comment)
            saved = True
        except DomainError as exc:
            error = exc.message
    context = {"survey": found, "item": found.item, "ratings": Rating.choices, "saved": saved, "error": error,
               "token": token}
    return render(request, "portal/survey.html", context, status=422 if error else 200)
