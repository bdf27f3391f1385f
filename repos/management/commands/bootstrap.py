"""First-run setup: default repositories and the admin account."""

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from repos.services.repositories import repositories_seed_defaults


class Command(BaseCommand):
    help = "Seed the default repositories and the admin account (idempotent)."

    def handle(self, *args, **options):
        for repository in repositories_seed_defaults():
            self.stdout.write(f"repository {repository.key}: ready")
        self._ensure_admin()

    def _ensure_admin(self) -> None:
        users = get_user_model()
        password = os.environ.get("ADMIN_PASSWORD", "")
        admin = users.objects.filter(username="admin").first()
        if admin is not None:
            if password and not admin.check_password(password):
                admin.set_password(password)
                admin.save(update_fields=["password"])
                self.stdout.write("admin: password set from ADMIN_PASSWORD")
            return
        generated = not password
        password = password or secrets.token_urlsafe(18)
        users.objects.create_superuser(username="admin", email="", password=password)
        if generated:
            # Shown this once only; it is stored hashed.
            self.stdout.write(self.style.WARNING(f"admin account created, password: {password}"))
        else:
            self.stdout.write("admin account created with ADMIN_PASSWORD")
