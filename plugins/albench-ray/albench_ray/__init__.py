"""albench-ray: run albench benchmarks as Ray tasks, on one machine or a cluster."""

from albench import hookimpl


def ray_executor(**options):
    """The Ray executor; Ray is imported only when it is used (see :class:`RayExecutor`)."""
    from albench_ray.executor import RayExecutor

    return RayExecutor(**options)


@hookimpl
def albench_register_executors(register):
    register("ray", ray_executor, "every run a Ray task, on RAY_ADDRESS or a local Ray; "
             "resumes lost runs from their last round")
