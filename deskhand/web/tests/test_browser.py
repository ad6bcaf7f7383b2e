"""The agents' app in a real browser (Debian's Chromium driven by Playwright)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from deskhand.agents.models import Agent
from deskhand.core.actors import SYSTEM
from deskhand.customers.models import Customer, Organization, Source
from deskhand.customers.services import create_customer, create_organization, delete_organization
from deskhand.testing.browsing import close_context, shot, signed_in_page

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def page(browser: Browser, live_server: Any, admin: Agent) -> Iterator[Page]:
    for signed_in in signed_in_page(browser, live_server, email=admin.email, viewport={"width": 1280, "height": 800}):
        signed_in.goto("/customers")
        yield signed_in


def drag(page: Page, source: Any, target: Any) -> None:
    """A pointer drag, as a person does it (SortableJS listens to pointer events)."""
    start, end = source.bounding_box(), target.bounding_box()
    page.mouse.move(start["x"] + 80, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(start["x"] + 90, start["y"] + start["height"] / 2 + 10, steps=4)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=12)
    page.mouse.up()


def group(page: Page, organization: Organization) -> Any:
    return page.locator(f"details[data-group='{organization.pk}'] > summary")


def test_create_customer_grouped_then_drag_to_another_organization(page: Page) -> None:
    page.get_by_role("link", name="Add customer", exact=True).click()
    shot(page, "add-customer")
    page.get_by_label("Email").fill("ana@newco.example")
    page.get_by_label("Name").fill("Ana Lima")
    page.get_by_role("button", name="Create customer").click()
    expect(page.get_by_text("Customer ana@newco.example created in newco.example.")).to_be_visible()
    shot(page, "customer-profile")

    page.get_by_role("link", name="Customers").first.click()
    page.get_by_role("link", name="Add customer organization").click()
    page.get_by_label("Name").fill("Globex")
    page.get_by_label("Email domains").fill("globex.example")
    page.get_by_role("button", name="Create organization").click()
    expect(page.get_by_text("Organization Globex created.")).to_be_visible()
    shot(page, "organization-profile")

    page.goto("/customers")
    newco, globex = Organization.objects.get(name="newco.example"), Organization.objects.get(name="Globex")
    group(page, newco).click()
    row = page.locator(f"#members-{newco.pk} li.customer", has_text="ana@newco.example")
    expect(row).to_be_visible()
    shot(page, "customers")
    drag(page, row, group(page, globex))
    expect(page.get_by_role("status").filter(has_text="moved to Globex")).to_be_visible()
    expect(page.locator(f"[data-count='{globex.pk}']")).to_have_text("1")

    page.reload()
    group(page, globex).click()
    expect(page.locator(f"#members-{globex.pk} li.customer", has_text="ana@newco.example")).to_be_visible()
    customer = Customer.objects.get(email="ana@newco.example")
    assert customer.organization == globex and customer.placed_manually


def test_drop_on_a_deleted_organization_puts_the_customer_back(page: Page) -> None:
    create_customer("cy@gmail.com", source=Source.EMAIL, actor=SYSTEM)
    doomed = create_organization("Doomed Ltd", actor=SYSTEM)
    page.goto("/customers")
    row = page.locator("#members-none li.customer", has_text="cy@gmail.com")
    expect(row).to_be_visible()
    delete_organization(Organization.objects.get(pk=doomed.pk), actor=SYSTEM)
    drag(page, row, group(page, doomed))
    expect(page.get_by_role("alert").filter(has_text="no longer exists")).to_be_visible()
    expect(page.locator("#members-none li.customer", has_text="cy@gmail.com")).to_be_visible()
    assert Customer.objects.get(email="cy@gmail.com").organization is None


def test_move_to_menu_works_from_the_keyboard(page: Page) -> None:
    create_customer("dee@gmail.com", source=Source.EMAIL, actor=SYSTEM)
    create_organization("Initech", actor=SYSTEM)
    page.goto("/customers")
    page.locator("li.customer", has_text="dee@gmail.com").get_by_text("Move to…").click()
    field = page.get_by_label("Move dee@gmail.com to organization")
    field.fill("Initech")
    field.press("Enter")
    expect(page.get_by_text("dee@gmail.com moved to Initech.")).to_be_visible()
    assert Customer.objects.get(email="dee@gmail.com").organization.name == "Initech"


def test_add_domain_with_preview_and_settings(page: Page) -> None:
    page.goto("/admin/customers")
    page.get_by_label("Automatically create customer organizations").uncheck()
    page.get_by_role("button", name="Save filing settings").click()
    expect(page.get_by_text("Customer settings saved.")).to_be_visible()
    page.get_by_label("Type name").fill("VIP")
    page.get_by_role("button", name="Add customer type").click()
    expect(page.get_by_text("Customer type VIP added.")).to_be_visible()
    shot(page, "admin-customers")

    create_customer("eve@umbrella.example", source=Source.EMAIL, actor=SYSTEM)
    assert Customer.objects.get().organization is None
    umbrella = create_organization("Umbrella", actor=SYSTEM)
    page.goto(f"/organizations/{umbrella.pk}")
    page.get_by_label("Add a domain").fill("@Umbrella.example")
    page.get_by_role("button", name="Add domain…").click()
    expect(page.get_by_text("1 customer of this domain is in No organization")).to_be_visible()
    shot(page, "add-domain-preview")
    page.get_by_role("button", name="Add umbrella.example").click()
    expect(page.get_by_text("Added umbrella.example and moved 1 customers here.")).to_be_visible()
    assert Customer.objects.get().organization == umbrella


def test_form_errors_show_next_to_the_field(page: Page) -> None:
    page.goto("/customers/new")
    page.get_by_label("Email").fill("not an address")
    page.get_by_label("Name").fill("Typed Name")
    page.get_by_role("button", name="Create customer").click()
    expect(page.locator(".field-error")).to_be_visible()
    expect(page.get_by_label("Name")).to_have_value("Typed Name")
    assert not Customer.objects.exists()


def test_phone_width(browser: Browser, live_server: Any, admin: Agent) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=live_server.url)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Email").fill("admin@deskhand.test")
    page.get_by_label("Password").fill("correct-horse-9")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Tickets")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    shot(page, "customers-phone")
    close_context(context)
    assert width <= 400


def test_import_a_csv_with_a_bad_row(page: Page, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    create_customer("yan@acme.example", name="Yan", source=Source.API, actor=SYSTEM)
    path.write_text("Email,Name,Company\nzoe@acme.example,Zoë,Acme\nnot-an-address,Bad,\nyan@acme.example,Yan Li,\n")
    page.goto("/customers/import")
    page.get_by_label("CSV file").set_input_files(str(path))
    page.get_by_role("button", name="Upload and match columns").click()
    expect(page.get_by_label("Company")).to_be_visible()
    page.get_by_label("Company").select_option("organization")
    page.get_by_role("button", name="Preview (changes nothing)").click()
    expect(page.get_by_text("1 created · 1 matched (1 with changes, updated) · 1 error")).to_be_visible()
    expect(page.locator("tr.result-matched")).to_contain_text("name: Yan → Yan Li")
    page.get_by_label("Leave them unchanged (only add new customers)").check()
    shot(page, "import-preview")
    assert Customer.objects.count() == 1
    page.get_by_role("button", name="Import 2 rows").click()
    expect(page.get_by_text("Imported: 1 created, 1 matched, 1 errors.")).to_be_visible()
    expect(page.get_by_text("left unchanged").first).to_be_visible()
    customer = Customer.objects.get(email="zoe@acme.example")
    assert customer.name == "Zoë" and customer.organization.name == "Acme"
    assert Customer.objects.get(email="yan@acme.example").name == "Yan"


def test_double_click_opens_the_profile(page: Page) -> None:
    create_customer("gus@gmail.com", name="Gus", source=Source.EMAIL, actor=SYSTEM)
    page.goto("/customers")
    page.locator("li.customer", has_text="gus@gmail.com").dblclick(position={"x": 5, "y": 5})
    expect(page.get_by_role("heading", name="Gus")).to_be_visible()


def test_the_last_row_of_a_group_dropped_on_the_header_below_lands_there(page: Page) -> None:
    alpha = create_organization("Alpha", domains=["alpha.example"], actor=SYSTEM)
    beta = create_organization("Beta", domains=["beta.example"], actor=SYSTEM)
    gamma = create_organization("Gamma", domains=["gamma.example"], actor=SYSTEM)
    create_customer("ana@alpha.example", source=Source.API, actor=SYSTEM)
    create_customer("bob@beta.example", source=Source.API, actor=SYSTEM)
    create_customer("cy@gamma.example", source=Source.API, actor=SYSTEM)
    page.goto("/customers")
    group(page, alpha).click()
    row = page.locator(f"#members-{alpha.pk} li.customer", has_text="ana@alpha.example")
    expect(row).to_be_visible()
    start, end = row.bounding_box(), group(page, beta).bounding_box()
    page.mouse.move(start["x"] + 80, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(start["x"] + 90, start["y"] + start["height"] / 2 + 10, steps=4)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=12)
    page.mouse.move(end["x"] + end["width"] / 2 + 4, end["y"] + end["height"] / 2, steps=3)
    # While dragging: the receiving group is highlighted, and nothing moved under the pointer.
    expect(page.locator(f"details[data-group='{beta.pk}']")).to_have_class("group drop-target")
    expect(page.locator(".drop-target")).to_have_count(1)
    assert abs(group(page, beta).bounding_box()["y"] - end["y"]) < 1
    shot(page, "drag-last-row-highlight")
    page.mouse.up()
    expect(page.get_by_role("status").filter(has_text="moved to Beta")).to_be_visible()
    expect(page.locator(".drop-target")).to_have_count(0)
    assert Customer.objects.get(email="ana@alpha.example").organization == beta
    assert Customer.objects.filter(organization=gamma).count() == 1


def test_a_domain_another_organization_owns_is_refused_before_the_confirmation(page: Page) -> None:
    create_organization("Acme", domains=["acme.com"], actor=SYSTEM)
    other = create_organization("Other Org", actor=SYSTEM)
    page.goto(f"/organizations/{other.pk}")
    page.get_by_label("Add a domain").fill("acme.com")
    page.get_by_role("button", name="Add domain…").click()
    expect(page.get_by_text("acme.com belongs to “Acme”.")).to_be_visible()
    expect(page.get_by_role("button", name="Add acme.com")).to_have_count(0)
    shot(page, "add-domain-taken")
