"""albench plugin: discriminative active learning (DAL) and its variants."""

from albench import hookimpl


def dal(**options):
    """DAL on the model's penultimate embeddings."""
    from albench_dal.strategies import DiscriminativeSampling

    return DiscriminativeSampling("embedding", **options)


def dal_raw(**options):
    """DAL on the flattened normalised inputs."""
    from albench_dal.strategies import DiscriminativeSampling

    return DiscriminativeSampling("raw", **options)


def dal_ae(**options):
    """DAL on the codes of an autoencoder trained on the whole pool."""
    from albench_dal.strategies import DiscriminativeSampling

    return DiscriminativeSampling("autoencoder", **options)


def dal_stochastic(temperature: float = 0.01, **options):
    """DAL on embeddings, sampling with probability proportional to exp(P(unlabelled) / T)."""
    from albench_dal.strategies import DiscriminativeSampling

    return DiscriminativeSampling("embedding", temperature=temperature, **options)


@hookimpl
def albench_register_strategies(register):
    register("dal", dal, "discriminative active learning on the penultimate embeddings "
             "(Gissin & Shalev-Shwartz 2019)")
    register("dal-raw", dal_raw, "DAL on the flattened normalised inputs")
    register("dal-ae", dal_ae, "DAL on autoencoder codes of the pool")
    register("dal-stochastic", dal_stochastic, "DAL on embeddings, sampling proportionally "
             "to exp(P(unlabelled) / temperature)")
