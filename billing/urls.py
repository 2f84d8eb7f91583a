from django.urls import path

from billing import apis

app_name = "billing"

urlpatterns = [
    path("plans/", apis.PlanListApi.as_view(), name="plans"),
    path("subscription/", apis.SubscriptionApi.as_view(), name="subscription"),
    path("subscription/downgrade/", apis.SubscriptionDowngradeApi.as_view(), name="downgrade"),
    path("subscription/trial/", apis.SubscriptionTrialApi.as_view(), name="trial"),
    path("subscription/profit-share/", apis.SubscriptionProfitShareApi.as_view(), name="profit-share"),
    path("checkout/", apis.CheckoutApi.as_view(), name="checkout"),
    path("payments/", apis.PaymentListApi.as_view(), name="payments"),
    path("payments/<int:payment_id>/", apis.PaymentDetailApi.as_view(), name="payment"),
    path("webhooks/<slug:provider>/", apis.WebhookApi.as_view(), name="webhook"),
]
