"""TaurusDB (GaussDB for MySQL) parent instances and HTAP StarRocks, through the official
huaweicloudsdkgaussdb 3.1.219 GaussDBClient (AK/SK, project id from IAM KeystoneListProjects).

What is checked:
- the parent: create (BUILD) -> show/list -> ACTIVE -> delete -> 404, jobs polled as Terraform does;
- HTAP StarRocks: the page's own example request succeeds (201, instance.status `creating`, job_id),
  show reads pending -> normal with empty actions[] and every node normal, and the instance is
  normal before its job reads Completed; list under the parent; resize flavor; restart; delete
  with workflow_id -> job Completed -> show answers DBS.05000044;
- every validation rule of the create page, one failing request each, with the specific
  error_code and the X-Request-Id; nothing is left behind by a refused request;
- another account's parent refused exactly like a missing one; the catalog calls;
- an operation not built answers 501.
"""
from __future__ import annotations

import copy
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials, GlobalCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException, ServerResponseException
from huaweicloudsdkgaussdb.v3 import GaussDBClient
from huaweicloudsdkgaussdb.v3 import model as m
from huaweicloudsdkiam.v3 import IamClient
from huaweicloudsdkiam.v3 import model as iam

REGION = "cn-north-4"
REQUEST_ID_RE = re.compile(r"^[0-9a-f]{32}$")
FE_FLAVOR = "afef3bfd-ac7c-32e1-ba44-c388acbb196a"
BE_FLAVOR = "de565db8-0a96-37ea-9388-61167624712c"
BIG_FLAVOR = "0b6f2c8e-4d1a-3f7b-9e2c-5a8d1f3b7c64"


def project_of(server, ak, sk, region=REGION) -> str:
    iam_client = IamClient.new_builder().with_credentials(GlobalCredentials(ak, sk)) \
        .with_endpoints([server.url]).build()
    resp = iam_client.keystone_list_projects(iam.KeystoneListProjectsRequest(name=region))
    assert len(resp.projects) == 1
    return resp.projects[0].id


def gauss(server, ak=None, sk=None) -> GaussDBClient:
    ak, sk = ak or server.access_key_id, sk or server.access_key_secret
    creds = BasicCredentials(ak, sk, project_of(server, ak, sk))
    return GaussDBClient.new_builder().with_credentials(creds).with_endpoints([server.url]).build()


def parent_body(name="taurus-parent"):
    return m.MysqlInstanceRequest(
        region=REGION, name=name,
        datastore=m.MysqlDatastoreInReq(type="gaussdb-mysql", version="8.0"),
        mode="Cluster", flavor_ref="gaussdb.mysql.xlarge.x86.4",
        vpc_id="3dda7d44-d8a4-4b19-a5a2-a9d3c1d2e001", subnet_id="b8b7c2a1-4f1e-4c6e-9f3f-4b5c6d7e8f90",
        password="Taurus-Pw0rd", availability_zone_mode="single", slave_count=1)


def sr_body(**over):
    """The create page's example request (seeds/001), optionally changed."""
    body = dict(
        name="htap-ff64",
        engine=m.StarRocksCreateRequestEngine(type="star-rocks", version="3.1"),
        ha=m.StarRocksCreateRequestHa(mode="Single"),
        fe_flavor_id=FE_FLAVOR, be_flavor_id=BE_FLAVOR, db_root_pwd="Test@123!",
        fe_count=1, be_count=1, az_mode="single",
        fe_volume=m.StarRocksCreateRequestFeVolume(io_type="SSD", capacity_in_gb=50),
        be_volume=m.StarRocksCreateRequestBeVolume(io_type="SSD", capacity_in_gb=50),
        az_code="az", time_zone="UTC+08:00",
        tags_info=m.StarRocksCreateRequestTagsInfo(
            sys_tags=[m.StarRocksCreateRequestTagsInfoSysTags(key="_sys_enterprise_project_id", value="0")]),
    )
    body.update(over)
    return m.StarRocksCreateRequest(**{k: v for k, v in body.items() if v is not None})


