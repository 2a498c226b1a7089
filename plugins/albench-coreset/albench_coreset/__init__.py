"""albench plugin: the core-set strategies (greedy k-center and robust k-center MIP).

The strategies, torch and SciPy load from :mod:`albench_coreset.strategies` when one is
first used."""

from albench import hookimpl


@hookimpl
def albench_register_strategies(register):
    register("coreset", "albench_coreset.strategies:CoreSet", "greedy k-center on the "
             "penultimate embeddings (Sener & Savarese 2018)")
    register("coreset-mip", "albench_coreset.strategies:CoreSetMIP", "robust k-center with "
             "outliers, HiGHS MIP from the greedy start (binary search on the radius), on a "
             "2,000-point subsample")
    register("coreset-mip-study", "albench_coreset.strategies:CoreSetMIPStudy", "the study's "
             "robust k-center MIP over the whole pool: int(N/10000) outliers, HiGHS, 180 s per "
             "solve")
