from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from messaging import selectors, send, services
from messaging.frames import ack_frame, message_frame
from messaging.registry import message_preview
from messaging.api.throttling import P2PReportThrottle
from messaging.socket.ratelimit import MessageSendThrottle


class ReplySerializer(serializers.Serializer):
    class Meta:
        ref_name = "ReplyQuote"

    id = serializers.IntegerField()
    seq = serializers.IntegerField()
    sender = serializers.IntegerField()
    app = serializers.CharField()
    quote = serializers.CharField(help_text="Up to 100 characters of plain text; empty for a recalled message.")
    recalled = serializers.BooleanField()


class ReactionSerializer(serializers.Serializer):
    emoji = serializers.CharField()
    count = serializers.IntegerField()
    me = serializers.BooleanField(help_text="Whether I gave this reaction.")


class MessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    conversation = serializers.IntegerField()
    seq = serializers.IntegerField()
    sender = serializers.IntegerField()
    app = serializers.CharField()
    body = serializers.DictField()
    created_at = serializers.DateTimeField()
    client_id = serializers.CharField()
    edited_at = serializers.DateTimeField(allow_null=True)
    recalled = serializers.BooleanField()
    mentions = serializers.ListField(child=serializers.IntegerField(), help_text="The ids of the members it mentions.")
    reply_to = ReplySerializer(allow_null=True, help_text="The message it answers, with a short quote.")
    forwarded = serializers.BooleanField(help_text="A copy of a message forwarded from another conversation.")
    reactions = ReactionSerializer(many=True)

    def to_representation(self, instance):
        frame = message_frame(instance)
        frame.pop("type")
        return frame


class LastMessageSerializer(MessageSerializer):
    preview = serializers.CharField(help_text="One line of plain text, in the reader's language.")
    created = serializers.DateTimeField(help_text="When it was sent (the same as created_at).")

    class Meta:
        ref_name = "LastMessage"

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["preview"] = message_preview(instance)
        data["created"] = data["created_at"]
        return data


class MemberSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    last_read_seq = serializers.IntegerField(help_text="How far this member has read.")


class ConversationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()
    members = MemberSerializer(many=True)
    unread = serializers.IntegerField()
    mentions = serializers.IntegerField(help_text="How many of my unread messages mention me.")
    last_read_seq = serializers.IntegerField()
    last_seq = serializers.IntegerField()
    last_message = LastMessageSerializer(allow_null=True)
    muted = serializers.BooleanField(help_text="I muted it: no notifications, a quiet unread count.")
    pinned = serializers.BooleanField(help_text="I pinned it: it stands first in my inbox.")
    owner = serializers.IntegerField(allow_null=True, help_text="A group's owner, who may change it; null elsewhere.")
    notice = serializers.CharField(allow_blank=True, help_text="A group's notice, shown above its messages.")


