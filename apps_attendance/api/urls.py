from django.urls import path

from . import views

urlpatterns = [
    path("attendance/check-in/", views.CheckInApi.as_view(), name="api-attendance-check-in"),
    path("attendance/check-out/", views.CheckOutApi.as_view(), name="api-attendance-check-out"),
    path("attendance/days/", views.DaysApi.as_view(), name="api-attendance-days"),
]
