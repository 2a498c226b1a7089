"""albench plugin: the core-set strategies (greedy k-center and robust k-center MIP)."""

from albench import hookimpl


def coreset(**options):
    """Greedy k-center on the model's embeddings."""
    from albench_coreset.strategies import CoreSet

    return CoreSet(**options)


def coreset_mip(**options):
    """Robust k-center with outliers, solved with HiGHS from the greedy start."""
    from albench_coreset.strategies import CoreSetMIP

    return CoreSetMIP(**options)


def coreset_mip_study(**options):
    """The study's robust k-center MIP over the whole pool (outliers: pool size / 10,000)."""
    from albench_coreset.strategies import CoreSetMIPStudy

    return CoreSetMIPStudy(**options)


@hookimpl
def albench_register_strategies(register):
    register("coreset", coreset, "greedy k-center on the penultimate embeddings "
             "(Sener & Savarese 2018)")
    register("coreset-mip", coreset_mip, "robust k-center with outliers, HiGHS MIP from the "
             "greedy start (binary search on the radius), on a 2,000-point subsample")
    register("coreset-mip-study", coreset_mip_study, "the study's robust k-center MIP over "
             "the whole pool: int(N/10000) outliers, HiGHS, 180 s per solve")