def wait_job(client, job_id, timeout=15.0):
    """Polls the jobs API as Terraform does: Pending/Running -> Completed."""
    deadline = time.time() + timeout
    while True:
        job = client.show_gauss_my_sql_job_info(m.ShowGaussMySqlJobInfoRequest(id=job_id)).job
        assert job.id == job_id
        assert job.status in ("Pending", "Running", "Completed"), job
        if job.status == "Completed":
            return job
        assert time.time() < deadline, f"job {job_id} still {job.status}"
        time.sleep(0.1)


def make_parent(client, name="taurus-parent"):
    resp = client.create_gauss_my_sql_instance(m.CreateGaussMySqlInstanceRequest(body=parent_body(name)))
    assert resp.status_code == 201
    wait_job(client, resp.job_id)
    return resp.instance.id


def show_sr(client, parent_id, sr_id):
    resp = client.list_starrocks_instance_info(
        m.ListStarrocksInstanceInfoRequest(instance_id=parent_id, starrocks_instance_id=sr_id))
    assert len(resp.instances) == 1
    return resp.instances[0]


def assert_refused(call, status, code):
    with pytest.raises(ClientRequestException) as ei:
        call()
    e = ei.value
    assert (e.status_code, e.error_code) == (status, code), (e.status_code, e.error_code, e.error_msg)
    assert REQUEST_ID_RE.match(e.request_id or ""), e.request_id
    assert e.error_msg
    return e


def test_parent_lifecycle(server):
    c = gauss(server)
    resp = c.create_gauss_my_sql_instance(m.CreateGaussMySqlInstanceRequest(body=parent_body()))
    assert resp.status_code == 201
    pid = resp.instance.id
    assert re.match(r"^[0-9a-f]{32}in07$", pid), pid
    assert resp.instance.status == "BUILD"
    assert resp.job_id
    job = wait_job(c, resp.job_id)
    assert job.instance.id == pid and job.instance.name == "taurus-parent"
    inst = c.show_gauss_my_sql_instance_info(m.ShowGaussMySqlInstanceInfoRequest(instance_id=pid)).instance
    assert inst.status == "ACTIVE"
    assert inst.id == pid and inst.type == "Cluster" and inst.datastore.type == "gaussdb-mysql"
    assert inst.port == "3306" and inst.db_user_name == "root" and inst.node_count == 2
    assert inst.private_write_ips and inst.az_mode == "single"
    assert "Taurus-Pw0rd" not in str(inst.to_dict())
    lst = c.list_gauss_my_sql_instances(m.ListGaussMySqlInstancesRequest(name="taurus-parent"))
    assert lst.total_count == 1 and lst.instances[0].id == pid and lst.instances[0].status == "ACTIVE"
    d = c.delete_gauss_my_sql_instance(m.DeleteGaussMySqlInstanceRequest(instance_id=pid))
    wait_job(c, d.job_id)
    assert_refused(lambda: c.show_gauss_my_sql_instance_info(
        m.ShowGaussMySqlInstanceInfoRequest(instance_id=pid)), 404, "DBS.200002")
    assert c.list_gauss_my_sql_instances(m.ListGaussMySqlInstancesRequest()).total_count == 0


def test_parent_build_then_active(server_factory):
    server = server_factory("1s")
    c = gauss(server)
    resp = c.create_gauss_my_sql_instance(m.CreateGaussMySqlInstanceRequest(body=parent_body()))
    pid = resp.instance.id
    assert c.show_gauss_my_sql_instance_info(
        m.ShowGaussMySqlInstanceInfoRequest(instance_id=pid)).instance.status == "BUILD"
    assert c.show_gauss_my_sql_job_info(m.ShowGaussMySqlJobInfoRequest(id=resp.job_id)).job.status \
        in ("Pending", "Running")
    wait_job(c, resp.job_id)
    assert c.show_gauss_my_sql_instance_info(
        m.ShowGaussMySqlInstanceInfoRequest(instance_id=pid)).instance.status == "ACTIVE"


