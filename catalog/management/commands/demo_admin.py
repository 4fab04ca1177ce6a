"""Create the demo's staff account (only when DEBUG is on and no superuser exists yet)."""

import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create a superuser for the local demo (DEBUG only); DEMO_ADMIN_USER / DEMO_ADMIN_PASSWORD (admin/admin)."

    def handle(self, *args, **options) -> None:
        user_model = get_user_model()
        if not settings.DEBUG:
            self.stdout.write("DEBUG is off: no demo account created (use manage.py createsuperuser).")
            return
        if user_model.objects.filter(is_superuser=True).exists():
            self.stdout.write("A superuser exists already: no demo account created.")
            return
        username = os.environ.get("DEMO_ADMIN_USER", "admin")
        password = os.environ.get("DEMO_ADMIN_PASSWORD", "admin")
        user_model.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(self.style.SUCCESS(f"Demo admin account: {username} / {password} (local demo only)."))
