"""The factory of each DAL strategy that ``albench_dal`` registers; albench imports this
module (and torch) when one of them is first used."""

from albench_dal.strategies import DiscriminativeSampling
from albench_dal.study import StudyDiscriminativeSampling


def dal(**options):
    """DAL on the model's penultimate embeddings."""
    return DiscriminativeSampling("embedding", **options)


def dal_raw(**options):
    """DAL on the flattened normalised inputs."""
    return DiscriminativeSampling("raw", **options)


def dal_ae(**options):
    """DAL on the codes of an autoencoder trained on the whole pool."""
    return DiscriminativeSampling("autoencoder", **options)


def dal_stochastic(temperature: float = 0.01, **options):
    """DAL on embeddings, sampling with probability proportional to exp(P(unlabelled) / T)."""
    return DiscriminativeSampling("embedding", temperature=temperature, **options)


def dal_study(**options):
    """The study's DAL on the model's penultimate embeddings (20 sub-batches)."""
    return StudyDiscriminativeSampling("embedding", **options)


def dal_raw_study(sub_batches: int = 10, **options):
    """The study's DAL on the inputs divided by their scale (10 sub-batches)."""
    return StudyDiscriminativeSampling("raw", sub_batches=sub_batches, **options)


def dal_ae_study(sub_batches: int = 10, **options):
    """The study's DAL on its convolutional autoencoder's codes (10 sub-batches)."""
    return StudyDiscriminativeSampling("conv-autoencoder", sub_batches=sub_batches, **options)


def dal_stochastic_study(sub_batches: int = 10, temperature: float = 0.01, **options):
    """The study's stochastic DAL on embeddings (10 sub-batches, T = 0.01)."""
    return StudyDiscriminativeSampling("embedding", sub_batches=sub_batches,
                                       temperature=temperature, **options)
