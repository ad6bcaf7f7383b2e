"""Forms of the agents' app: they collect text; the services decide what is valid."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from deskhand.core.errors import DomainError, Invalid
from deskhand.core.numbers import MAX_ID, parse_int
from deskhand.customers.models import CustomerType
from deskhand.fields.formfields import CF_PREFIX, custom_form_fields


class WholeNumberField(forms.IntegerField):
    """IntegerField reads `١٢` as 12 and any number of digits; this takes ASCII digits within
    `min_value`..`max_value` (0..2**63-1 by default), through the one parser of core.numbers."""

    def __init__(self, *, min_value: int | None = None, max_value: int | None = None, **kwargs: Any) -> None:
        # Plain ints: IntegerField also takes callables for its limits, which parse_int cannot use.
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)
        self.minimum = min_value or 0
        self.maximum = MAX_ID if max_value is None else max_value

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        try:
            return parse_int(text, field="number", minimum=self.minimum, maximum=self.maximum)
        except Invalid:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


def custom_values(form: forms.Form) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, value in form.cleaned_data.items():
        if name.startswith(CF_PREFIX):
            values[name.removeprefix(CF_PREFIX)] = value
    return values


def add_domain_error(form: forms.Form, error: DomainError, *, aliases: dict[str, str] | None = None) -> None:
    """Show a service's error next to the field it names (or above the form)."""
    field = error.field or None
    if field and field.startswith("custom_fields."):
        field = CF_PREFIX + field.removeprefix("custom_fields.")
    field = (aliases or {}).get(field or "", field)
    form.add_error(field if field in form.fields else None, error.message)


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """A choice field the form declares, typed as one (`form.fields` holds plain Fields), to set
    its choices when the form is made."""
    field = form.fields[name]
    if not isinstance(field, forms.ChoiceField):
        raise TypeError(f"{type(form).__name__}.{name} is not a choice field.")
    return field


def type_choices() -> list[tuple[str, str]]:
    return [("", "—")] + [(str(t.pk), t.name) for t in CustomerType.objects.filter(visible=True)]


class CustomerForm(forms.Form):
    email = forms.CharField(label=gettext_lazy("Email"), max_length=2000, widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    name = forms.CharField(label=gettext_lazy("Name"), required=False, max_length=2000)
    phone = forms.CharField(label=gettext_lazy("Phone"), required=False, max_length=2000)
    language = forms.CharField(label=gettext_lazy("Language"), required=False, max_length=2000,
                               widget=forms.TextInput(attrs={"placeholder": "en, de, pt-BR"}))
    customer_type = forms.ChoiceField(label=gettext_lazy("Customer type"), required=False)
    notes = forms.CharField(label=gettext_lazy("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, custom: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "customer_type").choices = type_choices()
        self.fields.update(custom_form_fields("customer", custom))


class NewCustomerForm(CustomerForm):
    organization = forms.CharField(
        label=gettext_lazy("Organization"), required=False, max_length=2000,
        help_text=gettext_lazy("Leave empty to file by the email domain; type “No organization” to place nowhere."),
        widget=forms.TextInput(attrs={"list": "organization-names", "autocomplete": "off"}),
    )


class OrganizationForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=2000)
    notes = forms.CharField(label=gettext_lazy("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, custom: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(custom_form_fields("organization", custom))


class NewOrganizationForm(OrganizationForm):
    domains = forms.CharField(label=gettext_lazy("Email domains"), required=False, max_length=10_000,
                              help_text=gettext_lazy("One or more, separated by commas or spaces, such as acme.com."))


class DomainForm(forms.Form):
    domain = forms.CharField(label=gettext_lazy("Add a domain"), max_length=2000,
                             widget=forms.TextInput(attrs={"placeholder": "acme.com"}))
    apply_to_existing = forms.BooleanField(label=gettext_lazy("Also move them"), required=False)


class MoveForm(forms.Form):
    organization = forms.CharField(label=gettext_lazy("Move to organization"), required=False, max_length=2000,
                                   widget=forms.TextInput(attrs={"list": "organization-names",
                                                                 "autocomplete": "off"}))


class MergeCustomerForm(forms.Form):
    into = forms.CharField(label=gettext_lazy("Merge into customer (email)"), max_length=2000)


class MergeOrganizationForm(forms.Form):
    into = forms.CharField(label=gettext_lazy("Merge into organization"), max_length=2000,
                           widget=forms.TextInput(attrs={"list": "organization-names", "autocomplete": "off"}))
