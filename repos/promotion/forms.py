"""The browser's promote form: it validates input; the promotion services decide and write."""

from __future__ import annotations

from typing import cast

from django import forms

from repos.promotion.execution import PromotionRequest

# GET parameters that prefill the form (links from tag pages, builds, the stage view): param -> field.
PREFILL = {
    "repository": "source_repository",
    "image": "image",
    "tag": "source_tag",
    "target": "target_repository",
    "target_tag": "target_tag",
    "target_image": "target_image",
    "mode": "mode",
}


class PromotionForm(forms.Form):
    source_repository = forms.ChoiceField(label="From repository")
    image = forms.CharField(max_length=255)
    source_tag = forms.CharField(
        max_length=128, required=False, label="Tag", help_text="Leave empty to promote every tag of the image."
    )
    target_repository = forms.ChoiceField(label="To repository")
    target_tag = forms.CharField(
        max_length=128,
        required=False,
        label="New tag name",
        help_text="Renames the tag in the target; per-platform tags follow.",
    )
    target_image = forms.CharField(
        max_length=255, required=False, label="New image name", help_text="Leave empty to keep the name."
    )
    # Copy first and by default: a move takes the tags away from the source.
    mode = forms.ChoiceField(choices=[("copy", "Copy"), ("move", "Move")], initial="copy", widget=forms.RadioSelect)
    pinned = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, repository_keys: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(key, key) for key in repository_keys]
        cast(forms.ChoiceField, self.fields["source_repository"]).choices = choices
        cast(forms.ChoiceField, self.fields["target_repository"]).choices = [("", "Choose a repository…"), *choices]

    def promotion_request(self) -> PromotionRequest:
        data = self.cleaned_data
        return PromotionRequest(
            source_key=data["source_repository"],
            source_image=data["image"].strip(),
            target_key=data["target_repository"],
            target_image=data["target_image"].strip(),
            source_tag=data["source_tag"].strip(),
            target_tag=data["target_tag"].strip(),
            copy=data["mode"] == "copy",
        )
