"""Shared harness of the Python end-to-end tests: checks with a closing "N passed, N failed"
line, loopback ports, bounded waits, and clean-up of every process started."""
import shutil
import socket
import sys
import time
import traceback

PASSED = 0
FAILED = 0
PROCS = []  # processes to kill if still running at the end


def check(what, cond, detail=""):
    global PASSED, FAILED
    if cond:
        PASSED += 1
        print("ok - " + what)
    else:
        FAILED += 1
        print("FAIL - " + what + (": " + str(detail)[:800] if detail != "" else ""))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


def run_main(main, work):
    """Runs main(); a crash of the test itself is a failure. Kills what is left, removes
    work, prints the summary line and exits 0 only when nothing failed."""
    global FAILED
    try:
        main()
    except Exception:
        traceback.print_exc()
        FAILED += 1
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (PASSED, FAILED))
    sys.exit(1 if FAILED else 0)
