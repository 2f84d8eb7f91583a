from django.urls import path

from pools import apis

urlpatterns = [
    path("", apis.PoolListCreateApi.as_view(), name="pools"),
    path("mine/", apis.PoolMineApi.as_view(), name="pools-mine"),
    path("manager/", apis.ManagerApi.as_view(), name="pools-manager"),
    path("earnings/", apis.EarningsApi.as_view(), name="pools-earnings"),
    path("payouts/", apis.ManagerPayoutsApi.as_view(), name="pools-payouts"),
    path("memberships/", apis.MembershipListApi.as_view(), name="pools-memberships"),
    path("memberships/<int:pk>/amount/", apis.MembershipAmountApi.as_view(), name="pools-membership-amount"),
    path("memberships/<int:pk>/leave/", apis.MembershipLeaveApi.as_view(), name="pools-membership-leave"),
    path("<int:pk>/", apis.PoolDetailApi.as_view(), name="pools-detail"),
    path("<int:pk>/preview/", apis.PoolPreviewApi.as_view(), name="pools-preview"),
    path("<int:pk>/join/", apis.PoolJoinApi.as_view(), name="pools-join"),
]
