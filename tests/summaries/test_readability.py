"""Reading level: the textstat measure works offline, and the distribution is computed right."""

from __future__ import annotations

import subprocess
import sys

import pytest

from trialscout.summaries.readability import distribution, grade

NO_NETWORK = """
import socket
def refuse(*args, **kwargs):
    raise SystemExit("network used")
socket.socket.connect = refuse
socket.create_connection = refuse
from trialscout.summaries.readability import grade
print(grade("The study tests a new medicine for weak bones. It lasts two years."))
"""


def test_grading_needs_no_network() -> None:
    out = subprocess.run([sys.executable, "-c", NO_NETWORK], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr + out.stdout
    assert 0 < float(out.stdout.strip()) < 8


def test_plain_text_grades_lower_than_jargon() -> None:
    plain = "It tests a shot for weak bones. Women aged 55 to 85 can join."
    jargon = ("This multicenter randomized investigation evaluates pharmacological "
              "interventions administered subcutaneously to postmenopausal individuals.")
    assert grade(plain) < 8 < grade(jargon)
    assert grade("") == 0.0


def test_distribution() -> None:
    d = distribution([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0])
    assert (d.count, d.mean, d.median, d.max) == (10, 5.5, 5.5, 10.0)
    assert d.p90 == 9.0
    assert d.share_at_or_below_8 == pytest.approx(0.8)
    assert distribution([]).count == 0
