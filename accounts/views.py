from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.selectors import settings_sections, user_profile
from accounts.services import user_update_preferences


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(
        label=gettext_lazy("Language"),
        choices=[("", gettext_lazy("Same as my browser"))] + list(settings.LANGUAGES),
        required=False,
    )
    hide_notification_previews = forms.BooleanField(
        label=gettext_lazy("Hide previews in notifications"),
        help_text=gettext_lazy("Notifications on your devices then say only “New message”, without the sender or the text."),
        required=False,
    )


@login_required
def settings_view(request):
    form = PreferencesForm(
        request.POST or None,
        initial={
            "language": request.user.language,
            "hide_notification_previews": request.user.hide_notification_previews,
        },
    )
    if request.method == "POST" and form.is_valid():
        user_update_preferences(
            user=request.user,
            language=form.cleaned_data["language"],
            hide_notification_previews=form.cleaned_data["hide_notification_previews"],
        )
        response = redirect("account-settings")
        language = form.cleaned_data["language"]
        if language:
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax")
        else:
            response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
        messages.success(request, _("Your settings are saved."))
        return response
    return render(
        request,
        "accounts/settings.html",
        {"form": form, "profile": user_profile(user=request.user), "sections": settings_sections(request)},
    )
