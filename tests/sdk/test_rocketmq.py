"""Huawei DMS for RocketMQ through the official SDK (huaweicloudsdkrocketmq 3.1.219, RocketMQClient v2).

What is checked:
- the whole lifecycle on each of the three create paths (CreatePostPaidInstance = the seed page,
  CreatePostPaidInstanceForRocketMq, CreateInstanceByEngine), polling ShowInstance as Terraform does
  (`CREATING` -> `RUNNING`), list, update, resize (`EXTENDING` -> `RUNNING`), background tasks,
  delete (204, then `DELETING` -> 404 `DMS.00404022`), batch delete;
- the catalog calls without a project id in the path (ListAvailableZones, ListEngineProducts);
- every validation rule of the create page: one failing request each, with its error_code and request id;
- another account's instance reads exactly like a missing one; unbuilt operations answer 501.
"""
from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException, ServerResponseException
from huaweicloudsdkiam.v3 import IamClient
from huaweicloudsdkiam.v3 import model as iam
from huaweicloudsdkcore.auth.credentials import GlobalCredentials
from huaweicloudsdkrocketmq.v2 import RocketMQClient
from huaweicloudsdkrocketmq.v2 import model as m

REQUEST_ID_RE = re.compile(r"^[0-9a-f]{32}$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
REGION = "cn-north-4"
AZ1, AZ2, AZ3 = ("8c90c2a4e2594c0782faa6b205afeca7", "d539378ec1314c85b76fefa3f7071458",
                 "9f1c5806706d4c1fb0eb72f0a9b18c77")


def project_of(server, region=REGION, ak=None, sk=None) -> str:
    creds = GlobalCredentials(ak or server.access_key_id, sk or server.access_key_secret)
    client = IamClient.new_builder().with_credentials(creds).with_endpoints([server.url]).build()
    resp = client.keystone_list_projects(iam.KeystoneListProjectsRequest(name=region))
    assert len(resp.projects) == 1, resp
    return resp.projects[0].id


def rmq(server, region=REGION, ak=None, sk=None) -> RocketMQClient:
    pid = project_of(server, region, ak, sk)
    creds = BasicCredentials(ak or server.access_key_id, sk or server.access_key_secret, pid)
    return RocketMQClient.new_builder().with_credentials(creds).with_endpoints([server.url]).build()


def seed_fields(**overrides) -> dict:
    """The seed page's example request, field for field."""
    fields = dict(
        name="reliability-1751840557", description="", engine="reliability", engine_version="4.8.0",
        storage_space=600, vpc_id="3db8490c-4d6d-4d8f-8d3f-047b0de4c5cf",
        subnet_id="0a0f1fcb-f019-458d-b9e5-301867394d50",
        security_group_id="23c5977f-ff33-4b95-a73e-08d8a0bc4e6c", available_zones=[AZ3],
        product_id="c6.4u8g.cluster", enterprise_project_id="0", ssl_enable=False,
        storage_spec_code="dms.physical.storage.ultra.v2", ipv6_enable=False, enable_publicip=False,
        publicip_id="", broker_num=1)
    fields.update(overrides)
    return fields


def create_seed(client, **overrides) -> str:
    body = m.CreatePostPaidInstanceReq(**seed_fields(**overrides))
    resp = client.create_post_paid_instance(m.CreatePostPaidInstanceRequest(body=body))
    assert resp.status_code == 200
    assert UUID_RE.match(resp.instance_id), resp
    return resp.instance_id


def show(client, iid):
    return client.show_instance(m.ShowInstanceRequest(instance_id=iid))


def wait_status(client, iid, target, timeout=10.0, interval=0.1):
    """Polls ShowInstance like Terraform's StateChangeConf (just faster)."""
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        status = show(client, iid).status
        if not seen or seen[-1] != status:
            seen.append(status)
        if status == target:
            return seen
        assert time.monotonic() < deadline, f"{iid} never reached {target}: {seen}"
        time.sleep(interval)


def wait_gone(client, iid, timeout=10.0):
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        try:
            status = show(client, iid).status
        except ClientRequestException as e:
            assert e.status_code == 404 and e.error_code == "DMS.00404022", e
            return seen
        if not seen or seen[-1] != status:
            seen.append(status)
        assert time.monotonic() < deadline, f"{iid} never disappeared: {seen}"
        time.sleep(0.1)


def refused(fn, status: int, code: str, cause: str | None = None):
    with pytest.raises(ClientRequestException) as info:
        fn()
    e = info.value
    assert e.status_code == status, e
    assert e.error_code == code, e
    assert REQUEST_ID_RE.match(e.request_id or ""), e
    if cause:
        assert cause in e.error_msg, e
    return e


# ------------------------------------------------------------------------------------------- lifecycle

@pytest.mark.lifecycle("1s")
def test_seed_create_polls_creating_then_running(server_factory):
    server = server_factory()
    client = rmq(server)
    iid = create_seed(client)
    first = show(client, iid)
    assert first.status == "CREATING"
    seen = wait_status(client, iid, "RUNNING")
    assert seen[0] == "CREATING" and seen[-1] == "RUNNING"
    s = show(client, iid)
    assert s.instance_id == iid and s.name == "reliability-1751840557"
    assert s.engine == "reliability" and s.engine_version == "4.8.0"
    assert s.storage_space == 600 and isinstance(s.storage_space, int)
    assert s.broker_num == 1 and s.charging_mode == 1
    assert s.available_zones == [AZ3] and s.available_zone_names == ["AZ3"]
    assert s.product_id == "c6.4u8g.cluster" and s.type == "cluster"
    assert s.storage_spec_code == "dms.physical.storage.ultra.v2"
    assert s.vpc_id == "3db8490c-4d6d-4d8f-8d3f-047b0de4c5cf"
    assert s.enterprise_project_id == "0"
    assert s.created_at.isdigit()
    assert s.namesrv_address and s.broker_address
    assert s.enable_publicip is False and s.ssl_enable is False


def test_full_lifecycle_on_the_seed_path(server_factory):
    server = server_factory()
    client = rmq(server)
    iid = create_seed(client)
    wait_status(client, iid, "RUNNING")

    # List: filters, paging, instance_num.
    create_seed(client, name="second-instance", broker_num=3, storage_space=900,
                available_zones=[AZ1, AZ2, AZ3])
    resp = client.list_instances(m.ListInstancesRequest(engine="reliability", include_failure="true",
                                                        limit=10, offset=0))
    assert resp.instance_num == 2 and len(resp.instances) == 2
    assert {i.instance_id for i in resp.instances} >= {iid}
    page = client.list_instances(m.ListInstancesRequest(limit=1, offset=1))
    assert page.instance_num == 2 and len(page.instances) == 1
    by_name = client.list_instances(m.ListInstancesRequest(name="reliability", exact_match_name="false"))
    assert [i.instance_id for i in by_name.instances] == [iid]
    exact = client.list_instances(m.ListInstancesRequest(name="reliability", exact_match_name="true"))
    assert exact.instance_num == 0 and exact.instances == []
    by_id = client.list_instances(m.ListInstancesRequest(instance_id=iid))
    assert by_id.instance_num == 1 and by_id.instances[0].broker_num == 1
    assert by_id.instances[0].storage_space == 600

    # Update: 204, then show reads the change.
    upd = client.update_instance(m.UpdateInstanceRequest(
        instance_id=iid, body=m.UpdateInstanceReq(name="rocketmq001", description="RocketMQ description",
                                                   enable_acl=True)))
    assert upd.status_code == 204
    s = show(client, iid)
    assert (s.name, s.description, s.enable_acl) == ("rocketmq001", "RocketMQ description", True)
    refused(lambda: client.update_instance(m.UpdateInstanceRequest(
        instance_id=iid, body=m.UpdateInstanceReq(name="second-instance"))), 400, "DMS.00400060")

    # Resize: broker count (4.8.0 horizontal), EXTENDING then RUNNING.
    r = client.resize_instance_for_rocket_mq(m.ResizeInstanceForRocketMqRequest(
        instance_id=iid, body=m.ResizeEngineInstanceReq(oper_type="horizontal", new_broker_num=2)))
    assert r.job_id
    wait_status(client, iid, "RUNNING")
    s = show(client, iid)
    assert (s.broker_num, s.storage_space, s.extend_times) == (2, 1200, 1)

    # Background tasks read the engine's durable jobs.
    tasks = client.list_background_tasks(m.ListBackgroundTasksRequest(instance_id=iid))
    assert tasks.task_count == "2"
    names = [t.name for t in tasks.tasks]
    assert names == ["extendInstance", "createInstance"]
    assert all(t.status == "SUCCESS" for t in tasks.tasks)
    assert tasks.tasks[0].id == r.job_id
    one = client.show_background_task(m.ShowBackgroundTaskRequest(instance_id=iid, task_id=r.job_id))
    assert one.task_count == "1" and one.tasks[0].id == r.job_id and "horizontal" in one.tasks[0].params
    later = client.list_background_tasks(m.ListBackgroundTasksRequest(instance_id=iid,
                                                                      begin_time="29990101000000"))
    assert later.task_count == "0" and later.tasks == []

    # Delete: 204, then 404 DMS.00404022 (what Terraform reads as DELETED).
    d = client.delete_instance(m.DeleteInstanceRequest(instance_id=iid))
    assert d.status_code == 204
    wait_gone(client, iid)
    e = refused(lambda: show(client, iid), 404, "DMS.00404022")
    assert e.error_msg == "This instance does not exist."
    assert client.list_instances(m.ListInstancesRequest()).instance_num == 1


@pytest.mark.lifecycle("1s")
def test_create_for_rocketmq_path_and_delete_states(server_factory):
    server = server_factory()
    client = rmq(server)
    body = m.CreateInstanceByEngineReq(**seed_fields(name="rmq-newer-path", engine="rocketmq",
                                                     tls_mode="SSL", ssl_enable=True))
    resp = client.create_post_paid_instance_for_rocket_mq(m.CreatePostPaidInstanceForRocketMqRequest(body=body))
    iid = resp.instance_id
    assert show(client, iid).status == "CREATING"
    # A creating instance cannot be resized or deleted yet.
    refused(lambda: client.delete_instance(m.DeleteInstanceRequest(instance_id=iid)), 400, "DMS.00400026")
    wait_status(client, iid, "RUNNING")
    s = show(client, iid)
    assert s.tls_mode == "SSL" and s.ssl_enable is True and s.engine == "reliability"
    client.delete_instance(m.DeleteInstanceRequest(instance_id=iid))
    seen = wait_gone(client, iid)
    assert seen == ["DELETING"], seen


def test_create_by_engine_path_prepaid_5x(server_factory):
    server = server_factory()
    client = rmq(server)
    body = m.CreateInstanceByEngineReq(**seed_fields(
        name="rmq-5x", engine_version="5.x", product_id="rocketmq.b2.large.8", storage_space=1200,
        arch_type="X86", bss_param=m.BssParam(charging_mode="prePaid", period_type="month", period_num=1,
                                               is_auto_pay=True)))
    resp = client.create_instance_by_engine(m.CreateInstanceByEngineRequest(engine="reliability", body=body))
    iid = resp.instance_id
    wait_status(client, iid, "RUNNING")
    s = show(client, iid)
    assert (s.engine_version, s.product_id, s.charging_mode, s.storage_space) == ("5.x", "rocketmq.b2.large.8", 0, 1200)
    # 5.x horizontal resize changes the flavor, through the engine path.
    r = client.resize_instance(m.ResizeInstanceRequest(
        engine="rocketmq", instance_id=iid,
        body=m.ResizeEngineInstanceReq(oper_type="horizontal", new_product_id="rocketmq.b2.large.12")))
    assert r.job_id
    wait_status(client, iid, "RUNNING")
    assert show(client, iid).product_id == "rocketmq.b2.large.12"
    opts = client.show_engine_instance_extend_product_info(m.ShowEngineInstanceExtendProductInfoRequest(
        engine="rocketmq", instance_id=iid, type="advanced"))
    assert opts.products and all(p.properties.engine_versions == "5.x" for p in opts.products)
    refused(lambda: client.create_instance_by_engine(m.CreateInstanceByEngineRequest(engine="kafka", body=body)),
            400, "DMS.00400007")
    res = client.batch_delete_instances(m.BatchDeleteInstancesRequest(
        body=m.BatchDeleteInstanceReq(instances=[iid, "00000000-0000-0000-0000-000000000000"], action="delete")))
    assert [(x.instance, x.result) for x in res.results] == [
        (iid, "success"), ("00000000-0000-0000-0000-000000000000", "failed")]
    wait_gone(client, iid)


# ------------------------------------------------------------------------------------------- catalog

def test_available_zones_and_products_without_project_in_path(server_factory):
    server = server_factory()
    client = rmq(server)
    zones = client.list_available_zones(m.ListAvailableZonesRequest())
    assert zones.region_id == REGION
    ids = [z.id for z in zones.available_zones]
    assert ids == [AZ1, AZ2, AZ3]
    assert all(z.sold_out is False for z in zones.available_zones)
    assert [z.default_az for z in zones.available_zones] == [False, False, True]
    east = rmq(server, "cn-east-3").list_available_zones(m.ListAvailableZonesRequest())
    assert east.region_id == "cn-east-3" and AZ3 not in [z.id for z in east.available_zones]

    prods = client.list_engine_products(m.ListEngineProductsRequest(engine="reliability"))
    assert prods.engine == "rocketmq" and set(prods.versions) == {"4.8.0", "5.x"}
    by_id = {p.product_id: p for p in prods.products}
    assert int(prods.total) == len(prods.products)
    p = by_id["c6.4u8g.cluster"]
    assert p.properties.max_broker == "10" and p.properties.min_storage_per_node == "300"
    assert {io.io_spec for io in p.ios} == {"dms.physical.storage.high.v2", "dms.physical.storage.ultra.v2"}
    one = client.list_engine_products(m.ListEngineProductsRequest(engine="reliability",
                                                                  product_id="c6.4u8g.cluster"))
    assert [x.product_id for x in one.products] == ["c6.4u8g.cluster"]


# ------------------------------------------------------------------------------------------- validation

CASES = [
    # (what, overrides, error_code)
    ("name starts with a digit", dict(name="1reliability"), "DMS.00400010"),
    ("name too short", dict(name="abc"), "DMS.00400010"),
    ("name too long", dict(name="a" * 65), "DMS.00400010"),
    ("name with a dot", dict(name="reliability.1"), "DMS.00400010"),
    ("description over 1024", dict(description="d" * 1025), "DMS.00400011"),
    ("unknown engine", dict(engine="kafka"), "DMS.00400007"),
    ("unknown version", dict(engine_version="4.9.0"), "DMS.00400008"),
    ("empty vpc", dict(vpc_id=""), "DMS.00400013"),
    ("empty subnet", dict(subnet_id=""), "DMS.00400005"),
    ("empty security group", dict(security_group_id=""), "DMS.00400014"),
    ("no AZ", dict(available_zones=[]), "DMS.00400005"),
    ("two AZs", dict(available_zones=[AZ1, AZ2]), "DMS.00400005"),
    ("unknown AZ", dict(available_zones=["cn-north-4a"]), "DMS.00400005"),
    ("unknown flavor", dict(product_id="c6.2u4g.cluster"), "DMS.00400009"),
    ("flavor of another version", dict(product_id="rocketmq.b1.large.1"), "DMS.00400009"),
    ("storage I/O not offered", dict(storage_spec_code="dms.physical.storage.normal"), "DMS.00400005"),
    ("storage below the flavor's minimum", dict(storage_space=299), "DMS.00400005"),
    ("storage above the flavor's maximum", dict(storage_space=60001), "DMS.00400005"),
    ("storage below minimum per broker", dict(broker_num=3, storage_space=600), "DMS.00400005"),
    ("no brokers", dict(broker_num=0), "DMS.00400005"),
    ("too many brokers", dict(broker_num=11), "DMS.00400005"),
    ("small flavor takes two brokers", dict(product_id="c6.4u8g.cluster.small", broker_num=3,
                                            storage_space=900), "DMS.00400005"),
    ("public access without EIP", dict(enable_publicip=True, publicip_id=""), "DMS.00400005"),
    ("public access with an empty EIP id", dict(enable_publicip=True, publicip_id="eip-1,,eip-2"), "DMS.00400005"),
    ("the same EIP twice", dict(enable_publicip=True, publicip_id="eip-1,eip-1"), "DMS.00400005"),
    ("unknown tls_mode", dict(tls_mode="TLS"), "DMS.00400005"),
]


@pytest.mark.parametrize("what,overrides,code", CASES, ids=[c[0] for c in CASES])
def test_create_validation(server_factory, what, overrides, code):
    server = server_factory()
    client = rmq(server)
    refused(lambda: create_seed(client, **overrides), 400, code)
    # A rejected request leaves no trace.
    assert client.list_instances(m.ListInstancesRequest()).instance_num == 0


def test_duplicate_name_and_other_checks(server_factory):
    server = server_factory()
    client = rmq(server)
    create_seed(client)
    refused(lambda: create_seed(client), 400, "DMS.00400060")
    # Missing mandatory fields: the SDK omits None, so the server sees them absent.
    refused(lambda: create_seed(client, name=None), 400, "DMS.00400010")
    refused(lambda: create_seed(client, name="rmq-x", broker_num=None), 400, "DMS.00400005")
    refused(lambda: create_seed(client, name="rmq-x", product_id=None), 400, "DMS.00400009")
    # A prePaid create needs a period.
    body = m.CreateInstanceByEngineReq(**seed_fields(name="rmq-prepaid",
                                                     bss_param=m.BssParam(charging_mode="prePaid")))
    refused(lambda: client.create_post_paid_instance_for_rocket_mq(
        m.CreatePostPaidInstanceForRocketMqRequest(body=body)), 400, "DMS.00400005")
    # List parameters.
    refused(lambda: client.list_instances(m.ListInstancesRequest(limit=51)), 400, "DMS.00400005")
    refused(lambda: client.list_instances(m.ListInstancesRequest(status="SLEEPING")), 400, "DMS.00400005")
    assert client.list_instances(m.ListInstancesRequest()).instance_num == 1


def test_creates_of_one_name_at_once_make_one_instance(server_factory):
    # The name is checked in the commit that takes it, so requests in flight together
    # cannot all find it free.
    server = server_factory()
    clients = [rmq(server) for _ in range(12)]
    start = threading.Barrier(len(clients))

    def create(client):
        start.wait()
        try:
            return create_seed(client, name="rmq-race")
        except ClientRequestException as e:
            return e

    with ThreadPoolExecutor(len(clients)) as pool:
        outcomes = list(pool.map(create, clients))
    made = [o for o in outcomes if isinstance(o, str)]
    assert len(made) == 1, outcomes
    for e in outcomes:
        if not isinstance(e, str):
            assert (e.status_code, e.error_code) == (400, "DMS.00400060"), e
            assert e.error_msg == "This instance name already exists: rmq-race.", e
    listed = clients[0].list_instances(m.ListInstancesRequest(name="rmq-race", exact_match_name="true"))
    assert [i.instance_id for i in listed.instances] == made


# ------------------------------------------------------------------------------------------- tenancy

def test_another_accounts_instance_reads_as_missing(server_factory):
    server = server_factory()
    other = server.create_account("other")  # before any write: the CLI shares the store file
    mine = rmq(server)
    iid = create_seed(mine)
    theirs = rmq(server, ak=other["access_key_id"], sk=other["access_key_secret"])
    missing = "00000000-0000-0000-0000-000000000000"
    for target in (iid, missing):
        e = refused(lambda: show(theirs, target), 404, "DMS.00404022")
        assert e.error_msg == "This instance does not exist."
        refused(lambda: theirs.delete_instance(m.DeleteInstanceRequest(instance_id=target)), 404, "DMS.00404022")
        refused(lambda: theirs.update_instance(m.UpdateInstanceRequest(
            instance_id=target, body=m.UpdateInstanceReq(description="x"))), 404, "DMS.00404022")
        refused(lambda: theirs.list_background_tasks(m.ListBackgroundTasksRequest(instance_id=target)),
                404, "DMS.00404022")
    assert theirs.list_instances(m.ListInstancesRequest()).instance_num == 0
    # The same name is free in another account.
    create_seed(theirs)
    # Another region of the same account does not see it either.
    refused(lambda: show(rmq(server, "cn-east-3"), iid), 404, "DMS.00404022")
    assert show(mine, iid).instance_id == iid


def test_unbuilt_operations_answer_501(server_factory):
    server = server_factory()
    client = rmq(server)
    with pytest.raises(ServerResponseException) as info:
        client.list_rocket_instance_topics(m.ListRocketInstanceTopicsRequest(instance_id="x"))
    assert info.value.status_code == 501
    assert REQUEST_ID_RE.match(info.value.request_id or "")
