"""What the Python tests of the engine share: counting checks, running the
program, the closing line and exit status."""
import subprocess
import sys

passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


def run(args, stdin=""):
    """invscale (the test's first argument) with args: status, stdout, stderr."""
    p = subprocess.run([sys.argv[1]] + args, input=stdin, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def finish():
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
