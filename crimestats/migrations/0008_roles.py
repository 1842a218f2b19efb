"""Groups for the admin: "data uploader" and "content editor", with their permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = {
    "data uploader": [
        ("crimestats", "add_upload"),
        ("crimestats", "view_upload"),
        ("crimestats", "publish_upload"),
        ("crimestats", "rollback_release"),
        ("crimestats", "view_releasestate"),
        ("crimestats", "view_auditlog"),
        ("crimestats", "view_release"),
        ("crimestats", "view_category"),
        ("crimestats", "change_category"),
    ],
    # Page text, feedback and team details: granted when those models exist (see the apps).
    "content editor": [
        ("crimestats", "view_category"),
        ("crimestats", "change_category"),
        ("crimestats", "view_pagecontent"),
        ("crimestats", "change_pagecontent"),
        ("crimestats", "view_feedback"),
        ("crimestats", "change_feedback"),
        ("areas", "view_saferneighbourhoodteam"),
        ("areas", "change_saferneighbourhoodteam"),
    ],
}


def add_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; the groups need them now.
    for config in apps.get_app_configs():
        config.models_module = True
        create_permissions(config, apps=apps, verbosity=0)
        config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in perms:
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is not None:
                group.permissions.add(permission)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("crimestats", "0007_uploads"),
        ("areas", "0002_postcodes_snt"),  # the Safer Neighbourhoods teams content editors edit
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(add_roles, remove_roles)]
