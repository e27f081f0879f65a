"""checks.py — what the bench/ CTests share: run a command expecting an exit code, assert a fact."""
import subprocess
import sys


def run(cmd, want_rc=0):
    """Runs cmd; its stdout, or the test fails when it does not exit want_rc."""
    p = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if p.returncode != want_rc:
        sys.exit("FAIL: %s exited %d, not %d: %s" % (" ".join(cmd), p.returncode, want_rc, p.stderr))
    return p.stdout


def check(cond, what):
    """Fails the test with what unless cond holds; says it held otherwise."""
    if not cond:
        sys.exit("FAIL: " + what)
    print("ok:", what)
