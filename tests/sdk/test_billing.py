"""Billing and orders through the official SDKs: StarRocks (alibabacloud-starrocks20221019)
and Huawei BSS (huaweicloudsdkbss 3.1.219).

What is checked:
- a prePaid StarRocks create answers an OrderId; AutoPay (default true) provisions at once and
  the expiry is one calendar month later; AutoPay=false leaves the instance `unpaid` with its order
  pending (QueryUnpaidOrder; BSS status 6) until BSS PayOrders pays it (status 5), then it runs and
  the order's resource appears on the `suscriptions` query path;
- QueryPriceV1 agrees with catalog/prices.json;
- RenewInstance extends the expiry by the period and returns its order;
- ModifyChargeType switches prePaid -> postPaid -> prePaid with an order each way;
- with --billing-time-scale a month lasts about a second: an unrenewed instance turns `disable`
  (the SDK's "Unavailable"), and RenewInstance brings it back to `running`;
- BSS unsubscribe removes the instance; auto-renew on/off; an unbuilt BSS operation answers 501.
"""
from __future__ import annotations

import calendar
import datetime as dt
import json
import time
from pathlib import Path

import pytest
from alibabacloud_starrocks20221019 import models as m
from huaweicloudsdkbss.v2 import BssClient
from huaweicloudsdkbss.v2 import model as bss
from huaweicloudsdkcore.auth.credentials import GlobalCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException, ServerResponseException

import sdkhelpers as h

PRICES = json.loads((Path(__file__).resolve().parents[2] / "catalog" / "prices.json").read_text())
SR_PRICES = PRICES["products"]["starrocks"]["monthly_cents"]


def bss_client(server) -> BssClient:
    creds = GlobalCredentials(server.access_key_id, server.access_key_secret)
    return BssClient.new_builder().with_credentials(creds).with_endpoints([server.url]).build()


def add_months(ms: int, months: int) -> int:
    t = dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc)
    total = t.year * 12 + t.month - 1 + months
    y, mo = divmod(total, 12)
    day = min(t.day, calendar.monthrange(y, mo + 1)[1])
    return int(t.replace(year=y, month=mo + 1, day=day).timestamp() * 1000)


def group_monthly_cents(cu=8, nodes=3, spec="standard", size=100, disks=1, level="pl1") -> int:
    return cu * nodes * SR_PRICES[f"cu.{spec}"] + size * disks * nodes * SR_PRICES[f"storage.{level}"]


def test_prepaid_autopay_orders_provisions_and_expires_a_calendar_month_later(client, server):
    before = int(time.time() * 1000)
    resp = client.create_instance_v1(h.new_request(auto_renew=False))
    order_id = resp.body.data.order_id
    assert order_id and int(order_id) > 0
    iid = resp.body.data.instance_id
    h.wait_status(client, iid, "running")
    inst = h.describe_one(client, iid)
    assert inst.pay_type == "prePaid"
    assert add_months(before, 1) - 5_000 <= inst.expire_time <= add_months(int(time.time() * 1000), 1)
    # The paid order is in the ledger that BSS reads.
    details = bss_client(server).show_customer_order_details(
        bss.ShowCustomerOrderDetailsRequest(order_id=str(order_id)))
    assert details.order_info.status == 5
    assert details.order_info.order_type == 1
    # Two default groups (FE, BE), one month.
    assert details.order_info.official_amount == pytest.approx(2 * group_monthly_cents() / 100)


def test_price_query_agrees_with_the_price_table(client):
    req = m.QueryPriceV1Request(
        region_id=h.REGION, pay_type="prePaid", pricing_cycle="Month", duration=3, run_mode="shared_data",
        package_type="official",
        frontend_node_groups=[m.QueryPriceV1RequestFrontendNodeGroups(
            cu=16, resident_node_number=3, storage_size=200, storage_performance_level="pl1",
            disk_number=1, spec_type="standard")],
        backend_node_groups=[m.QueryPriceV1RequestBackendNodeGroups(
            cu=32, resident_node_number=4, storage_size=500, storage_performance_level="pl2",
            disk_number=2, spec_type="ramEnhanced")])
    data = client.query_price_v1(req).body.data
    fe = group_monthly_cents(cu=16, size=200)
    be = group_monthly_cents(cu=32, nodes=4, spec="ramEnhanced", size=500, disks=2, level="pl2")
    assert data.currency == "CNY"
    assert data.trade_amount == pytest.approx(3 * (fe + be) / 100)
    assert data.original_amount == data.trade_amount
    by_name = {c.component_name: c.trade_amount for c in data.component_prices}
    assert by_name == {"FE": pytest.approx(3 * fe / 100), "BE": pytest.approx(3 * be / 100)}
    hourly = client.query_price_v1(m.QueryPriceV1Request(region_id=h.REGION, pay_type="postPaid")).body.data
    assert hourly.trade_amount == pytest.approx(round(2 * group_monthly_cents() / 730) / 100)
    h.expect_error(lambda: client.query_price_v1(m.QueryPriceV1Request(
        region_id=h.REGION, pay_type="prePaid", pricing_cycle="Month", duration=10)),
        status=400, code="InvalidParams", message_names=["Duration"])


