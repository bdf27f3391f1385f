"""Dashboard forms of a repository: create and settings, delete, quota and retention. They collect input;
the services (`repos.services.repositories`, `repos.services.retention`) check every rule and write."""

from __future__ import annotations

from django import forms

from repos.models import Repository, RepositoryPolicy

KIND_FIELDS: dict[str, tuple[str, ...]] = {
    Repository.Kind.REMOTE: ("upstream_url", "username", "password", "library_prefix", "tag_cache_seconds"),
    Repository.Kind.VIRTUAL: ("members", "default_deployment"),
}


class RepositoryForm(forms.Form):
    key = forms.CharField(
        max_length=64,
        help_text="Lower-case letters, digits and . _ - ; the first segment of "
        "image names (HOST/<key>/app:1.0). It cannot change later.",
    )
    kind = forms.ChoiceField(
        choices=Repository.Kind.choices,
        initial=Repository.Kind.LOCAL,
        help_text=(
            "Local: pushed into. Remote: a pull-through cache of another registry. "
            "Virtual: one name over locals and remotes."
        ),
    )
    description = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    stage = forms.CharField(required=False, max_length=32, help_text="A pipeline label such as dev, test or prod.")
    stage_order = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=32767,
        help_text="Position in the pipeline: lower stages are shown further left.",
    )
    is_public = forms.BooleanField(required=False, label="Public (anyone may pull and browse)")
    tag_immutability = forms.BooleanField(required=False, label="Immutable tags (a pushed tag never moves)")
    required_platforms = forms.CharField(
        required=False,
        max_length=1000,
        help_text="Platforms every image must have, separated by commas or spaces, e.g. linux/amd64, linux/arm64.",
    )
    upstream_url = forms.CharField(
        required=False,
        max_length=500,
        label="Upstream URL",
        help_text=(
            "Remote: the registry to cache, e.g. https://registry-1.docker.io, https://ghcr.io, https://quay.io."
        ),
    )
    username = forms.CharField(required=False, max_length=255, help_text="Remote: upstream user name (optional).")
    password = forms.CharField(
        required=False,
        max_length=8192,
        widget=forms.PasswordInput(render_value=False),
        label="Password or token",
        help_text=("Remote: stored encrypted and never shown again. Leave empty to keep the current one."),
    )
    clear_password = forms.BooleanField(required=False, label="Remove the stored password")
    library_prefix = forms.BooleanField(
        required=False,
        label="Docker Hub library/ prefix",
        help_text=("Remote: HOST/<key>/busybox asks the upstream for library/busybox."),
    )
    tag_cache_seconds = forms.IntegerField(
        required=False,
        min_value=0,
        label="Tag cache time (seconds)",
        help_text="Remote: a tag is served from the cache this long before the "
        "upstream is asked again. Content by digest is kept.",
    )
    members = forms.CharField(
        required=False,
        max_length=2000,
        help_text=(
            "Virtual: local and remote repository keys in resolution order (first hit wins), e.g. docker-local, hub."
        ),
    )
    default_deployment = forms.CharField(
        required=False,
        max_length=64,
        help_text=("Virtual: the local repository that pushes into the virtual land in (empty: pushes are refused)."),
    )

    def __init__(self, data=None, *, repository: Repository | None = None, site_admin: bool = True):
        self.repository = repository
        super().__init__(data, initial=_initial(repository) if repository else {"tag_cache_seconds": 600})
        if repository is not None:
            for name in ("key", "kind"):
                self.fields[name].disabled = True
                self.fields[name].required = False
            kept = KIND_FIELDS.get(repository.kind, ()) if site_admin else ()
            for kind_fields in KIND_FIELDS.values():
                for name in kind_fields:
                    if name not in kept:
                        del self.fields[name]
            if repository.kind != Repository.Kind.REMOTE or not site_admin:
                del self.fields["clear_password"]
        else:
            del self.fields["clear_password"]

    def service_data(self) -> dict:
        """What the services take: on a change only the fields shown (and a password only when typed)."""
        data = {
            name: value
            for name, value in self.cleaned_data.items()
            if name not in ("clear_password", "password") and value is not None
        }
        if self.repository is not None:
            data.pop("key", None)
            data.pop("kind", None)
        kind = self.repository.kind if self.repository else data.get("kind")
        for other_kind, names in KIND_FIELDS.items():
            if other_kind != kind:
                for name in names:
                    data.pop(name, None)
        if kind == Repository.Kind.REMOTE:
            if self.cleaned_data.get("password"):
                data["password"] = self.cleaned_data["password"]
            elif self.cleaned_data.get("clear_password"):
                data["password"] = ""
        if kind == Repository.Kind.VIRTUAL and "members" in data:
            data["members"] = [m for m in data["members"].replace(",", " ").split() if m]
        if self.repository is None and data.get("stage_order") is None:
            data.pop("stage_order", None)
        return data


def _initial(repository: Repository) -> dict:
    initial = {
        "key": repository.key,
        "kind": repository.kind,
        "description": repository.description,
        "stage": repository.stage,
        "stage_order": repository.stage_order,
        "is_public": repository.is_public,
        "tag_immutability": repository.tag_immutability,
        "required_platforms": ", ".join(repository.required_platforms or []),
    }
    remote = getattr(repository, "remote", None) if repository.kind == Repository.Kind.REMOTE else None
    if remote is not None:
        initial.update(
            upstream_url=remote.upstream_url,
            username=remote.username,
            library_prefix=remote.library_prefix,
            tag_cache_seconds=remote.tag_cache_seconds,
        )
    if repository.kind == Repository.Kind.VIRTUAL:
        initial["members"] = ", ".join(repository.members.values_list("member__key", flat=True))
        initial["default_deployment"] = repository.default_deployment.key if repository.default_deployment else ""
    return initial


class RepositoryDeleteForm(forms.Form):
    confirm_key = forms.CharField(required=False, max_length=64, label="Type the repository key to confirm")


class RepositoryPolicyForm(forms.ModelForm):
    quota_gib = forms.DecimalField(
        required=False,
        min_value=0,
        decimal_places=3,
        max_digits=12,
        label="Quota (GiB)",
        help_text="Refuse pushes that would make the repository hold more. Empty: no quota. Site admins only.",
    )

    class Meta:
        model = RepositoryPolicy
        fields = [
            "retention_enabled",
            "retention_tag_pattern",
            "retention_keep_newest",
            "retention_max_age_days",
            "retention_include_immutable",
            "retention_include_promoted",
        ]
        labels = {
            "retention_enabled": "Apply retention every day",
            "retention_tag_pattern": "Tags matching",
            "retention_keep_newest": "Keep the newest N per image",
            "retention_max_age_days": "Remove tags older than (days)",
            "retention_include_immutable": "Also remove immutable tags",
            "retention_include_promoted": "Also remove tags a later stage still holds",
        }

    def __init__(self, *args, can_set_quota: bool, **kwargs):
        super().__init__(*args, **kwargs)
        quota = self.instance.quota_bytes
        self.fields["quota_gib"].initial = None if quota is None else round(quota / 2**30, 3)
        if not can_set_quota:
            self.fields["quota_gib"].disabled = True

    def policy_fields(self) -> dict:
        fields = {name: self.cleaned_data[name] for name in self.Meta.fields}
        if not self.fields["quota_gib"].disabled:
            gib = self.cleaned_data.get("quota_gib")
            fields["quota_bytes"] = None if gib is None else int(gib * 2**30)
        return fields
