import subprocess
import sys


def test_help_answers():
    out = subprocess.run([sys.executable, "-m", "harness.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "harness run" in out.stdout
