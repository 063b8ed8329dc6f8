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
