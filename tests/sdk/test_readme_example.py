"""The README quotes readme_example.py and the per-product scripts in examples/ verbatim:
each must run against a real server, print its one line and leave nothing behind."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sdkhelpers import describe, wait_status

SCRIPT = Path(__file__).with_name("readme_example.py")


def test_readme_example_is_short():
    assert len(SCRIPT.read_text().splitlines()) <= 40


def test_readme_example_runs(server):
    env = dict(os.environ)
    env.update(CLOUDTWIN_ENDPOINT=server.endpoint,
               ALIBABA_CLOUD_ACCESS_KEY_ID=server.access_key_id,
               ALIBABA_CLOUD_ACCESS_KEY_SECRET=server.access_key_secret)
    r = subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    out = r.stdout.strip().splitlines()
    assert len(out) == 1 and re.fullmatch(r"c-[0-9a-f]{16} running", out[0]), r.stdout
    iid = out[0].split()[0]
    client = server.client()
    wait_status(client, iid, None)          # the script released it
    assert describe(client).total == 0


README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_quotes_the_example_verbatim():
    assert SCRIPT.read_text().strip() in README.read_text()


def test_readme_flow_as_a_new_user(tmp_path):
    """First start with no keys configured: the default account's pair is printed once and
    saved in cloudtwin-data/credentials; the README's export lines and script then work."""
    from conftest import CLOUDTWIN_BIN

    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDTWIN_")}
    proc = subprocess.Popen([CLOUDTWIN_BIN, "serve", "--listen", "127.0.0.1:0", "--lifecycle", "instant"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    try:
        printed = []
        for line in proc.stdout:
            printed.append(line)
            if line.startswith("listening on http://"):
                break
        endpoint = printed[-1].strip().removeprefix("listening on http://")
        text = "".join(printed)
        assert "access_key_secret:" in text, text
        creds = (tmp_path / "cloudtwin-data" / "credentials")
        assert oct(creds.stat().st_mode & 0o777) == "0o600"
        block = README.read_text().split("```sh\nexport CLOUDTWIN_ENDPOINT=")[1].split("```")[0]
        exports = "\n".join(l for l in block.splitlines() if l.startswith("export ALIBABA_"))
        script = f"{exports}\nexport CLOUDTWIN_ENDPOINT={endpoint}\n{sys.executable} {SCRIPT}\n"
        r = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=60, stdin=subprocess.DEVNULL)
        assert r.returncode == 0, r.stderr
        assert re.fullmatch(r"c-[0-9a-f]{16} running", r.stdout.strip()), r.stdout
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# ------------------------------------------------------------------ one example per product

EXAMPLES = Path(__file__).with_name("examples")


def havenask_left(server) -> int:
    from alibabacloud_searchengine20211025 import models as hm
    from alibabacloud_searchengine20211025.client import Client
    from alibabacloud_tea_openapi.utils_models import Config

    client = Client(Config(access_key_id=server.access_key_id, access_key_secret=server.access_key_secret,
                           endpoint=server.endpoint, protocol="http"))
    return client.list_instances(hm.ListInstancesRequest()).body.total_count


def openanalytics_left(server) -> int:
    from alibabacloud_openanalytics_open20180619 import models as om
    from alibabacloud_openanalytics_open20180619.client import Client
    from alibabacloud_tea_openapi.utils_models import Config

    client = Client(Config(access_key_id=server.access_key_id, access_key_secret=server.access_key_secret,
                           endpoint=server.endpoint, protocol="http", region_id="cn-hangzhou"))
    data = client.validate_virtual_cluster_name(om.ValidateVirtualClusterNameRequest(vc_name="api-test-9")).body.data
    return 0 if data.legal == "true" else 1


def huawei_client(server, client_type):
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.region.region import Region

    creds = BasicCredentials(server.access_key_id, server.access_key_secret).with_iam_endpoint(server.url)
    return client_type.new_builder().with_credentials(creds).with_region(Region("cn-north-4", server.url)).build()


def taurusdb_left(server) -> int:
    from huaweicloudsdkgaussdb.v3 import GaussDBClient
    from huaweicloudsdkgaussdb.v3 import model as gm

    return huawei_client(server, GaussDBClient).list_gauss_my_sql_instances(
        gm.ListGaussMySqlInstancesRequest()).total_count


def rocketmq_left(server) -> int:
    from huaweicloudsdkrocketmq.v2 import RocketMQClient
    from huaweicloudsdkrocketmq.v2 import model as rm

    return huawei_client(server, RocketMQClient).list_instances(rm.ListInstancesRequest()).instance_num


# script -> (its one printed line, how many of its instances are still there)
EXAMPLE_CASES = {
    "havenask.py": (r"ha-cn-[0-9a-f]{11} READY", havenask_left),
    "openanalytics.py": (r"dla-[0-9a-f]{22} running", openanalytics_left),
    "taurusdb_htap_starrocks.py": (r"[0-9a-f]{32}in17 normal", taurusdb_left),
    "rocketmq.py": (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12} RUNNING", rocketmq_left),
}


def test_every_example_is_listed():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(EXAMPLE_CASES)


@pytest.mark.parametrize("name", sorted(EXAMPLE_CASES))
def test_example_is_short(name):
    assert len((EXAMPLES / name).read_text().splitlines()) <= 45


@pytest.mark.parametrize("name", sorted(EXAMPLE_CASES))
def test_example_runs(server, name):
    line_re, left = EXAMPLE_CASES[name]
    env = dict(os.environ)
    env.update(CLOUDTWIN_ENDPOINT=server.endpoint,
               ALIBABA_CLOUD_ACCESS_KEY_ID=server.access_key_id,
               ALIBABA_CLOUD_ACCESS_KEY_SECRET=server.access_key_secret,
               HUAWEICLOUD_SDK_AK=server.access_key_id,
               HUAWEICLOUD_SDK_SK=server.access_key_secret)
    r = subprocess.run([sys.executable, str(EXAMPLES / name)], env=env, capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    out = r.stdout.strip().splitlines()
    assert len(out) == 1 and re.fullmatch(line_re, out[0]), r.stdout
    # The script deleted what it created (deletes are jobs: give them a moment).
    deadline = time.monotonic() + 15
    while (n := left(server)) != 0:
        assert time.monotonic() < deadline, f"{name} left {n} instance(s) behind"
        time.sleep(0.1)


@pytest.mark.parametrize("name", sorted(EXAMPLE_CASES))
def test_readme_quotes_each_example_verbatim(name):
    text = README.read_text()
    assert "```python\n" + (EXAMPLES / name).read_text().strip() + "\n```" in text, \
        f"README.md does not quote tests/sdk/examples/{name} verbatim in a ```python block"
    run_lines = [l for l in text.splitlines()
                 if l.startswith("Run it:") and f"python3 tests/sdk/examples/{name}`" in l]
    assert len(run_lines) == 1, f"README.md has no `Run it:` line for {name}"
