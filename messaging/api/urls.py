from django.urls import path

from . import views

urlpatterns = [
    path("conversations/", views.ConversationListCreateApi.as_view(), name="api-conversations"),
    path("conversations/direct/", views.ConversationDirectApi.as_view(), name="api-conversation-direct"),
    path("conversations/<int:conversation_id>/", views.ConversationDetailApi.as_view(), name="api-conversation"),
    path(
        "conversations/<int:conversation_id>/messages/",
        views.MessageListApi.as_view(),
        name="api-conversation-messages",
    ),
    path("conversations/<int:conversation_id>/read/", views.ConversationReadApi.as_view(), name="api-conversation-read"),
    path("conversations/<int:conversation_id>/mute/", views.ConversationMuteApi.as_view(), name="api-conversation-mute"),
    path("conversations/<int:conversation_id>/pin/", views.ConversationPinApi.as_view(), name="api-conversation-pin"),
    path(
        "conversations/<int:conversation_id>/members/",
        views.GroupMembersAddApi.as_view(),
        name="api-conversation-members",
    ),
    path(
        "conversations/<int:conversation_id>/members/<int:user_id>/",
        views.GroupMemberRemoveApi.as_view(),
        name="api-conversation-member",
    ),
    path("conversations/<int:conversation_id>/leave/", views.GroupLeaveApi.as_view(), name="api-conversation-leave"),
    path("messages/", views.MessageSendApi.as_view(), name="api-messages"),
    path("messages/<int:message_id>/", views.MessageDetailApi.as_view(), name="api-message"),
    path("messages/<int:message_id>/recall/", views.MessageRecallApi.as_view(), name="api-message-recall"),
    path("messages/<int:message_id>/react/", views.MessageReactApi.as_view(), name="api-message-react"),
    path("messages/<int:message_id>/reactions/", views.MessageReactionsApi.as_view(), name="api-message-reactions"),
    path("transport/p2p-bytes/", views.P2PBytesReportApi.as_view(), name="api-p2p-bytes"),
]
