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


def dal_study(**options):
    """The study's DAL on the model's penultimate embeddings (20 sub-batches)."""
    from albench_dal.study import StudyDiscriminativeSampling

    return StudyDiscriminativeSampling("embedding", **options)


def dal_raw_study(sub_batches: int = 10, **options):
    """The study's DAL on the inputs divided by their scale (10 sub-batches)."""
    from albench_dal.study import StudyDiscriminativeSampling

    return StudyDiscriminativeSampling("raw", sub_batches=sub_batches, **options)


def dal_ae_study(sub_batches: int = 10, **options):
    """The study's DAL on its convolutional autoencoder's codes (10 sub-batches)."""
    from albench_dal.study import StudyDiscriminativeSampling

    return StudyDiscriminativeSampling("conv-autoencoder", sub_batches=sub_batches, **options)


def dal_stochastic_study(sub_batches: int = 10, temperature: float = 0.01, **options):
    """The study's stochastic DAL on embeddings (10 sub-batches, T = 0.01)."""
    from albench_dal.study import StudyDiscriminativeSampling

    return StudyDiscriminativeSampling("embedding", sub_batches=sub_batches,
                                       temperature=temperature, **options)


@hookimpl
def albench_register_strategies(register):
    register("dal", dal, "discriminative active learning on the penultimate embeddings "
             "(Gissin & Shalev-Shwartz 2019)")
    register("dal-raw", dal_raw, "DAL on the flattened normalised inputs")
    register("dal-ae", dal_ae, "DAL on autoencoder codes of the pool")
    register("dal-stochastic", dal_stochastic, "DAL on embeddings, sampling proportionally "
             "to exp(P(unlabelled) / temperature)")
    register("dal-study", dal_study, "DAL on embeddings exactly as the study's code: fresh "
             "10x subsample per sub-batch, scored alone; the study's discriminator recipe")
    register("dal-raw-study", dal_raw_study, "the study's DAL on the inputs / 255")
    register("dal-ae-study", dal_ae_study, "the study's DAL on its convolutional autoencoder's "
             "7x7x4 codes")
    register("dal-stochastic-study", dal_stochastic_study, "the study's stochastic DAL on "
             "embeddings (sampling from each sub-batch's subsample, T = 0.01)")
