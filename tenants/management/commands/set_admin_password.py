"""`manage.py set_admin_password --username U --password P`: create or reset a superuser login."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction


class Command(BaseCommand):
    help = "Create a superuser, or reset its password if it exists (used by the Quick start)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--password", required=True)

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        if len(options["password"]) < 8:
            raise CommandError("The password needs at least 8 characters.")
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(username=options["username"])
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(options["password"])
        user.save()
        self.stdout.write(f"{'Created' if created else 'Updated'} superuser {user.username}.")