class AckSerializer(serializers.Serializer):
    client_id = serializers.CharField()
    id = serializers.IntegerField()
    conversation = serializers.IntegerField()
    seq = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class ConversationListCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "GroupCreate"

        title = serializers.CharField(max_length=200)
        members = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=1000)

    @extend_schema(responses={200: ConversationSerializer(many=True)})
    def get(self, request):
        return Response(ConversationSerializer(selectors.conversation_list_for_user(user=request.user), many=True).data)

    @extend_schema(request=InputSerializer, responses={201: ConversationSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        conversation = services.conversation_create_group(
            creator=request.user, title=data.validated_data["title"], member_ids=data.validated_data["members"]
        )
        result = selectors.conversation_get_for_user(user=request.user, conversation_id=conversation.pk)
        return Response(ConversationSerializer(result).data, status=status.HTTP_201_CREATED)


class ConversationDirectApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "DirectOpen"

        user = serializers.IntegerField()

    @extend_schema(request=InputSerializer, responses={200: ConversationSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        conversation = send.conversation_get_or_create_direct(user=request.user, other_id=data.validated_data["user"])
        result = selectors.conversation_get_for_user(user=request.user, conversation_id=conversation.pk)
        return Response(ConversationSerializer(result).data)


class ConversationDetailApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "GroupUpdate"

        title = serializers.CharField(required=False, max_length=services.GROUP_TITLE_MAX_CHARS)
        notice = serializers.CharField(
            required=False, allow_blank=True, max_length=services.GROUP_NOTICE_MAX_CHARS, trim_whitespace=False
        )

    @extend_schema(responses={200: ConversationSerializer})
    def get(self, request, conversation_id: int):
        result = selectors.conversation_get_for_user(user=request.user, conversation_id=conversation_id)
        return Response(ConversationSerializer(result).data)

    def get_throttles(self):
        # A change is told in the group by a message: it counts as one sent.
        return [MessageSendThrottle()] if self.request.method == "PATCH" else super().get_throttles()

    @extend_schema(request=InputSerializer, responses={200: ConversationSerializer})
    def patch(self, request, conversation_id: int):
        """A group's owner renames it or sets its notice."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.group_update(user=request.user, conversation_id=conversation_id, **data.validated_data)
        return group_answer(request, conversation_id)


def group_answer(request, conversation_id: int, *, status_code: int = status.HTTP_200_OK) -> Response:
    result = selectors.conversation_get_for_user(user=request.user, conversation_id=conversation_id)
    return Response(ConversationSerializer(result).data, status=status_code)


class GroupMembersAddApi(APIView):
    """A group's owner adds people to it."""

    throttle_classes = [MessageSendThrottle]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "GroupMembersAdd"

        users = serializers.ListField(
            child=serializers.IntegerField(), min_length=1, max_length=services.GROUP_ADD_PER_REQUEST
        )

    @extend_schema(request=InputSerializer, responses={200: ConversationSerializer})
    def post(self, request, conversation_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.group_members_add(
            user=request.user, conversation_id=conversation_id, user_ids=data.validated_data["users"]
        )
        return group_answer(request, conversation_id)


class GroupMemberRemoveApi(APIView):
    """A group's owner removes a member."""

    throttle_classes = [MessageSendThrottle]

    @extend_schema(request=None, responses={200: ConversationSerializer})
    def delete(self, request, conversation_id: int, user_id: int):
        services.group_member_remove(user=request.user, conversation_id=conversation_id, user_id=user_id)
        return group_answer(request, conversation_id)


class GroupLeaveApi(APIView):
    """A member leaves a group."""

    throttle_classes = [MessageSendThrottle]

    @extend_schema(request=None, responses={204: None})
    def post(self, request, conversation_id: int):
        services.group_leave(user=request.user, conversation_id=conversation_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MessageListApi(APIView):
    class FilterSerializer(serializers.Serializer):
        before = serializers.IntegerField(required=False, min_value=1)
        after = serializers.IntegerField(required=False, min_value=0)
        limit = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MessagePage"

        results = MessageSerializer(many=True)
        has_more = serializers.BooleanField()

    @extend_schema(
        parameters=[
            OpenApiParameter("before", int, description="Messages with a smaller seq (older)."),
            OpenApiParameter("after", int, description="Messages with a larger seq (newer)."),
            OpenApiParameter("limit", int, description="1 to 200, default 50."),
        ],
        responses={200: OutputSerializer},
    )
    def get(self, request, conversation_id: int):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        messages, has_more = selectors.message_list_for_conversation(
            user=request.user, conversation_id=conversation_id, **filters.validated_data
        )
        return Response({"results": MessageSerializer(messages, many=True).data, "has_more": has_more})


class MessageSendApi(APIView):
    throttle_classes = [MessageSendThrottle]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MessageSend"

        client_id = serializers.CharField(max_length=64, trim_whitespace=False)
        conversation = serializers.IntegerField(required=False)
        to = serializers.IntegerField(required=False)
        app = serializers.CharField(max_length=32, default="chat")
        body = serializers.JSONField(required=False, help_text="Required unless the message is a forward.")
        reply_to = serializers.IntegerField(required=False, help_text="A message of the same conversation it answers.")
        forward = serializers.IntegerField(required=False, help_text="A message to send a copy of, instead of a body.")

    @extend_schema(request=InputSerializer, responses={201: AckSerializer, 200: AckSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = send.message_send(
            sender=request.user,
            client_id=data.validated_data["client_id"],
            conversation_id=data.validated_data.get("conversation"),
            to_user_id=data.validated_data.get("to"),
            app=data.validated_data["app"],
            body=data.validated_data.get("body"),
            reply_to=data.validated_data.get("reply_to"),
            forward=data.validated_data.get("forward"),
        )
        ack = ack_frame(result.message)
        ack.pop("type")
        return Response(ack, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


class MessageDetailApi(APIView):
    throttle_classes = [MessageSendThrottle]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MessageEdit"

        body = serializers.JSONField()

    @extend_schema(request=InputSerializer, responses={200: MessageSerializer})
    def patch(self, request, message_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = services.message_edit(user=request.user, message_id=message_id, body=data.validated_data["body"])
        return Response(MessageSerializer(selectors.reactions_attach([message], user=request.user)[0]).data)


class MessageRecallApi(APIView):
    throttle_classes = [MessageSendThrottle]

    @extend_schema(request=None, responses={200: MessageSerializer})
    def post(self, request, message_id: int):
        message = services.message_recall(user=request.user, message_id=message_id)
        return Response(MessageSerializer(message).data)


class ReactionPeopleSerializer(serializers.Serializer):
    class Meta:
        ref_name = "ReactionPeople"

    emoji = serializers.CharField()
    count = serializers.IntegerField()
    users = serializers.ListField(child=serializers.DictField(), help_text="The first 20: id and display_name.")


class MessageReactionsApi(APIView):
    """Who reacted to a message, per emoji."""

    @extend_schema(responses={200: ReactionPeopleSerializer(many=True)})
    def get(self, request, message_id: int):
        return Response(selectors.reaction_people(user=request.user, message_id=message_id))


class MessageReactApi(APIView):
    """Give or take back a reaction (the ``react`` frame's twin)."""

    throttle_classes = [MessageSendThrottle]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MessageReact"

        emoji = serializers.CharField(max_length=16, help_text="One of the reactions of docs/protocol.md.")
        on = serializers.BooleanField(help_text="true gives the reaction, false takes it back.")

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MessageReactions"

        message = serializers.IntegerField()
        reactions = ReactionSerializer(many=True)

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request, message_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reactions = services.message_react(
            user=request.user, message_id=message_id, emoji=data.validated_data["emoji"], on=data.validated_data["on"]
        )
        return Response({"message": message_id, "reactions": reactions})


class ConversationReadApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ReadPosition"

        seq = serializers.IntegerField(min_value=0)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ReadResult"

        conversation = serializers.IntegerField()
        last_read_seq = serializers.IntegerField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request, conversation_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        seq = services.conversation_mark_read(
            user=request.user, conversation_id=conversation_id, seq=data.validated_data["seq"]
        )
        return Response({"conversation": conversation_id, "last_read_seq": seq})


class ConversationSettingsOutput(serializers.Serializer):
    class Meta:
        ref_name = "ConversationSettings"

    conversation = serializers.IntegerField()
    muted = serializers.BooleanField()
    pinned = serializers.BooleanField()


class ConversationSettingApi(APIView):
    """Set one of my own settings of a conversation (``field``), for me alone."""

    field = ""
    InputSerializer: type[serializers.Serializer]

    def set(self, request, conversation_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.conversation_settings_set(
            user=request.user, conversation_id=conversation_id, **{self.field: data.validated_data[self.field]}
        )
        return Response(
            {"conversation": conversation_id, "muted": membership.muted, "pinned": membership.pinned_at is not None}
        )


class ConversationMuteApi(ConversationSettingApi):
    """Mute or unmute a conversation for myself."""

    field = "muted"

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ConversationMute"

        muted = serializers.BooleanField()

    @extend_schema(request=InputSerializer, responses={200: ConversationSettingsOutput})
    def post(self, request, conversation_id: int):
        return self.set(request, conversation_id)


class ConversationPinApi(ConversationSettingApi):
    """Pin or unpin a conversation in my inbox."""

    field = "pinned"

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ConversationPin"

        pinned = serializers.BooleanField()

    @extend_schema(request=InputSerializer, responses={200: ConversationSettingsOutput})
    def post(self, request, conversation_id: int):
        return self.set(request, conversation_id)


class P2PBytesReportApi(APIView):
    """Report bytes this client sent directly to a peer (for /metrics)."""

    throttle_classes = [P2PReportThrottle]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "P2PBytesReport"

        bytes = serializers.IntegerField(help_text="Bytes sent directly since the last report.")
        kind = serializers.ChoiceField(choices=services.P2P_KINDS)

    @extend_schema(request=InputSerializer, responses={204: None})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.p2p_bytes_report(byte_count=data.validated_data["bytes"], kind=data.validated_data["kind"])
        return Response(status=status.HTTP_204_NO_CONTENT)