def test_htap_lifecycle(server_factory):
    server = server_factory("1s")
    c = gauss(server)
    pid = make_parent(c)

    resp = c.create_starrocks_instance(m.CreateStarrocksInstanceRequest(instance_id=pid, body=sr_body()))
    assert resp.status_code == 201
    inst = resp.instance
    assert re.match(r"^[0-9a-f]{32}in17$", inst.id), inst.id
    assert inst.status == "creating"
    assert (inst.name, inst.engine.type, inst.engine.version) == ("htap-ff64", "star-rocks", "3.1")
    assert inst.port == 3306 and inst.enable_ssl is False and inst.db_user == "root"
    assert inst.az_mode == "single" and inst.ha_mode == "Single" and inst.az_code == "az"
    assert inst.pay_info.pay_model == "0"
    assert inst.tags_info.tags == [] and inst.tags_info.sys_tags[0].key == "_sys_enterprise_project_id"
    assert inst.vpc_id and inst.sub_net_id and inst.security_group_id
    sr = inst.id

    # Terraform: pending -> normal, with empty actions and every node normal; the instance is
    # normal before the job reads Completed.
    first = show_sr(c, pid, sr)
    assert first.status == "pending"
    seen_pending_job = False
    deadline = time.time() + 10
    while True:
        job = c.show_gauss_my_sql_job_info(m.ShowGaussMySqlJobInfoRequest(id=resp.job_id)).job
        shown = show_sr(c, pid, sr)
        if job.status == "Completed":
            break
        seen_pending_job = True
        assert shown.status == "pending" or (shown.status == "normal" and job.status in ("Running", "Pending"))
        assert time.time() < deadline
        time.sleep(0.1)
    assert seen_pending_job
    shown = show_sr(c, pid, sr)
    assert shown.status == "normal" and shown.actions == []
    groups = {g.group_node_type: g for g in shown.groups}
    assert set(groups) == {"fe", "be"}
    for g in shown.groups:
        assert len(g.nodes) == 1
        for n in g.nodes:
            assert n.status == "normal" and n.actions == []
    assert groups["fe"].nodes[0].flavor_id == FE_FLAVOR and groups["be"].nodes[0].flavor_id == BE_FLAVOR
    assert shown.data_store_type == "star-rocks" and shown.data_store_version.startswith("3.1")
    assert shown.cluster_mode == "Single" and shown.time_zone == "UTC+08:00"
    assert shown.fe_node_volume_size == "50000000000" and shown.be_node_volume_code == "SSD"
    assert "Test@123!" not in str(shown.to_dict())

    lst = c.list_htap_instance_info(m.ListHtapInstanceInfoRequest(instance_id=pid))
    assert lst.total == 1 and lst.instances[0].id == sr
    assert lst.instances[0].instance_state.instance_status == "normal"
    assert lst.instances[0].engine_name == "star-rocks" and lst.instances[0].node_num == 2

    # Resize: actions[0].action is resize_flavor until the job lands the new flavor.
    rz = c.resize_star_rocks_flavor(m.ResizeStarRocksFlavorRequest(
        instance_id=sr, body=m.SrFlavorResizeReq(be_flavor_id=BIG_FLAVOR)))
    assert rz.job_id
    during = show_sr(c, pid, sr)
    assert during.actions and during.actions[0].action == "resize_flavor"
    assert_refused(lambda: c.restart_starrocks_instance(
        m.RestartStarrocksInstanceRequest(starrocks_instance_id=sr)), 409, "DBS.200019")
    wait_job(c, rz.job_id)
    after = show_sr(c, pid, sr)
    assert after.actions == []
    be = [g for g in after.groups if g.group_node_type == "be"][0]
    assert be.nodes[0].flavor_id == BIG_FLAVOR

    rs = c.restart_starrocks_instance(m.RestartStarrocksInstanceRequest(starrocks_instance_id=sr))
    assert rs.workflow_id
    wait_job(c, rs.workflow_id)
    assert show_sr(c, pid, sr).actions == []

    # The parent cannot go while it has HTAP instances.
    assert_refused(lambda: c.delete_gauss_my_sql_instance(
        m.DeleteGaussMySqlInstanceRequest(instance_id=pid)), 409, "DBS.200019")

    d = c.delete_starrocks_instance(m.DeleteStarrocksInstanceRequest(instance_id=pid, starrocks_instance_id=sr))
    assert d.workflow_id
    wait_job(c, d.workflow_id)
    assert_refused(lambda: show_sr(c, pid, sr), 400, "DBS.05000044")
    assert c.list_htap_instance_info(m.ListHtapInstanceInfoRequest(instance_id=pid)).total == 0
    # The released instance's jobs stay readable.
    assert wait_job(c, resp.job_id).status == "Completed"