def test_unpaid_create_waits_for_payment_through_bss(client, server):
    resp = client.create_instance_v1(h.new_request(auto_pay=False, auto_renew=False))
    iid, order_id = resp.body.data.instance_id, str(resp.body.data.order_id)
    time.sleep(0.3)
    assert h.current_status(client, iid) == "unpaid", "nothing is provisioned before payment"
    unpaid = client.query_unpaid_order(m.QueryUnpaidOrderRequest(instance_id=iid, billing_instance_id=iid))
    assert str(unpaid.body.data) == order_id
    b = bss_client(server)
    assert b.show_customer_order_details(bss.ShowCustomerOrderDetailsRequest(order_id=order_id)).order_info.status == 6
    query = bss.QueryResourcesReq(order_id=order_id, only_main_resource=1)
    assert b.list_pay_per_use_customer_resources(
        bss.ListPayPerUseCustomerResourcesRequest(body=query)).total_count == 0
    b.pay_orders(bss.PayOrdersRequest(body=bss.PayCustomerOrderV3Req(order_id=order_id, use_coupon="NO", use_discount="NO")))
    assert b.show_customer_order_details(bss.ShowCustomerOrderDetailsRequest(order_id=order_id)).order_info.status == 5
    assert h.wait_status(client, iid, "running")[0] in ("unpaid", "creating", "running")
    found = b.list_pay_per_use_customer_resources(bss.ListPayPerUseCustomerResourcesRequest(body=query))
    assert found.total_count == 1 and found.data[0].resource_id == iid and found.data[0].status == 2
    assert client.query_unpaid_order(m.QueryUnpaidOrderRequest(instance_id=iid, billing_instance_id=iid)).body.data is None
    # Paying twice is refused in BSS' envelope.
    with pytest.raises(ClientRequestException) as e:
        b.pay_orders(bss.PayOrdersRequest(body=bss.PayCustomerOrderV3Req(order_id=order_id)))
    assert e.value.status_code == 400 and e.value.error_code == "CBC.0100"


def test_renew_extends_the_expiry_and_charge_type_switches_with_orders(client, server):
    iid = h.create_running(client, auto_renew=False)
    before = h.describe_one(client, iid).expire_time
    quote = client.query_renew_price(m.QueryRenewPriceRequest(instance_id=iid, pricing_cycle="Month", duration=2))
    (price,) = quote.body.data
    assert price.billing_instance_id == iid and price.currency == "CNY"
    assert price.trade_amount == pytest.approx(2 * 2 * group_monthly_cents() / 100)
    resp = client.renew_instance(m.RenewInstanceRequest(instance_id=iid, pricing_cycle="Month", duration=2))
    (renew_order,) = resp.body.data.order_ids
    assert h.describe_one(client, iid).expire_time == add_months(before, 2)
    b = bss_client(server)
    info = b.show_customer_order_details(bss.ShowCustomerOrderDetailsRequest(order_id=renew_order)).order_info
    assert (info.order_type, info.status) == (2, 5)
    assert info.official_amount == pytest.approx(2 * 2 * group_monthly_cents() / 100)

    to_post = client.modify_charge_type(m.ModifyChargeTypeRequest(instance_id=iid)).body.data
    assert to_post and to_post > 0
    inst = h.describe_one(client, iid)
    assert (inst.pay_type, inst.expire_time) == ("postPaid", None)
    h.expect_error(lambda: client.renew_instance(m.RenewInstanceRequest(instance_id=iid, pricing_cycle="Month", duration=1)),
                   status=400, code="IncorrectInstanceStatus")
    to_pre = client.modify_charge_type(m.ModifyChargeTypeRequest(
        instance_id=iid, pricing_cycle="Year", duration=1, auto_renew=False)).body.data
    inst = h.describe_one(client, iid)
    assert inst.pay_type == "prePaid" and inst.expire_time > before
    info = b.show_customer_order_details(bss.ShowCustomerOrderDetailsRequest(order_id=str(to_pre))).order_info
    assert (info.order_type, info.status) == (1, 5)


