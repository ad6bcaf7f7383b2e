"""Administration → Customer apps: where customers reach the help desk (the portal's address) and
what they see there (the visibility rule, with the organizations that override it)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskhand.config.queries import get_setting
from deskhand.config.services import MAX_LOGO_BYTES, set_logo, update_settings
from deskhand.core.errors import DomainError
from deskhand.core.numbers import id_or_none
from deskhand.customers.models import Organization
from deskhand.fields.models import CustomField
from deskhand.web.access import actor, admin_required
from deskhand.web.http import AgentRequest
from deskhand.web.views.admin_chat import chat_context
from deskhand.web.views.admin_kb import kb_context
from deskhand.web.views.admin_widget import widget_context
from deskhand.webforms.inputs import FormChanges, FormField, FormInput
from deskhand.webforms.models import WebForm
from deskhand.webforms.services import create_form, delete_form, update_form
from deskhand.work.models import Project

VISIBILITY = [
    ("requested", gettext_lazy("Requested only"), gettext_lazy("Each customer sees the requests they asked for, nothing else.")),
    ("requested_or_following", gettext_lazy("Requested or following"),
     gettext_lazy("Each customer sees the requests they asked for and those they follow (someone put them in Cc, or "
                  "they chose to follow).")),
    ("organization", gettext_lazy("Their organization's"),
     gettext_lazy("Each customer also sees every request of their organization, once their address is verified.")),
]

# What a customer sees under each rule, as a profile says it ("Sees in the portal: …").
RULE_TEXT = {
    "requested": "only the requests they asked for",
    "requested_or_following": "the requests they asked for or follow",
    "organization": "their requests, the ones they follow, and every request of their organization",
}


@require_GET
@admin_required
def customer_apps(request: AgentRequest) -> HttpResponse:
    overrides = Organization.objects.exclude(portal_visibility="").order_by("name")[:200]
    labels = {value: label for value, label, _text in VISIBILITY}
    return render(request, "web/admin/apps.html", {
        "portal_url": f"{settings.PUBLIC_ORIGIN}{reverse('portal:home')}",
        "register_url": f"{settings.PUBLIC_ORIGIN}{reverse('portal:register')}",
        "visibility": VISIBILITY, "current": get_setting("portal_visibility"),
        "helpdesk_name": get_setting("email_sender_name"), "brand_color": get_setting("brand_color"),
        "has_logo": bool(get_setting("brand_logo_type")),
        "overrides": [(organization, labels.get(organization.portal_visibility, "")) for organization in overrides],
        "webforms": [{"form": form, "url": f"{settings.PUBLIC_ORIGIN}{reverse('web-form', args=[form.slug])}"}
                     for form in WebForm.objects.order_by("title")[:200]],
        **widget_context(),
        **chat_context(),
        **kb_context(),
    })


@require_POST
@admin_required
def save_visibility(request: AgentRequest) -> HttpResponse:
    try:
        update_settings({"portal_visibility": request.POST.get("portal_visibility", "")}, actor=actor(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, gettext("Portal visibility saved. It applies from the customers' next page."))
    return redirect("web:admin-apps")


@require_POST
@admin_required
def save_branding(request: AgentRequest) -> HttpResponse:
    """The help desk's name (the portal's title and the sender of customer mail) and colour."""
    upload = request.FILES.get("logo")
    try:
        update_settings({"email_sender_name": request.POST.get("helpdesk_name", "")[:200],
                         "brand_color": request.POST.get("brand_color", "")[:20]}, actor=actor(request))
        if upload is not None:
            set_logo(upload.read(MAX_LOGO_BYTES + 1), actor=actor(request))
        elif request.POST.get("remove_logo") == "on":
            set_logo(None, actor=actor(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, gettext("Branding saved."))
    return redirect("web:admin-apps")


# -- web forms -------------------------------------------------------------------------------------


def _form_or_404(form_id: int) -> WebForm:
    form = WebForm.objects.filter(pk=form_id).first()
    if form is None:
        raise Http404(gettext("There is no such form."))
    return form


def _form_values(data: QueryDict) -> FormInput:
    """The editor's fields as a typed form; the service checks them."""
    kind = data.get("item_kind", "ticket")
    keys = [key for key in data.getlist("fields")[:100] if key]
    required = set(data.getlist("required")[:100])
    return FormInput(slug=data.get("slug", "")[:100], title=data.get("title", "")[:2000],
                     intro=data.get("intro", "")[:10_000], item_kind=kind[:20],
                     fields=[FormField(key[:60], key in required) for key in keys],
                     project=id_or_none(data.get("project", "")), enabled=data.get("enabled") == "on",
                     require_sign_in=data.get("require_sign_in") == "on", in_portal=data.get("in_portal") == "on")


def _editor(request: AgentRequest, form: WebForm | None, values: FormInput, *, error: DomainError | None = None,
            status: int = 200) -> HttpResponse:
    chosen = {entry.key: entry.required for entry in values.fields}
    fields = [{"kind": field.applies_to, "key": field.key, "label": field.label, "chosen": field.key in chosen,
               "required": chosen.get(field.key, False)}
              for field in CustomField.objects.filter(applies_to__in=("ticket", "task")).order_by("applies_to",
                                                                                                  "position")]
    return render(request, "web/admin/webform.html", {
        "webform": form, "values": values, "fields": fields, "error": error,
        "projects": Project.objects.order_by("name").only("id", "name")[:1000],
    }, status=status)


@require_http_methods(["GET", "POST"])
@admin_required
def edit_form(request: AgentRequest, form_id: int | None = None) -> HttpResponse:
    form = _form_or_404(form_id) if form_id is not None else None
    if request.method == "GET":
        values = FormInput(slug="", title="") if form is None else FormInput(
            slug=form.slug, title=form.title, intro=form.intro, item_kind=form.item_kind, project=form.project_id,
            fields=[FormField(entry["key"], bool(entry.get("required"))) for entry in form.fields],
            enabled=form.enabled, require_sign_in=form.require_sign_in, in_portal=form.in_portal)
        return _editor(request, form, values)
    values = _form_values(request.POST)
    try:
        if form is None:
            form = create_form(values, actor=actor(request))
        else:
            update_form(form, changes=FormChanges(**vars(values)), actor=actor(request))
    except DomainError as exc:
        return _editor(request, form, values, error=exc, status=exc.status if exc.status != 400 else 422)
    messages.success(request, gettext("Form %(title)s saved.") % {"title": form.title})
    return redirect("web:admin-apps")


@require_POST
@admin_required
def remove_form(request: AgentRequest, form_id: int) -> HttpResponse:
    form = _form_or_404(form_id)
    delete_form(form, actor=actor(request))
    messages.success(request, gettext("Form %(title)s deleted.") % {"title": form.title})
    return redirect("web:admin-apps")
