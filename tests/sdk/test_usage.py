"""Pay-per-use usage through the official SDKs: postPaid instances accrue their list price
(catalog/prices.json, monthly / 730 per hour) by the second, read with huaweicloudsdkbss
ListCustomerselfResourceRecords (one record per stretch at one rate) and ShowCustomerMonthlySum. The ledger is the
account's, so an Alibaba StarRocks instance is listed too (the StarRocks SDK has no usage read).
"""
from __future__ import annotations

import datetime as dt
import time
from decimal import ROUND_HALF_UP, Decimal

import pytest

from huaweicloudsdkbss.v2 import model as bss
from huaweicloudsdkrocketmq.v2 import model as rm

import sdkhelpers as h
import test_rocketmq as rq
from test_billing import PRICES, bss_client, group_monthly_cents

RMQ = PRICES["products"]["rocketmq"]["monthly_cents"]


def secs(iso: str) -> int:
    return int(dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


def cycle() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m")


def records(b, rid):
    return b.list_customerself_resource_records(bss.ListCustomerselfResourceRecordsRequest(
        cycle=cycle(), resource_id=rid, limit=100)).fee_records


def check_arithmetic(r, monthly_cents: int):
    """The amount is the price table's: seconds × monthly / 730 / 3600, to 0.000001."""
    seconds = secs(r.expire_time) - secs(r.effective_time)
    want = (Decimal(monthly_cents) / 100 * seconds / 730 / 3600).quantize(Decimal("0.000001"), ROUND_HALF_UP)
    assert Decimal(str(r.amount)) == want, (r.amount, want, seconds)
    assert r.charge_mode == "3" and r.bill_type == 5


def rmq_monthly(brokers: int) -> int:
    return brokers * (RMQ["flavor.c6.4u8g.cluster"] + 600 * RMQ["storage.dms.physical.storage.ultra.v2"])


def test_rocketmq_postpaid_accrues_follows_a_resize_and_stops_at_release(server):
    client, b = rq.rmq(server), bss_client(server)
    resp = client.create_instance_by_engine(rm.CreateInstanceByEngineRequest(
        engine="reliability", body=rm.CreateInstanceByEngineReq(**rq.seed_fields(name=f"ppu-{time.time_ns()}"))))
    iid = resp.instance_id
    rq.wait_status(client, iid, "RUNNING")
    time.sleep(2.2)
    first = records(b, iid)
    assert len(first) == 1
    check_arithmetic(first[0], rmq_monthly(1))
    assert Decimal(str(first[0].amount)) > 0
    client.resize_instance_for_rocket_mq(rm.ResizeInstanceForRocketMqRequest(
        instance_id=iid, body=rm.ResizeEngineInstanceReq(oper_type="horizontal", new_broker_num=2)))
    rq.wait_status(client, iid, "RUNNING")
    time.sleep(2.2)
    two = records(b, iid)
    assert len(two) == 2, "the resize starts a stretch at the new rate"
    check_arithmetic(two[0], rmq_monthly(1))
    check_arithmetic(two[1], rmq_monthly(2))
    assert two[0].expire_time == two[1].effective_time
    client.delete_instance(rm.DeleteInstanceRequest(instance_id=iid))
    stopped = records(b, iid)
    time.sleep(1.5)
    assert [(r.expire_time, r.amount) for r in records(b, iid)] == [(r.expire_time, r.amount) for r in stopped], \
        "nothing accrues after the release"
    rq.wait_gone(client, iid)
    listed = b.list_customerself_resource_records(bss.ListCustomerselfResourceRecordsRequest(
        cycle=cycle(), limit=1000)).fee_records
    assert [r.amount for r in listed if r.resource_id == iid] == [r.amount for r in stopped], \
        "a released resource's records stay in the listing"
    # The month's sum per service is the sum of its records (this server's account has no other).
    summed = b.show_customer_monthly_sum(bss.ShowCustomerMonthlySumRequest(
        bill_cycle=cycle(), service_type_code="hws.service.type.dms"))
    assert [(x.charging_mode, x.service_type_code) for x in summed.bill_sums] == [(3, "hws.service.type.dms")]
    want = sum(Decimal(str(r.amount)) for r in stopped)
    assert Decimal(str(summed.bill_sums[0].consume_amount)) == want
    assert Decimal(str(summed.consume_amount)) == want
    assert b.list_customerself_resource_records(bss.ListCustomerselfResourceRecordsRequest(
        cycle=cycle(), resource_id=iid, charge_mode="1")).total_count == 0, "only pay-per-use accrues usage"


def test_starrocks_postpaid_accrues_in_the_account_ledger_follows_modify_cu_and_a_switch_to_prepaid_stops_it(client, server):
    from alibabacloud_starrocks20221019 import models as m
    b = bss_client(server)
    iid = client.create_instance_v1(h.new_request(pay_type="postPaid")).body.data.instance_id
    h.wait_status(client, iid, "running")
    time.sleep(2.2)
    listed = b.list_customerself_resource_records(bss.ListCustomerselfResourceRecordsRequest(cycle=cycle(), limit=100))
    mine = [r for r in listed.fee_records if r.resource_id == iid]
    assert len(mine) == 1
    check_arithmetic(mine[0], 2 * group_monthly_cents())
    be = h.be_group(client, iid)
    client.modify_cu(m.ModifyCuRequest(instance_id=iid, node_group_id=be.node_group_id, target=16))
    h.wait_status(client, iid, "running")
    time.sleep(1.2)
    resized = records(b, iid)
    assert len(resized) == 2 and resized[0].expire_time == resized[1].effective_time
    check_arithmetic(resized[0], 2 * group_monthly_cents())
    check_arithmetic(resized[1], group_monthly_cents() + group_monthly_cents(cu=16))
    client.modify_charge_type(m.ModifyChargeTypeRequest(
        instance_id=iid, pricing_cycle="Month", duration=1, auto_renew=False))
    stopped = records(b, iid)
    time.sleep(1.5)
    assert [r.amount for r in records(b, iid)] == [r.amount for r in stopped]
    # Back to postPaid: accrual starts again, in a new stretch.
    client.modify_charge_type(m.ModifyChargeTypeRequest(instance_id=iid))
    time.sleep(1.2)
    again = records(b, iid)
    assert len(again) == len(stopped) + 1
    assert again[-1].effective_time >= stopped[-1].expire_time
    check_arithmetic(again[-1], group_monthly_cents() + group_monthly_cents(cu=16))


def test_the_cycle_is_required_and_checked(server):
    from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
    import pytest
    b = bss_client(server)
    with pytest.raises(ClientRequestException) as e:
        b.list_customerself_resource_records(bss.ListCustomerselfResourceRecordsRequest(cycle="2026-13"))
    assert e.value.status_code == 400 and e.value.error_code == "CBC.0100"


# Not instant: an instant create is delivered within milliseconds, so the read right after it
# saw a 1-second stretch whenever the two straddled a second boundary (a CI flake).
@pytest.mark.lifecycle("1s")
def test_htap_starrocks_postpaid_accrues_follows_a_flavor_resize_and_stops_at_release(server):
    import test_taurusdb as td
    from huaweicloudsdkgaussdb.v3 import model as gm
    htap = PRICES["products"]["htap-starrocks"]["monthly_cents"]

    def monthly(be_flavor):
        return htap[f"flavor.{td.FE_FLAVOR}"] + htap[f"flavor.{be_flavor}"] + 2 * 50 * htap["storage.SSD"]

    c, b = td.gauss(server), bss_client(server)
    pid = td.make_parent(c)
    resp = c.create_starrocks_instance(gm.CreateStarrocksInstanceRequest(instance_id=pid, body=td.sr_body()))
    sr = resp.instance.id
    assert records(b, sr) == [], "nothing accrues before the instance is delivered"
    td.wait_job(c, resp.job_id)
    time.sleep(2.2)
    first = records(b, sr)
    assert len(first) == 1
    check_arithmetic(first[0], monthly(td.BE_FLAVOR))
    rz = c.resize_star_rocks_flavor(gm.ResizeStarRocksFlavorRequest(
        instance_id=sr, body=gm.SrFlavorResizeReq(be_flavor_id=td.BIG_FLAVOR)))
    td.wait_job(c, rz.job_id)
    time.sleep(1.2)
    two = records(b, sr)
    assert len(two) == 2 and two[0].expire_time == two[1].effective_time
    check_arithmetic(two[0], monthly(td.BE_FLAVOR))
    check_arithmetic(two[1], monthly(td.BIG_FLAVOR))
    c.delete_starrocks_instance(gm.DeleteStarrocksInstanceRequest(instance_id=pid, starrocks_instance_id=sr))
    stopped = records(b, sr)
    time.sleep(1.5)
    assert [r.amount for r in records(b, sr)] == [r.amount for r in stopped]


def test_usage_survives_a_hard_restart_and_keeps_accruing(server):
    client = rq.rmq(server)
    resp = client.create_instance_by_engine(rm.CreateInstanceByEngineRequest(
        engine="reliability", body=rm.CreateInstanceByEngineReq(**rq.seed_fields(name=f"ppu-{time.time_ns()}"))))
    iid = resp.instance_id
    rq.wait_status(client, iid, "RUNNING")
    time.sleep(1.1)
    before = records(bss_client(server), iid)
    server.restart(hard=True)
    time.sleep(1.1)
    after = records(bss_client(server), iid)
    assert len(after) == 1 and after[0].effective_time == before[0].effective_time
    assert Decimal(str(after[0].amount)) > Decimal(str(before[0].amount))
    check_arithmetic(after[0], rmq_monthly(1))