def test_unsubscribe_removes_the_instance_and_bss_answers_501_for_the_rest(client, server):
    iid = h.create_running(client, auto_renew=False)
    b = bss_client(server)
    resp = b.cancel_resources_subscription(bss.CancelResourcesSubscriptionRequest(
        body=bss.UnsubscribeResourcesReq(resource_ids=[iid], unsubscribe_type=1)))
    assert len(resp.order_ids) == 1 and not resp.fail_resource_infos
    h.wait_status(client, iid, None)
    # Terraform's wait: the in-use query on the real (misspelt) path comes back empty.
    left = b.list_pay_per_use_customer_resources(bss.ListPayPerUseCustomerResourcesRequest(
        body=bss.QueryResourcesReq(resource_ids=[iid], status_list=[2], only_main_resource=1, limit=10, offset=0)))
    assert left.total_count == 0
    with pytest.raises(ServerResponseException) as e:
        b.list_customer_orders(bss.ListCustomerOrdersRequest())
    assert e.value.status_code == 501


def test_auto_renew_on_and_off_through_bss(client, server):
    iid = h.create_running(client, auto_renew=False)
    b = bss_client(server)
    b.auto_renewal_resources(bss.AutoRenewalResourcesRequest(resource_id=iid))
    res = b.list_pay_per_use_customer_resources(bss.ListPayPerUseCustomerResourcesRequest(
        body=bss.QueryResourcesReq(resource_ids=[iid])))
    assert res.data[0].expire_policy == 3
    b.cancel_auto_renewal_resources(bss.CancelAutoRenewalResourcesRequest(resource_id=iid))
    res = b.list_pay_per_use_customer_resources(bss.ListPayPerUseCustomerResourcesRequest(
        body=bss.QueryResourcesReq(resource_ids=[iid])))
    assert res.data[0].expire_policy == 0


def test_an_unrenewed_instance_expires_and_renewal_revives_it(server_factory, monkeypatch):
    # 2,592,000: a 30-day month lasts one second (at most 1.04 s for 31 days).
    monkeypatch.setenv("CLOUDTWIN_BILLING_TIME_SCALE", "2592000")
    srv = server_factory()
    client = srv.client()
    iid = h.create(client, auto_renew=False)
    seen = h.wait_status(client, iid, "disable", timeout=10)
    assert "running" in seen or seen[0] in ("creating", "running"), seen
    client.renew_instance(m.RenewInstanceRequest(instance_id=iid, pricing_cycle="Year", duration=1))
    assert h.current_status(client, iid) == "running"
    # A year is 12 compressed months: still running a second later.
    time.sleep(1.2)
    assert h.current_status(client, iid) == "running"
    # An auto-renewing instance never lapses.
    other = h.create_running(client, auto_renew=True)
    time.sleep(1.5)
    assert h.current_status(client, other) == "running"


# ------------------------------------------------------------------------ Huawei DMS for RocketMQ

import test_rocketmq as rq  # noqa: E402  (the RocketMQ suite's client builder and seed request)
from huaweicloudsdkrocketmq.v2 import model as rm  # noqa: E402

RMQ_PRICES = PRICES["products"]["rocketmq"]["monthly_cents"]


def rmq_prepaid(client, auto_pay: bool, auto_renew=False, period=("month", 1)):
    fields = rq.seed_fields(name=f"prepaid-{time.time_ns()}")
    fields["bss_param"] = rm.BssParam(charging_mode="prePaid", period_type=period[0], period_num=period[1],
                                      is_auto_pay=auto_pay, is_auto_renew=auto_renew)
    resp = client.create_instance_by_engine(rm.CreateInstanceByEngineRequest(
        engine="reliability", body=rm.CreateInstanceByEngineReq(**fields)))
    return resp.instance_id, json.loads(resp.raw_content)["order_id"]


