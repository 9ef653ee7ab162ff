from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps_attendance import selectors, services
from apps_attendance.models import Punch


class PunchSerializer(serializers.ModelSerializer):
    class Meta:
        model = Punch
        fields = ["id", "kind", "at", "source", "address"]
        ref_name = "Punch"


class PunchApi(APIView):
    kind = ""

    @extend_schema(request=None, responses={201: PunchSerializer})
    def post(self, request):
        punch = services.punch_record(
            user=request.user, kind=self.kind, source=Punch.Source.API, address=request.META.get("REMOTE_ADDR")
        )
        return Response(PunchSerializer(punch).data, status=status.HTTP_201_CREATED)


class CheckInApi(PunchApi):
    kind = Punch.Kind.CHECK_IN


class CheckOutApi(PunchApi):
    kind = Punch.Kind.CHECK_OUT


class DaysApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AttendanceDay"

        user = serializers.CharField()
        date = serializers.DateField()
        status = serializers.CharField(allow_null=True)
        minutes_late = serializers.IntegerField()
        minutes_early = serializers.IntegerField()
        punches = serializers.ListField(child=serializers.DictField())

    @extend_schema(
        parameters=[
            OpenApiParameter("month", str, required=True, description="YYYY-MM"),
            OpenApiParameter("department", str, description="A department you manage (its code)."),
            OpenApiParameter("user", str, description="A person of a department you manage (username)."),
        ],
        responses={200: OutputSerializer(many=True)},
    )
    def get(self, request):
        first, last = selectors.month_bounds(request.query_params.get("month", ""))
        users = selectors.people_for_viewer(
            viewer=request.user,
            department_code=request.query_params.get("department"),
            username=request.query_params.get("user"),
        )
        return Response(selectors.days_for(users=users, first=first, last=last))
