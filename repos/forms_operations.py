"""Dashboard form for a repository's quota and retention rules (services write)."""

from __future__ import annotations

from django import forms

from repos.models import RepositoryPolicy


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