def test_rocketmq_prepaid_from_order_to_running(server):
    client, b = rq.rmq(server), bss_client(server)
    iid, order_id = rmq_prepaid(client, auto_pay=False)
    # Invisible until paid, exactly as Terraform polls for it.
    rq.refused(lambda: rq.show(client, iid), 404, "DMS.00404022")
    assert iid not in [i.instance_id for i in client.list_instances(rm.ListInstancesRequest()).instances]
    info = b.show_customer_order_details(bss.ShowCustomerOrderDetailsRequest(order_id=order_id)).order_info
    assert info.status == 6
    # The seed's flavor (c6.4u8g.cluster, 1 broker) and 600 GB of ultra storage, one month.
    assert info.official_amount == pytest.approx(
        (RMQ_PRICES["flavor.c6.4u8g.cluster"] + 600 * RMQ_PRICES["storage.dms.physical.storage.ultra.v2"]) / 100)
    b.pay_orders(bss.PayOrdersRequest(body=bss.PayCustomerOrderV3Req(order_id=order_id, use_coupon="NO", use_discount="NO")))
    assert b.show_customer_order_details(bss.ShowCustomerOrderDetailsRequest(order_id=order_id)).order_info.status == 5
    rq.wait_status(client, iid, "RUNNING")
    assert json.loads(rq.show(client, iid).raw_content)["order_id"] == order_id
    found = b.list_pay_per_use_customer_resources(bss.ListPayPerUseCustomerResourcesRequest(
        body=bss.QueryResourcesReq(order_id=order_id, only_main_resource=1)))
    assert [r.resource_id for r in found.data] == [iid]
    # Unsubscribe (type 1, as Terraform deletes prePaid) until the in-use query is empty and show is 404.
    b.cancel_resources_subscription(bss.CancelResourcesSubscriptionRequest(
        body=bss.UnsubscribeResourcesReq(resource_ids=[iid], unsubscribe_type=1)))
    rq.wait_gone(client, iid)
    left = b.list_pay_per_use_customer_resources(bss.ListPayPerUseCustomerResourcesRequest(
        body=bss.QueryResourcesReq(resource_ids=[iid], status_list=[2], only_main_resource=1)))
    assert left.total_count == 0


def test_rocketmq_autopaid_prepaid_runs_and_freezes_when_it_expires(server_factory, monkeypatch):
    monkeypatch.setenv("CLOUDTWIN_BILLING_TIME_SCALE", "2592000")
    srv = server_factory()
    client = rq.rmq(srv)
    iid, _ = rmq_prepaid(client, auto_pay=True)
    rq.wait_status(client, iid, "FROZEN", timeout=10)
    res = bss_client(srv).list_pay_per_use_customer_resources(bss.ListPayPerUseCustomerResourcesRequest(
        body=bss.QueryResourcesReq(resource_ids=[iid])))
    assert res.data[0].status == 5, "expired"


# ------------------------------------------------------------------------ Huawei TaurusDB HTAP StarRocks

import test_taurusdb as td  # noqa: E402
from huaweicloudsdkgaussdb.v3 import model as gm  # noqa: E402

HTAP_PRICES = PRICES["products"]["htap-starrocks"]["monthly_cents"]