def at_once(*calls):
    """Runs the calls together; each one's answer, or the ClientRequestException it raised."""
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait()
        try:
            return call()
        except ClientRequestException as e:
            return e

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_htap_quota_holds_under_concurrent_creates(server_factory):
    # An HTAP create commits with its parent as it read it: creates in flight together
    # cannot all take the last places under the quota of 5.
    server = server_factory()
    pid = make_parent(gauss(server))
    clients = [gauss(server) for _ in range(8)]
    outcomes = at_once(*[
        (lambda c=c, n=n: c.create_starrocks_instance(
            m.CreateStarrocksInstanceRequest(instance_id=pid, body=sr_body(name=f"htap-race-{n}"))))
        for n, c in enumerate(clients)])
    made = [o for o in outcomes if not isinstance(o, ClientRequestException)]
    assert len(made) == 5, outcomes
    for e in outcomes:
        if isinstance(e, ClientRequestException):
            assert (e.status_code, e.error_code) == (413, "DBS.200046"), (e.status_code, e.error_code, e.error_msg)
    listed = clients[0].list_htap_instance_info(m.ListHtapInstanceInfoRequest(instance_id=pid))
    assert listed.total == 5


def test_parent_delete_and_htap_create_at_once_never_both_pass(server_factory):
    server = server_factory()
    c = gauss(server)
    parents = [make_parent(c, name=f"taurus-race-{n}") for n in range(6)]
    a, b = gauss(server), gauss(server)
    for pid in parents:
        created, deleted = at_once(
            lambda: a.create_starrocks_instance(
                m.CreateStarrocksInstanceRequest(instance_id=pid, body=sr_body())),
            lambda: b.delete_gauss_my_sql_instance(m.DeleteGaussMySqlInstanceRequest(instance_id=pid)))
        passed = [not isinstance(o, ClientRequestException) for o in (created, deleted)]
        assert passed.count(True) == 1, (pid, created, deleted)
        if passed[0]:
            assert (deleted.status_code, deleted.error_code) == (409, "DBS.200019"), deleted
        else:
            # Refused while the delete runs, or, once it has ended (instant), as missing.
            assert (created.status_code, created.error_code) in ((409, "DBS.200019"), (404, "DBS.200002")), created


def test_instant_create_reads_normal(server):
    c = gauss(server)
    pid = make_parent(c)
    resp = c.create_starrocks_instance(m.CreateStarrocksInstanceRequest(
        instance_id=pid, body=sr_body(engine=m.StarRocksCreateRequestEngine(type="StarRocks", version="3.1"),
                                      ha=m.StarRocksCreateRequestHa(mode="single"), az_mode="SINGLE",
                                      time_zone=None, fe_count=3, be_count=3)))
    wait_job(c, resp.job_id)
    shown = show_sr(c, pid, resp.instance.id)
    assert shown.status == "normal" and shown.time_zone == "UTC+08:00"
    assert sum(len(g.nodes) for g in shown.groups) == 6


