from django.db import migrations


def create(apps, schema_editor):
    from apps_approval.builtin import TEMPLATES

    ApprovalTemplate = apps.get_model("apps_approval", "ApprovalTemplate")
    for template in TEMPLATES:
        ApprovalTemplate.objects.get_or_create(code=template["code"], defaults={k: v for k, v in template.items() if k != "code"})


class Migration(migrations.Migration):
    dependencies = [("apps_approval", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
