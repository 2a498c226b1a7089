"""albench-ray: run albench benchmarks as Ray tasks, on one machine or a cluster.

Ray loads with :class:`albench_ray.executor.RayExecutor` when the executor is first used."""

from albench import hookimpl


@hookimpl
def albench_register_executors(register):
    register("ray", "albench_ray.executor:RayExecutor", "every run a Ray task, on RAY_ADDRESS "
             "or a local Ray; resumes lost runs from their last round")
