"""The built-in executors: in-process and a local process pool."""

from albench import hookimpl


@hookimpl
def albench_register_executors(register):
    register("local", "albench.executors:isolated_local", "one run after another, each in a "
             "process of its own: a crash, exit or hang costs only its run (default)")
    register("process", "albench.executors:ProcessExecutor", "--workers N processes on this "
             "machine (default: half the cores), each run in a process of its own")
    register("inline", "albench.executors:LocalExecutor", "every run in this process: no "
             "isolation and no enforced timeout (for debugging)")