BAD = [
    ("name too short", dict(name="abc"), "DBS.200021"),
    ("name not starting with a letter", dict(name="1htap"), "DBS.200021"),
    ("name with a dot", dict(name="htap.ff64"), "DBS.200021"),
    ("name too long", dict(name="h" * 65), "DBS.200021"),
    ("engine type", dict(engine=m.StarRocksCreateRequestEngine(type="clickhouse", version="3.1")), "DBS.200040"),
    ("engine version", dict(engine=m.StarRocksCreateRequestEngine(type="star-rocks", version="9.9")), "DBS.200041"),
    ("ha mode", dict(ha=m.StarRocksCreateRequestHa(mode="Triple")), "DBS.200051"),
    ("fe flavor", dict(fe_flavor_id="00000000-0000-0000-0000-000000000000"), "DBS.200053"),
    ("be flavor", dict(be_flavor_id="nope"), "DBS.200053"),
    ("password too short", dict(db_root_pwd="Te@1"), "DBS.200052"),
    ("password too long", dict(db_root_pwd="Test@123!" * 4), "DBS.200052"),
    ("password two classes", dict(db_root_pwd="testtest123"), "DBS.200052"),
    ("password bad character", dict(db_root_pwd="Test 123!x"), "DBS.200052"),
    ("weak password", dict(db_root_pwd="Admin@123"), "DBS.200052"),
    ("fe_count zero", dict(fe_count=0), "DBS.200001"),
    ("be_count too many", dict(be_count=51), "DBS.200001"),
    ("az_mode multi", dict(az_mode="multi"), "DBS.200001"),
    ("fe volume step", dict(fe_volume=m.StarRocksCreateRequestFeVolume(io_type="SSD", capacity_in_gb=55)), "DBS.200027"),
    ("be volume step", dict(be_volume=m.StarRocksCreateRequestBeVolume(io_type="SSD", capacity_in_gb=101)), "DBS.200027"),
    ("volume below min", dict(be_volume=m.StarRocksCreateRequestBeVolume(io_type="SSD", capacity_in_gb=40)), "DBS.200023"),
    ("storage type", dict(fe_volume=m.StarRocksCreateRequestFeVolume(io_type="HDD", capacity_in_gb=50)), "DBS.200026"),
    ("az code", dict(az_code="nowhere"), "DBS.200025"),
    ("time zone", dict(time_zone="Beijing"), "DBS.200001"),
    ("missing tags_info", dict(tags_info=None), "DBS.200001"),
    ("missing name", dict(name=None), "DBS.200001"),
    ("pay period too long", dict(pay_info=m.StarRocksCreateRequestPayInfo(pay_model="1", period="10",
                                                                          period_type="2", is_auto_renew="0")),
     "DBS.200001"),
    ("pay model unknown", dict(pay_info=m.StarRocksCreateRequestPayInfo(pay_model="2")), "DBS.200001"),
]


def test_every_create_rule_refused(server):
    c = gauss(server)
    pid = make_parent(c)
    for label, over, code in BAD:
        e = assert_refused(lambda: c.create_starrocks_instance(
            m.CreateStarrocksInstanceRequest(instance_id=pid, body=sr_body(**over))), 400, code)
        assert e.error_msg, label
    # Refused requests leave no trace.
    assert c.list_htap_instance_info(m.ListHtapInstanceInfoRequest(instance_id=pid)).total == 0


def test_empty_body_refused(server):
    c = gauss(server)
    pid = make_parent(c)
    assert_refused(lambda: c.create_starrocks_instance(
        m.CreateStarrocksInstanceRequest(instance_id=pid, body=m.StarRocksCreateRequest())), 400, "DBS.200006")


