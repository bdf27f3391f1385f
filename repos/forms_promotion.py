"""The browser's promote form: it validates input; the promotion services decide and write."""
from __future__ import annotations

from django import forms

from repos.services.promotion import PromotionRequest


class PromotionForm(forms.Form):
    source_repository = forms.ChoiceField(label="From repository")
    image = forms.CharField(max_length=255)
    source_tag = forms.CharField(max_length=128, required=False, label="Tag",
                                 help_text="Leave empty to promote every tag of the image.")
    target_repository = forms.ChoiceField(label="To repository")
    target_tag = forms.CharField(max_length=128, required=False, label="New tag name",
                                 help_text="Renames the tag in the target; per-platform tags follow.")
    target_image = forms.CharField(max_length=255, required=False, label="New image name",
                                   help_text="Leave empty to keep the name.")
    mode = forms.ChoiceField(choices=[("move", "Move (the source loses the tags)"),
                                      ("copy", "Copy (the source keeps them)")],
                             initial="move", widget=forms.RadioSelect)

    def __init__(self, *args, repository_keys: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(key, key) for key in repository_keys]
        self.fields["source_repository"].choices = choices
        self.fields["target_repository"].choices = choices

    def promotion_request(self) -> PromotionRequest:
        data = self.cleaned_data
        return PromotionRequest(
            source_key=data["source_repository"], source_image=data["image"].strip(),
            target_key=data["target_repository"], target_image=data["target_image"].strip(),
            source_tag=data["source_tag"].strip(), target_tag=data["target_tag"].strip(),
            copy=data["mode"] == "copy",
        )
