"""Snapshot round trip through the official SDKs: create instances of several products,
read them, export, reset, see them gone, import, and read the same answers again.

Snapshots go over the admin API (docs/admin.md); the CLI export is checked against it. The
billing ledger travels too: an unpaid order still pays (and provisions) after the round trip."""
from __future__ import annotations

import json
import subprocess
import time

from alibabacloud_starrocks20221019 import models as srm
from alibabacloud_tea_openapi.exceptions import ClientException
from huaweicloudsdkbss.v2 import model as bss
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkgaussdb.v3 import model as gm
from huaweicloudsdkrocketmq.v2 import model as rm

import sdkhelpers
from sdkhelpers import admin, create_running, describe, new_request
from test_billing import bss_client, rmq_prepaid
from test_havenask import create as ha_create
from test_havenask import get as ha_get
from test_havenask import ha_client
from test_havenask import wait_status as ha_wait
from test_rocketmq import create_seed, rmq
from test_rocketmq import wait_status as rmq_wait
from test_taurusdb import gauss, make_parent, sr_body, wait_job

# Fields that move with the clock between two reads of the same state.
CLOCK_FIELDS = {"RequestId", "request_id", "RunningTime", "running_time"}


def stable(value):
    """A read's answer without request ids and clock-driven fields."""
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items() if k not in CLOCK_FIELDS}
    if isinstance(value, list):
        return [stable(v) for v in value]
    return value


def build(server):
    """One instance of each product, settled; answers the clients and ids."""
    sr = server.client()
    token = "snapshot-token-1"
    sr_id = create_running(sr, instance_name="snap-sr", client_token=token)

    ha = ha_client(server)
    ha_id = ha_create(ha)
    ha_wait(ha, ha_id, "READY")

    mq = rmq(server)
    mq_id = create_seed(mq, name="snap-mq")
    rmq_wait(mq, mq_id, "RUNNING")

    gs = gauss(server)
    parent = make_parent(gs, name="snap-parent")
    htap = gs.create_starrocks_instance(gm.CreateStarrocksInstanceRequest(instance_id=parent, body=sr_body()))
    wait_job(gs, htap.job_id)
    return dict(sr=sr, ha=ha, mq=mq, gs=gs, sr_id=sr_id, ha_id=ha_id, mq_id=mq_id, parent=parent,
                htap_id=htap.instance.id, token=token)


def read_all(server, ids):
    """Every SDK read of the built state, as plain data."""
    sr = server.client()
    ha = ha_client(server)
    mq = rmq(server)
    gs = gauss(server)
    return stable({
        "starrocks": describe(sr, page_size=100).to_map(),
        "starrocks_one": describe(sr, instance_id=ids["sr_id"]).to_map(),
        "havenask": ha_get(ha, ids["ha_id"]).to_map(),
        "rocketmq": mq.show_instance(rm.ShowInstanceRequest(instance_id=ids["mq_id"])).to_json_object(),
        "rocketmq_list": mq.list_instances(rm.ListInstancesRequest()).to_json_object(),
        "taurusdb": gs.show_gauss_my_sql_instance_info(
            gm.ShowGaussMySqlInstanceInfoRequest(instance_id=ids["parent"])).to_json_object(),
        "htap": gs.list_starrocks_instance_info(gm.ListStarrocksInstanceInfoRequest(
            instance_id=ids["parent"], starrocks_instance_id=ids["htap_id"])).to_json_object(),
    })