def test_missing_and_foreign_parent_read_alike(server):
    c = gauss(server)
    other = server.create_account("other")
    oc = gauss(server, other["access_key_id"], other["access_key_secret"])
    theirs = make_parent(oc, "their-parent")
    missing = "0123456789abcdef0123456789abcdefin07"
    errs = []
    for pid in (theirs, missing):
        errs.append(assert_refused(lambda: c.create_starrocks_instance(
            m.CreateStarrocksInstanceRequest(instance_id=pid, body=sr_body())), 404, "DBS.200002"))
        assert_refused(lambda: c.show_gauss_my_sql_instance_info(
            m.ShowGaussMySqlInstanceInfoRequest(instance_id=pid)), 404, "DBS.200002")
        assert_refused(lambda: c.list_htap_instance_info(
            m.ListHtapInstanceInfoRequest(instance_id=pid)), 404, "DBS.200002")
        assert_refused(lambda: c.list_starrocks_instance_info(m.ListStarrocksInstanceInfoRequest(
            instance_id=pid, starrocks_instance_id="0123456789abcdef0123456789abcdefin17")), 400, "DBS.05000044")
    assert errs[0].error_msg == errs[1].error_msg
    # Their instance is untouched and still theirs alone.
    assert oc.list_htap_instance_info(m.ListHtapInstanceInfoRequest(instance_id=theirs)).total == 0
    assert c.list_gauss_my_sql_instances(m.ListGaussMySqlInstancesRequest()).total_count == 0


def test_foreign_htap_and_jobs_read_as_missing(server):
    c = gauss(server)
    other = server.create_account("other")
    oc = gauss(server, other["access_key_id"], other["access_key_secret"])
    theirs = make_parent(oc, "their-parent")
    resp = oc.create_starrocks_instance(m.CreateStarrocksInstanceRequest(instance_id=theirs, body=sr_body()))
    wait_job(oc, resp.job_id)
    sr = resp.instance.id
    assert_refused(lambda: show_sr(c, theirs, sr), 400, "DBS.05000044")
    assert_refused(lambda: c.delete_starrocks_instance(
        m.DeleteStarrocksInstanceRequest(instance_id=theirs, starrocks_instance_id=sr)), 400, "DBS.05000044")
    assert_refused(lambda: c.restart_starrocks_instance(
        m.RestartStarrocksInstanceRequest(starrocks_instance_id=sr)), 400, "DBS.05000044")
    assert_refused(lambda: c.show_gauss_my_sql_job_info(m.ShowGaussMySqlJobInfoRequest(id=resp.job_id)),
                   400, "DBS.200001")
    assert show_sr(oc, theirs, sr).status == "normal"


def test_catalog_calls(server):
    c = gauss(server)
    fl = c.list_htap_flavor(m.ListHtapFlavorRequest(engine_name="star-rocks", availability_zone_mode="single",
                                                    version_name="3.1"))
    ids = {f.id for f in fl.flavors}
    assert {FE_FLAVOR, BE_FLAVOR} <= ids
    f = [f for f in fl.flavors if f.id == FE_FLAVOR][0]
    assert f.vcpus and f.ram and f.spec_code and f.version_name == "3.1" and f.az_status.get("az") == "normal"
    st = c.list_htap_storage_type(m.ListHtapStorageTypeRequest(database="star-rocks", version_name="3.1"))
    assert "SSD" in {s.name for s in st.storage_type}
    assert all(s.min_volume_size > 0 for s in st.storage_type)
    ds = c.list_htap_data_store(m.ListHtapDataStoreRequest(engine_name="starrocks"))
    assert "3.1" in {d.name for d in ds.datastores}
    assert_refused(lambda: c.list_htap_data_store(m.ListHtapDataStoreRequest(engine_name="clickhouse")),
                   400, "DBS.200040")


def test_unknown_job_and_unbuilt_operation(server):
    c = gauss(server)
    assert_refused(lambda: c.show_gauss_my_sql_job_info(
        m.ShowGaussMySqlJobInfoRequest(id="cf0b7506-1505-450f-9d95-ce9d93b6b5c3")), 400, "DBS.200001")
    with pytest.raises(ServerResponseException) as ei:
        c.list_gauss_my_sql_configurations(m.ListGaussMySqlConfigurationsRequest())
    assert ei.value.status_code == 501 and REQUEST_ID_RE.match(ei.value.request_id)
