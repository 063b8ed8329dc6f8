"""Huawei Cloud dialect and IAM, through the official Huawei SDKs (huaweicloudsdkcore/iam/gaussdb 3.1.219).

What is checked:
- IAM KeystoneListProjects / KeystoneListAuthProjects / KeystoneListAuthDomains (IamClient, AK/SK);
- the project-id lookup huaweicloudsdkcore performs for a client built `with_region(...)` and no project id;
- KeystoneCreateUserTokenByPassword after `cloudtwin accounts password default`, and the token used as X-Auth-Token;
- refusals: bad signature, stale X-Sdk-Date, another account's project, with error_code and request_id.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import urllib.error
import urllib.request

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials, GlobalCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException, SdkException, ServiceResponseException
from huaweicloudsdkcore.region.region import Region
from huaweicloudsdkgaussdb.v3 import GaussDBClient, ListGaussMySqlInstancesRequest
from huaweicloudsdkiam.v3 import IamClient
from huaweicloudsdkiam.v3 import model as iam

REQUEST_ID_RE = re.compile(r"^[0-9a-f]{32}$")
PROJECT_ID_RE = re.compile(r"^[0-9a-f]{32}$")
PASSWORD = "Tw1n-password!"
REQUIRED_REGIONS = ["cn-north-4", "cn-north-1", "cn-east-3", "cn-east-2", "cn-south-1",
                    "ap-southeast-1", "ap-southeast-3", "la-south-2"]


def iam_client(server, ak=None, sk=None) -> IamClient:
    creds = GlobalCredentials(ak or server.access_key_id, sk or server.access_key_secret)
    return IamClient.new_builder().with_credentials(creds).with_endpoints([server.url]).build()


def project_of(server, region: str, client: IamClient | None = None) -> str:
    resp = (client or iam_client(server)).keystone_list_projects(iam.KeystoneListProjectsRequest(name=region))
    assert len(resp.projects) == 1, resp
    return resp.projects[0].id


def set_password(server, name: str, password: str) -> subprocess.CompletedProcess:
    return subprocess.run([server.binary, "accounts", "password", name, "--data-dir", str(server.data_dir)],
                          input=password + "\n", capture_output=True, text=True, timeout=60, env=server.env)


def token_request(name: str, password: str, domain: str | None = None, project: str | None = None):
    scope = iam.AuthScope(project=iam.AuthScopeProject(name=project)) if project else None
    user = iam.PwdPasswordUser(domain=iam.PwdPasswordUserDomain(name=domain or name), name=name, password=password)
    body = iam.KeystoneCreateUserTokenByPasswordRequestBody(
        auth=iam.PwdAuth(identity=iam.PwdIdentity(methods=["password"], password=iam.PwdPassword(user=user)),
                         scope=scope))
    return iam.KeystoneCreateUserTokenByPasswordRequest(body=body)


def http(server, method: str, path: str, headers: dict | None = None, body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(server.url + path, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, json.loads(e.read() or b"null")


def assert_refused(exc: ServiceResponseException, status: int, code: str, cause: str | None = None):
    assert isinstance(exc, ClientRequestException), exc
    assert exc.status_code == status, exc
    assert exc.error_code == code, exc
    assert REQUEST_ID_RE.match(exc.request_id or ""), exc
    if cause:
        assert cause in exc.error_msg, exc


# ------------------------------------------------------------------------------------------- IAM reads

def test_list_projects_one_per_region(server):
    client = iam_client(server)
    resp = client.keystone_list_projects(iam.KeystoneListProjectsRequest())
    names = [p.name for p in resp.projects]
    for region in REQUIRED_REGIONS:
        assert region in names
    ids = [p.id for p in resp.projects]
    assert all(PROJECT_ID_RE.match(i) for i in ids) and len(set(ids)) == len(ids)
    domain_id = resp.projects[0].domain_id
    assert all(p.domain_id == domain_id and p.enabled and p.is_domain is False for p in resp.projects)

    one = client.keystone_list_projects(iam.KeystoneListProjectsRequest(name="cn-north-4"))
    assert [p.name for p in one.projects] == ["cn-north-4"]
    assert one.projects[0].id == ids[names.index("cn-north-4")]
    assert client.keystone_list_projects(iam.KeystoneListProjectsRequest(name="mars-1")).projects == []

    auth = client.keystone_list_auth_projects(iam.KeystoneListAuthProjectsRequest())
    assert sorted(p.id for p in auth.projects) == sorted(ids)

    shown = client.keystone_show_project(iam.KeystoneShowProjectRequest(project_id=one.projects[0].id))
    assert shown.project.name == "cn-north-4"


def test_project_ids_are_stable_across_restarts_and_per_account(server):
    before = project_of(server, "cn-east-3")
    server.restart()
    assert project_of(server, "cn-east-3") == before
    other = server.create_account("other")
    theirs = project_of(server, "cn-east-3", iam_client(server, other["access_key_id"], other["access_key_secret"]))
    assert PROJECT_ID_RE.match(theirs) and theirs != before


def test_list_auth_domains(server):
    resp = iam_client(server).keystone_list_auth_domains(iam.KeystoneListAuthDomainsRequest())
    assert len(resp.domains) == 1
    domain = resp.domains[0]
    assert domain.name == "default" and domain.enabled
    assert PROJECT_ID_RE.match(domain.id)
    projects = iam_client(server).keystone_list_projects(iam.KeystoneListProjectsRequest(name="cn-north-4"))
    assert projects.projects[0].domain_id == domain.id


def test_global_credentials_learn_the_domain_id(server):
    """GlobalCredentials without a domain id and with a region: the SDK calls KeystoneListAuthDomains first,
    then sends X-Domain-Id (checked by the server) on every call."""
    creds = GlobalCredentials(server.access_key_id, server.access_key_secret).with_iam_endpoint(server.url)
    client = IamClient.new_builder().with_credentials(creds).with_region(Region("cn-north-4", server.url)).build()
    assert PROJECT_ID_RE.match(creds.domain_id)
    assert client.keystone_list_projects(iam.KeystoneListProjectsRequest(name="cn-north-4")).projects


def test_operation_not_built_answers_501(server):
    with pytest.raises(ServiceResponseException) as e:
        iam_client(server).keystone_list_regions(iam.KeystoneListRegionsRequest())
    assert e.value.status_code == 501 and e.value.error_code == "APIGW.0501"
    assert "KeystoneListRegions" in e.value.error_msg
    assert REQUEST_ID_RE.match(e.value.request_id)


# ---------------------------------------------------------------- the SDK's own project lookup (with_region)

def test_with_region_client_looks_up_its_project(server):
    expected = project_of(server, "cn-north-4")
    creds = BasicCredentials(server.access_key_id, server.access_key_secret).with_iam_endpoint(server.url)
    client = GaussDBClient.new_builder().with_credentials(creds) \
        .with_region(Region("cn-north-4", server.url)).build()
    assert creds.project_id == expected  # the IAM part: GET /v3/projects?name=cn-north-4, exactly one project
    # The GaussDB call then carries that project in its path and X-Project-Id, and is served.
    resp = client.list_gauss_my_sql_instances(ListGaussMySqlInstancesRequest())
    assert resp.status_code == 200 and resp.instances == []


def test_with_region_lookup_refused_for_a_wrong_secret(server):
    creds = BasicCredentials(server.access_key_id, "not-the-secret").with_iam_endpoint(server.url)
    with pytest.raises(SdkException) as e:
        GaussDBClient.new_builder().with_credentials(creds).with_region(Region("cn-south-1", server.url)).build()
    assert "APIGW.0301" in str(e.value)


# ------------------------------------------------------------------------------------------------ tokens

def test_password_token_and_using_it(server):
    r = set_password(server, "default", PASSWORD)
    assert r.returncode == 0, r.stderr
    assert PASSWORD not in r.stdout + r.stderr
    pid = project_of(server, "cn-north-4")

    resp = iam_client(server).keystone_create_user_token_by_password(
        token_request("default", PASSWORD, project="cn-north-4"))
    token = resp.x_subject_token
    assert token and len(token) > 40
    assert resp.token.user.name == "default" and resp.token.user.domain.name == "default"
    assert resp.token.project.id == pid and resp.token.project.name == "cn-north-4"
    assert resp.token.methods == ["password"]
    issued = dt.datetime.fromisoformat(resp.token.issued_at.replace("Z", "+00:00"))
    expires = dt.datetime.fromisoformat(resp.token.expires_at.replace("Z", "+00:00"))
    assert expires - issued == dt.timedelta(hours=24)

    # X-Auth-Token instead of AK/SK (the SDKs never do this; curl and Terraform's token mode do).
    status, headers, body = http(server, "GET", "/v3/projects?name=cn-north-4", {"X-Auth-Token": token})
    assert status == 200, body
    assert body["projects"][0]["id"] == pid
    assert REQUEST_ID_RE.match(headers.get("X-Request-Id", ""))

    # A project-scoped token cannot act in another project.
    other_pid = project_of(server, "cn-east-3")
    status, _, body = http(server, "GET", f"/v3/projects/{other_pid}", {"X-Auth-Token": token})
    assert status == 403 and body["error_code"] == "APIGW.0302", body

    # A tampered token is refused.
    status, headers, body = http(server, "GET", "/v3/projects", {"X-Auth-Token": token[:-2] + "xx"})
    assert status == 401 and body["error_code"] == "APIGW.0301" and "token" in body["error_msg"], body

    # The token request itself needs no signature: the password authenticates it.
    status, headers, body = http(server, "POST", "/v3/auth/tokens", body={"auth": {"identity": {
        "methods": ["password"],
        "password": {"user": {"name": "default", "password": PASSWORD, "domain": {"name": "default"}}}}}})
    assert status == 201, body
    assert headers.get("X-Subject-Token") and body["token"]["domain"]["name"] == "default"
    assert "project" not in body["token"]


def test_password_token_refused_for_wrong_password_or_user(server):
    assert set_password(server, "default", PASSWORD).returncode == 0
    client = iam_client(server)
    for req in (token_request("default", PASSWORD + "x"), token_request("nobody", PASSWORD),
                token_request("default", PASSWORD, domain="other")):
        with pytest.raises(ClientRequestException) as e:
            client.keystone_create_user_token_by_password(req)
        assert e.value.status_code == 401, e.value
        assert "username or password is wrong" in e.value.error_msg
        assert REQUEST_ID_RE.match(e.value.request_id)


def test_password_command_refuses_unknown_account_and_short_password(server):
    r = set_password(server, "nobody", PASSWORD)
    assert r.returncode != 0 and "nobody" in r.stderr
    r = set_password(server, "default", "short")
    assert r.returncode != 0 and "8 to 128" in r.stderr


def test_no_password_set_means_no_token(server):
    with pytest.raises(ClientRequestException) as e:
        iam_client(server).keystone_create_user_token_by_password(token_request("default", PASSWORD))
    assert e.value.status_code == 401


# ---------------------------------------------------------------------------------------------- refusals

def test_bad_signature_refused(server):
    with pytest.raises(ServiceResponseException) as e:
        iam_client(server, sk="not-the-secret").keystone_list_projects(iam.KeystoneListProjectsRequest())
    assert_refused(e.value, 401, "APIGW.0301", "verify aksk signature fail")


def test_unknown_access_key_refused(server):
    with pytest.raises(ServiceResponseException) as e:
        iam_client(server, ak="HPUAUNKNOWNKEY000000", sk="x").keystone_list_projects(iam.KeystoneListProjectsRequest())
    assert_refused(e.value, 401, "APIGW.0301", "ak not exist")


@pytest.mark.parametrize("minutes", [-20, 20])
def test_stale_sdk_date_refused(server, monkeypatch, minutes):
    import huaweicloudsdkcore.signer.signer as signer

    class Skewed(dt.datetime):
        @classmethod
        def utcnow(cls):
            return dt.datetime.utcnow() + dt.timedelta(minutes=minutes)

    monkeypatch.setattr(signer, "datetime", Skewed)
    with pytest.raises(ServiceResponseException) as e:
        iam_client(server).keystone_list_projects(iam.KeystoneListProjectsRequest())
    assert_refused(e.value, 401, "APIGW.0301", "signature expired")


def test_small_skew_accepted(server, monkeypatch):
    import huaweicloudsdkcore.signer.signer as signer

    class Skewed(dt.datetime):
        @classmethod
        def utcnow(cls):
            return dt.datetime.utcnow() - dt.timedelta(minutes=10)

    monkeypatch.setattr(signer, "datetime", Skewed)
    assert iam_client(server).keystone_list_projects(iam.KeystoneListProjectsRequest(name="cn-north-4")).projects


def test_another_accounts_project_refused(server):
    other = server.create_account("other")
    theirs = project_of(server, "cn-north-4", iam_client(server, other["access_key_id"], other["access_key_secret"]))
    # In X-Project-Id (BasicCredentials' project id): 401, as a credential that does not fit.
    creds = BasicCredentials(server.access_key_id, server.access_key_secret, theirs)
    client = IamClient.new_builder().with_credentials(creds).with_endpoints([server.url]).build()
    with pytest.raises(ServiceResponseException) as e:
        client.keystone_list_projects(iam.KeystoneListProjectsRequest())
    assert_refused(e.value, 401, "APIGW.0301", "X-Project-Id")
    # In the path of an IAM call: 403, and exactly as for a project that exists nowhere.
    mine = iam_client(server)
    with pytest.raises(ServiceResponseException) as e1:
        mine.keystone_show_project(iam.KeystoneShowProjectRequest(project_id=theirs))
    with pytest.raises(ServiceResponseException) as e2:
        mine.keystone_show_project(iam.KeystoneShowProjectRequest(project_id="0" * 32))
    assert_refused(e1.value, 403, "APIGW.0302")
    assert_refused(e2.value, 403, "APIGW.0302")
    assert e1.value.error_msg.replace(theirs, "X") == e2.value.error_msg.replace("0" * 32, "X")


def test_unknown_path_is_404_in_huawei_envelope(server):
    status, headers, body = http(server, "GET", "/v3/nothing-here", {"X-Sdk-Date": "20250102T030405Z"})
    assert status == 404 and body["error_code"] == "APIGW.0101", body
    assert REQUEST_ID_RE.match(headers.get("X-Request-Id", ""))
