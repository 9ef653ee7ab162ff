from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from apps_approval import selectors, services


class PersonSerializer(serializers.Serializer):
    class Meta:
        ref_name = "ApprovalPerson"

    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField()


class ApprovalSerializer(serializers.Serializer):
    class Meta:
        ref_name = "Approval"

    class TemplateRefSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ApprovalTemplateRef"

        code = serializers.CharField()
        name = serializers.CharField()

    class StepSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ApprovalStep"

        class ApproverSerializer(PersonSerializer):
            class Meta:
                ref_name = "ApprovalStepApprover"

            decision = serializers.CharField(allow_null=True)
            comment = serializers.CharField()
            decided_at = serializers.DateTimeField(allow_null=True)

        index = serializers.IntegerField()
        name = serializers.CharField()
        mode = serializers.CharField()
        state = serializers.CharField()
        approvers = ApproverSerializer(many=True)

    class EventSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ApprovalEvent"

        action = serializers.CharField()
        actor = PersonSerializer(allow_null=True)
        from_state = serializers.CharField()
        to_state = serializers.CharField()
        step = serializers.IntegerField(allow_null=True)
        comment = serializers.CharField()
        at = serializers.DateTimeField()

    class SummarySerializer(serializers.Serializer):
        class Meta:
            ref_name = "ApprovalSummaryRow"

        name = serializers.CharField()
        label = serializers.CharField()
        value = serializers.CharField()
        url = serializers.CharField(allow_null=True, help_text="For files: where to download it.")

    id = serializers.IntegerField()
    template = TemplateRefSerializer()
    requester = PersonSerializer()
    data = serializers.DictField()
    summary = SummarySerializer(many=True)
    state = serializers.CharField()
    state_label = serializers.CharField()
    current_step = serializers.IntegerField(allow_null=True)
    steps = StepSerializer(many=True)
    current_approvers = PersonSerializer(many=True)
    cc = PersonSerializer(many=True)
    events = EventSerializer(many=True)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    can_decide = serializers.BooleanField()
    can_withdraw = serializers.BooleanField()


def detail(approval, request) -> dict:
    return ApprovalSerializer(selectors.approval_detail(approval, viewer=request.user)).data


class TemplateListApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ApprovalTemplate"

        code = serializers.CharField()
        # A built-in template's texts in the reader's language (apps_approval.builtin).
        name = serializers.CharField(source="shown_name")
        description = serializers.CharField(source="shown_description")
        fields = serializers.ListField(child=serializers.DictField(), source="shown_fields")

    @extend_schema(responses={200: OutputSerializer(many=True)})
    def get(self, request):
        return Response(self.OutputSerializer(selectors.template_list(), many=True).data)


class ApprovalListCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ApprovalSubmit"

        template = serializers.CharField(max_length=64)
        data = serializers.JSONField()
        client_id = serializers.CharField(max_length=64, trim_whitespace=False)

    @extend_schema(
        parameters=[OpenApiParameter("box", str, enum=list(selectors.BOXES), description="Default: pending.")],
        responses={200: ApprovalSerializer(many=True)},
    )
    def get(self, request):
        approvals = selectors.approval_list_for_user(user=request.user, box=request.query_params.get("box", "pending"))
        return Response([detail(a, request) for a in approvals[:200]])

    @extend_schema(request=InputSerializer, responses={201: ApprovalSerializer, 200: ApprovalSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        approval, created = services.approval_submit(
            requester=request.user,
            template_code=data.validated_data["template"],
            data=data.validated_data["data"],
            client_id=data.validated_data["client_id"],
        )
        approval = selectors.approval_get_for_user(user=request.user, approval_id=approval.pk)
        return Response(detail(approval, request), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class ApprovalDetailApi(APIView):
    @extend_schema(responses={200: ApprovalSerializer})
    def get(self, request, approval_id: int):
        return Response(detail(selectors.approval_get_for_user(user=request.user, approval_id=approval_id), request))


class ApprovalDecideApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ApprovalDecision"

        decision = serializers.ChoiceField(choices=["approve", "reject"])
        comment = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses={200: ApprovalSerializer})
    def post(self, request, approval_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.approval_decide(user=request.user, approval_id=approval_id, **data.validated_data)
        return Response(detail(selectors.approval_get_for_user(user=request.user, approval_id=approval_id), request))


class ApprovalWithdrawApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ApprovalWithdraw"

        comment = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses={200: ApprovalSerializer})
    def post(self, request, approval_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.approval_withdraw(user=request.user, approval_id=approval_id, **data.validated_data)
        return Response(detail(selectors.approval_get_for_user(user=request.user, approval_id=approval_id), request))


class ApprovalFileUploadApi(APIView):
    """Upload a file for a form's file field (a receipt); name its id in the form."""

    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ApprovalFileUpload"

        file = serializers.FileField()

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ApprovalFile"

        id = serializers.IntegerField()
        name = serializers.CharField()
        size = serializers.IntegerField()
        content_type = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request):
        stored = services.approval_file_upload(owner=request.user, upload=request.FILES.get("file"))
        return Response(self.OutputSerializer(stored).data, status=status.HTTP_201_CREATED)
