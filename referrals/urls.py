from django.urls import path

from referrals import apis

urlpatterns = [
    path("me/", apis.PartnerDashboardApi.as_view(), name="referrals-me"),
    path("attribute/", apis.ReferralAttributeApi.as_view(), name="referrals-attribute"),
    path("codes/", apis.ReferralCodeCreateApi.as_view(), name="referrals-codes"),
    path("codes/<str:code>/", apis.ReferralCodeCheckApi.as_view(), name="referrals-code-check"),
    path("payouts/", apis.PayoutListApi.as_view(), name="referrals-payouts"),
]