def test_htap_prepaid_is_paid_through_bss_as_terraform_does(server):
    c, b = td.gauss(server), bss_client(server)
    pid = td.make_parent(c)
    resp = c.create_starrocks_instance(gm.CreateStarrocksInstanceRequest(instance_id=pid, body=td.sr_body(
        pay_info=gm.StarRocksCreateRequestPayInfo(pay_model="1", period="2", period_type="2", is_auto_renew="0"))))
    sr_id = resp.instance.id
    order_id = resp.instance.pay_info.order_id
    assert order_id and resp.instance.pay_info.pay_model == "1"
    info = b.show_customer_order_details(bss.ShowCustomerOrderDetailsRequest(order_id=order_id)).order_info
    assert info.status == 6
    monthly = (HTAP_PRICES[f"flavor.{td.FE_FLAVOR}"] + HTAP_PRICES[f"flavor.{td.BE_FLAVOR}"]
               + 2 * 50 * HTAP_PRICES["storage.SSD"])
    assert info.official_amount == pytest.approx(2 * monthly / 100)
    time.sleep(0.3)
    assert td.show_sr(c, pid, sr_id).status == "pending", "not provisioned before payment"
    # Terraform: pay, wait for status 5, wait for the order's resource, then for "normal".
    b.pay_orders(bss.PayOrdersRequest(body=bss.PayCustomerOrderV3Req(order_id=order_id, use_coupon="NO", use_discount="NO")))
    assert b.show_customer_order_details(bss.ShowCustomerOrderDetailsRequest(order_id=order_id)).order_info.status == 5
    res = b.list_pay_per_use_customer_resources(bss.ListPayPerUseCustomerResourcesRequest(
        body=bss.QueryResourcesReq(order_id=order_id, only_main_resource=1)))
    assert res.total_count >= 1 and res.data[0].resource_id == sr_id
    td.wait_job(c, resp.job_id)
    shown = td.show_sr(c, pid, sr_id)
    assert shown.status == "normal" and shown.pay_model == "1"
    b.cancel_resources_subscription(bss.CancelResourcesSubscriptionRequest(
        body=bss.UnsubscribeResourcesReq(resource_ids=[sr_id], unsubscribe_type=1)))
    deadline = time.monotonic() + 10
    while b.list_pay_per_use_customer_resources(bss.ListPayPerUseCustomerResourcesRequest(
            body=bss.QueryResourcesReq(resource_ids=[sr_id], status_list=[2]))).total_count:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    # Status 3 (being released) comes first; the instance is gone once its release job ends.
    while True:
        try:
            td.show_sr(c, pid, sr_id)
        except ClientRequestException:
            break
        assert time.monotonic() < deadline, "still shown after the release"
        time.sleep(0.1)


# ------------------------------------------------------------------------ Alibaba OpenSearch Havenask

import test_havenask as hv  # noqa: E402


def iso_ms(s: str) -> int:
    return int(dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc).timestamp() * 1000)


def test_havenask_order_sets_the_expiry_and_a_lapsed_term_locks(server_factory, monkeypatch):
    srv = server_factory()
    c = hv.ha_client(srv)
    before = int(time.time() * 1000) // 1000 * 1000
    iid = hv.create(c, order=hv.order(auto_renew=False, duration=3, pricing_cycle="Month"))
    r = hv.get(c, iid)
    assert add_months(before, 3) <= iso_ms(r.expired_time) <= add_months(int(time.time() * 1000), 3)
    assert r.lock_mode == "Unlock"
    year = hv.get(c, hv.create(c, order=hv.order(auto_renew=False, duration=1, pricing_cycle="Year")))
    assert add_months(before, 12) <= iso_ms(year.expired_time) <= add_months(int(time.time() * 1000), 12)

    monkeypatch.setenv("CLOUDTWIN_BILLING_TIME_SCALE", "2592000")
    fast = server_factory()
    fc = hv.ha_client(fast)
    lapsing = hv.create(fc, order=hv.order(auto_renew=False, duration=1, pricing_cycle="Month"))
    renewing = hv.create(fc, order=hv.order(auto_renew=True, duration=1, pricing_cycle="Month"))
    time.sleep(1.5)
    assert hv.get(fc, lapsing).lock_mode == "LockByExpiration"
    kept = hv.get(fc, renewing)
    assert kept.lock_mode == "Unlock" and iso_ms(kept.expired_time) > int(time.time() * 1000) - 1000


def test_early_renewal_moves_the_expiry_and_a_restart_keeps_it(server_factory, monkeypatch):
    monkeypatch.setenv("CLOUDTWIN_BILLING_TIME_SCALE", "2592000")
    srv = server_factory()
    client = srv.client()
    started = time.monotonic()
    iid = h.create_running(client, auto_renew=False, duration=1)
    client.renew_instance(m.RenewInstanceRequest(instance_id=iid, pricing_cycle="Month", duration=2))
    # The first month (about 1 s) has passed: the renewal moved the due time.
    time.sleep(max(0.0, started + 1.6 - time.monotonic()))
    assert h.current_status(client, iid) == "running"
    # Stopped across the new end: the durable expiry job still runs after the restart.
    srv.stop()
    time.sleep(max(0.0, started + 3.6 - time.monotonic()))
    srv.start()
    client = srv.client()
    h.wait_status(client, iid, "disable", timeout=5)


