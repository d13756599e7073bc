"""``injector soak``, short: every fault kind at high rates, and the record is complete."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_a_short_soak_records_every_shot_the_gun_held() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "injector.cli.main", "soak", "--minutes", "0.1", "--seed", "7"],
        capture_output=True,
        text=True,
        timeout=170,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    figures = {
        name.strip(): value.strip()
        for name, value in re.findall(r"^(.+?)  +(\S.*)$", out, flags=re.MULTILINE)
    }

    def number(name: str) -> int:
        return int(figures[name].split()[0].replace(",", ""))

    assert number("gun fired (stress scenario, all faults)") > 1000
    assert number("recorded") == number("the gun could still resend or had sent")
    assert number("of them recovered by retransmission") > 0  # the faults did bite
    assert number("recoverable but not recorded") == 0
    assert number("recorded but not fired as stored") == 0
    assert number("duplicates stored") == 0
    assert number("reconnects") >= 1
    assert number("decoder: garbage bytes") > 0
    assert out.rstrip().endswith("complete: every shot the gun held is recorded once")
