"""The built-in executors: in-process and a local process pool."""

from albench import hookimpl
from albench.executors import LocalExecutor, ProcessExecutor


@hookimpl
def albench_register_executors(register):
    register("local", LocalExecutor, "every run in this process, one after another (default)")
    register("process", ProcessExecutor, "--workers N processes on this machine (default: half "
             "the cores); a worker that dies fails only its run")
