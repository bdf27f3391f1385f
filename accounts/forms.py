from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms

from accounts.permissions import ALL_PERMISSIONS, readable_repositories

if TYPE_CHECKING:
    from repos.models import Repository


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100)
    permissions = forms.MultipleChoiceField(
        choices=[(p, p) for p in ALL_PERMISSIONS], widget=forms.CheckboxSelectMultiple, initial=["read"]
    )
    repositories: forms.ModelMultipleChoiceField[Repository] = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None selected: every repository you can reach, within your rights at each use.",
    )
    expires_in_days = forms.IntegerField(min_value=1, max_value=366, initial=90)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["repositories"].queryset = readable_repositories(user)
