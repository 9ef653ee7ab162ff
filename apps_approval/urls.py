from django.urls import path

from . import views

app_name = "approvals"

urlpatterns = [
    path("", views.approval_list, name="list"),
    path("new/", views.template_choose, name="new"),
    path("new/<slug:code>/", views.approval_new, name="new-form"),
    path("<int:approval_id>/", views.approval_detail, name="detail"),
    path("<int:approval_id>/decide/", views.approval_decide, name="decide"),
    path("<int:approval_id>/withdraw/", views.approval_withdraw, name="withdraw"),
]
