"""Run ``pinnfail`` for a rule (``script:``): no shell between config and the program.

``params.argv`` is the argument list, passed as is (any string is safe: quotes, ``$``,
spaces, newlines), followed by ``params.outputs`` (the output flags). Everything the job prints, Python's and the native libraries' (JAX/XLA)
alike, goes to ``log[0]``: file descriptors 1 and 2 are redirected. On success the files in
``params.remove_after`` (if any) are deleted; the job exits with pinnfail's status. The
training jobs' GPU guard follows the config's ``cluster.require_gpu`` (``PINNFAIL_REQUIRE_GPU``).

With ``jax_compilation_cache`` set in the config, the jobs share JAX's persistent compilation
cache (every compilation kept, not only those over JAX's 1 s default): jobs of one workflow
compile the same functions again and again (seeds, evaluations). The cache lives in a
subdirectory per jaxlib version, machine and CPU, since XLA:CPU executables are specific to
both (a cached executable loaded by another jaxlib can crash). It is not an output: moving or
deleting it reruns nothing. Variables already set in the environment win.
"""
import hashlib
import os
import platform
import sys
from pathlib import Path


def cache_key() -> str:
    """jaxlib version, machine and CPU flags: what an XLA:CPU executable depends on."""
    from jaxlib.version import __version__ as jaxlib_version

    flags = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        flags = next((line for line in cpuinfo.read_text().splitlines() if line.startswith("flags")), "")
    digest = hashlib.sha256(f"{platform.machine()} {platform.processor()} {flags}".encode()).hexdigest()[:12]
    return f"jaxlib-{jaxlib_version}-{platform.machine()}-{digest}"


def compilation_cache_env(directory) -> dict:
    """Environment that makes JAX keep every compilation under ``directory``/cache_key()."""
    return {
        "JAX_COMPILATION_CACHE_DIR": str(Path(directory) / cache_key()),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
    }


def run(argv, log, remove_after=(), compilation_cache=None, require_gpu=None):
    if require_gpu is not None:  # the training jobs' GPU guard (`pinnfail train --require-gpu`)
        os.environ["PINNFAIL_REQUIRE_GPU"] = "1" if require_gpu else "0"
    if compilation_cache:
        for name, value in compilation_cache_env(compilation_cache).items():
            os.environ.setdefault(name, value)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    from pinnfail.interfaces.cli import main

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


if "snakemake" in globals():
    from pinnfail.workflow.cluster import setting

    params, config = snakemake.params, snakemake.config  # noqa: F821  (set by Snakemake's script preamble)
    # the GPU guard is read from the config, not a param, so switching it never retrains a run
    sys.exit(run([*params.argv, *params.outputs], snakemake.log[0], getattr(params, "remove_after", ()),  # noqa: F821
                 config.get("jax_compilation_cache"), bool(setting(config.get("cluster") or {}, "require_gpu"))))
