"""Entry point the portico front spawns: python portico_worker.py '<json config>'.

Standard library only, Python 3.8+. See portico/worker.py for the contract.
"""
import os
import sys

# The interpreter's version is checked before any of the runtime is parsed,
# in syntax every Python parses, so that an older one gets one line and its
# own exit status instead of a SyntaxError traceback. The front asks first,
# with `portico_worker.py --probe` (src/supervisor/interpreter-check.ts).
MINIMUM_PYTHON = (3, 8)
TOO_OLD_STATUS = 65
if sys.version_info < MINIMUM_PYTHON or sys.argv[1:2] == ["--probe"]:
    found = "%d.%d.%d" % tuple(sys.version_info[:3])
    needed = "%d.%d" % MINIMUM_PYTHON
    if sys.argv[1:2] == ["--probe"]:
        sys.stdout.write("portico-python %s %s\n" % (found, needed))
    else:
        sys.stderr.write("portico: Python %s is too old; portico needs Python %s or newer\n" % (found, needed))
    sys.exit(TOO_OLD_STATUS if sys.version_info < MINIMUM_PYTHON else 0)


def _import_worker():
    # This directory is on sys.path only while `portico` is imported: an
    # application must see the sys.path it expects (worker.configure_sys_path),
    # not one that starts with portico's own folder.
    here = os.path.dirname(os.path.realpath(__file__))
    rest = [p for p in sys.path if os.path.realpath(p or os.curdir) != here]
    sys.path[:] = [here] + rest
    # PYTHONDONTWRITEBYTECODE (or -B) is the user's choice for their code.
    # The runtime's own modules are cached in this package's __pycache__
    # regardless: without it every worker compiles them from source at every
    # start, which costs boot time and ~1.2 MiB of RSS per worker.
    user_choice = sys.dont_write_bytecode
    sys.dont_write_bytecode = False
    try:
        from portico import worker
    finally:
        sys.path[:] = rest
        sys.dont_write_bytecode = user_choice
    return worker


if __name__ == "__main__":
    sys.exit(_import_worker().main())