def cli_export(server) -> dict:
    r = subprocess.run([server.binary, "snapshot", "export", "--data-dir", str(server.data_dir)],
                       capture_output=True, text=True, timeout=60, env=server.env, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_export_reset_import_reads_the_same(server):
    ids = build(server)
    before = read_all(server, ids)
    assert len(before["starrocks"]["Data"]) == 1

    status, snapshot = admin(server, "GET", "/snapshot")
    assert status == 200, snapshot
    assert snapshot["format_version"] == 2
    products = sorted({i["product"] for i in snapshot["instances"]})
    assert products == ["Havenask", "HtapStarRocks", "RocketMq", "StarRocks", "TaurusDb"], products
    assert server.access_key_secret not in json.dumps(snapshot), "secrets stay sealed"
    cli = cli_export(server)
    assert {**cli, "exported_ms": 0} == {**snapshot, "exported_ms": 0}, "the CLI exports the same"

    status, body = admin(server, "POST", "/reset", {"all": True})
    assert (status, body) == (200, {"reset": "all"})
    # Gone: even the account that signed the reads.
    try:
        describe(server.client(), instance_id=ids["sr_id"])
        raise AssertionError("the instance outlived the reset")
    except ClientException as e:
        assert e.code == "InvalidAccessKeyId.NotFound", e
    try:
        rmq(server)
        raise AssertionError("the Huawei key outlived the reset")
    except ClientRequestException as e:
        assert e.status_code == 401, e

    status, loaded = admin(server, "POST", "/snapshot", snapshot)
    assert status == 200, loaded
    assert loaded["imported"]["instances"] == len(snapshot["instances"])
    after = read_all(server, ids)
    assert after == before

    # Client tokens came back too: the first create's retry answers the same instance.
    resp = server.client().create_instance_v1(new_request(instance_name="snap-sr", client_token=ids["token"]))
    assert resp.body.data.instance_id == ids["sr_id"]
    assert len(describe(server.client(), page_size=100).data) == 1

    # A second import into the now full server is refused and changes nothing.
    status, refused = admin(server, "POST", "/snapshot", snapshot)
    assert status == 409 and refused["error"]["code"] == "ServerNotEmpty", refused
    assert read_all(server, ids) == before


def test_one_accounts_snapshot_loads_alone(server):
    ids = build(server)
    other = server.create_account("snap-other")
    other_client = server.client(other["access_key_id"], other["access_key_secret"])
    other_id = create_running(other_client, instance_name="other-sr")
    before = read_all(server, ids)

    status, accounts = admin(server, "GET", "/accounts")
    default_id = next(a["account_id"] for a in accounts["accounts"] if a["account"] == "default")
    status, one = admin(server, "GET", f"/snapshot?account={default_id}")
    assert status == 200, one
    assert [a["id"] for a in one["accounts"]] == [default_id]
    assert other_id not in json.dumps(one)

    admin(server, "POST", "/reset", {"all": True})
    status, loaded = admin(server, "POST", "/snapshot", one)
    assert status == 200, loaded
    assert read_all(server, ids) == before
    try:
        describe(other_client, instance_id=other_id)
        raise AssertionError("the other account came back")
    except ClientException as e:
        assert e.code == "InvalidAccessKeyId.NotFound", e
    assert sdkhelpers.INSTANCE_ID_RE.match(other_id)


def read_billing(server, ids):
    """Every billing read of the prePaid instances and their orders, as plain data."""
    sr = server.client()
    b = bss_client(server)
    mq = rmq(server)

    def order(order_id):
        return b.show_customer_order_details(bss.ShowCustomerOrderDetailsRequest(order_id=order_id)).to_json_object()

    def resources(order_id):
        return b.list_pay_per_use_customer_resources(bss.ListPayPerUseCustomerResourcesRequest(
            body=bss.QueryResourcesReq(order_id=order_id, only_main_resource=1))).to_json_object()

    return stable({
        "unpaid": sr.query_unpaid_order(srm.QueryUnpaidOrderRequest(
            instance_id=ids["unpaid_id"], billing_instance_id=ids["unpaid_id"])).body.to_map(),
        "unpaid_order": order(ids["unpaid_order"]),
        "unpaid_instance": describe(sr, instance_id=ids["unpaid_id"]).to_map(),
        "mq_order": order(ids["mq_order"]),
        "mq_resources": resources(ids["mq_order"]),
        "mq": json.loads(mq.show_instance(rm.ShowInstanceRequest(instance_id=ids["mq_id"])).raw_content),
    })


def test_orders_survive_export_reset_import_and_still_pay(server):
    sr = server.client()
    resp = sr.create_instance_v1(new_request(instance_name="snap-unpaid", auto_pay=False, auto_renew=False))
    unpaid_id, unpaid_order = resp.body.data.instance_id, str(resp.body.data.order_id)
    mq = rmq(server)
    mq_id, mq_order = rmq_prepaid(mq, auto_pay=True)
    rmq_wait(mq, mq_id, "RUNNING")
    time.sleep(0.3)
    assert sdkhelpers.current_status(sr, unpaid_id) == "unpaid"
    ids = dict(unpaid_id=unpaid_id, unpaid_order=unpaid_order, mq_id=mq_id, mq_order=mq_order)
    before = read_billing(server, ids)
    assert str(before["unpaid"]["Data"]) == unpaid_order
    assert before["unpaid_order"]["order_info"]["status"] == 6, "unpaid"
    assert before["mq_order"]["order_info"]["status"] == 5, "auto-paid"
    assert [r["resource_id"] for r in before["mq_resources"]["data"]] == [mq_id]

    status, snapshot = admin(server, "GET", "/snapshot")
    assert status == 200, snapshot
    assert sorted(o["id"] for o in snapshot["orders"]) == sorted([unpaid_order, mq_order])
    admin(server, "POST", "/reset", {"all": True})
    status, empty = admin(server, "GET", "/snapshot")
    assert status == 200 and empty["orders"] == [], "a full reset forgets the ledger"
    status, loaded = admin(server, "POST", "/snapshot", snapshot)
    assert status == 200, loaded
    assert loaded["imported"]["orders"] == 2

    assert read_billing(server, ids) == before
    # The imported unpaid order pays, and its parked create goes on to provision.
    b = bss_client(server)
    b.pay_orders(bss.PayOrdersRequest(body=bss.PayCustomerOrderV3Req(
        order_id=unpaid_order, use_coupon="NO", use_discount="NO")))
    assert b.show_customer_order_details(
        bss.ShowCustomerOrderDetailsRequest(order_id=unpaid_order)).order_info.status == 5
    sdkhelpers.wait_status(server.client(), unpaid_id, "running")
    assert server.client().query_unpaid_order(srm.QueryUnpaidOrderRequest(
        instance_id=unpaid_id, billing_instance_id=unpaid_id)).body.data is None
