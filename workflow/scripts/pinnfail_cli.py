"""Run ``pinnfail`` for a rule (``script:``): no shell between config and the program.

``params.argv`` is the argument list, passed as is (any string is safe: quotes, ``$``,
spaces, newlines), followed by ``params.outputs`` (the output flags). Everything the job prints, Python's and the native libraries' (JAX/XLA)
alike, goes to ``log[0]``: file descriptors 1 and 2 are redirected. On success the files in
``params.remove_after`` (if any) are deleted; the job exits with pinnfail's status.
"""
import os
import sys


def run(argv, log, remove_after=()):
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    from pinnfail.cli import main

    try:
        status = main([str(arg) for arg in argv])
    except SystemExit as exit:  # argparse
        status = exit.code
    sys.stdout.flush()
    sys.stderr.flush()
    if not status:
        for path in remove_after:
            if os.path.exists(path):
                os.remove(path)
    return status


params = snakemake.params  # noqa: F821  (set by Snakemake's script preamble)
sys.exit(run([*params.argv, *params.outputs], snakemake.log[0], getattr(params, "remove_after", ())))  # noqa: F821
