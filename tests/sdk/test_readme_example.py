"""The README quotes readme_example.py verbatim: it must run against a real server."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

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
