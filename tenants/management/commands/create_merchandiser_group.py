"""manage.py create_merchandiser_group: create or refresh the shipped "Merchandiser" group."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from tenants.roles import merchandiser_group_sync


class Command(BaseCommand):
    help = (
        'Create the "Merchandiser" admin group (segments, assignments and the directory; no '
        "tenants, API clients or webhooks), or reset its permissions to the shipped ones."
    )

    def handle(self, *args, **options) -> None:
        group = merchandiser_group_sync()
        count = group.permissions.count()
        self.stdout.write(f'Group "{group.name}" holds {count} permissions.')
