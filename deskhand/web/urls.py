from django.urls import path
from django.views.generic import RedirectView

from deskhand.web.views import admin, auth, customers, organizations, transfer

app_name = "web"

urlpatterns = [
    path("", RedirectView.as_view(url="/customers"), name="home"),
    path("login", auth.sign_in, name="login"),
    path("logout", auth.sign_out, name="logout"),
    path("customers", customers.customer_index, name="customers"),
    path("customers/new", customers.new_customer, name="customer-new"),
    path("customers/import", transfer.import_customers_page, name="customer-import"),
    path("customers/import/<int:job_id>", transfer.import_job, name="customer-import-job"),
    path("customers/export.csv", transfer.export_customers_csv, name="customer-export"),
    path("organizations/export.csv", transfer.export_organizations_csv, name="organization-export"),
    path("customers/groups/<str:group>", customers.group_members, name="customer-group"),
    path("customers/<int:customer_id>", customers.customer_detail, name="customer-detail"),
    path("customers/<int:customer_id>/move", customers.move, name="customer-move"),
    path("customers/<int:customer_id>/merge", customers.merge_customer, name="customer-merge"),
    path("organizations/new", organizations.new_organization, name="organization-new"),
    path("organizations/options", customers.organization_options, name="organization-options"),
    path("organizations/<int:organization_id>", organizations.organization_detail, name="organization-detail"),
    path("organizations/<int:organization_id>/domains", organizations.add_domain, name="organization-domain-add"),
    path("organizations/<int:organization_id>/domains/<str:domain>/delete", organizations.remove_domain,
         name="organization-domain-remove"),
    path("organizations/<int:organization_id>/merge", organizations.merge_organization, name="organization-merge"),
    path("organizations/<int:organization_id>/delete", organizations.delete_organization,
         name="organization-delete"),
    path("admin/customers", admin.customers_settings, name="admin-customers"),
    path("admin/customers/filing", admin.save_filing, name="admin-filing"),
    path("admin/customers/types", admin.add_customer_type, name="admin-type-add"),
    path("admin/customers/types/<int:type_id>", admin.change_customer_type, name="admin-type-change"),
    path("admin/customers/fields", admin.add_custom_field, name="admin-field-add"),
    path("admin/customers/fields/<int:field_id>/delete", admin.delete_custom_field, name="admin-field-delete"),
    path("admin/customers/panels/<str:which>", admin.save_panel, name="admin-panel"),
]
