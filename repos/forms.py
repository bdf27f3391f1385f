"""Dashboard forms: they validate input; services write."""

from __future__ import annotations

import re

from django import forms

from repos.models import Repository
from repos.oci.platforms import is_valid_platform
from repos.services.repositories import MAX_REQUIRED_PLATFORMS


class RepositorySettingsForm(forms.Form):
    description = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    stage = forms.CharField(required=False, max_length=32, help_text="A pipeline label such as dev, test or prod.")
    stage_order = forms.IntegerField(
        min_value=0, max_value=32767, help_text="Position in the pipeline: lower stages are shown further left."
    )
    is_public = forms.BooleanField(required=False, label="Public (anyone may pull and browse)")
    tag_immutability = forms.BooleanField(required=False, label="Immutable tags (a pushed tag never moves)")
    required_platforms = forms.CharField(
        required=False,
        max_length=1000,
        help_text="Platforms every image must have, separated by commas or spaces, e.g. linux/amd64, linux/arm64.",
    )

    def __init__(self, data=None, *, repository: Repository):
        initial = {
            "description": repository.description,
            "stage": repository.stage,
            "stage_order": repository.stage_order,
            "is_public": repository.is_public,
            "tag_immutability": repository.tag_immutability,
            "required_platforms": ", ".join(repository.required_platforms or []),
        }
        super().__init__(data, initial=initial)

    def clean_stage(self) -> str:
        return self.cleaned_data["stage"].strip()

    def clean_required_platforms(self) -> list[str]:
        values = [v for v in re.split(r"[\s,]+", self.cleaned_data["required_platforms"].strip().lower()) if v]
        invalid = [v for v in values if not is_valid_platform(v)]
        if invalid:
            raise forms.ValidationError(f"Not a platform (os/architecture[/variant]): {', '.join(invalid)}")
        unique = list(dict.fromkeys(values))
        if len(unique) > MAX_REQUIRED_PLATFORMS:
            raise forms.ValidationError(f"At most {MAX_REQUIRED_PLATFORMS} platforms.")
        return unique
