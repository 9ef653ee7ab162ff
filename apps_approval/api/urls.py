from django.urls import path

from . import views

urlpatterns = [
    path("approvals/templates/", views.TemplateListApi.as_view(), name="api-approval-templates"),
    path("approvals/", views.ApprovalListCreateApi.as_view(), name="api-approvals"),
    path("approvals/files/", views.ApprovalFileUploadApi.as_view(), name="api-approval-files"),
    path("approvals/<int:approval_id>/", views.ApprovalDetailApi.as_view(), name="api-approval"),
    path("approvals/<int:approval_id>/decide/", views.ApprovalDecideApi.as_view(), name="api-approval-decide"),
    path("approvals/<int:approval_id>/withdraw/", views.ApprovalWithdrawApi.as_view(), name="api-approval-withdraw"),
]