def test_a_prepaid_scale_up_writes_a_change_order_for_the_rest_of_the_term(client, server):
    iid = h.create_running(client, auto_renew=False)
    inst = h.describe_one(client, iid)
    be = h.be_group(client, iid)
    order_id = client.modify_cu(m.ModifyCuRequest(instance_id=iid, node_group_id=be.node_group_id, target=16)).body.data
    assert order_id > 0
    info = bss_client(server).show_customer_order_details(
        bss.ShowCustomerOrderDetailsRequest(order_id=str(order_id))).order_info
    assert (info.order_type, info.status) == (3, 5)
    # 8 more CU on 3 nodes, for the hours left in the term.
    hours_left = (inst.expire_time - time.time() * 1000) / 3_600_000
    expected = 8 * 3 * SR_PRICES["cu.standard"] * hours_left / 730 / 100
    assert info.official_amount == pytest.approx(expected, rel=0.01)
    h.wait_status(client, iid, "running")
    # Scaling back down refunds nothing; a postPaid change has no order.
    down = client.modify_cu(m.ModifyCuRequest(instance_id=iid, node_group_id=be.node_group_id, target=8)).body.data
    assert bss_client(server).show_customer_order_details(
        bss.ShowCustomerOrderDetailsRequest(order_id=str(down))).order_info.official_amount == 0
    post = h.create_running(client, pay_type="postPaid", pricing_cycle=None, duration=None)
    g = h.be_group(client, post)
    assert client.modify_cu(m.ModifyCuRequest(instance_id=post, node_group_id=g.node_group_id, target=16)).body.data == 0


def test_rocketmq_renewal_through_bss_paid_now_or_when_the_order_is_paid(server):
    client, b = rq.rmq(server), bss_client(server)
    iid, _ = rmq_prepaid(client, auto_pay=True)
    rq.wait_status(client, iid, "RUNNING")

    def expiry() -> int:
        res = b.list_pay_per_use_customer_resources(bss.ListPayPerUseCustomerResourcesRequest(
            body=bss.QueryResourcesReq(resource_ids=[iid])))
        return iso_ms(res.data[0].expire_time)

    first = expiry()
    paid = b.renewal_resources(bss.RenewalResourcesRequest(body=bss.RenewalResourcesReq(
        resource_ids=[iid], period_type=2, period_num=2, is_auto_pay=1)))
    assert len(paid.order_ids) == 1 and not paid.fail_resource_infos
    assert expiry() == add_months(first, 2)
    info = b.show_customer_order_details(bss.ShowCustomerOrderDetailsRequest(order_id=paid.order_ids[0])).order_info
    assert (info.order_type, info.status) == (2, 5)
    assert info.official_amount == pytest.approx(
        2 * (RMQ_PRICES["flavor.c6.4u8g.cluster"] + 600 * RMQ_PRICES["storage.dms.physical.storage.ultra.v2"]) / 100)
    unpaid = b.renewal_resources(bss.RenewalResourcesRequest(body=bss.RenewalResourcesReq(
        resource_ids=[iid], period_type=3, period_num=1)))
    assert expiry() == add_months(first, 2), "an unpaid renewal adds nothing yet"
    b.pay_orders(bss.PayOrdersRequest(body=bss.PayCustomerOrderV3Req(order_id=unpaid.order_ids[0])))
    assert expiry() == add_months(first, 14)
    with pytest.raises(ClientRequestException) as e:
        b.renewal_resources(bss.RenewalResourcesRequest(body=bss.RenewalResourcesReq(
            resource_ids=[iid], period_type=2, period_num=12, is_auto_pay=1)))
    assert e.value.error_code == "CBC.0100"


def test_an_order_for_a_released_instance_cannot_be_paid(client, server):
    resp = client.create_instance_v1(h.new_request(auto_pay=False))
    iid, order_id = resp.body.data.instance_id, str(resp.body.data.order_id)
    client.release_instance(m.ReleaseInstanceRequest(instance_id=iid))
    h.wait_status(client, iid, None)
    b = bss_client(server)
    with pytest.raises(ClientRequestException) as e:
        b.pay_orders(bss.PayOrdersRequest(body=bss.PayCustomerOrderV3Req(order_id=order_id)))
    assert e.value.error_code == "CBC.0100" and "cancelled" in e.value.error_msg
    assert b.show_customer_order_details(bss.ShowCustomerOrderDetailsRequest(order_id=order_id)).order_info.status == 4
