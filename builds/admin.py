from django.contrib import admin

from builds.models import BuildJob


@admin.register(BuildJob)
class BuildJobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "status",
        "repository_key",
        "image_name",
        "requested_by_name",
        "builder",
        "created",
        "finished",
    )
    list_filter = ("status", "builder", "source_type")
    search_fields = ("image_name", "repository_key", "requested_by_name", "index_digest", "git_url")
    readonly_fields = [f.name for f in BuildJob._meta.fields]
