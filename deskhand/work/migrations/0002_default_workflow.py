from django.db import migrations

DEFAULT_WORKFLOW = [("new", "New", "new"), ("open", "Open", "open"), ("pending", "Pending", "pending"),
                    ("done", "Done", "done")]


def seed(apps, schema_editor):
    Status = apps.get_model("work", "Status")
    for kind in ("ticket", "task"):
        for position, (key, label, category) in enumerate(DEFAULT_WORKFLOW):
            Status.objects.get_or_create(kind=kind, key=key, defaults={
                "label": label, "category": category, "position": position})


class Migration(migrations.Migration):
    dependencies = [("work", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
