from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts import selectors, services
from rest_framework.permissions import IsAuthenticated

from core.api import ClientScopePermission, Pagination, TokenScopePermission

# A person (as everywhere), or an integration whose token carries ``directory:read``.
PERSON_OR_DIRECTORY_CLIENT = [(IsAuthenticated & TokenScopePermission) | ClientScopePermission]


class DepartmentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    department = DepartmentRefSerializer(allow_null=True)
    title = serializers.CharField()
    is_manager = serializers.BooleanField()


class PersonPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = PersonSerializer(many=True)


class ContactListApi(APIView):
    """My contacts: what the visibility rules grant plus accepted friends."""

    @extend_schema(responses={200: PersonSerializer(many=True)})
    def get(self, request):
        people = selectors.contact_list_for_user(user=request.user)
        return Response(PersonSerializer([selectors.person_card(p) for p in people], many=True).data)


class DirectoryApi(APIView):
    """Search the whole company by name, username, department and title. Integrations
    (the HR system) may read it too, with a ``directory:read`` token."""

    permission_classes = PERSON_OR_DIRECTORY_CLIENT
    required_scope = "directory:read"

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="Words to look for."),
            OpenApiParameter("limit", int),
            OpenApiParameter("offset", int),
        ],
        responses={200: PersonPageSerializer},
    )
    def get(self, request):
        query = request.query_params.get("q", "")[:200]
        paginator = Pagination()
        page = paginator.paginate_queryset(
            selectors.directory_search(user=request.user, query=query), request, view=self
        )
        data = PersonSerializer([selectors.person_card(p) for p in page], many=True).data
        return paginator.get_paginated_response(data)


class DepartmentTreeApi(APIView):
    permission_classes = PERSON_OR_DIRECTORY_CLIENT
    required_scope = "directory:read"

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "DepartmentNode"

        id = serializers.IntegerField()
        code = serializers.CharField()
        name = serializers.CharField()
        manager = serializers.DictField(allow_null=True)
        members = serializers.ListField(child=serializers.DictField())
        children = serializers.ListField(child=serializers.DictField())

    @extend_schema(responses={200: OutputSerializer(many=True)})
    def get(self, request):
        return Response(selectors.department_tree())


class FriendRequestSerializer(serializers.Serializer):
    class UserRefSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        username = serializers.CharField()
        display_name = serializers.CharField(source="name")

    id = serializers.IntegerField()
    from_user = UserRefSerializer(read_only=True)
    to_user = UserRefSerializer(read_only=True)
    message = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    responded_at = serializers.DateTimeField(allow_null=True)


class FriendRequestListCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "FriendRequestCreate"

        to = serializers.IntegerField(min_value=1)
        message = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "FriendRequestLists"

        incoming = FriendRequestSerializer(many=True)
        outgoing = FriendRequestSerializer(many=True)

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request):
        return Response(
            self.OutputSerializer(selectors.friend_request_list_for_user(user=request.user)).data
        )

    @extend_schema(request=InputSerializer, responses={201: FriendRequestSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        friend_request = services.friend_request_send(
            from_user=request.user,
            to_user_id=data.validated_data["to"],
            message=data.validated_data["message"],
        )
        return Response(FriendRequestSerializer(friend_request).data, status=status.HTTP_201_CREATED)


class FriendRequestAcceptApi(APIView):
    @extend_schema(request=None, responses={200: FriendRequestSerializer})
    def post(self, request, request_id: int):
        friend_request = services.friend_request_accept(user=request.user, request_id=request_id)
        return Response(FriendRequestSerializer(friend_request).data)


class FriendRequestDeclineApi(APIView):
    @extend_schema(request=None, responses={200: FriendRequestSerializer})
    def post(self, request, request_id: int):
        friend_request = services.friend_request_decline(user=request.user, request_id=request_id)
        return Response(FriendRequestSerializer(friend_request).data)
